//! Privacy policy versions and customers' acceptances of them.
use crate::{duplicate_as, stored, Result};
use chotomoni_domain::policy::Acceptance;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

#[derive(Debug, Clone, FromRow)]
pub struct PolicyRow {
    pub version: i64,
    pub text_bn: String,
    pub text_en: String,
    pub published_at: i64,
    pub published_by: Option<i64>,
}

const COLUMNS: &str = "version, text_bn, text_en, published_at, published_by";

/// Publishes the next version; `Duplicate` if another was published meanwhile.
pub async fn insert(conn: &mut AnyConnection, row: &PolicyRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO policy_versions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
    ))
    .bind(row.version)
    .bind(&row.text_bn)
    .bind(&row.text_en)
    .bind(row.published_at)
    .bind(row.published_by)
    .execute(conn)
    .await
    .map_err(duplicate_as("version"))?;
    Ok(())
}

pub async fn latest(conn: &mut AnyConnection) -> Result<Option<PolicyRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM policy_versions ORDER BY version DESC LIMIT 1"
    ))
    .fetch_optional(conn)
    .await?)
}

pub async fn get(conn: &mut AnyConnection, version: i64) -> Result<Option<PolicyRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM policy_versions WHERE version = $1"
    ))
    .bind(version)
    .fetch_optional(conn)
    .await?)
}

/// Every version's number and publication time, newest first.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<(i64, i64)>> {
    Ok(
        sqlx::query_as("SELECT version, published_at FROM policy_versions ORDER BY version DESC")
            .fetch_all(conn)
            .await?,
    )
}

pub async fn accept(
    conn: &mut AnyConnection,
    customer_id: i64,
    version: i64,
    channel: Acceptance,
    at: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO policy_acceptances (customer_id, version, channel, at) VALUES ($1, $2, $3, $4)")
        .bind(customer_id)
        .bind(version)
        .bind(channel.as_str())
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The newest version the customer accepted, if any.
pub async fn accepted(conn: &mut AnyConnection, customer_id: i64) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT MAX(version) FROM policy_acceptances WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_one(conn)
            .await?,
    )
}

/// An acceptance; its channel is read as the domain's, and a value that is
/// not one fails where it is read.
#[derive(Debug, Clone)]
pub struct AcceptanceRow {
    pub version: i64,
    pub channel: Acceptance,
    pub at: i64,
}

impl FromRow<'_, AnyRow> for AcceptanceRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(AcceptanceRow {
            version: row.try_get("version")?,
            channel: stored(row, "policy_acceptances", "channel", Acceptance::parse)?,
            at: row.try_get("at")?,
        })
    }
}

/// Everything the customer accepted, oldest first (for their access export).
pub async fn acceptances(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<AcceptanceRow>> {
    Ok(sqlx::query_as(
        "SELECT version, channel, at FROM policy_acceptances WHERE customer_id = $1 ORDER BY id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}
