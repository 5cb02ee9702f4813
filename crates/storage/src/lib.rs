//! Database repositories over SQLite and PostgreSQL. One `sqlx::Any` pool
//! serves both engines; each engine has its own migration set. Queries use
//! `$N` placeholders, which both engines accept, and every one is exercised
//! by tests against both. Sealed (encrypted) fields arrive here as bytes: this
//! layer never sees a key. [`blobs`] is the media blob store (a local folder
//! or S3-compatible storage), beside the database.

pub mod attempts;
pub mod audit;
pub mod backup;
pub mod blobs;
pub mod bulk;
pub mod claim_packs;
pub mod claims;
pub mod code_tries;
pub mod columns;
pub mod consents;
pub mod consignments;
pub mod courier_reports;
pub mod customers;
pub mod disclosures;
pub mod erasure;
pub mod exports;
pub mod installation;
pub mod jobs;
pub mod key_vault;
pub mod order_signals;
pub mod orders;
pub mod payments;
pub mod pg_reads;
pub mod policies;
pub mod privacy_requests;
pub mod products;
pub mod proofs;
pub mod refunds;
pub mod schema;
pub mod sessions;
pub mod shares;
pub mod sql;
pub mod sqlite_checkpoint;
pub mod sqlite_reads;
pub mod sqlite_writer;
pub mod staff;
pub mod translog;
pub mod uploads;
pub mod verifications;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::AnyPool;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

pub use sqlx::AnyConnection as Conn;
pub use sqlx::Error as SqlxError;
/// A connection taken from the pool.
pub type PooledConn = sqlx::pool::PoolConnection<sqlx::Any>;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    #[error("already exists: {0}")]
    Duplicate(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// From a SQLite connection used in place ([`sqlite_reads`], [`sqlite_writer`]).
    #[error("database error: {0}")]
    SqliteInPlace(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL: it must start with sqlite:// or postgres://")]
    UnsupportedUrl,
    #[error("backup: {0}")]
    Backup(String),
    #[error("could not start the WAL checkpoint thread: {0}")]
    Checkpointer(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The statement that starts a write transaction (see [`Db::begin`]).
    pub fn begin_write(self) -> &'static str {
        match self {
            Engine::Sqlite => "BEGIN IMMEDIATE",
            Engine::Postgres => "BEGIN",
        }
    }

    pub fn of_url(url: &str) -> Result<Engine> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Engine::Postgres)
        } else {
            Err(StorageError::UnsupportedUrl)
        }
    }
}

/// The database: a pool and the engine behind it, and the reader of the
/// hottest lookups, which skips what the pool costs per query.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub engine: Engine,
    pub reader: Option<Reader>,
    /// Runs the hottest write transactions in place on a SQLite file
    /// ([`sqlite_writer`]); none on PostgreSQL or an in-memory database.
    pub writer: Option<Arc<sqlite_writer::SqliteWriter>>,
    /// Folds SQLite's write-ahead log into the file off the committing
    /// connections ([`sqlite_checkpoint`]); for a file database only. Held
    /// only to be dropped with the last clone, which stops its thread.
    _checkpointer: Option<Arc<sqlite_checkpoint::Checkpointer>>,
}

/// Where point lookups go instead of the pool. An in-memory SQLite
/// database has none: other connections cannot open it.
#[derive(Clone, Debug)]
pub enum Reader {
    /// Per-thread connections used in place ([`sqlite_reads`]).
    Sqlite(Arc<sqlite_reads::SqliteReader>),
    /// Connections that are not pinged around every query ([`pg_reads`]).
    Postgres(Arc<pg_reads::PgReader>),
}

impl Db {
    /// Connects; the SQLite file is created if missing. Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let engine = Engine::of_url(url)?;
        let url = match engine {
            Engine::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let file = match engine {
            Engine::Sqlite => sqlite_file(&url)?,
            Engine::Postgres => None,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| match engine {
                Engine::Sqlite => sqlite_pragmas(conn),
                Engine::Postgres => Box::pin(async { Ok(()) }),
            })
            .connect_with(options)
            .await?;
        // After the pool's first connection, which creates the file.
        let checkpointer = file
            .as_deref()
            .map(sqlite_checkpoint::Checkpointer::start)
            .transpose()
            .map_err(|e| StorageError::Checkpointer(e.to_string()))?
            .map(Arc::new);
        let writer = file
            .as_deref()
            .map(|path| Arc::new(sqlite_writer::SqliteWriter::new(path)));
        let reader = match engine {
            Engine::Sqlite => {
                file.map(|path| Reader::Sqlite(Arc::new(sqlite_reads::SqliteReader::new(&path))))
            }
            // A quarter of the pool's size: each lookup holds a connection
            // for one round trip only.
            Engine::Postgres => Some(Reader::Postgres(Arc::new(pg_reads::PgReader::new(
                sqlx::postgres::PgConnectOptions::from_str(&url)?,
                (max_connections as usize / 4).max(2),
            )))),
        };
        Ok(Db {
            pool,
            engine,
            reader,
            writer,
            _checkpointer: checkpointer,
        })
    }

