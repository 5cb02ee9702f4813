use crate::{stored, Result};
use chotomoni_domain::consent::{ConsentChannel, ConsentPurpose, SuppressionChannel};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

/// A row of the consent ledger; its purpose and channel are read as the
/// domain's, and a value that is not one fails where it is read.
#[derive(Debug, Clone)]
pub struct ConsentRow {
    pub purpose: ConsentPurpose,
    /// 1 for a grant, 0 for a withdrawal.
    pub granted: i64,
    pub channel: ConsentChannel,
    pub policy_version: i64,
    pub wording: String,
    pub at: i64,
}

impl FromRow<'_, AnyRow> for ConsentRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(ConsentRow {
            purpose: stored(row, "consents", "purpose", ConsentPurpose::parse)?,
            granted: row.try_get("granted")?,
            channel: stored(row, "consents", "channel", ConsentChannel::parse)?,
            policy_version: row.try_get("policy_version")?,
            wording: row.try_get("wording")?,
            at: row.try_get("at")?,
        })
    }
}

pub async fn append(conn: &mut AnyConnection, customer_id: i64, c: &ConsentRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO consents (customer_id, purpose, granted, channel, policy_version, wording, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(customer_id)
    .bind(c.purpose.as_str())
    .bind(c.granted)
    .bind(c.channel.as_str())
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

/// The newest grant or withdrawal for each purpose (1 for a grant).
pub async fn latest(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<(ConsentPurpose, i64)>> {
    let rows: Vec<AnyRow> = sqlx::query(
        "SELECT c.purpose, c.granted FROM consents c \
         WHERE c.customer_id = $1 AND c.id = (SELECT MAX(id) FROM consents d WHERE d.customer_id = c.customer_id AND d.purpose = c.purpose)",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                stored(r, "consents", "purpose", ConsentPurpose::parse)?,
                r.try_get("granted")?,
            ))
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(crate::StorageError::Database)
}

pub async fn suppress(
    conn: &mut AnyConnection,
    address_hash: &[u8],
    channel: SuppressionChannel,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO marketing_suppressions (address_hash, channel, at) VALUES ($1, $2, $3) \
         ON CONFLICT (address_hash) DO NOTHING",
    )
    .bind(address_hash.to_vec())
    .bind(channel.as_str())
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
