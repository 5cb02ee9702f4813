//! The statements for courier reports, many at once: keep them as they come
//! in (the inbox, `courier_inbox`), then take the oldest, read the parcels
//! they are about, move those that moved on (compare-and-set, many rows per
//! statement), move their orders, and record every report. A webhook is
//! small and couriers send many at once; with one statement per batch
//! instead of one per report, what a report costs is mostly its rows.
//!
//! They run on a [`WriteConn`]: through sqlx, or on SQLite in place.
use crate::columns::{Columns, FromColumns};
use crate::consignments::{ConsignmentRow, NewEvent, COLUMNS};
use crate::sql::Sql;
use crate::sqlite_writer::WriteConn;
use crate::{stored, Engine, Result};
use chotomoni_domain::{CourierName, EventSource, OrderStatus, ParcelStatus};

/// Rows per statement: well under either engine's limit on parameters.
const ROWS: usize = 64;

/// What a courier said about a parcel, as it came in.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    pub courier: CourierName,
    pub consignment_id: &'a str,
    pub parcel_status: ParcelStatus,
    pub courier_status: &'a str,
    pub collected: Option<i64>,
    pub delivery_fee: Option<i64>,
    pub courier_at: Option<&'a str>,
    pub source: EventSource,
    pub received_at: i64,
}

/// A report's columns, the same in the inbox and in `courier_events`.
const REPORT_COLUMNS: &str = "courier, consignment_id, parcel_status, courier_status, \
     collected, delivery_fee, courier_at, source, received_at";

impl Report<'_> {
    fn bind(&self, q: &mut Sql) {
        q.bind(self.courier.as_str().to_owned())
            .push(", ")
            .bind(self.consignment_id.to_owned())
            .push(", ")
            .bind(self.parcel_status.as_str().to_owned())
            .push(", ")
            .bind(self.courier_status.to_owned())
            .push(", ")
            .bind(self.collected)
            .push(", ")
            .bind(self.delivery_fee);
        q.push(", ")
            .bind(self.courier_at.map(str::to_owned))
            .push(", ")
            .bind(self.source.as_str().to_owned())
            .push(", ")
            .bind(self.received_at);
    }
}

/// A report waiting in the inbox.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: i64,
    pub courier: CourierName,
    pub consignment_id: String,
    pub parcel_status: ParcelStatus,
    pub courier_status: String,
    pub collected: Option<i64>,
    pub delivery_fee: Option<i64>,
    pub courier_at: Option<String>,
    pub source: EventSource,
    pub received_at: i64,
}

impl Received {
    pub fn report(&self) -> Report<'_> {
        Report {
            courier: self.courier,
            consignment_id: &self.consignment_id,
            parcel_status: self.parcel_status,
            courier_status: &self.courier_status,
            collected: self.collected,
            delivery_fee: self.delivery_fee,
            courier_at: self.courier_at.as_deref(),
            source: self.source,
            received_at: self.received_at,
        }
    }
}

impl FromColumns for Received {
    fn from_columns(row: &impl Columns) -> std::result::Result<Self, sqlx::Error> {
        const T: &str = "courier_inbox";
        Ok(Received {
            id: row.value("id")?,
            courier: stored(row, T, "courier", CourierName::parse)?,
            consignment_id: row.value("consignment_id")?,
            parcel_status: stored(row, T, "parcel_status", ParcelStatus::parse)?,
            courier_status: row.value("courier_status")?,
            collected: row.value("collected")?,
            delivery_fee: row.value("delivery_fee")?,
            courier_at: row.value("courier_at")?,
            source: stored(row, T, "source", EventSource::parse)?,
            received_at: row.value("received_at")?,
        })
    }
}

/// Keeps `reports` in the inbox, in their order.
pub async fn receive(
    conn: &mut WriteConn<'_>,
    engine: Engine,
    reports: &[Report<'_>],
) -> Result<()> {
    insert_in_order(
        conn,
        engine,
        "courier_inbox",
        REPORT_COLUMNS,
        reports,
        |q, r| r.bind(q),
    )
    .await
}

/// The oldest `limit` reports in the inbox, oldest first. On PostgreSQL
/// they are locked until the transaction ends, and those another server's
/// transaction holds are passed over: two servers applying at once take
/// different reports.
pub async fn oldest(
    conn: &mut WriteConn<'_>,
    engine: Engine,
    limit: usize,
) -> Result<Vec<Received>> {
    let mut q = Sql::new(&format!(
        "SELECT id, {REPORT_COLUMNS} FROM courier_inbox ORDER BY id LIMIT "
    ));
    q.bind(limit as i64).push(match engine {
        Engine::Postgres => " FOR UPDATE SKIP LOCKED",
        Engine::Sqlite => "",
    });
    conn.fetch_all(q).await
}

/// Takes applied reports out of the inbox.
pub async fn remove(conn: &mut WriteConn<'_>, engine: Engine, ids: &[i64]) -> Result<()> {
    for chunk in ids.chunks(ROWS) {
        let mut q = Sql::many(engine, "DELETE FROM courier_inbox WHERE id IN (");
        q.padded_list(chunk, ", ", |q, id| {
            q.bind(*id);
        })
        .push(")");
        conn.execute(q).await?;
    }
    Ok(())
}

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
    let columns = format!("{REPORT_COLUMNS}, order_id, outcome");
    insert_in_order(conn, engine, "courier_events", &columns, events, |q, e| {
        e.report.bind(q);
        q.push(", ")
            .bind(e.order_id)
            .push(", ")
            .bind(e.outcome.as_str().to_owned());
    })
    .await
}

/// Inserts `rows` into `table`, many per statement, their ids in the
/// rows' order.
async fn insert_in_order<T>(
    conn: &mut WriteConn<'_>,
    engine: Engine,
    table: &str,
    columns: &str,
    rows: &[T],
    bind_row: impl Fn(&mut Sql, &T),
) -> Result<()> {
    for chunk in rows.chunks(ROWS) {
        let mut q = Sql::many(engine, &format!("WITH v ({columns}, pos) AS (VALUES "));
        q.padded_rows(chunk, |q, row| bind_row(q, row))
            .push(&format!(
                ") INSERT INTO {table} ({columns}) SELECT {columns} FROM v WHERE pos < "
            ))
            .bind_kept(chunk)
            .push(" ORDER BY pos");
        conn.execute(q).await?;
    }
    Ok(())
}
