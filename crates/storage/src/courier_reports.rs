//! The statements that apply a batch of courier reports at once: read the
//! parcels they are about, move those that moved on (compare-and-set, many
//! rows per statement), move their orders, and record every report. A
//! webhook is small and couriers send many at once; with one statement per
//! batch instead of one per report, what a report costs is mostly its rows.
//!
//! They run on a [`WriteConn`]: through sqlx, or on SQLite in place.
use crate::columns::{Columns, FromColumns};
use crate::consignments::{ConsignmentRow, NewEvent, COLUMNS};
use crate::sql::Sql;
use crate::sqlite_writer::WriteConn;
use crate::{stored, Engine, Result};
use chotomoni_domain::{CourierName, OrderStatus, ParcelStatus};

/// Rows per statement: well under either engine's limit on parameters.
const ROWS: usize = 64;

/// A parcel with where its order is, read together.
pub struct ParcelRow {
    pub parcel: ConsignmentRow,
    pub order_status: OrderStatus,
}

impl FromColumns for ParcelRow {
    fn from_columns(row: &impl Columns) -> std::result::Result<Self, sqlx::Error> {
        Ok(ParcelRow {
            parcel: ConsignmentRow::from_columns(row)?,
            order_status: stored(row, "orders", "order_status", OrderStatus::parse)?,
        })
    }
}

/// The parcels of `courier` with these consignment ids (those we know),
/// each with its order's status. On PostgreSQL their rows are
/// locked, in order of order id, until the transaction ends: two servers'
/// batches over the same parcels then wait for each other at this read
/// instead of deadlocking later, when each goes on to update the parcels
/// the other locked. (SQLite's write transaction holds the whole database.)
pub async fn parcels(
    conn: &mut WriteConn<'_>,
    engine: Engine,
    courier: CourierName,
    consignment_ids: &[&str],
) -> Result<Vec<ParcelRow>> {
    let columns: Vec<String> = COLUMNS
        .split(", ")
        .map(|c| format!("c.{}", c.trim()))
        .collect();
    let mut found = Vec::with_capacity(consignment_ids.len());
    for chunk in consignment_ids.chunks(ROWS) {
        let mut q = Sql::many(
            engine,
            &format!(
                "SELECT {}, o.status AS order_status FROM consignments c \
                 JOIN orders o ON o.id = c.order_id WHERE c.courier = ",
                columns.join(", ")
            ),
        );
        q.bind(courier.as_str().to_owned())
            .push(" AND c.consignment_id IN (")
            .padded_list(chunk, ", ", |q, id| {
                q.bind((*id).to_owned());
            })
            .push(") ORDER BY c.order_id")
            .push(match engine {
                Engine::Postgres => " FOR UPDATE OF c",
                Engine::Sqlite => "",
            });
        found.extend(conn.fetch_all::<ParcelRow>(q).await?);
    }
    Ok(found)
}

/// Where a parcel moved to, from where it was read.
pub struct ParcelMove<'a> {
    pub order_id: i64,
    pub from: Option<ParcelStatus>,
    pub to: ParcelStatus,
    pub courier_status: &'a str,
    pub collected: Option<i64>,
    pub delivery_fee: Option<i64>,
}

