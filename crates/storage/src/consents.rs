use crate::Result;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct ConsentRow {
    pub purpose: String,
    /// 1 for a grant, 0 for a withdrawal.
    pub granted: i64,
    pub channel: String,
    pub policy_version: i64,
    pub wording: String,
    pub at: i64,
}

pub async fn append(conn: &mut AnyConnection, customer_id: i64, c: &ConsentRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO consents (customer_id, purpose, granted, channel, policy_version, wording, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(customer_id)
    .bind(&c.purpose)
    .bind(c.granted)
    .bind(&c.channel)
    .bind(c.policy_version)
    .bind(&c.wording)
    .bind(c.at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn for_customer(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<ConsentRow>> {
    Ok(sqlx::query_as(
        "SELECT purpose, granted, channel, policy_version, wording, at FROM consents WHERE customer_id = $1 ORDER BY id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

/// The newest grant or withdrawal for each purpose.
pub async fn latest(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT c.purpose, c.granted FROM consents c \
         WHERE c.customer_id = $1 AND c.id = (SELECT MAX(id) FROM consents d WHERE d.customer_id = c.customer_id AND d.purpose = c.purpose)",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

pub async fn suppress(
    conn: &mut AnyConnection,
    address_hash: &[u8],
    channel: &str,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO marketing_suppressions (address_hash, channel, at) VALUES ($1, $2, $3) \
         ON CONFLICT (address_hash) DO NOTHING",
    )
    .bind(address_hash.to_vec())
    .bind(channel)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Lifts a suppression: the person opted in again, themselves.
pub async fn unsuppress(conn: &mut AnyConnection, address_hash: &[u8]) -> Result<()> {
    sqlx::query("DELETE FROM marketing_suppressions WHERE address_hash = $1")
        .bind(address_hash.to_vec())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn is_suppressed(conn: &mut AnyConnection, address_hash: &[u8]) -> Result<bool> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM marketing_suppressions WHERE address_hash = $1")
            .bind(address_hash.to_vec())
            .fetch_one(conn)
            .await?;
    Ok(n > 0)
}

pub struct CookieChoiceRow<'a> {
    pub id: &'a str,
    pub customer_id: Option<i64>,
    pub functional: bool,
    pub analytics: bool,
    pub policy_version: i64,
    pub at: i64,
}

pub async fn insert_cookie_choice(conn: &mut AnyConnection, c: &CookieChoiceRow<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO cookie_choices (id, customer_id, functional, analytics, policy_version, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(c.id)
    .bind(c.customer_id)
    .bind(i64::from(c.functional))
    .bind(i64::from(c.analytics))
    .bind(c.policy_version)
    .bind(c.at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes cookie choices older than the technical-data period.
pub async fn sweep_cookie_choices(conn: &mut AnyConnection, before: i64) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM cookie_choices WHERE at < $1")
        .bind(before)
        .execute(conn)
        .await?
        .rows_affected())
}
