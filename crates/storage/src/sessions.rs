//! Sessions (the one strictly necessary cookie). The
//! technical data kept with a session (IP address, user agent, device kind)
//! is purged by the sweeper after the configured period.
use crate::{stored, stored_opt, Result};
use chotomoni_domain::catalog::Lang;
use chotomoni_domain::{Role, SessionKind};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

/// A session; its kind, language and its staff member's role are read as
/// the domain's enums, and a value that is not one fails where it is read
/// (never taken for a visitor's session, or for a disabled account).
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub token_hash: String,
    pub kind: SessionKind,
    pub staff_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub csrf_token: String,
    pub lang: Lang,
    pub cart: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// The staff member's role, joined in, so a request needs one query;
    /// none when the account is disabled.
    pub staff_role: Option<Role>,
}

impl FromRow<'_, AnyRow> for SessionRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(SessionRow {
            token_hash: row.try_get("token_hash")?,
            kind: stored(row, "sessions", "kind", SessionKind::parse)?,
            staff_id: row.try_get("staff_id")?,
            customer_id: row.try_get("customer_id")?,
            csrf_token: row.try_get("csrf_token")?,
            lang: stored(row, "sessions", "lang", Lang::parse)?,
            cart: row.try_get("cart")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            staff_role: stored_opt(row, "staff", "staff_role", Role::parse)?,
        })
    }
}

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub kind: SessionKind,
    pub staff_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub csrf_token: &'a str,
    pub lang: Lang,
    pub cart: &'a str,
    pub ip_address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub device_kind: Option<&'a str>,
    pub at: i64,
    pub expires_at: i64,
}

pub async fn insert(conn: &mut AnyConnection, s: &NewSession<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, kind, staff_id, customer_id, csrf_token, lang, cart, \
         ip_address, user_agent, device_kind, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)",
    )
    .bind(s.token_hash)
    .bind(s.kind.as_str())
    .bind(s.staff_id)
    .bind(s.customer_id)
    .bind(s.csrf_token)
    .bind(s.lang.code())
    .bind(s.cart)
    .bind(s.ip_address)
    .bind(s.user_agent)
    .bind(s.device_kind)
    .bind(s.at)
    .bind(s.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A live (unexpired) session by the hash of its token.
pub async fn get(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: i64,
) -> Result<Option<SessionRow>> {
    Ok(sqlx::query_as(
        "SELECT s.token_hash, s.kind, s.staff_id, s.customer_id, s.csrf_token, s.lang, s.cart, \
         s.created_at, s.expires_at, st.role AS staff_role \
         FROM sessions s LEFT JOIN staff st ON st.id = s.staff_id AND st.disabled_at IS NULL \
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

pub async fn delete(conn: &mut AnyConnection, token_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_lang(conn: &mut AnyConnection, token_hash: &str, lang: Lang) -> Result<()> {
    sqlx::query("UPDATE sessions SET lang = $1 WHERE token_hash = $2")
        .bind(lang.code())
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_cart(conn: &mut AnyConnection, token_hash: &str, cart: &str) -> Result<()> {
    sqlx::query("UPDATE sessions SET cart = $1 WHERE token_hash = $2")
        .bind(cart)
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Clears technical data older than `cutoff` and deletes expired sessions.
/// Returns (sessions whose technical data was purged, sessions deleted).
pub async fn sweep(
    conn: &mut AnyConnection,
    technical_cutoff: i64,
    now: i64,
) -> Result<(u64, u64)> {
    let purged = sqlx::query(
        "UPDATE sessions SET ip_address = NULL, user_agent = NULL, device_kind = NULL \
         WHERE created_at < $1 AND (ip_address IS NOT NULL OR user_agent IS NOT NULL OR device_kind IS NOT NULL)",
    )
    .bind(technical_cutoff)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // Expired, or older than the catalog's period for sessions (a sign-in
    // made to last longer still goes then).
    let deleted = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR created_at < $2")
        .bind(now)
        .bind(now - chotomoni_domain::catalog::kept_ms("sessions"))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    crate::attempts::sweep(conn, now).await?;
    Ok((purged, deleted))
}

#[derive(Debug, Clone, FromRow)]
pub struct TechnicalRow {
    pub created_at: i64,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub device_kind: Option<String>,
}

pub async fn technical_for_customer(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<TechnicalRow>> {
    Ok(sqlx::query_as(
        "SELECT created_at, ip_address, user_agent, device_kind FROM sessions WHERE customer_id = $1 ORDER BY created_at",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}
