//! Point reads on SQLite straight from the calling thread.
//!
//! sqlx runs every SQLite connection on a thread of its own and hands each
//! statement and each row across channels; for a lookup that SQLite answers
//! in tens of microseconds, those hand-offs (a futex wake-up each way, and a
//! thread switch) cost more than the query. The hottest reads (an order by
//! scanned code) therefore run on a read-only connection kept per thread and
//! used in place. In WAL mode a reader never waits for the writer, so the
//! thread is not held up by anyone else; if SQLite ever answers "busy" (a
//! recovery or checkpoint in progress), the caller falls back to the pool.
//! The price: a page that is not in the operating system's cache is read
//! from disk on this thread, holding up its other tasks for that read; on an
//! SSD that is well under a millisecond, and a shop's database fits in memory.
//! Only short point reads belong here; anything that scans stays on the pool.

use rusqlite::{Connection, OpenFlags};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use thread_local::ThreadLocal;

pub struct SqliteReader {
    path: PathBuf,
    conns: ThreadLocal<RefCell<Option<Connection>>>,
}

impl std::fmt::Debug for SqliteReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// What a read in place gave.
pub enum Read<T> {
    Done(T),
    /// SQLite was busy: ask the pool instead.
    Busy,
}

impl SqliteReader {
    /// A reader of the database file `path`; connections open on first use.
    pub fn new(path: &Path) -> SqliteReader {
        SqliteReader {
            path: path.to_owned(),
            conns: ThreadLocal::new(),
        }
    }

    /// Runs `read` on this thread's connection, opening it if needed. The
    /// statement must be finished (stepped to the end, or dropped) when
    /// `read` returns, so that no snapshot stays open between reads.
    pub fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Read<T>> {
        let cell = self.conns.get_or(|| RefCell::new(None));
        // A read never calls back into another read; a nested one would find
        // the cell borrowed, and is sent to the pool rather than panicking.
        let Ok(mut slot) = cell.try_borrow_mut() else {
            return Ok(Read::Busy);
        };
        if slot.is_none() {
            *slot = Some(self.open()?);
        }
        let conn = slot.as_ref().expect("opened above");
        match read(conn) {
            Ok(v) => Ok(Read::Done(v)),
            Err(e) if is_busy(&e) => Ok(Read::Busy),
            Err(e) => Err(e),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // query_only: this connection can never write, whatever it is given.
        // No busy timeout: waiting would stall every task on this thread.
        conn.execute_batch("PRAGMA query_only = ON; PRAGMA busy_timeout = 0;")?;
        conn.set_prepared_statement_cache_capacity(16);
        Ok(conn)
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database() -> (tempfile::TempDir, PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1);",
            )
            .unwrap();
        (dir, path, writer)
    }

    fn count(reader: &SqliteReader) -> rusqlite::Result<Read<i64>> {
        reader.read(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)))
    }

    #[test]
    fn reads_what_was_committed_and_cannot_write() {
        let (_dir, path, writer) = database();
        let reader = SqliteReader::new(&path);
        assert!(matches!(count(&reader), Ok(Read::Done(1))));
        writer.execute("INSERT INTO t VALUES (2)", []).unwrap();
        assert!(matches!(count(&reader), Ok(Read::Done(2))));
        let write = reader.read(|c| c.execute("DELETE FROM t", []));
        assert!(write.is_err(), "a reader must not write");
        assert!(matches!(count(&reader), Ok(Read::Done(2))));
    }

    #[test]
    fn busy_database_is_handed_back_at_once() {
        let (_dir, path, writer) = database();
        // An exclusive-mode connection keeps every other one out.
        writer
            .execute_batch(
                "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; INSERT INTO t VALUES (3);",
            )
            .unwrap();
        let reader = SqliteReader::new(&path);
        let started = std::time::Instant::now();
        let read = count(&reader);
        assert!(matches!(read, Ok(Read::Busy)), "{:?}", read.err());
        // Not a wait for the lock: 10 s would be the pool's busy timeout.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        writer
            .execute_batch("COMMIT; PRAGMA locking_mode = NORMAL; SELECT 1 FROM t;")
            .unwrap();
        drop(writer);
        assert!(matches!(count(&reader), Ok(Read::Done(2))));
    }
}
