//! Attempts that rate limits count (table `sign_in_attempts`): sign-ins,
//! one-time code requests, order look-ups. A row names its kind, the keyed
//! fingerprint of its subject (an account, a phone, an order) and of the
//! client address, never either in clear. An attempt is recorded before it
//! is judged and counted with the others, so a parallel burst cannot all
//! pass a check made before any of them was written.
use crate::Result;
use sqlx::AnyConnection;

/// How long rows are kept: the catalog's period for them, which is also
/// the longest window any limit may look back over.
pub fn kept_ms() -> i64 {
    chotomoni_domain::catalog::kept_ms("sign_in_attempts")
}

/// The kinds of attempt that count apart (the table's `kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    SignIn,
    CodeRequest,
    Track,
    /// Quotas on what visitors create: every attempt counts, none succeeds.
    GuestOrder,
    VisitorSession,
}

impl LimitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::SignIn => "sign_in",
            LimitKind::CodeRequest => "code_request",
            LimitKind::Track => "track",
            LimitKind::GuestOrder => "guest_order",
            LimitKind::VisitorSession => "visitor_session",
        }
    }
}

pub struct NewAttempt<'a> {
    pub kind: LimitKind,
    pub key_hash: &'a str,
    pub address_hash: Option<&'a str>,
    pub at: i64,
}

/// Records a pending attempt; it counts as a failure until marked otherwise.
pub async fn insert(conn: &mut AnyConnection, a: &NewAttempt<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO sign_in_attempts (kind, key_hash, address_hash, at, succeeded) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(a.kind.as_str())
    .bind(a.key_hash)
    .bind(a.address_hash)
    .bind(a.at)
    .bind(0_i64)
    .fetch_one(conn)
    .await?)
}

pub async fn mark_succeeded(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("UPDATE sign_in_attempts SET succeeded = $1 WHERE id = $2")
        .bind(1_i64)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes back an attempt that was refused before it was tried, so that
/// hammering a closed door does not keep it closed longer.
pub async fn withdraw(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM sign_in_attempts WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Which attempts a limit counts.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Of one subject, from anywhere.
    Key(&'a str),
    /// From one address, whatever the subject.
    Address(&'a str),
    /// Of one subject from one address.
    Pair(&'a str, &'a str),
}

/// Failed (or still pending) attempts of `kind` in `scope` since `since`,
/// and the newest of them other than `except`.
pub async fn failures(
    conn: &mut AnyConnection,
    kind: LimitKind,
    scope: Scope<'_>,
    since: i64,
    except: i64,
) -> Result<(i64, Option<i64>)> {
    let (filter, second) = match scope {
        Scope::Key(k) => ("key_hash = $4", (k, None)),
        Scope::Address(ip) => ("address_hash = $4", (ip, None)),
        Scope::Pair(k, ip) => ("key_hash = $4 AND address_hash = $5", (k, Some(ip))),
    };
    let sql = format!(
        "SELECT COUNT(*), MAX(CASE WHEN id <> $3 THEN at END) FROM sign_in_attempts \
         WHERE kind = $1 AND at >= $2 AND succeeded = 0 AND {filter}"
    );
    let mut q = sqlx::query_as(&sql)
        .bind(kind.as_str())
        .bind(since)
        .bind(except)
        .bind(second.0);
    if let Some(ip) = second.1 {
        q = q.bind(ip);
    }
    let (count, newest): (i64, Option<i64>) = q.fetch_one(conn).await?;
    Ok((count, newest))
}

/// Deletes attempts older than the catalog's period for them.
pub async fn sweep(conn: &mut AnyConnection, now: i64) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sign_in_attempts WHERE at < $1")
        .bind(now - kept_ms())
        .execute(conn)
        .await?
        .rows_affected())
}
