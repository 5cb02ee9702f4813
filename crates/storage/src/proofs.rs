//! Finished proofs: one row per file, with where its encrypted blob lives,
//! its sealed key and its place in the transparency log.
use crate::{stored, Result};
use chotomoni_domain::ProofKind;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

/// A finished proof; its kind is read as the domain's, and a value that is
/// not one fails where it is read.
#[derive(Debug, Clone)]
pub struct ProofRow {
    pub id: i64,
    pub order_id: i64,
    pub customer_id: i64,
    pub kind: ProofKind,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub blob_key: String,
    pub stored_size: i64,
    pub poster_key: Option<String>,
    pub proof_key_enc: Option<Vec<u8>>,
    pub file_name_enc: Option<Vec<u8>>,
    pub uploader: String,
    pub captured_at: Option<i64>,
    pub received_at: i64,
    pub duration_ms: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub has_audio: Option<i64>,
    pub probed_at: Option<i64>,
    pub probe_error: Option<String>,
    pub log_index: i64,
    pub leaf: String,
}

impl FromRow<'_, AnyRow> for ProofRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(ProofRow {
            id: row.try_get("id")?,
            order_id: row.try_get("order_id")?,
            customer_id: row.try_get("customer_id")?,
            kind: stored(row, "proofs", "kind", proof_kind)?,
            media_type: row.try_get("media_type")?,
            size: row.try_get("size")?,
            sha256: row.try_get("sha256")?,
            blob_key: row.try_get("blob_key")?,
            stored_size: row.try_get("stored_size")?,
            poster_key: row.try_get("poster_key")?,
            proof_key_enc: row.try_get("proof_key_enc")?,
            file_name_enc: row.try_get("file_name_enc")?,
            uploader: row.try_get("uploader")?,
            captured_at: row.try_get("captured_at")?,
            received_at: row.try_get("received_at")?,
            duration_ms: row.try_get("duration_ms")?,
            width: row.try_get("width")?,
            height: row.try_get("height")?,
            has_audio: row.try_get("has_audio")?,
            probed_at: row.try_get("probed_at")?,
            probe_error: row.try_get("probe_error")?,
            log_index: row.try_get("log_index")?,
            leaf: row.try_get("leaf")?,
        })
    }
}

/// A proof kind by its stored name.
pub(crate) fn proof_kind(name: &str) -> Option<ProofKind> {
    ProofKind::parse("kind", name).ok()
}

const COLUMNS: &str = "id, order_id, customer_id, kind, media_type, size, sha256, blob_key, \
    stored_size, poster_key, proof_key_enc, file_name_enc, uploader, captured_at, received_at, \
    duration_ms, width, height, has_audio, probed_at, probe_error, log_index, leaf";

/// Notes the upload proof `id` was made from.
pub async fn set_upload_id(conn: &mut AnyConnection, id: i64, upload_id: &str) -> Result<()> {
    sqlx::query("UPDATE proofs SET upload_id = $1 WHERE id = $2")
        .bind(upload_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The proof an upload became: its id, uploader, size and when it was
/// received.
pub async fn by_upload(
    conn: &mut AnyConnection,
    upload_id: &str,
) -> Result<Option<(i64, String, i64, i64)>> {
    Ok(
        sqlx::query_as("SELECT id, uploader, size, received_at FROM proofs WHERE upload_id = $1")
            .bind(upload_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Inserts a new proof; `row.id` is ignored and the new id returned.
pub async fn insert(conn: &mut AnyConnection, row: &ProofRow) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO proofs (order_id, customer_id, kind, media_type, size, sha256, blob_key, \
         stored_size, poster_key, proof_key_enc, file_name_enc, uploader, captured_at, received_at, \
         log_index, leaf) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
    )
    .bind(row.order_id)
    .bind(row.customer_id)
    .bind(row.kind.as_str())
    .bind(&row.media_type)
    .bind(row.size)
    .bind(&row.sha256)
    .bind(&row.blob_key)
    .bind(row.stored_size)
    .bind(row.poster_key.clone())
    .bind(row.proof_key_enc.clone())
    .bind(row.file_name_enc.clone())
    .bind(&row.uploader)
    .bind(row.captured_at)
    .bind(row.received_at)
    .bind(row.log_index)
    .bind(&row.leaf)
    .fetch_one(conn)
    .await?)
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<ProofRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM proofs WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

pub async fn for_order(conn: &mut AnyConnection, order_id: i64) -> Result<Vec<ProofRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM proofs WHERE order_id = $1 ORDER BY id"
    ))
    .bind(order_id)
    .fetch_all(conn)
    .await?)
}

