//! Privacy requests, their status history and the public form's one-time
//! codes. No row holds personal data in clear.
use crate::{stored, stored_opt, Result};
use chotomoni_domain::{RequestChannel, RequestKind, RequestStatus, VerifiedBy};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

/// A request as stored; its kind, channel, status and how it was verified
/// are read as the domain's enums, and a value that is not one fails where it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    pub id: i64,
    pub customer_id: i64,
    pub kind: RequestKind,
    pub channel: RequestChannel,
    pub status: RequestStatus,
    pub verified_by: Option<VerifiedBy>,
    pub received_at: i64,
    pub deadline_at: i64,
    /// SHA-256 of the status link's secret; the secret itself is never stored.
    pub status_token_hash: String,
    /// When the status link stops working: 30 days after the request ended.
    pub status_expires_at: Option<i64>,
    pub hold_reason: Option<String>,
    pub outcome: Option<String>,
    pub export_id: Option<i64>,
    pub logged_by: Option<i64>,
    pub completed_at: Option<i64>,
}

impl FromRow<'_, AnyRow> for RequestRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        let t = "privacy_requests";
        Ok(RequestRow {
            id: row.try_get("id")?,
            customer_id: row.try_get("customer_id")?,
            kind: stored(row, t, "kind", RequestKind::parse)?,
            channel: stored(row, t, "channel", RequestChannel::parse)?,
            status: stored(row, t, "status", RequestStatus::parse)?,
            verified_by: stored_opt(row, t, "verified_by", VerifiedBy::parse)?,
            received_at: row.try_get("received_at")?,
            deadline_at: row.try_get("deadline_at")?,
            status_token_hash: row.try_get("status_token_hash")?,
            status_expires_at: row.try_get("status_expires_at")?,
            hold_reason: row.try_get("hold_reason")?,
            outcome: row.try_get("outcome")?,
            export_id: row.try_get("export_id")?,
            logged_by: row.try_get("logged_by")?,
            completed_at: row.try_get("completed_at")?,
        })
    }
}

pub struct NewRequest<'a> {
    pub customer_id: i64,
    pub kind: RequestKind,
    pub channel: RequestChannel,
    pub status: RequestStatus,
    pub verified_by: Option<VerifiedBy>,
    pub received_at: i64,
    pub deadline_at: i64,
    pub status_token_hash: &'a str,
    pub logged_by: Option<i64>,
}

/// A step of a request's history; the status it moved to is read as the
/// domain's, as the request's own is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub at: i64,
    pub status: RequestStatus,
    pub actor: String,
    pub note: String,
}

const SELECT: &str = "SELECT id, customer_id, kind, channel, status, verified_by, received_at, \
     deadline_at, status_token_hash, status_expires_at, hold_reason, outcome, export_id, \
     logged_by, completed_at \
     FROM privacy_requests";

pub async fn insert(conn: &mut AnyConnection, r: &NewRequest<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO privacy_requests (customer_id, kind, channel, status, verified_by, \
         received_at, deadline_at, status_token_hash, logged_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(r.customer_id)
    .bind(r.kind.as_str())
    .bind(r.channel.as_str())
    .bind(r.status.as_str())
    .bind(r.verified_by.map(VerifiedBy::as_str))
    .bind(r.received_at)
    .bind(r.deadline_at)
    .bind(r.status_token_hash)
    .bind(r.logged_by)
    .fetch_one(conn)
    .await?)
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<RequestRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// The request a status link leads to, while the link works.
pub async fn by_status_token_hash(
    conn: &mut AnyConnection,
    hash: &str,
    now: i64,
) -> Result<Option<RequestRow>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE status_token_hash = $1 \
         AND (status_expires_at IS NULL OR status_expires_at > $2)"
    ))
    .bind(hash)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

/// A new status link for the request; the old one stops working.
pub async fn set_status_token_hash(conn: &mut AnyConnection, id: i64, hash: &str) -> Result<()> {
    sqlx::query("UPDATE privacy_requests SET status_token_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// How long a status link works after its request ended.
pub const STATUS_LINK_AFTER_END_MS: i64 = 30 * 86_400_000;

pub async fn for_customer(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<RequestRow>> {
    Ok(
        sqlx::query_as(&format!("{SELECT} WHERE customer_id = $1 ORDER BY id DESC"))
            .bind(customer_id)
            .fetch_all(conn)
            .await?,
    )
}

/// The back-office queue: unfinished requests by deadline (overdue first),
/// then finished ones, newest first.
pub async fn queue(conn: &mut AnyConnection, limit: i64) -> Result<Vec<RequestRow>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} ORDER BY CASE WHEN status IN ('completed', 'rejected') THEN 1 ELSE 0 END, \
         CASE WHEN status IN ('completed', 'rejected') THEN -id ELSE deadline_at END LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Requests the background job should look at: open, held, or in progress.
pub async fn unfinished_verified(conn: &mut AnyConnection) -> Result<Vec<RequestRow>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE status IN ('open', 'held', 'in_progress') ORDER BY deadline_at"
    ))
    .fetch_all(conn)
    .await?)
}

