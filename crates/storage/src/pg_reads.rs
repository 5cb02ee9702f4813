//! Point reads on PostgreSQL over connections of their own.
//!
//! sqlx's pool pings a connection when it hands it out and again when it
//! takes it back: a pooled query costs three round trips, each waking a
//! PostgreSQL backend. For the hottest read (an order by scanned code) the
//! pings were as much work as the query. These connections are never
//! pinged. A read is idempotent, so one that fails because its connection
//! died (a restarted server, a killed backend, an idle timeout) is tried
//! once more on a new connection. A connection goes back to the idle list
//! only when its read completed; one interrupted mid-read (the caller went
//! away) is closed. Writes and every other query stay on the pool, which is
//! also what `/healthz` checks.

use futures_core::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::Connection;
use std::sync::Mutex;
use tokio::sync::Semaphore;

pub struct PgReader {
    options: PgConnectOptions,
    idle: Mutex<Vec<PgConnection>>,
    /// At most this many connections, idle or reading.
    permits: Semaphore,
}

impl std::fmt::Debug for PgReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgReader")
            .field("available", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Shown in `pg_stat_activity`, so an operator can tell these apart.
pub const APPLICATION_NAME: &str = "chotomoni-reader";

impl PgReader {
    /// Up to `size` connections, opened on first use.
    pub fn new(options: PgConnectOptions, size: usize) -> PgReader {
        PgReader {
            options: options.application_name(APPLICATION_NAME),
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(size.max(1)),
        }
    }

    /// Runs `read` on an idle connection, or a new one; if a reused
    /// connection turns out dead, runs it again on a new one.
    pub async fn read<T>(
        &self,
        read: impl for<'c> Fn(&'c mut PgConnection) -> BoxFuture<'c, Result<T, sqlx::Error>>,
    ) -> Result<T, sqlx::Error> {
        let _permit = self.permits.acquire().await.expect("never closed");
        let reused = self.idle.lock().expect("idle list").pop();
        if let Some(mut conn) = reused {
            match read(&mut conn).await {
                Ok(value) => return Ok(self.keep(conn, value)),
                Err(e) if !is_dead_connection(&e) => return self.keep_on_error(conn, e),
                Err(e) => {
                    tracing::info!(error = %e, "a reader connection had died; reading on a new one")
                }
            }
        }
        // As long as the pool waits for a connection, and no longer.
        let mut conn =
            tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&self.options))
                .await
                .map_err(|_| sqlx::Error::PoolTimedOut)??;
        match read(&mut conn).await {
            Ok(value) => Ok(self.keep(conn, value)),
            Err(e) => self.keep_on_error(conn, e),
        }
    }

    fn keep<T>(&self, conn: PgConnection, value: T) -> T {
        self.idle.lock().expect("idle list").push(conn);
        value
    }

    /// A query that failed on a live connection (a decode error, say) leaves
    /// the connection usable; one that died with it is closed.
    fn keep_on_error<T>(&self, conn: PgConnection, e: sqlx::Error) -> Result<T, sqlx::Error> {
        if !is_dead_connection(&e) {
            self.idle.lock().expect("idle list").push(conn);
        }
        Err(e)
    }
}

/// Whether an error means the connection itself is gone: the socket or the
/// protocol failed, or the server ended the session (SQLSTATE class 08, or
/// 57P01–57P03: terminated by an administrator, a crash, a shutdown).
fn is_dead_connection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}
