//! Write transactions on SQLite from one connection used in place.
//!
//! The write twin of [`crate::sqlite_reads`], for the one hot write path: a
//! batch of courier reports runs a dozen statements in one transaction.
//! Through sqlx each statement is handed to the connection's own thread and
//! back, and `BEGIN` and `COMMIT` add a rendezvous each; measured, the
//! hand-offs were about 45% of a batch (docs/benchmarks.md, "Courier
//! webhooks, stop 24"). Here the caller's own thread, a blocking one, runs
//! the whole transaction: one hand-off per batch. SQLite has one writer at
//! a time whichever connection it is: this one takes the write lock with
//! `BEGIN IMMEDIATE` and, like the pool's, waits for it up to the busy
//! timeout. The statements are the same [`Sql`] either way ([`WriteConn`]).
use crate::columns::FromColumns;
use crate::sql::Sql;
use crate::{Result, StorageError};
use rusqlite::{Connection, OpenFlags};
use sqlx::AnyConnection;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct SqliteWriter {
    path: PathBuf,
    conn: Mutex<Option<Connection>>,
}

impl std::fmt::Debug for SqliteWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteWriter")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteWriter {
    /// A writer of the database file `path`; its connection opens on first use.
    pub fn new(path: &Path) -> SqliteWriter {
        SqliteWriter {
            path: path.to_owned(),
            conn: Mutex::new(None),
        }
    }

    /// Runs `write` in a write transaction on this thread and commits it
    /// when `write` returns `Ok`; an error (or a panic) rolls it back. It
    /// blocks, on the lock and on the disk: call it from a blocking thread.
    /// Callers take turns on the one connection.
    pub fn transaction<T, E: From<StorageError>>(
        &self,
        write: impl FnOnce(&mut WriteConn<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut slot = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let conn = match &mut *slot {
            Some(conn) => conn,
            empty => empty.insert(open(&self.path).map_err(StorageError::from)?),
        };
        let open = Open(conn);
        open.0
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(StorageError::from)?;
        let value = write(&mut WriteConn::InPlace(&mut *open.0))?;
        open.0.execute_batch("COMMIT").map_err(StorageError::from)?;
        Ok(value)
    }
}

/// Rolls back what a transaction left open when it ends: an error, a
/// failed commit, a panic. (rusqlite's own transaction lends the connection
/// out shared only, and a shared SQLite connection cannot cross threads,
/// which an async caller's future must.)
struct Open<'a>(&'a mut Connection);

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if !self.0.is_autocommit() {
            let _ = self.0.execute_batch("ROLLBACK");
        }
    }
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch(&crate::sqlite_pragmas_text())?;
    // A batch's statements come in a few shapes each (their lists are
    // padded to powers of two): all of them stay prepared.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Where a write transaction's statements run: a sqlx connection (in a
/// transaction), or SQLite's connection used in place ([`SqliteWriter`]).
/// The in-place path never waits: its futures are ready when first polled.
pub enum WriteConn<'a> {
    Pool(&'a mut AnyConnection),
    InPlace(&'a mut Connection),
}

impl WriteConn<'_> {
    /// Runs `q`; how many rows it changed.
    pub async fn execute(&mut self, q: Sql) -> Result<u64> {
        match self {
            WriteConn::Pool(conn) => {
                let (text, args) = q.into_parts();
                Ok(sqlx::query_with(&text, args)
                    .execute(&mut **conn)
                    .await?
                    .rows_affected())
            }
            WriteConn::InPlace(conn) => {
                let (text, params) = q.parts();
                let changed = conn
                    .prepare_cached(text)?
                    .execute(rusqlite::params_from_iter(params))?;
                Ok(changed as u64)
            }
        }
    }

    /// Runs `q` and reads every row it returns.
    pub async fn fetch_all<R: FromColumns>(&mut self, q: Sql) -> Result<Vec<R>> {
        match self {
            WriteConn::Pool(conn) => {
                let (text, args) = q.into_parts();
                let rows = sqlx::query_with(&text, args).fetch_all(&mut **conn).await?;
                Ok(rows
                    .iter()
                    .map(R::from_columns)
                    .collect::<std::result::Result<_, _>>()?)
            }
            WriteConn::InPlace(conn) => {
                let (text, params) = q.parts();
                let mut statement = conn.prepare_cached(text)?;
                let mut rows = statement.query(rusqlite::params_from_iter(params))?;
                let mut read = Vec::new();
                while let Some(row) = rows.next()? {
                    read.push(R::from_columns(row)?);
                }
                Ok(read)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::Columns;
    use crate::Engine;

    struct Item(i64, Option<String>);

    impl FromColumns for Item {
        fn from_columns(row: &impl Columns) -> std::result::Result<Self, sqlx::Error> {
            Ok(Item(row.value("id")?, row.value("name")?))
        }
    }

    fn writer() -> (tempfile::TempDir, SqliteWriter) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);",
            )
            .unwrap();
        let writer = SqliteWriter::new(&path);
        (dir, writer)
    }

    fn insert(conn: &mut WriteConn<'_>, id: i64, name: Option<&str>) -> Result<u64> {
        let mut q = Sql::many(Engine::Sqlite, "INSERT INTO t (id, name) VALUES (");
        q.bind(id)
            .push(", ")
            .bind(name.map(str::to_owned))
            .push(")");
        futures::executor::block_on(conn.execute(q))
    }

    fn names(writer: &SqliteWriter) -> Vec<(i64, Option<String>)> {
        writer
            .transaction(|conn| {
                let q = Sql::new("SELECT id, name FROM t ORDER BY id");
                futures::executor::block_on(conn.fetch_all::<Item>(q))
            })
            .unwrap()
            .into_iter()
            .map(|i| (i.0, i.1))
            .collect()
    }

    #[test]
    fn a_transaction_commits_what_it_wrote_or_nothing() {
        let (_dir, writer) = writer();
        writer
            .transaction(|conn| {
                insert(conn, 1, Some("one"))?;
                insert(conn, 2, None)
            })
            .unwrap();
        assert_eq!(names(&writer), [(1, Some("one".into())), (2, None)]);
        // The second insert breaks the key: the first is undone with it.
        let failed = writer.transaction(|conn| {
            insert(conn, 3, Some("three"))?;
            insert(conn, 1, Some("again"))
        });
        assert!(failed.is_err());
        assert_eq!(
            names(&writer).len(),
            2,
            "nothing of a failed transaction stays"
        );
    }

    #[test]
    fn it_waits_for_another_writer_and_then_writes() {
        let (_dir, writer) = writer();
        let other = Connection::open(&writer.path).unwrap();
        other
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO t (id, name) VALUES (7, 'first');")
            .unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            other.execute_batch("COMMIT").unwrap();
        });
        writer.transaction(|conn| insert(conn, 8, None)).unwrap();
        release.join().unwrap();
        assert_eq!(names(&writer), [(7, Some("first".into())), (8, None)]);
    }
}
