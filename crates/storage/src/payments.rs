//! Online payment attempts. A payment leaves `started` once, by a
//! compare-and-set on its status, so the IPN, the customer's return and the
//! background query racing each other (on one server or several) complete
//! it once: the loser finds it finished and changes nothing. The order's
//! payment status follows in the same transaction.
use crate::sql::Sql;
use crate::{stored, Result};
use chotomoni_domain::{GatewayName, PaymentState, PaymentStatus};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

#[derive(Debug, Clone)]
pub struct PaymentRow {
    pub id: i64,
    pub tran_id: String,
    pub order_id: i64,
    pub gateway: GatewayName,
    pub session_ref: Option<String>,
    pub gateway_payment_id: Option<String>,
    pub gateway_transaction_id: Option<String>,
    pub amount: i64,
    pub paid_amount: Option<i64>,
    pub currency: String,
    pub status: PaymentState,
    pub hold_reason: Option<String>,
    pub risk_level: Option<i64>,
    pub gateway_status: Option<String>,
    pub started_at: i64,
    pub news_at: i64,
    pub finished_at: Option<i64>,
}

const T: &str = "payments";

impl FromRow<'_, AnyRow> for PaymentRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(PaymentRow {
            id: row.try_get("id")?,
            tran_id: row.try_get("tran_id")?,
            order_id: row.try_get("order_id")?,
            gateway: stored(row, T, "gateway", GatewayName::parse)?,
            session_ref: row.try_get("session_ref")?,
            gateway_payment_id: row.try_get("gateway_payment_id")?,
            gateway_transaction_id: row.try_get("gateway_transaction_id")?,
            amount: row.try_get("amount")?,
            paid_amount: row.try_get("paid_amount")?,
            currency: row.try_get("currency")?,
            status: stored(row, T, "status", PaymentState::parse)?,
            hold_reason: row.try_get("hold_reason")?,
            risk_level: row.try_get("risk_level")?,
            gateway_status: row.try_get("gateway_status")?,
            started_at: row.try_get("started_at")?,
            news_at: row.try_get("news_at")?,
            finished_at: row.try_get("finished_at")?,
        })
    }
}

const COLUMNS: &str = "id, tran_id, order_id, gateway, session_ref, gateway_payment_id, \
    gateway_transaction_id, amount, paid_amount, currency, status, hold_reason, risk_level, \
    gateway_status, started_at, news_at, finished_at";

/// A payment about to be sent to its gateway.
pub struct NewPayment<'a> {
    pub tran_id: &'a str,
    pub order_id: i64,
    pub gateway: GatewayName,
    pub amount: i64,
    pub currency: &'a str,
    pub at: i64,
}

pub async fn insert(conn: &mut AnyConnection, p: &NewPayment<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO payments (tran_id, order_id, gateway, amount, currency, status, \
         started_at, news_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'started', $6, $6, $6) \
         RETURNING id",
    )
    .bind(p.tran_id)
    .bind(p.order_id)
    .bind(p.gateway.as_str())
    .bind(p.amount)
    .bind(p.currency)
    .bind(p.at)
    .fetch_one(conn)
    .await?)
}

/// The gateway's id for the session it opened.
pub async fn set_session(
    conn: &mut AnyConnection,
    tran_id: &str,
    session_ref: &str,
    at: i64,
) -> Result<()> {
    sqlx::query("UPDATE payments SET session_ref = $1, updated_at = $2 WHERE tran_id = $3")
        .bind(session_ref)
        .bind(at)
        .bind(tran_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn by_tran_id(conn: &mut AnyConnection, tran_id: &str) -> Result<Option<PaymentRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payments WHERE tran_id = $1"
    ))
    .bind(tran_id)
    .fetch_optional(conn)
    .await?)
}

pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<PaymentRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM payments WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// An order's payments, oldest first.
pub async fn of_order(conn: &mut AnyConnection, order_id: i64) -> Result<Vec<PaymentRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payments WHERE order_id = $1 ORDER BY id"
    ))
    .bind(order_id)
    .fetch_all(conn)
    .await?)
}

/// The payments of a customer's orders, by order then oldest first.
pub async fn of_customer(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<PaymentRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payments WHERE order_id IN \
         (SELECT id FROM orders WHERE customer_id = $1) ORDER BY order_id, id"
    ))
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

/// How a payment ended, as the gateway stated it.
pub struct Finish<'a> {
    pub status: PaymentState,
    pub paid_amount: Option<i64>,
    pub gateway_payment_id: Option<&'a str>,
    pub gateway_transaction_id: Option<&'a str>,
    pub risk_level: Option<i64>,
    pub gateway_status: &'a str,
    pub hold_reason: Option<&'a str>,
    pub at: i64,
}