/// An unfinished request of this kind for this customer, if any, so asking
/// twice does not queue the same work twice.
pub async fn pending_of_kind(
    conn: &mut AnyConnection,
    customer_id: i64,
    kind: RequestKind,
) -> Result<Option<RequestRow>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE customer_id = $1 AND kind = $2 \
         AND status NOT IN ('completed', 'rejected') ORDER BY id LIMIT 1"
    ))
    .bind(customer_id)
    .bind(kind.as_str())
    .fetch_optional(conn)
    .await?)
}

/// What changes with a status.
#[derive(Debug, Default)]
pub struct StatusChange {
    pub verified_by: Option<VerifiedBy>,
    pub hold_reason: Option<String>,
    pub outcome: Option<String>,
    pub export_id: Option<i64>,
    pub completed_at: Option<i64>,
}

/// Moves the request from `from` to `to`; false when it was no longer in
/// `from` (another server got there first).
pub async fn change_status(
    conn: &mut AnyConnection,
    id: i64,
    from: RequestStatus,
    to: RequestStatus,
    c: &StatusChange,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE privacy_requests SET status = $1, \
         verified_by = COALESCE($2, verified_by), hold_reason = $3, \
         outcome = COALESCE($4, outcome), export_id = COALESCE($5, export_id), \
         completed_at = $6, status_expires_at = $6 + $9 WHERE id = $7 AND status = $8",
    )
    .bind(to.as_str())
    .bind(c.verified_by.map(VerifiedBy::as_str))
    .bind(&c.hold_reason)
    .bind(&c.outcome)
    .bind(c.export_id)
    .bind(c.completed_at)
    .bind(id)
    .bind(from.as_str())
    .bind(STATUS_LINK_AFTER_END_MS)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn add_event(
    conn: &mut AnyConnection,
    request_id: i64,
    at: i64,
    status: RequestStatus,
    actor: &str,
    note: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO privacy_request_events (request_id, at, status, actor, note) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(request_id)
    .bind(at)
    .bind(status.as_str())
    .bind(actor)
    .bind(note)
    .execute(conn)
    .await?;
    Ok(())
}

/// The histories of several requests in one query, oldest event first.
pub async fn events_of(
    conn: &mut AnyConnection,
    request_ids: &[i64],
) -> Result<Vec<(i64, EventRow)>> {
    if request_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = crate::sql::Sql::new(
        "SELECT request_id, at, status, actor, note FROM privacy_request_events WHERE request_id IN (",
    );
    q.list(request_ids.iter().copied(), ", ", |q, id| {
        q.bind(id);
    });
    q.push(") ORDER BY id");
    let (text, args) = q.into_parts();
    let found: Vec<AnyRow> = sqlx::query_with(&text, args).fetch_all(conn).await?;
    found
        .iter()
        .map(|r| {
            Ok((
                r.try_get("request_id")?,
                EventRow {
                    at: r.try_get("at")?,
                    status: stored(r, "privacy_request_events", "status", RequestStatus::parse)?,
                    actor: r.try_get("actor")?,
                    note: r.try_get("note")?,
                },
            ))
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(crate::StorageError::Database)
}

/// A one-time code; its kind is read as the domain's, and a value that is
/// not one fails where it is read.
#[derive(Debug, Clone)]
pub struct CodeRow {
    pub id: i64,
    pub kind: RequestKind,
    pub code_hash: Vec<u8>,
    pub expires_at: i64,
    pub attempts: i64,
}

impl FromRow<'_, AnyRow> for CodeRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(CodeRow {
            id: row.try_get("id")?,
            kind: stored(row, "request_codes", "kind", RequestKind::parse)?,
            code_hash: row.try_get("code_hash")?,
            expires_at: row.try_get("expires_at")?,
            attempts: row.try_get("attempts")?,
        })
    }
}

pub async fn insert_code(
    conn: &mut AnyConnection,
    address_index: &[u8],
    kind: RequestKind,
    code_hash: &[u8],
    at: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO request_codes (address_index, kind, code_hash, created_at, expires_at, attempts, used) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(address_index.to_vec())
    .bind(kind.as_str())
    .bind(code_hash.to_vec())
    .bind(at)
    .bind(expires_at)
    .bind(0_i64)
    .bind(0_i64)
    .execute(conn)
    .await?;
    Ok(())
}

/// The newest unused code for this address and kind, expired or not. All
/// the address's unused codes are read (a handful: sending one is rate
/// limited, and the sweep deletes old ones) so that one whose stored kind
/// is not a kind fails here, instead of being passed over as another kind.
pub async fn latest_code(
    conn: &mut AnyConnection,
    address_index: &[u8],
    kind: RequestKind,
) -> Result<Option<CodeRow>> {
    let codes: Vec<CodeRow> = sqlx::query_as(
        "SELECT id, kind, code_hash, expires_at, attempts FROM request_codes \
         WHERE address_index = $1 AND used = $2 ORDER BY id DESC",
    )
    .bind(address_index.to_vec())
    .bind(0_i64)
    .fetch_all(conn)
    .await?;
    Ok(codes.into_iter().find(|c| c.kind == kind))
}

/// Marks the code used; false when it already was (a replay racing this one).
pub async fn use_code(conn: &mut AnyConnection, id: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE request_codes SET used = $1 WHERE id = $2 AND used = $3")
        .bind(1_i64)
        .bind(id)
        .bind(0_i64)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes codes sent before `sent_before`.
pub async fn sweep_codes(conn: &mut AnyConnection, sent_before: i64) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM request_codes WHERE created_at < $1")
            .bind(sent_before)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
