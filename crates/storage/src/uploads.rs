//! Resumable (tus) uploads in progress. The received bytes live in a staging
//! file as sealed age chunks; this row holds how far the upload got and the
//! partial last chunk (sealed), updated together so a crash between the file
//! write and this update only leaves extra bytes the next request cuts off.
use crate::{stored, Result};
use chotomoni_domain::ProofKind;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

/// An upload in progress; its kind is read as the domain's, and a value
/// that is not one fails where it is read.
#[derive(Debug, Clone)]
pub struct UploadRow {
    pub id: String,
    pub order_id: i64,
    pub customer_id: i64,
    pub kind: ProofKind,
    pub uploader: String,
    pub length: i64,
    pub upload_offset: i64,
    pub media_type: Option<String>,
    pub file_name_enc: Option<Vec<u8>>,
    pub captured_at: Option<i64>,
    pub header: Vec<u8>,
    pub proof_key_enc: Vec<u8>,
    pub payload_key_enc: Vec<u8>,
    pub tail_enc: Option<Vec<u8>>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl FromRow<'_, AnyRow> for UploadRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(UploadRow {
            id: row.try_get("id")?,
            order_id: row.try_get("order_id")?,
            customer_id: row.try_get("customer_id")?,
            kind: stored(row, "uploads", "kind", crate::proofs::proof_kind)?,
            uploader: row.try_get("uploader")?,
            length: row.try_get("length")?,
            upload_offset: row.try_get("upload_offset")?,
            media_type: row.try_get("media_type")?,
            file_name_enc: row.try_get("file_name_enc")?,
            captured_at: row.try_get("captured_at")?,
            header: row.try_get("header")?,
            proof_key_enc: row.try_get("proof_key_enc")?,
            payload_key_enc: row.try_get("payload_key_enc")?,
            tail_enc: row.try_get("tail_enc")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
        })
    }
}

const COLUMNS: &str = "id, order_id, customer_id, kind, uploader, length, upload_offset, \
    media_type, file_name_enc, captured_at, header, proof_key_enc, payload_key_enc, tail_enc, \
    created_at, expires_at";

pub async fn insert(conn: &mut AnyConnection, row: &UploadRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO uploads ({COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    ))
    .bind(&row.id)
    .bind(row.order_id)
    .bind(row.customer_id)
    .bind(row.kind.as_str())
    .bind(&row.uploader)
    .bind(row.length)
    .bind(row.upload_offset)
    .bind(row.media_type.clone())
    .bind(row.file_name_enc.clone())
    .bind(row.captured_at)
    .bind(row.header.clone())
    .bind(row.proof_key_enc.clone())
    .bind(row.payload_key_enc.clone())
    .bind(row.tail_enc.clone())
    .bind(row.created_at)
    .bind(row.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<UploadRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM uploads WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Records progress if nobody else moved the offset meanwhile; false if they did.
pub async fn advance(
    conn: &mut AnyConnection,
    id: &str,
    from_offset: i64,
    to_offset: i64,
    media_type: Option<&str>,
    tail_enc: Option<&[u8]>,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE uploads SET upload_offset = $1, media_type = COALESCE($2, media_type), tail_enc = $3 \
         WHERE id = $4 AND upload_offset = $5",
    )
    .bind(to_offset)
    .bind(media_type.map(str::to_owned))
    .bind(tail_enc.map(<[u8]>::to_vec))
    .bind(id)
    .bind(from_offset)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM uploads WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

/// Ids of uploads whose time ran out, for the sweeper to delete with their files.
pub async fn expired(conn: &mut AnyConnection, now: i64) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM uploads WHERE expires_at <= $1 ORDER BY expires_at")
            .bind(now)
            .fetch_all(conn)
            .await?,
    )
}

/// One uploader's unfinished (unexpired) uploads: how many, and the bytes
/// they declared.
pub async fn unfinished_of(
    conn: &mut AnyConnection,
    uploader: &str,
    now: i64,
) -> Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(length), 0) AS BIGINT) FROM uploads \
         WHERE uploader = $1 AND expires_at > $2",
    )
    .bind(uploader)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// When (Unix ms) the claim uploads `uploader` started since `since`
/// began: unfinished ones at creation, finished ones at receipt.
pub async fn claims_since(
    conn: &mut AnyConnection,
    uploader: &str,
    since: i64,
) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT created_at FROM uploads WHERE uploader = $1 AND kind = 'claim' AND created_at > $2 \
         UNION ALL \
         SELECT received_at FROM proofs WHERE uploader = $3 AND kind = 'claim' AND received_at > $4",
    )
    .bind(uploader)
    .bind(since)
    .bind(uploader)
    .bind(since)
    .fetch_all(conn)
    .await?)
}