/// Moves each booked parcel that is still where it was read; amounts a
/// report left out stay as they were. Returns how many moved: fewer than
/// given means another server moved one meanwhile.
pub async fn advance(
    conn: &mut WriteConn<'_>,
    engine: Engine,
    moves: &[ParcelMove<'_>],
    at: i64,
) -> Result<u64> {
    let mut moved = 0;
    for chunk in moves.chunks(ROWS) {
        let mut q = Sql::many(
            engine,
            "WITH v (order_id, from_status, to_status, courier_status, collected, delivery_fee) \
             AS (VALUES ",
        );
        q.padded_list(chunk, ", ", |q, m| {
            q.push("(")
                .bind(m.order_id)
                .push(", ")
                // No status yet is '' here: `=` never matches NULL.
                .bind(m.from.map_or("", ParcelStatus::as_str).to_owned())
                .push(", ")
                .bind(m.to.as_str().to_owned())
                .push(", ")
                .bind(m.courier_status.to_owned())
                .push(", ")
                .bind(m.collected)
                .push(", ")
                .bind(m.delivery_fee)
                .push(")");
        });
        q.push(
            ") UPDATE consignments SET parcel_status = v.to_status, \
             courier_status = v.courier_status, \
             collected = COALESCE(v.collected, consignments.collected), \
             delivery_fee = COALESCE(v.delivery_fee, consignments.delivery_fee), news_at = ",
        )
        .bind(at)
        .push(", updated_at = ")
        .bind(at)
        .push(" FROM v WHERE consignments.order_id = v.order_id AND ")
        // SQLite: the unary `+` keeps the planner from driving the update
        // by an index on state, which every booked parcel shares (by the
        // former one on state and news_at, from 35 rows up it did: it read
        // every booked parcel, 35 ms where looking each row up takes 1).
        // PostgreSQL has no unary `+` for text, and plans by statistics.
        .push(match engine {
            Engine::Sqlite => "+consignments.state = 'booked'",
            Engine::Postgres => "consignments.state = 'booked'",
        })
        .push(" AND COALESCE(consignments.parcel_status, '') = v.from_status");
        moved += conn.execute(q).await?;
    }
    Ok(moved)
}

/// Notes that couriers said something about these parcels (they stay
/// where they are).
pub async fn heard(
    conn: &mut WriteConn<'_>,
    engine: Engine,
    order_ids: &[i64],
    at: i64,
) -> Result<()> {
    for chunk in order_ids.chunks(ROWS) {
        let mut q = Sql::many(engine, "UPDATE consignments SET news_at = ");
        q.bind(at)
            .push(" WHERE order_id IN (")
            .padded_list(chunk, ", ", |q, id| {
                q.bind(*id);
            })
            .push(")");
        conn.execute(q).await?;
    }
    Ok(())
}

/// An order's move along its lifecycle: one history row per step.
pub struct OrderMove {
    pub id: i64,
    pub steps: Vec<(OrderStatus, OrderStatus)>,
}

impl OrderMove {
    fn span(&self) -> Option<(OrderStatus, OrderStatus)> {
        Some((self.steps.first()?.0, self.steps.last()?.1))
    }
}

/// Moves each order that is still where it was read to its last step and
/// writes a history row for every step. Returns how many orders moved:
/// fewer than given means one changed meanwhile (nothing is then kept: the
/// caller rolls back).
pub async fn move_orders(
    conn: &mut WriteConn<'_>,
    engine: Engine,
    moves: &[OrderMove],
    at: i64,
) -> Result<u64> {
    let spans: Vec<(i64, OrderStatus, OrderStatus)> = moves
        .iter()
        .filter_map(|m| m.span().map(|(from, to)| (m.id, from, to)))
        .collect();
    let mut moved = 0;
    for chunk in spans.chunks(ROWS) {
        let mut q = Sql::many(engine, "WITH v (id, from_status, to_status) AS (VALUES ");
        q.padded_list(chunk, ", ", |q, step| {
            bind_step(q.push("("), step).push(")");
        });
        q.push(") UPDATE orders SET status = v.to_status, updated_at = ")
            .bind(at)
            .push(" FROM v WHERE orders.id = v.id AND orders.status = v.from_status");
        moved += conn.execute(q).await?;
    }
    let steps: Vec<(i64, OrderStatus, OrderStatus)> = moves
        .iter()
        .flat_map(|m| m.steps.iter().map(|&(from, to)| (m.id, from, to)))
        .collect();
    for chunk in steps.chunks(ROWS) {
        let mut q = Sql::many(
            engine,
            "WITH v (order_id, from_status, to_status, at, pos) AS (VALUES ",
        );
        q.padded_rows(chunk, |q, step| {
            bind_step(q, step).push(", ").bind(at);
        })
        .push(
            ") INSERT INTO order_events (order_id, from_status, to_status, at) \
             SELECT order_id, from_status, to_status, at FROM v WHERE pos < ",
        )
        .bind_kept(chunk)
        .push(" ORDER BY pos");
        conn.execute(q).await?;
    }
    Ok(moved)
}

/// Binds `order id, from, to` of one step.
fn bind_step<'q>(q: &'q mut Sql, (id, from, to): &(i64, OrderStatus, OrderStatus)) -> &'q mut Sql {
    q.bind(*id)
        .push(", ")
        .bind(from.as_str().to_owned())
        .push(", ")
        .bind(to.as_str().to_owned())
}

/// Records what couriers said, each with what it did.
pub async fn record(
    conn: &mut WriteConn<'_>,
    engine: Engine,
    events: &[NewEvent<'_>],
) -> Result<()> {
    for chunk in events.chunks(ROWS) {
        const COLUMNS: &str = "courier, consignment_id, order_id, parcel_status, courier_status, \
             collected, delivery_fee, courier_at, source, outcome, received_at";
        let mut q = Sql::many(engine, &format!("WITH v ({COLUMNS}, pos) AS (VALUES "));
        q.padded_rows(chunk, |q, e| {
            q.bind(e.courier.as_str().to_owned())
                .push(", ")
                .bind(e.consignment_id.to_owned())
                .push(", ")
                .bind(e.order_id)
                .push(", ")
                .bind(e.parcel_status.as_str().to_owned())
                .push(", ")
                .bind(e.courier_status.to_owned())
                .push(", ")
                .bind(e.collected);
            q.push(", ")
                .bind(e.delivery_fee)
                .push(", ")
                .bind(e.courier_at.map(str::to_owned))
                .push(", ")
                .bind(e.source.as_str().to_owned())
                .push(", ")
                .bind(e.outcome.as_str().to_owned())
                .push(", ")
                .bind(e.at);
        })
        .push(&format!(
            ") INSERT INTO courier_events ({COLUMNS}) SELECT {COLUMNS} FROM v WHERE pos < "
        ))
        .bind_kept(chunk)
        .push(" ORDER BY pos");
        conn.execute(q).await?;
    }
    Ok(())
}
