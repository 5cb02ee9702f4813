//! Consignments (an order's parcel with a courier) and what couriers said
//! about them. Every change is a compare-and-set on the row's state, so two
//! servers (or a webhook racing a poll) cannot both book an order or both
//! move a parcel.
use crate::columns::{Columns, FromColumns};
use crate::courier_reports::Report;
use crate::{stored, stored_opt, Result};
use chotomoni_domain::{ConsignmentState, CourierName, EventOutcome, EventSource, ParcelStatus};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

#[derive(Debug, Clone)]
pub struct ConsignmentRow {
    pub order_id: i64,
    pub courier: CourierName,
    pub state: ConsignmentState,
    pub consignment_id: Option<String>,
    pub tracking_code: Option<String>,
    pub delivery_fee: Option<i64>,
    pub cash_to_collect: i64,
    pub collected: Option<i64>,
    pub parcel_status: Option<ParcelStatus>,
    pub courier_status: Option<String>,
    pub error: Option<String>,
    pub attempts: i64,
    pub booking_started_at: i64,
    pub booked_at: Option<i64>,
    pub news_at: Option<i64>,
    pub updated_at: i64,
}

const T: &str = "consignments";

impl FromColumns for ConsignmentRow {
    fn from_columns(row: &impl Columns) -> std::result::Result<Self, sqlx::Error> {
        Ok(ConsignmentRow {
            order_id: row.value("order_id")?,
            courier: stored(row, T, "courier", CourierName::parse)?,
            state: stored(row, T, "state", ConsignmentState::parse)?,
            consignment_id: row.value("consignment_id")?,
            tracking_code: row.value("tracking_code")?,
            delivery_fee: row.value("delivery_fee")?,
            cash_to_collect: row.value("cash_to_collect")?,
            collected: row.value("collected")?,
            parcel_status: stored_opt(row, T, "parcel_status", ParcelStatus::parse)?,
            courier_status: row.value("courier_status")?,
            error: row.value("error")?,
            attempts: row.value("attempts")?,
            booking_started_at: row.value("booking_started_at")?,
            booked_at: row.value("booked_at")?,
            news_at: row.value("news_at")?,
            updated_at: row.value("updated_at")?,
        })
    }
}

impl FromRow<'_, AnyRow> for ConsignmentRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        ConsignmentRow::from_columns(row)
    }
}

pub(crate) const COLUMNS: &str =
    "order_id, courier, state, consignment_id, tracking_code, delivery_fee, \
    cash_to_collect, collected, parcel_status, courier_status, error, attempts, \
    booking_started_at, booked_at, news_at, updated_at";

pub async fn get(conn: &mut AnyConnection, order_id: i64) -> Result<Option<ConsignmentRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM consignments WHERE order_id = $1"
    ))
    .bind(order_id)
    .fetch_optional(conn)
    .await?)
}

/// The consignments of a customer's orders.
pub async fn of_customer(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<ConsignmentRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM consignments WHERE order_id IN \
         (SELECT id FROM orders WHERE customer_id = $1) ORDER BY order_id"
    ))
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

/// Packed orders with no consignment or a failed one, oldest first.
pub async fn packed_unbooked(conn: &mut AnyConnection, limit: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT o.id FROM orders o LEFT JOIN consignments c ON c.order_id = o.id \
         WHERE o.status = 'packed' AND (c.order_id IS NULL OR c.state = 'failed') \
         ORDER BY o.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// A booking about to be sent.
pub struct Attempt {
    pub order_id: i64,
    pub courier: CourierName,
    pub cash_to_collect: i64,
    pub by: Option<i64>,
    pub at: i64,
    /// A booking still marked as sent before this time lost its answer
    /// (its server stopped): it may be sent again.
    pub abandoned_before: i64,
}

/// Claims the right to send a booking: true when this caller may send it
/// (no consignment yet, the last one failed, or an earlier attempt was
/// abandoned); false when the order is booked or being booked.
pub async fn start_booking(conn: &mut AnyConnection, a: &Attempt) -> Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO consignments (order_id, courier, state, cash_to_collect, attempts, \
         booked_by, booking_started_at, updated_at) VALUES ($1, $2, 'booking', $3, 1, $4, $5, $5) \
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(a.order_id)
    .bind(a.courier.as_str())
    .bind(a.cash_to_collect)
    .bind(a.by)
    .bind(a.at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(true);
    }
    let taken = sqlx::query(
        "UPDATE consignments SET courier = $1, state = 'booking', cash_to_collect = $2, \
         attempts = attempts + 1, booked_by = $3, booking_started_at = $4, updated_at = $4, \
         error = NULL WHERE order_id = $5 \
         AND (state = 'failed' OR (state = 'booking' AND booking_started_at < $6))",
    )
    .bind(a.courier.as_str())
    .bind(a.cash_to_collect)
    .bind(a.by)
    .bind(a.at)
    .bind(a.order_id)
    .bind(a.abandoned_before)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(taken == 1)
}

