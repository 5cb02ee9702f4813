//! Claim packs: the row that tracks one pack while it is built, shared,
//! revoked and expired. The file's key arrives sealed, as elsewhere.
use crate::{stored, Result};
use chotomoni_domain::{ExcerptStart, PackStatus, SharePurpose};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

#[derive(Debug, Clone)]
pub struct PackRow {
    pub id: i64,
    pub claim_id: i64,
    pub customer_id: i64,
    pub purpose: SharePurpose,
    pub include_contact: bool,
    /// Stored as JSON; a list that does not parse fails where it is read.
    pub excerpts: Vec<ExcerptStart>,
    pub status: PackStatus,
    pub blob_key: Option<String>,
    pub file_key_enc: Option<Vec<u8>>,
    pub size: Option<i64>,
    pub stored_size: Option<i64>,
    pub error: Option<String>,
    pub created_by: i64,
    pub created_at: i64,
    pub ready_at: Option<i64>,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl FromRow<'_, AnyRow> for PackRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        let include: i64 = row.try_get("include_contact")?;
        Ok(PackRow {
            id: row.try_get("id")?,
            claim_id: row.try_get("claim_id")?,
            customer_id: row.try_get("customer_id")?,
            purpose: stored(row, "claim_packs", "purpose", SharePurpose::parse)?,
            include_contact: match include {
                0 => false,
                1 => true,
                other => {
                    return Err(crate::not_known(
                        "claim_packs",
                        "include_contact",
                        &other.to_string(),
                    ))
                }
            },
            excerpts: {
                let text: String = row.try_get("excerpts")?;
                serde_json::from_str(&text)
                    .map_err(|_| crate::not_known("claim_packs", "excerpts", &text))?
            },
            status: stored(row, "claim_packs", "status", PackStatus::parse)?,
            blob_key: row.try_get("blob_key")?,
            file_key_enc: row.try_get("file_key_enc")?,
            size: row.try_get("size")?,
            stored_size: row.try_get("stored_size")?,
            error: row.try_get("error")?,
            created_by: row.try_get("created_by")?,
            created_at: row.try_get("created_at")?,
            ready_at: row.try_get("ready_at")?,
            expires_at: row.try_get("expires_at")?,
            revoked_at: row.try_get("revoked_at")?,
        })
    }
}

const COLUMNS: &str = "id, claim_id, customer_id, purpose, include_contact, excerpts, status, \
    blob_key, file_key_enc, size, stored_size, error, created_by, created_at, ready_at, \
    expires_at, revoked_at";

/// A pack to build.
pub struct NewPack<'a> {
    pub claim_id: i64,
    pub customer_id: i64,
    pub purpose: SharePurpose,
    pub include_contact: bool,
    pub excerpts: &'a [ExcerptStart],
    pub created_by: i64,
    pub at: i64,
    pub expires_at: i64,
}

pub async fn insert(conn: &mut AnyConnection, new: &NewPack<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO claim_packs (claim_id, customer_id, purpose, include_contact, excerpts, \
         status, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, 'building', $6, $7, $8) RETURNING id",
    )
    .bind(new.claim_id)
    .bind(new.customer_id)
    .bind(new.purpose.as_str())
    .bind(i64::from(new.include_contact))
    .bind(serde_json::to_string(new.excerpts).expect("ids and numbers serialize"))
    .bind(new.created_by)
    .bind(new.at)
    .bind(new.expires_at)
    .fetch_one(conn)
    .await?)
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<PackRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM claim_packs WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// A claim's packs, newest first.
pub async fn for_claim(conn: &mut AnyConnection, claim_id: i64) -> Result<Vec<PackRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM claim_packs WHERE claim_id = $1 ORDER BY id DESC"
    ))
    .bind(claim_id)
    .fetch_all(conn)
    .await?)
}

/// Where a finished pack lies.
pub struct Ready<'a> {
    pub blob_key: &'a str,
    pub file_key_enc: &'a [u8],
    pub size: i64,
    pub stored_size: i64,
    pub at: i64,
}

/// Marks a pack ready; false if it was no longer being built.
pub async fn set_ready(conn: &mut AnyConnection, id: i64, ready: &Ready<'_>) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE claim_packs SET status = 'ready', blob_key = $1, file_key_enc = $2, size = $3, \
         stored_size = $4, ready_at = $5 WHERE id = $6 AND status = 'building'",
    )
    .bind(ready.blob_key)
    .bind(ready.file_key_enc)
    .bind(ready.size)
    .bind(ready.stored_size)
    .bind(ready.at)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Marks a pack failed with a reason staff can read; false if it was not building.
pub async fn set_failed(conn: &mut AnyConnection, id: i64, error: &str) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE claim_packs SET status = 'failed', error = $1 WHERE id = $2 AND status = 'building'",
    )
    .bind(error)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Revokes a pack's link; false if it was revoked already or does not exist.
pub async fn revoke(conn: &mut AnyConnection, id: i64, by: i64, at: i64) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE claim_packs SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(by)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Packs whose link has run out, oldest first.
pub async fn expired(conn: &mut AnyConnection, now: i64, limit: i64) -> Result<Vec<PackRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM claim_packs WHERE expires_at <= $1 ORDER BY id LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

pub async fn delete(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM claim_packs WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
