//! Folding SQLite's write-ahead log back into the database off the
//! committing connection.
//!
//! By default the connection whose commit takes the log past 1,000 pages
//! copies the log into the database file and syncs it before its commit
//! returns: under a stream of writes (a burst of courier webhooks) every
//! few hundred requests waited 50–70 ms for that. Here a thread of this
//! process checkpoints on a connection of its own instead: every
//! [`WHILE_WRITING`] while commits keep coming, every [`EVERY`] when idle.
//! A `PASSIVE` checkpoint never waits for readers or the writer, and
//! commits stay as durable as before (each still syncs the log): only the
//! copy into the database file moves. Short intervals keep each copy, and
//! the sync of the database file that ends it, small: a long one holds up
//! the writer's own sync of the log behind it on the disk (every 200 ms
//! gave the courier benchmark a p99 of 40 ms, every 50 ms 28 ms; on a
//! slower machine 50 ms gave 31–37 ms, 10 ms 23–28, 5 ms 23–25, 3 ms 23;
//! docs/benchmarks.md).
//!
//! A passive checkpoint cannot start the log over while writes keep
//! coming: only a writer that begins when every page has been copied does.
//! So the pool's connections still checkpoint by themselves at
//! [`WRITER_LIMIT_PAGES`]; by then this thread has copied nearly all of the
//! log, the writer copies the rest, and its next transaction starts the log
//! over, which bounds the log's file under any load.

use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

/// How often the thread checkpoints when nothing was written since its
/// last round. A checkpoint with nothing new in the log reads the log's
/// index and returns.
const EVERY: Duration = Duration::from_millis(50);

/// How often it checkpoints while writes keep coming.
const WHILE_WRITING: Duration = Duration::from_millis(5);

/// The log's size, in pages, at which a pool connection checkpoints by
/// itself (SQLite's default is 1,000): 16 MB.
pub const WRITER_LIMIT_PAGES: u32 = 4_000;

/// The checkpointing thread; it stops when this is dropped.
#[derive(Debug)]
pub struct Checkpointer {
    _stop: Sender<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database file `path` (in WAL mode).
    pub fn start(path: &Path) -> std::io::Result<Checkpointer> {
        let (stop, stopped) = mpsc::channel::<()>();
        let path = path.to_owned();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let mut conn: Option<Connection> = None;
                let (mut wait, mut log_before) = (EVERY, -1);
                // Until the sender is dropped: `recv_timeout` then answers
                // `Disconnected` at once.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                    match checkpoint(&mut conn, &path) {
                        Ok(log) => {
                            wait = if log == log_before { EVERY } else { WHILE_WRITING };
                            log_before = log;
                        }
                        Err(e) => {
                            // The next round opens the connection again.
                            conn = None;
                            wait = EVERY;
                            tracing::warn!(error = %e, "a background WAL checkpoint failed; tried again shortly");
                        }
                    }
                }
            })?;
        Ok(Checkpointer { _stop: stop })
    }
}

/// Checkpoints; returns how many pages the log holds (it changes with
/// every commit, and when a writer starts the log over).
fn checkpoint(conn: &mut Option<Connection>, path: &Path) -> rusqlite::Result<i64> {
    let conn = match conn {
        Some(conn) => conn,
        None => conn.insert(Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?),
    };
    // Answers (busy, pages in the log, pages copied); busy means another
    // checkpoint was running, which is as good.
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Waits up to 5 s for `done`.
    fn eventually(done: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !done() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        done()
    }

    #[test]
    fn the_log_reaches_the_database_file_without_the_writer_until_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).unwrap();
        // The writer never checkpoints: only the thread can.
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; \
                 CREATE TABLE t (v BLOB);",
            )
            .unwrap();
        let insert = |n: usize| {
            for _ in 0..n {
                writer
                    .execute("INSERT INTO t VALUES (zeroblob(8000))", [])
                    .unwrap();
            }
        };
        let db_len = || std::fs::metadata(&path).unwrap().len();
        let checkpointer = Checkpointer::start(&path).unwrap();
        let before = db_len();
        insert(20);
        assert!(
            eventually(|| db_len() >= before + 20 * 8000),
            "the rows reached the database file"
        );
        drop(checkpointer);
        std::thread::sleep(EVERY * 2);
        let stopped_at = db_len();
        insert(20);
        std::thread::sleep(EVERY * 6);
        assert_eq!(
            db_len(),
            stopped_at,
            "nothing checkpoints once it is dropped"
        );
    }
}