    pub async fn migrate(&self) -> Result<()> {
        match self.engine {
            Engine::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Engine::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    pub async fn conn(&self) -> Result<PooledConn> {
        Ok(self.pool.acquire().await?)
    }

    /// A write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads, then writes
    /// after another writer committed, fails with SQLITE_BUSY_SNAPSHOT, which
    /// no busy timeout cures; an immediate one waits its turn instead.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(self.pool.begin_with(self.engine.begin_write()).await?)
    }

    /// [`Db::begin`] on a connection the caller keeps between transactions
    /// (a writer that commits one batch after another skips the pool's
    /// check-out each time, and on SQLite keeps its page cache warm).
    pub async fn begin_on<'c>(
        &self,
        conn: &'c mut sqlx::AnyConnection,
    ) -> Result<sqlx::Transaction<'c, sqlx::Any>> {
        Ok(sqlx::Connection::begin_with(conn, self.engine.begin_write()).await?)
    }

    /// SQLite keeps earlier versions of changed pages in its write-ahead
    /// log until a checkpoint: after an erasure the log is folded into the
    /// database and truncated, so no earlier page survives in it. Retries
    /// while readers hold old snapshots; returns whether it got through.
    pub async fn truncate_wal(&self) -> Result<bool> {
        if self.engine != Engine::Sqlite {
            return Ok(true);
        }
        for _ in 0..50 {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&self.pool)
                .await?;
            if busy == 0 {
                return Ok(true);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(false)
    }

    /// Keeps the query planner's statistics current. SQLite gathers none by
    /// itself: without them it guesses, and on a grown database it chose
    /// index scans that made each batch of courier reports several times
    /// slower. `optimize` analyzes only tables whose statistics are missing
    /// or far off (65538 = 0x10002: every table, not only those this
    /// connection used), reading at most 100,000 rows of each index: with
    /// 1,000, the estimates were rough enough to keep the slow plans.
    /// PostgreSQL's autovacuum does this already.
    pub async fn optimize(&self) -> Result<()> {
        if self.engine == Engine::Sqlite {
            let mut conn = self.pool.acquire().await?;
            sqlx::query("PRAGMA analysis_limit = 100000")
                .execute(&mut *conn)
                .await?;
            sqlx::query("PRAGMA optimize = 65538")
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// The file behind a SQLite URL; `None` for an in-memory database, which
/// other connections cannot open.
fn sqlite_file(url: &str) -> Result<Option<std::path::PathBuf>> {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
    let path = options.get_filename();
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    Ok((!in_memory).then(|| path.to_owned()))
}

/// What every SQLite connection that writes is set to: the pool's
/// ([`sqlite_pragmas`]) and the writer in place ([`sqlite_writer`]).
pub(crate) fn sqlite_pragmas_text() -> String {
    // The busy timeout first: switching to WAL waits for the lock too.
    // synchronous: SQLite's default, said once for every connection.
    // secure_delete: what is deleted or overwritten (an erased person's
    // sealed fields, their blind indexes) is zeroed in the file, not left
    // in free space. temp_store: temporary files stay in memory, among
    // them the statement journal that a statement changing many rows
    // inside a transaction keeps (the original of each page it changes,
    // to undo that statement alone); past 64 KiB it went to a file, and a
    // batch of courier reports wrote each page a second time there.
    format!(
        "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = FULL; \
         PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; \
         PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = {};",
        sqlite_checkpoint::WRITER_LIMIT_PAGES
    )
}

/// WAL lets readers run beside the one writer; the busy timeout makes writers
/// queue instead of failing. Synchronous stays FULL: an acknowledged order
/// survives a power cut. Checkpoints are mostly the background thread's
/// ([`sqlite_checkpoint`]).
fn sqlite_pragmas(
    conn: &mut sqlx::AnyConnection,
) -> futures_core::future::BoxFuture<'_, Result<(), sqlx::Error>> {
    Box::pin(async move {
        use sqlx::Executor;
        conn.execute(sqlite_pragmas_text().as_str()).await?;
        Ok(())
    })
}

/// Reads a column that holds one of a domain enum's names: a value that is
/// not one fails here, where it is read, instead of being taken for some
/// default further on.
pub(crate) fn stored<T>(
    row: &impl columns::Columns,
    table: &str,
    column: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> std::result::Result<T, sqlx::Error> {
    let value: String = row.value(column)?;
    parse(&value).ok_or_else(|| not_known(table, column, &value))
}

/// [`stored`] for a column that may be empty.
pub(crate) fn stored_opt<T>(
    row: &impl columns::Columns,
    table: &str,
    column: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> std::result::Result<Option<T>, sqlx::Error> {
    let value: Option<String> = row.value(column)?;
    value
        .map(|v| parse(&v).ok_or_else(|| not_known(table, column, &v)))
        .transpose()
}

/// The error of a stored value that is not one of its enum's names.
pub(crate) fn not_known(table: &str, column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("{table}.{column} holds {value:?}, which is not a known value").into(),
    }
}

/// [`stored`] for a row read in place from a SQLite file (by position).
pub(crate) fn stored_in_place<T>(
    row: &rusqlite::Row<'_>,
    index: usize,
    column: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let value: String = row.get(index)?;
    parse(&value).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            format!("{column} holds {value:?}, which is not a known value").into(),
        )
    })
}

/// Maps a unique-constraint violation to `Duplicate`, anything else to `Database`.
pub(crate) fn duplicate_as(what: &str) -> impl FnOnce(sqlx::Error) -> StorageError + '_ {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StorageError::Duplicate(what.to_owned())
        }
        _ => StorageError::Database(e),
    }
}