/// What the courier answered a booking with.
pub struct Booked<'a> {
    pub consignment_id: &'a str,
    pub tracking_code: Option<&'a str>,
    pub delivery_fee: Option<i64>,
    pub at: i64,
}

/// Records a booking's consignment; false if the row was not being booked.
pub async fn set_booked(conn: &mut AnyConnection, order_id: i64, b: &Booked<'_>) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE consignments SET state = 'booked', consignment_id = $1, tracking_code = $2, \
         delivery_fee = $3, parcel_status = 'booked', courier_status = NULL, error = NULL, \
         booked_at = $4, news_at = $4, updated_at = $4 WHERE order_id = $5 AND state = 'booking'",
    )
    .bind(b.consignment_id)
    .bind(b.tracking_code)
    .bind(b.delivery_fee)
    .bind(b.at)
    .bind(order_id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Records why a booking failed, for staff.
pub async fn set_failed(
    conn: &mut AnyConnection,
    order_id: i64,
    error: &str,
    at: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE consignments SET state = 'failed', error = $1, updated_at = $2 \
         WHERE order_id = $3 AND state = 'booking'",
    )
    .bind(error)
    .bind(at)
    .bind(order_id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Marks a booked consignment cancelled (the order was); false if it was not booked.
pub async fn set_cancelled(conn: &mut AnyConnection, order_id: i64, at: i64) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE consignments SET state = 'cancelled', updated_at = $1 \
         WHERE order_id = $2 AND state = 'booked'",
    )
    .bind(at)
    .bind(order_id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Leaves a message for staff on a booked consignment (a cancel the
/// courier refused).
pub async fn note_error(
    conn: &mut AnyConnection,
    order_id: i64,
    error: &str,
    at: i64,
) -> Result<()> {
    sqlx::query("UPDATE consignments SET error = $1, updated_at = $2 WHERE order_id = $3")
        .bind(error)
        .bind(at)
        .bind(order_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Drops a failed booking of an order that will not be booked any more.
pub async fn forget_failed(conn: &mut AnyConnection, order_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM consignments WHERE order_id = $1 AND state = 'failed'")
        .bind(order_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Booked parcels still on their way with no news since `before`, the
/// longest silent first.
pub async fn silent(
    conn: &mut AnyConnection,
    before: i64,
    limit: i64,
) -> Result<Vec<ConsignmentRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM consignments WHERE state = 'booked' AND news_at < $1 \
         AND parcel_status IN ('booked', 'with_courier', 'on_hold', 'unknown') \
         ORDER BY news_at LIMIT $2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Consignments staff must look at: failed or abandoned bookings (sent
/// before `abandoned_before` with no answer recorded), parcels on hold or
/// cancelled by the courier, and returned parcels until the station
/// records `return` proof of what came back; newest change first.
pub async fn needing_attention(
    conn: &mut AnyConnection,
    abandoned_before: i64,
    limit: i64,
) -> Result<Vec<ConsignmentRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM consignments WHERE state = 'failed' \
         OR (state = 'booking' AND booking_started_at < $1) \
         OR (state = 'booked' AND (error IS NOT NULL \
             OR parcel_status IN ('on_hold', 'cancelled') \
             OR (parcel_status = 'returned' AND NOT EXISTS (SELECT 1 FROM proofs p \
                 WHERE p.order_id = consignments.order_id AND p.kind = 'return')))) \
         ORDER BY updated_at DESC LIMIT $2"
    ))
    .bind(abandoned_before)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Cash on delivery per courier: parcels delivered (in full or part),
/// what was collected and what the courier charged.
pub async fn cash_on_delivery(
    conn: &mut AnyConnection,
) -> Result<Vec<(CourierName, i64, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT courier, COUNT(*) AS parcels, \
         CAST(COALESCE(SUM(collected), 0) AS BIGINT) AS collected, \
         CAST(COALESCE(SUM(delivery_fee), 0) AS BIGINT) AS charges FROM consignments \
         WHERE state = 'booked' AND parcel_status IN ('delivered', 'partly_delivered', 'returned') \
         GROUP BY courier ORDER BY courier",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                stored(row, T, "courier", CourierName::parse)?,
                row.try_get::<i64, _>("parcels")?,
                row.try_get::<i64, _>("collected")?,
                row.try_get::<i64, _>("charges")?,
            ))
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// A payment a courier made to the shop, as staff recorded it.
pub struct NewPayout<'a> {
    pub courier: CourierName,
    pub amount: i64,
    pub reference: &'a str,
    pub by: i64,
    pub at: i64,
}

pub async fn record_payout(conn: &mut AnyConnection, p: &NewPayout<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO courier_payouts (courier, amount, reference, recorded_by, at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(p.courier.as_str())
    .bind(p.amount)
    .bind(p.reference)
    .bind(p.by)
    .bind(p.at)
    .fetch_one(conn)
    .await?)
}

/// What each courier has paid the shop, in all.
pub async fn paid_out(conn: &mut AnyConnection) -> Result<Vec<(CourierName, i64)>> {
    let rows = sqlx::query(
        "SELECT courier, CAST(SUM(amount) AS BIGINT) AS paid FROM courier_payouts \
         GROUP BY courier ORDER BY courier",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                stored(row, "courier_payouts", "courier", CourierName::parse)?,
                row.try_get::<i64, _>("paid")?,
            ))
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// One thing a courier said, with what it did.
pub struct NewEvent<'a> {
    pub report: Report<'a>,
    pub order_id: Option<i64>,
    pub outcome: EventOutcome,
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: i64,
    pub courier: CourierName,
    pub consignment_id: String,
    pub order_id: Option<i64>,
    pub parcel_status: ParcelStatus,
    pub courier_status: String,
    pub source: EventSource,
    pub outcome: EventOutcome,
    pub received_at: i64,
}

impl FromRow<'_, AnyRow> for EventRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        const E: &str = "courier_events";
        Ok(EventRow {
            id: row.try_get("id")?,
            courier: stored(row, E, "courier", CourierName::parse)?,
            consignment_id: row.try_get("consignment_id")?,
            order_id: row.try_get("order_id")?,
            parcel_status: stored(row, E, "parcel_status", ParcelStatus::parse)?,
            courier_status: row.try_get("courier_status")?,
            source: stored(row, E, "source", EventSource::parse)?,
            outcome: stored(row, E, "outcome", EventOutcome::parse)?,
            received_at: row.try_get("received_at")?,
        })
    }
}

const EVENT_COLUMNS: &str = "id, courier, consignment_id, order_id, parcel_status, \
    courier_status, source, outcome, received_at";

/// What couriers said about an order's parcel, oldest first.
pub async fn events_of(conn: &mut AnyConnection, order_id: i64) -> Result<Vec<EventRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM courier_events WHERE order_id = $1 ORDER BY id"
    ))
    .bind(order_id)
    .fetch_all(conn)
    .await?)
}

/// Events about consignments we do not know that staff have not looked at.
pub async fn unknown_unseen(conn: &mut AnyConnection, limit: i64) -> Result<Vec<EventRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM courier_events \
         WHERE outcome = 'unknown_consignment' AND seen_at IS NULL ORDER BY id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Staff have looked at an event; false if it did not need them or was seen.
pub async fn mark_seen(conn: &mut AnyConnection, id: i64, at: i64) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE courier_events SET seen_at = $1 WHERE id = $2 AND seen_at IS NULL \
         AND outcome = 'unknown_consignment'",
    )
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}
