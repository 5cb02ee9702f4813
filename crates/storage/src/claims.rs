//! Claims and the order lines they are about. A claim's kind, who raised
//! it, its language, status and decision are read as the domain's enums.
use crate::{stored, Result};
use chotomoni_domain::catalog::Lang;
use chotomoni_domain::{ClaimKind, ClaimStatus, Decision, RaisedBy};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRow {
    pub id: i64,
    pub order_id: i64,
    pub customer_id: i64,
    pub kind: ClaimKind,
    pub raised_by: RaisedBy,
    pub reference: Option<String>,
    /// The customer's words, sealed under their key.
    pub description_enc: Option<Vec<u8>>,
    pub lang: Lang,
    pub status: ClaimStatus,
    pub filed_by: String,
    pub filed_at: i64,
    pub first_response_due_at: i64,
    pub decision_due_at: i64,
    pub first_response_at: Option<i64>,
    pub decision: Option<Decision>,
    pub refund_amount: Option<i64>,
    pub reason: Option<String>,
    pub replacement_order_id: Option<i64>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<i64>,
    pub hold_id: i64,
}

impl FromRow<'_, AnyRow> for ClaimRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        let t = "claims";
        let decision: Option<String> = row.try_get("decision")?;
        Ok(ClaimRow {
            id: row.try_get("id")?,
            order_id: row.try_get("order_id")?,
            customer_id: row.try_get("customer_id")?,
            kind: stored(row, t, "kind", ClaimKind::parse)?,
            raised_by: stored(row, t, "raised_by", RaisedBy::parse)?,
            reference: row.try_get("reference")?,
            description_enc: row.try_get("description_enc")?,
            lang: stored(row, t, "lang", Lang::parse)?,
            status: stored(row, t, "status", ClaimStatus::parse)?,
            filed_by: row.try_get("filed_by")?,
            filed_at: row.try_get("filed_at")?,
            first_response_due_at: row.try_get("first_response_due_at")?,
            decision_due_at: row.try_get("decision_due_at")?,
            first_response_at: row.try_get("first_response_at")?,
            decision: match decision {
                None => None,
                Some(_) => Some(stored(row, t, "decision", Decision::parse)?),
            },
            refund_amount: row.try_get("refund_amount")?,
            reason: row.try_get("reason")?,
            replacement_order_id: row.try_get("replacement_order_id")?,
            decided_by: row.try_get("decided_by")?,
            decided_at: row.try_get("decided_at")?,
            hold_id: row.try_get("hold_id")?,
        })
    }
}

const COLUMNS: &str = "id, order_id, customer_id, kind, raised_by, reference, description_enc, \
    lang, status, filed_by, filed_at, first_response_due_at, decision_due_at, first_response_at, \
    decision, refund_amount, reason, replacement_order_id, decided_by, decided_at, hold_id";

pub struct NewClaim<'a> {
    pub order_id: i64,
    pub customer_id: i64,
    pub kind: ClaimKind,
    pub raised_by: RaisedBy,
    pub reference: Option<&'a str>,
    pub lang: Lang,
    pub filed_by: &'a str,
    pub filed_at: i64,
    pub first_response_due_at: i64,
    pub decision_due_at: i64,
    pub hold_id: i64,
}

/// Files a claim; `Duplicate` when one is already open on the order.
pub async fn insert(conn: &mut AnyConnection, c: &NewClaim<'_>) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO claims (order_id, customer_id, kind, raised_by, reference, lang, status, \
         filed_by, filed_at, first_response_due_at, decision_due_at, hold_id) \
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(c.order_id)
    .bind(c.customer_id)
    .bind(c.kind.as_str())
    .bind(c.raised_by.as_str())
    .bind(c.reference)
    .bind(c.lang.code())
    .bind(c.filed_by)
    .bind(c.filed_at)
    .bind(c.first_response_due_at)
    .bind(c.decision_due_at)
    .bind(c.hold_id)
    .fetch_one(conn)
    .await
    .map_err(crate::duplicate_as("an open claim on this order"))
}

/// The description is sealed under a context naming the claim, so it is
/// written once the claim has its number.
pub async fn set_description(conn: &mut AnyConnection, id: i64, sealed: &[u8]) -> Result<()> {
    sqlx::query("UPDATE claims SET description_enc = $1 WHERE id = $2")
        .bind(sealed.to_vec())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_item(
    conn: &mut AnyConnection,
    claim_id: i64,
    line_no: i64,
    quantity: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO claim_items (claim_id, line_no, quantity) VALUES ($1, $2, $3)")
        .bind(claim_id)
        .bind(line_no)
        .bind(quantity)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<ClaimRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM claims WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// The claim still open on an order, if any.
pub async fn open_on_order(conn: &mut AnyConnection, order_id: i64) -> Result<Option<ClaimRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM claims WHERE order_id = $1 AND status <> 'decided'"
    ))
    .bind(order_id)
    .fetch_optional(conn)
    .await?)
}

pub async fn of_order(conn: &mut AnyConnection, order_id: i64) -> Result<Vec<ClaimRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM claims WHERE order_id = $1 ORDER BY id DESC"
    ))
    .bind(order_id)
    .fetch_all(conn)
    .await?)
}

