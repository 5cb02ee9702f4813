//! Access exports: the row that tracks one person's copy of their data while
//! it is built, downloaded and expired, and the bulk readers that gather
//! everything kept about one customer in a fixed number of queries (never
//! one per order or per proof). Sealed fields arrive as bytes, as elsewhere.
use crate::proofs::ProofRow;
use crate::{stored, stored_opt, Result};
use chotomoni_domain::catalog::Lang;
use chotomoni_domain::{
    ExportStage, OrderSource, OrderStatus, PaymentMethod, PaymentStatus, ProofKind, SessionKind,
    StoredExportStatus,
};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

#[derive(Debug, Clone)]
pub struct ExportRow {
    pub id: i64,
    pub customer_id: i64,
    pub request_id: Option<i64>,
    pub status: StoredExportStatus,
    pub progress: i64,
    pub stage: ExportStage,
    pub blob_key: Option<String>,
    pub file_key_enc: Option<Vec<u8>>,
    pub token_hash: Option<String>,
    pub size: Option<i64>,
    pub stored_size: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub ready_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub error: Option<String>,
    /// Who asked for it (`customer:9`, `staff:3`, `system`).
    pub requested_by: String,
}

impl FromRow<'_, AnyRow> for ExportRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(ExportRow {
            id: row.try_get("id")?,
            customer_id: row.try_get("customer_id")?,
            request_id: row.try_get("request_id")?,
            status: stored(row, "exports", "status", StoredExportStatus::parse)?,
            progress: row.try_get("progress")?,
            stage: stored(row, "exports", "stage", ExportStage::parse)?,
            blob_key: row.try_get("blob_key")?,
            file_key_enc: row.try_get("file_key_enc")?,
            token_hash: row.try_get("token_hash")?,
            size: row.try_get("size")?,
            stored_size: row.try_get("stored_size")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            ready_at: row.try_get("ready_at")?,
            expires_at: row.try_get("expires_at")?,
            error: row.try_get("error")?,
            requested_by: row.try_get("requested_by")?,
        })
    }
}

const COLUMNS: &str = "id, customer_id, request_id, status, progress, stage, blob_key, \
    file_key_enc, token_hash, size, stored_size, created_at, updated_at, ready_at, expires_at, error, requested_by";

/// A new export, `building` at stage `stage`; returns its id.
pub async fn insert(
    conn: &mut AnyConnection,
    customer_id: i64,
    request_id: Option<i64>,
    requested_by: &str,
    stage: ExportStage,
    at: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO exports (customer_id, request_id, status, progress, stage, created_at, updated_at, requested_by) \
         VALUES ($1, $2, 'building', 0, $3, $4, $4, $5) RETURNING id",
    )
    .bind(customer_id)
    .bind(request_id)
    .bind(stage.as_str())
    .bind(at)
    .bind(requested_by)
    .fetch_one(conn)
    .await?)
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<ExportRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM exports WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

pub async fn by_token_hash(conn: &mut AnyConnection, hash: &str) -> Result<Option<ExportRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM exports WHERE token_hash = $1"
    ))
    .bind(hash)
    .fetch_optional(conn)
    .await?)
}

/// A customer's exports, newest first.
pub async fn for_customer(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<ExportRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM exports WHERE customer_id = $1 ORDER BY id DESC"
    ))
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

/// Records how far a build got; only while it is still building.
pub async fn set_progress(
    conn: &mut AnyConnection,
    id: i64,
    progress: i64,
    stage: ExportStage,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE exports SET progress = $1, stage = $2, updated_at = $3 \
         WHERE id = $4 AND status = 'building'",
    )
    .bind(progress.clamp(0, 100))
    .bind(stage.as_str())
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Where a finished export lies and until when it may be downloaded.
pub struct Ready<'a> {
    pub blob_key: &'a str,
    pub file_key_enc: &'a [u8],
    pub size: i64,
    pub stored_size: i64,
    pub at: i64,
    pub expires_at: i64,
}

