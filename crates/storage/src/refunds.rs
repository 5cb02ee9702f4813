//! Refunds of decided claims, and of held payments staff send back. A
//! refund's state moves by compare-and-set
//! (`move_state`), so the job asking a gateway for it, run on any server,
//! calls the gateway once: only the caller that moved `queued` to
//! `sending` makes the call.
use crate::{stored, stored_opt, Result};
use chotomoni_domain::{RefundMethod, RefundState, RefundWallet};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

#[derive(Debug, Clone)]
pub struct RefundRow {
    pub id: i64,
    /// None for a held payment sent back.
    pub claim_id: Option<i64>,
    pub order_id: i64,
    pub payment_id: Option<i64>,
    pub method: RefundMethod,
    pub amount: i64,
    pub state: RefundState,
    pub gateway_ref: Option<String>,
    pub gateway_status: Option<String>,
    pub message: Option<String>,
    pub wallet: Option<RefundWallet>,
    pub wallet_trx_id: Option<String>,
    pub recorded_by: Option<i64>,
    pub requested_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

const T: &str = "refunds";

impl FromRow<'_, AnyRow> for RefundRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(RefundRow {
            id: row.try_get("id")?,
            claim_id: row.try_get("claim_id")?,
            order_id: row.try_get("order_id")?,
            payment_id: row.try_get("payment_id")?,
            method: stored(row, T, "method", RefundMethod::parse)?,
            amount: row.try_get("amount")?,
            state: stored(row, T, "state", RefundState::parse)?,
            gateway_ref: row.try_get("gateway_ref")?,
            gateway_status: row.try_get("gateway_status")?,
            message: row.try_get("message")?,
            wallet: stored_opt(row, T, "wallet", RefundWallet::parse)?,
            wallet_trx_id: row.try_get("wallet_trx_id")?,
            recorded_by: row.try_get("recorded_by")?,
            requested_at: row.try_get("requested_at")?,
            updated_at: row.try_get("updated_at")?,
            finished_at: row.try_get("finished_at")?,
        })
    }
}

const COLUMNS: &str = "id, claim_id, order_id, payment_id, method, amount, state, gateway_ref, \
    gateway_status, message, wallet, wallet_trx_id, recorded_by, requested_at, updated_at, \
    finished_at";

pub struct NewRefund {
    pub claim_id: Option<i64>,
    pub order_id: i64,
    pub payment_id: Option<i64>,
    pub method: RefundMethod,
    pub amount: i64,
    pub state: RefundState,
    pub at: i64,
}

pub async fn insert(conn: &mut AnyConnection, r: &NewRefund) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO refunds (claim_id, order_id, payment_id, method, amount, state, \
         requested_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(r.claim_id)
    .bind(r.order_id)
    .bind(r.payment_id)
    .bind(r.method.as_str())
    .bind(r.amount)
    .bind(r.state.as_str())
    .bind(r.at)
    .fetch_one(conn)
    .await?)
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<RefundRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM refunds WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

pub async fn of_claim(conn: &mut AnyConnection, claim_id: i64) -> Result<Option<RefundRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM refunds WHERE claim_id = $1"
    ))
    .bind(claim_id)
    .fetch_optional(conn)
    .await?)
}

/// What a gateway (or staff) said of a refund.
#[derive(Debug, Clone, Default)]
pub struct Said<'a> {
    pub gateway_ref: Option<&'a str>,
    pub gateway_status: Option<&'a str>,
    pub message: Option<&'a str>,
}

/// Moves refund `id` from `from` to `to` with what was said: true for the
/// one caller that moved it. A final state stamps `finished_at`.
pub async fn move_state(
    conn: &mut AnyConnection,
    id: i64,
    from: RefundState,
    to: RefundState,
    said: &Said<'_>,
    at: i64,
) -> Result<bool> {
    let finished = (to == RefundState::Refunded).then_some(at);
    let moved = sqlx::query(
        "UPDATE refunds SET state = $1, gateway_ref = COALESCE($2, gateway_ref), \
         gateway_status = COALESCE($3, gateway_status), message = $4, \
         finished_at = COALESCE($5, finished_at), updated_at = $6 \
         WHERE id = $7 AND state = $8",
    )
    .bind(to.as_str())
    .bind(said.gateway_ref)
    .bind(said.gateway_status)
    .bind(said.message)
    .bind(finished)
    .bind(at)
    .bind(id)
    .bind(from.as_str())
    .execute(conn)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// A refund staff paid by hand: only one awaiting that or refused.
pub async fn record_manual(
    conn: &mut AnyConnection,
    id: i64,
    wallet: RefundWallet,
    trx_id: &str,
    by: i64,
    at: i64,
) -> Result<bool> {
    let moved = sqlx::query(
        "UPDATE refunds SET state = 'refunded', wallet = $1, wallet_trx_id = $2, \
         recorded_by = $3, finished_at = $4, updated_at = $4 \
         WHERE id = $5 AND state IN ('awaiting_manual', 'refused')",
    )
    .bind(wallet.as_str())
    .bind(trx_id)
    .bind(by)
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// Refunds a gateway is processing, or whose call was cut off (`sending`),
/// not heard of since `before`; the quietest first.
pub async fn to_follow(
    conn: &mut AnyConnection,
    before: i64,
    limit: i64,
) -> Result<Vec<RefundRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM refunds WHERE state IN ('processing', 'sending') \
         AND updated_at < $1 ORDER BY updated_at LIMIT $2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Refunds staff must act on (pay by hand: awaiting it, or refused by the
/// gateway), oldest first.
pub async fn needing_staff(conn: &mut AnyConnection, limit: i64) -> Result<Vec<RefundRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM refunds WHERE state IN ('awaiting_manual', 'refused') \
         ORDER BY id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Poisha already refunded or under way from payment `payment_id`, leaving
/// out refund `except`, refused ones and those the shop paid back by hand
/// (that money did not come out of the payment at the gateway).
pub async fn taken_from_payment(
    conn: &mut AnyConnection,
    payment_id: i64,
    except: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM refunds \
         WHERE payment_id = $1 AND id <> $2 AND state NOT IN ('refused', 'awaiting_manual') \
         AND wallet IS NULL",
    )
    .bind(payment_id)
    .bind(except)
    .fetch_one(conn)
    .await?)
}

/// Poisha the order's claims had refunded, all refunds finished (a held
/// payment sent back never paid the order, so it does not count).
pub async fn refunded_on_order(conn: &mut AnyConnection, order_id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM refunds \
         WHERE order_id = $1 AND state = 'refunded' AND claim_id IS NOT NULL",
    )
    .bind(order_id)
    .fetch_one(conn)
    .await?)
}