/// Moves a started payment to how it ended: true for the one caller that
/// moved it, false when it had ended already (a replay, or the other of
/// the IPN and the return arriving second).
pub async fn finish(conn: &mut AnyConnection, tran_id: &str, f: &Finish<'_>) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE payments SET status = $1, paid_amount = $2, \
         gateway_payment_id = COALESCE($3, gateway_payment_id), \
         gateway_transaction_id = COALESCE($4, gateway_transaction_id), risk_level = $5, \
         gateway_status = $6, hold_reason = $7, news_at = $8, finished_at = $8, updated_at = $8 \
         WHERE tran_id = $9 AND status = 'started'",
    )
    .bind(f.status.as_str())
    .bind(f.paid_amount)
    .bind(f.gateway_payment_id)
    .bind(f.gateway_transaction_id)
    .bind(f.risk_level)
    .bind(f.gateway_status)
    .bind(f.hold_reason)
    .bind(f.at)
    .bind(tran_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The gateway said something that ends nothing yet (pending).
pub async fn heard(
    conn: &mut AnyConnection,
    tran_id: &str,
    gateway_status: &str,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE payments SET gateway_status = $1, news_at = $2, updated_at = $2 \
         WHERE tran_id = $3 AND status = 'started'",
    )
    .bind(gateway_status)
    .bind(at)
    .bind(tran_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Started payments with no news since `before`, quietest first.
pub async fn silent(conn: &mut AnyConnection, before: i64, limit: i64) -> Result<Vec<PaymentRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payments WHERE status = 'started' AND news_at < $1 \
         ORDER BY news_at LIMIT $2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// The payment that paid the order, if one did (a held one staff accepted
/// counts: it is `paid` then).
pub async fn paid_of_order(conn: &mut AnyConnection, order_id: i64) -> Result<Option<PaymentRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payments WHERE order_id = $1 AND status = 'paid' \
         ORDER BY id DESC LIMIT 1"
    ))
    .bind(order_id)
    .fetch_optional(conn)
    .await?)
}

/// Staff chose to send held payment `tran_id` back: true for the one
/// caller that chose it while it was held and not accepted.
pub async fn open_held_refund(conn: &mut AnyConnection, tran_id: &str, at: i64) -> Result<bool> {
    decide_held(conn, tran_id, "refund_opened_at = $1", at).await
}

/// Payments held for staff that nobody has sent back, newest first.
pub async fn held(conn: &mut AnyConnection, limit: i64) -> Result<Vec<PaymentRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payments WHERE status = 'held' AND refund_opened_at IS NULL \
         ORDER BY id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// The order's payment status becomes `paid`, unless it was already:
/// false then (another payment paid it first).
pub async fn mark_order_paid(conn: &mut AnyConnection, order_id: i64, at: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE orders SET payment_status = 'paid', updated_at = $1 \
         WHERE id = $2 AND payment_status <> 'paid'",
    )
    .bind(at)
    .bind(order_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The order's payment status becomes `refunded`, if it was paid.
pub async fn mark_order_refunded(conn: &mut AnyConnection, order_id: i64, at: i64) -> Result<()> {
    move_order_payment(
        conn,
        order_id,
        PaymentStatus::Paid,
        PaymentStatus::Refunded,
        at,
    )
    .await
}

/// The order's payment status becomes `failed`, if it was still pending.
pub async fn mark_order_failed(conn: &mut AnyConnection, order_id: i64, at: i64) -> Result<()> {
    move_order_payment(
        conn,
        order_id,
        PaymentStatus::Pending,
        PaymentStatus::Failed,
        at,
    )
    .await
}

async fn move_order_payment(
    conn: &mut AnyConnection,
    order_id: i64,
    from: PaymentStatus,
    to: PaymentStatus,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE orders SET payment_status = $1, updated_at = $2 \
         WHERE id = $3 AND payment_status = $4",
    )
    .bind(to.as_str())
    .bind(at)
    .bind(order_id)
    .bind(from.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// A payment just marked paid whose order another payment paid first:
/// held for staff instead (in the same transaction).
pub async fn hold_paid(
    conn: &mut AnyConnection,
    tran_id: &str,
    reason: &str,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE payments SET status = 'held', hold_reason = $1, updated_at = $2 \
         WHERE tran_id = $3 AND status = 'paid'",
    )
    .bind(reason)
    .bind(at)
    .bind(tran_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Staff accept a held payment: it becomes `paid`; false unless it was held.
pub async fn accept_held(conn: &mut AnyConnection, tran_id: &str, at: i64) -> Result<bool> {
    decide_held(conn, tran_id, "status = 'paid'", at).await
}

/// The one decision on a held payment (accepted, or sent back), by
/// compare-and-set: true for the caller that made it while the payment was
/// held and undecided. `set` is the change, with the time as `$1`.
async fn decide_held(
    conn: &mut AnyConnection,
    tran_id: &str,
    set: &'static str,
    at: i64,
) -> Result<bool> {
    let done = sqlx::query(&format!(
        "UPDATE payments SET {set}, updated_at = $1 \
         WHERE tran_id = $2 AND status = 'held' AND refund_opened_at IS NULL"
    ))
    .bind(at)
    .bind(tran_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Per order among `order_ids`: its payments the gateway confirmed for
/// another amount than the attempt asked (a fraud signal).
pub async fn mismatched_counts(
    conn: &mut AnyConnection,
    order_ids: &[i64],
) -> Result<Vec<(i64, i64)>> {
    if order_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut q = Sql::new("SELECT order_id, COUNT(*) AS n FROM payments WHERE order_id");
    crate::order_signals::in_list(&mut q, order_ids);
    q.push(" AND paid_amount IS NOT NULL AND paid_amount <> amount GROUP BY order_id");
    let (text, args) = q.into_parts();
    Ok(sqlx::query_as_with(&text, args).fetch_all(conn).await?)
}