/// Proofs whose media has not been inspected yet (oldest first).
pub async fn unprobed(conn: &mut AnyConnection, limit: i64) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM proofs WHERE probed_at IS NULL ORDER BY id LIMIT $1")
            .bind(limit)
            .fetch_all(conn)
            .await?,
    )
}

/// Inspected videos that can still be read (not erased) with an id above
/// `after`, in id order.
pub async fn readable_videos_after(
    conn: &mut AnyConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM proofs WHERE id > $1 AND media_type LIKE 'video/%' \
         AND probed_at IS NOT NULL AND proof_key_enc IS NOT NULL ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Sets a proof's duration, unless another server already set it to
/// `to`; `false` when nothing changed.
pub async fn correct_duration(conn: &mut AnyConnection, id: i64, to: i64) -> Result<bool> {
    let changed = sqlx::query(
        "UPDATE proofs SET duration_ms = $1 WHERE id = $2 \
         AND (duration_ms IS NULL OR duration_ms <> $1)",
    )
    .bind(to)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(changed.rows_affected() == 1)
}

/// What ffprobe found, or why it found nothing.
#[derive(Debug, Clone, Default)]
pub struct Probed {
    pub duration_ms: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub has_audio: Option<bool>,
    pub poster_key: Option<String>,
    pub error: Option<String>,
}

pub async fn set_probed(conn: &mut AnyConnection, id: i64, p: &Probed, at: i64) -> Result<()> {
    sqlx::query(
        "UPDATE proofs SET duration_ms = $1, width = $2, height = $3, has_audio = $4, \
         poster_key = COALESCE($5, poster_key), probe_error = $6, probed_at = $7 WHERE id = $8",
    )
    .bind(p.duration_ms)
    .bind(p.width)
    .bind(p.height)
    .bind(p.has_audio.map(i64::from))
    .bind(p.poster_key.clone())
    .bind(p.error.clone())
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The moments before which each kind of proof has outlived its period: a
/// proof expires when its order ended (delivered, returned or cancelled)
/// at or before its kind's cutoff.
#[derive(Debug, Clone, Copy)]
pub struct ExpiryCutoffs {
    pub packing: i64,
    pub delivery: i64,
    pub returned: i64,
}

/// Proofs past their retention at `now`, none that a hold in force keeps:
/// claim evidence once its claim is decided (its hold then runs the appeal
/// period), the rest by kind once their order ended. Evidence that names no
/// claim follows the packing period.
pub async fn expired(
    conn: &mut AnyConnection,
    now: i64,
    cutoffs: ExpiryCutoffs,
    limit: i64,
) -> Result<Vec<crate::erasure::ErasedProof>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.order_id, p.blob_key, p.poster_key, p.proof_key_enc FROM proofs p \
         JOIN orders o ON o.id = p.order_id \
         LEFT JOIN claims c ON c.id = p.claim_id \
         WHERE NOT EXISTS ( \
           SELECT 1 FROM legal_holds h WHERE h.order_id = p.order_id \
           AND h.released_at IS NULL AND (h.until_at IS NULL OR h.until_at > $1)) \
         AND ((p.claim_id IS NOT NULL AND c.status = 'decided') \
           OR (p.claim_id IS NULL AND o.status IN ('delivered', 'returned', 'cancelled') \
             AND (SELECT MAX(e.at) FROM order_events e \
                  WHERE e.order_id = o.id AND e.to_status = o.status) \
               <= CASE p.kind WHEN 'delivery' THEN $3 WHEN 'return' THEN $4 ELSE $2 END)) \
         ORDER BY p.id LIMIT $5",
    )
    .bind(now)
    .bind(cutoffs.packing)
    .bind(cutoffs.delivery)
    .bind(cutoffs.returned)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Proofs and bytes stored per kind and UTC day received: few rows (days
/// times kinds), folded into months by the caller, in the same SQL on both
/// engines.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct DailyUse {
    pub kind: String,
    pub day: i64,
    pub proofs: i64,
    pub bytes: i64,
}

pub async fn daily_use(conn: &mut AnyConnection) -> Result<Vec<DailyUse>> {
    Ok(sqlx::query_as(
        "SELECT kind, received_at / 86400000 AS day, COUNT(*) AS proofs, \
         CAST(SUM(stored_size) AS BIGINT) AS bytes FROM proofs GROUP BY kind, received_at / 86400000 \
         ORDER BY day, kind",
    )
    .fetch_all(conn)
    .await?)
}