/// Marks a build finished; false if it was no longer building.
pub async fn set_ready(conn: &mut AnyConnection, id: i64, r: &Ready<'_>) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE exports SET status = 'ready', progress = 100, stage = 'ready', blob_key = $1, \
         file_key_enc = $2, size = $3, stored_size = $4, ready_at = $5, updated_at = $5, \
         expires_at = $6 WHERE id = $7 AND status = 'building'",
    )
    .bind(r.blob_key)
    .bind(r.file_key_enc.to_vec())
    .bind(r.size)
    .bind(r.stored_size)
    .bind(r.at)
    .bind(r.expires_at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a build failed, with a reason that holds no personal data.
pub async fn set_failed(conn: &mut AnyConnection, id: i64, error: &str, at: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE exports SET status = 'failed', stage = 'failed', error = $1, updated_at = $2 \
         WHERE id = $3 AND status = 'building'",
    )
    .bind(error)
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets the keyed hash of a new download token, replacing any earlier one
/// (which stops working). With `only_first`, only if none was set yet: the
/// first look at a ready export shows its link, later looks do not.
pub async fn set_token_hash(
    conn: &mut AnyConnection,
    id: i64,
    hash: &str,
    only_first: bool,
    at: i64,
) -> Result<bool> {
    let sql = if only_first {
        "UPDATE exports SET token_hash = $1, updated_at = $2 \
         WHERE id = $3 AND status = 'ready' AND token_hash IS NULL"
    } else {
        "UPDATE exports SET token_hash = $1, updated_at = $2 WHERE id = $3 AND status = 'ready'"
    };
    let done = sqlx::query(sql)
        .bind(hash)
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Ready exports whose link has expired (their files are to be deleted).
pub async fn expired(conn: &mut AnyConnection, now: i64) -> Result<Vec<ExportRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM exports WHERE status = 'ready' AND expires_at <= $1 ORDER BY id"
    ))
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// Marks an export expired once its file is deleted. The token hash stays,
/// so the old link is answered "expired" rather than "not found".
pub async fn set_expired(conn: &mut AnyConnection, id: i64, at: i64) -> Result<()> {
    sqlx::query(
        "UPDATE exports SET status = 'expired', stage = 'expired', blob_key = NULL, \
         file_key_enc = NULL, updated_at = $1 WHERE id = $2 AND status = 'ready'",
    )
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Builds that have not moved since `before`: their server stopped.
pub async fn stalled(conn: &mut AnyConnection, before: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM exports WHERE status = 'building' AND updated_at < $1 ORDER BY id",
    )
    .bind(before)
    .fetch_all(conn)
    .await?)
}

// What an export holds, fetched in bulk.

