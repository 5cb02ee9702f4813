//! Share links: one proof shown to an outside party (a courier or a
//! marketplace, for a claim) until the link expires or is revoked.
use crate::{stored, Result};
use chotomoni_domain::SharePurpose;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

/// A share link; its purpose is read as the domain's, and a value that is
/// not one fails where it is read (never taken for a courier claim).
#[derive(Debug, Clone)]
pub struct ShareRow {
    pub id: i64,
    pub proof_id: i64,
    pub created_by: i64,
    pub purpose: SharePurpose,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl FromRow<'_, AnyRow> for ShareRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(ShareRow {
            id: row.try_get("id")?,
            proof_id: row.try_get("proof_id")?,
            created_by: row.try_get("created_by")?,
            purpose: stored(row, "share_links", "purpose", SharePurpose::parse)?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            revoked_at: row.try_get("revoked_at")?,
        })
    }
}

pub async fn insert(
    conn: &mut AnyConnection,
    proof_id: i64,
    created_by: i64,
    purpose: SharePurpose,
    at: i64,
    expires_at: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO share_links (proof_id, created_by, purpose, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(proof_id)
    .bind(created_by)
    .bind(purpose.as_str())
    .bind(at)
    .bind(expires_at)
    .fetch_one(conn)
    .await?)
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<ShareRow>> {
    Ok(sqlx::query_as(
        "SELECT id, proof_id, created_by, purpose, created_at, expires_at, revoked_at \
         FROM share_links WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

pub async fn for_proof(conn: &mut AnyConnection, proof_id: i64) -> Result<Vec<ShareRow>> {
    Ok(sqlx::query_as(
        "SELECT id, proof_id, created_by, purpose, created_at, expires_at, revoked_at \
         FROM share_links WHERE proof_id = $1 ORDER BY id",
    )
    .bind(proof_id)
    .fetch_all(conn)
    .await?)
}

/// Revokes a live link; false if it was already revoked or does not exist.
pub async fn revoke(conn: &mut AnyConnection, id: i64, by: i64, at: i64) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE share_links SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(by)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}