pub async fn of_customer(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<ClaimRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM claims WHERE customer_id = $1 ORDER BY id DESC"
    ))
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

/// Marks an upload as evidence of a claim.
pub async fn attach_upload(conn: &mut AnyConnection, upload_id: &str, claim_id: i64) -> Result<()> {
    sqlx::query("UPDATE uploads SET claim_id = $1 WHERE id = $2")
        .bind(claim_id)
        .bind(upload_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The proof made of an upload is evidence of the claim the upload was for.
pub async fn carry_to_proof(
    conn: &mut AnyConnection,
    upload_id: &str,
    proof_id: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE proofs SET claim_id = (SELECT claim_id FROM uploads WHERE id = $1) WHERE id = $2",
    )
    .bind(upload_id)
    .bind(proof_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The ids of a claim's evidence proofs.
pub async fn evidence(conn: &mut AnyConnection, claim_id: i64) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM proofs WHERE claim_id = $1 ORDER BY id")
            .bind(claim_id)
            .fetch_all(conn)
            .await?,
    )
}

/// When the order was last marked delivered.
pub async fn delivered_at(conn: &mut AnyConnection, order_id: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT MAX(at) FROM order_events WHERE order_id = $1 AND to_status = 'delivered'",
    )
    .bind(order_id)
    .fetch_one(conn)
    .await?)
}

/// Poisha already refunded by decided claims on the order.
pub async fn refunded_on_order(conn: &mut AnyConnection, order_id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(refund_amount), 0) AS BIGINT) FROM claims WHERE order_id = $1",
    )
    .bind(order_id)
    .fetch_one(conn)
    .await?)
}

/// `(line_no, quantity)` of a claim, in line order.
pub async fn items(conn: &mut AnyConnection, claim_id: i64) -> Result<Vec<(i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT line_no, quantity FROM claim_items WHERE claim_id = $1 ORDER BY line_no",
    )
    .bind(claim_id)
    .fetch_all(conn)
    .await?)
}

/// What the desk's queue shows.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub status: Option<ClaimStatus>,
    pub kind: Option<ClaimKind>,
    /// Only claims filed before this time (older than an age).
    pub filed_before: Option<i64>,
    pub limit: i64,
}

/// Claims, overdue ones first (past their decision, then first-response due
/// time), then by how soon they are due; decided ones last, newest first.
pub async fn queue(conn: &mut AnyConnection, f: &QueueFilter, now: i64) -> Result<Vec<ClaimRow>> {
    let mut sql = crate::sql::Sql::new(&format!("SELECT {COLUMNS} FROM claims WHERE 1 = 1"));
    if let Some(status) = f.status {
        sql.push(" AND status = ").bind(status.as_str());
    }
    if let Some(kind) = f.kind {
        sql.push(" AND kind = ").bind(kind.as_str());
    }
    if let Some(before) = f.filed_before {
        sql.push(" AND filed_at < ").bind(before);
    }
    sql.push(" ORDER BY CASE WHEN status = 'decided' THEN 2 WHEN decision_due_at < ")
        .bind(now)
        .push(" OR (first_response_at IS NULL AND first_response_due_at < ")
        .bind(now)
        .push(
            ") THEN 0 ELSE 1 END, \
             CASE WHEN status = 'decided' THEN -filed_at ELSE decision_due_at END, id LIMIT ",
        )
        .bind(f.limit);
    let (text, args) = sql.into_parts();
    Ok(sqlx::query_as_with(&text, args).fetch_all(conn).await?)
}

/// The desk's first answer: an open claim moves to review (once).
pub async fn mark_in_review(conn: &mut AnyConnection, id: i64, at: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE claims SET status = 'in_review', first_response_at = COALESCE(first_response_at, $1) \
         WHERE id = $2 AND status = 'open'",
    )
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub struct Decided<'a> {
    pub decision: Decision,
    pub refund_amount: Option<i64>,
    pub reason: &'a str,
    pub replacement_order_id: Option<i64>,
    pub decided_by: Option<i64>,
    pub decided_at: i64,
}

/// Records the decision unless the claim was already decided (`false`).
pub async fn decide(conn: &mut AnyConnection, id: i64, d: &Decided<'_>) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE claims SET status = 'decided', decision = $1, refund_amount = $2, reason = $3, \
         replacement_order_id = $4, decided_by = $5, decided_at = $6, \
         first_response_at = COALESCE(first_response_at, $6) \
         WHERE id = $7 AND status <> 'decided'",
    )
    .bind(d.decision.as_str())
    .bind(d.refund_amount)
    .bind(d.reason)
    .bind(d.replacement_order_id)
    .bind(d.decided_by)
    .bind(d.decided_at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends a hold at `until` (a decided claim keeps its proof for the appeal period).
pub async fn end_hold_at(conn: &mut AnyConnection, hold_id: i64, until: i64) -> Result<()> {
    sqlx::query("UPDATE legal_holds SET until_at = $1 WHERE id = $2 AND released_at IS NULL")
        .bind(until)
        .bind(hold_id)
        .execute(conn)
        .await?;
    Ok(())
}