/// The customer's blind indexes (the rest of the row comes from `customers::get`).
pub async fn customer_indexes(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Option<(Option<Vec<u8>>, Option<Vec<u8>>)>> {
    Ok(
        sqlx::query_as("SELECT phone_index, email_index FROM customers WHERE id = $1")
            .bind(customer_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// An order of the customer; its names are read as the domain's enums, as
/// everywhere else orders are read.
#[derive(Debug, Clone)]
pub struct OrderData {
    pub id: i64,
    pub status: OrderStatus,
    pub payment_method: PaymentMethod,
    pub payment_status: PaymentStatus,
    pub source: OrderSource,
    pub total: i64,
    pub address_enc: Option<Vec<u8>>,
    pub instructions_enc: Option<Vec<u8>>,
    pub created_at: i64,
    pub updated_at: i64,
    pub unconfirmed: i64,
    pub marketing_opt_in: i64,
    pub lang: chotomoni_domain::catalog::Lang,
}

impl FromRow<'_, AnyRow> for OrderData {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        let t = "orders";
        Ok(OrderData {
            id: row.try_get("id")?,
            status: stored(row, t, "status", OrderStatus::parse)?,
            payment_method: stored(row, t, "payment_method", PaymentMethod::parse)?,
            payment_status: stored(row, t, "payment_status", PaymentStatus::parse)?,
            source: stored(row, t, "source", OrderSource::parse)?,
            total: row.try_get("total")?,
            address_enc: row.try_get("address_enc")?,
            instructions_enc: row.try_get("instructions_enc")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            unconfirmed: row.try_get("unconfirmed")?,
            marketing_opt_in: row.try_get("marketing_opt_in")?,
            lang: stored(row, t, "lang", chotomoni_domain::catalog::Lang::parse)?,
        })
    }
}

/// Every order of the customer, oldest first.
pub async fn orders(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<OrderData>> {
    Ok(sqlx::query_as(
        "SELECT id, status, payment_method, payment_status, source, total, address_enc, \
         instructions_enc, created_at, updated_at, unconfirmed, marketing_opt_in, lang \
         FROM orders WHERE customer_id = $1 ORDER BY id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

/// Every line of every order of the customer, by order and line.
pub async fn order_items(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<crate::orders::ItemRow>> {
    Ok(sqlx::query_as(
        "SELECT i.order_id, i.line_no, i.sku, i.name, i.quantity, i.unit_price \
         FROM order_items i JOIN orders o ON o.id = i.order_id \
         WHERE o.customer_id = $1 ORDER BY i.order_id, i.line_no",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

#[derive(Debug, Clone)]
pub struct EventData {
    pub order_id: i64,
    pub from_status: Option<OrderStatus>,
    pub to_status: OrderStatus,
    pub staff_id: Option<i64>,
    pub at: i64,
}

impl FromRow<'_, AnyRow> for EventData {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        let t = "order_events";
        Ok(EventData {
            order_id: row.try_get("order_id")?,
            from_status: stored_opt(row, t, "from_status", OrderStatus::parse)?,
            to_status: stored(row, t, "to_status", OrderStatus::parse)?,
            staff_id: row.try_get("staff_id")?,
            at: row.try_get("at")?,
        })
    }
}

/// The status history of every order of the customer, by order, oldest first.
pub async fn order_events(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<EventData>> {
    Ok(sqlx::query_as(
        "SELECT e.order_id, e.from_status, e.to_status, e.staff_id, e.at \
         FROM order_events e JOIN orders o ON o.id = e.order_id \
         WHERE o.customer_id = $1 ORDER BY e.order_id, e.id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

#[derive(Debug, Clone)]
pub struct SessionData {
    pub kind: SessionKind,
    pub lang: Lang,
    pub cart: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub device_kind: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

impl FromRow<'_, AnyRow> for SessionData {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(SessionData {
            kind: stored(row, "sessions", "kind", SessionKind::parse)?,
            lang: stored(row, "sessions", "lang", Lang::parse)?,
            cart: row.try_get("cart")?,
            ip_address: row.try_get("ip_address")?,
            user_agent: row.try_get("user_agent")?,
            device_kind: row.try_get("device_kind")?,
            created_at: row.try_get("created_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
            expires_at: row.try_get("expires_at")?,
        })
    }
}

/// The customer's sessions with the technical data still kept, oldest first.
pub async fn sessions(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<SessionData>> {
    Ok(sqlx::query_as(
        "SELECT kind, lang, cart, ip_address, user_agent, device_kind, created_at, last_seen_at, \
         expires_at FROM sessions WHERE customer_id = $1 ORDER BY created_at",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

#[derive(Debug, Clone, FromRow)]
pub struct CookieChoiceData {
    pub id: String,
    pub functional: i64,
    pub analytics: i64,
    pub policy_version: i64,
    pub at: i64,
}

/// Cookie choices made while signed in, oldest first.
pub async fn cookie_choices(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<CookieChoiceData>> {
    Ok(sqlx::query_as(
        "SELECT id, functional, analytics, policy_version, at FROM cookie_choices \
         WHERE customer_id = $1 ORDER BY at",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

/// Every finished proof of the customer's orders, by order and id.
pub async fn proofs(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<ProofRow>> {
    Ok(sqlx::query_as(
        "SELECT id, order_id, customer_id, kind, media_type, size, sha256, blob_key, \
         stored_size, poster_key, proof_key_enc, file_name_enc, uploader, captured_at, received_at, \
         duration_ms, width, height, has_audio, probed_at, probe_error, log_index, leaf \
         FROM proofs WHERE customer_id = $1 ORDER BY order_id, id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

#[derive(Debug, Clone)]
pub struct UploadData {
    pub id: String,
    pub order_id: i64,
    pub kind: ProofKind,
    pub length: i64,
    pub upload_offset: i64,
    pub media_type: Option<String>,
    pub file_name_enc: Option<Vec<u8>>,
    pub captured_at: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl FromRow<'_, AnyRow> for UploadData {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(UploadData {
            id: row.try_get("id")?,
            order_id: row.try_get("order_id")?,
            kind: stored(row, "uploads", "kind", crate::proofs::proof_kind)?,
            length: row.try_get("length")?,
            upload_offset: row.try_get("upload_offset")?,
            media_type: row.try_get("media_type")?,
            file_name_enc: row.try_get("file_name_enc")?,
            captured_at: row.try_get("captured_at")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
        })
    }
}

/// Proofs of the customer's orders still being uploaded.
pub async fn uploads(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<UploadData>> {
    Ok(sqlx::query_as(
        "SELECT id, order_id, kind, length, upload_offset, media_type, file_name_enc, captured_at, \
         created_at, expires_at FROM uploads WHERE customer_id = $1 ORDER BY created_at",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}
