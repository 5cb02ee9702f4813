//! One-time phone verification codes. Rows hold the phone's blind index and
//! a keyed hash of the code, never either in clear. They are kept a day,
//! past their ten minutes, so wrong tries add up per phone over all its codes.
use crate::Result;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct VerificationRow {
    pub id: i64,
    pub code_hash: Vec<u8>,
    pub expires_at: i64,
    pub attempts: i64,
}

pub async fn insert(
    conn: &mut AnyConnection,
    phone_index: &[u8],
    code_hash: &[u8],
    at: i64,
    expires_at: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO phone_verifications (phone_index, code_hash, created_at, expires_at, attempts, used) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(phone_index.to_vec())
    .bind(code_hash.to_vec())
    .bind(at)
    .bind(expires_at)
    .bind(0_i64)
    .bind(0_i64)
    .fetch_one(conn)
    .await?)
}

/// The newest unused code for this phone, expired or not.
pub async fn latest_unused(
    conn: &mut AnyConnection,
    phone_index: &[u8],
) -> Result<Option<VerificationRow>> {
    Ok(sqlx::query_as(
        "SELECT id, code_hash, expires_at, attempts FROM phone_verifications \
         WHERE phone_index = $1 AND used = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(phone_index.to_vec())
    .bind(0_i64)
    .fetch_optional(conn)
    .await?)
}

/// Marks the code used; false when it already was (a concurrent use).
pub async fn mark_used(conn: &mut AnyConnection, id: i64) -> Result<bool> {
    Ok(
        sqlx::query("UPDATE phone_verifications SET used = $1 WHERE id = $2 AND used = $3")
            .bind(1_i64)
            .bind(id)
            .bind(0_i64)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Deletes codes sent before `sent_before`; returns how many.
pub async fn sweep(conn: &mut AnyConnection, sent_before: i64) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM phone_verifications WHERE created_at < $1")
            .bind(sent_before)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
