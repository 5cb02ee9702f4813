//! An order with its items and history in one read: the packing station's
//! hottest path, read in place on a SQLite file.
use super::{EventRow, ItemRow, OrderRow, SELECT};
use crate::sqlite_reads::{Read, SqliteReader};
use crate::{stored_in_place, Db, Engine, Reader, Result, StorageError};
use chotomoni_domain::{OrderSource, OrderStatus, PaymentMethod, PaymentStatus};
use sqlx::{AnyConnection, FromRow};
use std::sync::OnceLock;

/// An order with its items and status history.
#[derive(Debug)]
pub struct FullOrder {
    pub order: OrderRow,
    pub items: Vec<ItemRow>,
    pub events: Vec<EventRow>,
}

#[derive(FromRow)]
struct FullRow {
    #[sqlx(flatten)]
    order: OrderRow,
    items_json: String,
    events_json: String,
}

impl FullRow {
    fn into_full(self) -> Result<FullOrder> {
        assemble(self.order, &self.items_json, &self.events_json)
    }
}

/// Whether a load brings the customer's sealed contact (name, phone, email)
/// with the order. A packing view never shows it, so it does not load it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Contact {
    #[default]
    Load,
    Skip,
}

/// An order, its items and its history in one round trip: lookups by scan are
/// the packing station's hottest path. On a SQLite file it is read in place
/// ([`crate::sqlite_reads`]); otherwise, or when SQLite is busy, through the pool.
pub async fn load_full(db: &Db, id: i64, contact: Contact) -> Result<Option<FullOrder>> {
    match &db.reader {
        Some(Reader::Sqlite(reader)) => {
            if let Read::Done(row) = read_in_place(reader, id, contact)? {
                return Ok(row);
            }
        }
        Some(Reader::Postgres(reader)) => {
            let row: Option<FullRow> = reader
                .read(|conn| {
                    Box::pin(
                        sqlx::query_as(full_select(Engine::Postgres, contact))
                            .bind(id)
                            .fetch_optional(conn),
                    )
                })
                .await?;
            return row.map(FullRow::into_full).transpose();
        }
        None => {}
    }
    get_full(&mut *db.conn().await?, db.engine, id, contact).await
}

/// [`load_full`] on SQLite, in place; `Busy` when the pool must answer.
fn read_in_place(
    reader: &SqliteReader,
    id: i64,
    contact: Contact,
) -> Result<Read<Option<FullOrder>>> {
    let read = reader.read(|conn| {
        let mut stmt = conn.prepare_cached(full_select(Engine::Sqlite, contact))?;
        let mut rows = stmt.query([id])?;
        let Some(r) = rows.next()? else {
            return Ok(None);
        };
        Ok(Some((
            order_row(r)?,
            r.get(ORDER_COLUMNS)?,
            r.get(ORDER_COLUMNS + 1)?,
        )))
    })?;
    Ok(match read {
        Read::Done(row) => Read::Done(
            row.map(|(order, items, events): (_, String, String)| assemble(order, &items, &events))
                .transpose()?,
        ),
        Read::Busy => Read::Busy,
    })
}

/// [`load_full`] through a pooled connection.
pub async fn get_full(
    conn: &mut AnyConnection,
    engine: Engine,
    id: i64,
    contact: Contact,
) -> Result<Option<FullOrder>> {
    let row: Option<FullRow> = sqlx::query_as(full_select(engine, contact))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(FullRow::into_full).transpose()
}

/// The order row with its lines and history aggregated as JSON, each engine
/// in its own dialect. Without the contact, the customer's row is not joined
/// at all and its columns come back empty.
fn full_select(engine: Engine, contact: Contact) -> &'static str {
    static CACHE: [OnceLock<String>; 4] = [const { OnceLock::new() }; 4];
    let (slot, lines, no_contact) = match engine {
        Engine::Sqlite => (
            0,
            ", (SELECT json_group_array(json_array(line_no, sku, name, quantity, unit_price)) \
                FROM (SELECT * FROM order_items WHERE order_id = o.id ORDER BY line_no)) AS items_json \
             , (SELECT json_group_array(json_array(from_status, to_status, staff_id, at)) \
                FROM (SELECT * FROM order_events WHERE order_id = o.id ORDER BY id)) AS events_json ",
            "NULL AS name_enc, NULL AS phone_enc, NULL AS email_enc",
        ),
        Engine::Postgres => (
            2,
            ", (SELECT COALESCE(json_agg(json_build_array(line_no, sku, name, quantity, unit_price) ORDER BY line_no), '[]')::text \
                FROM order_items WHERE order_id = o.id) AS items_json \
             , (SELECT COALESCE(json_agg(json_build_array(from_status, to_status, staff_id, at) ORDER BY id), '[]')::text \
                FROM order_events WHERE order_id = o.id) AS events_json ",
            "NULL::bytea AS name_enc, NULL::bytea AS phone_enc, NULL::bytea AS email_enc",
        ),
    };
    let slot = slot + usize::from(contact == Contact::Skip);
    CACHE[slot].get_or_init(|| {
        let mut select = SELECT.replacen(" FROM orders o", &format!("{lines} FROM orders o"), 1);
        if contact == Contact::Skip {
            select = select
                .replacen("c.name_enc, c.phone_enc, c.email_enc", no_contact, 1)
                .replacen(" JOIN customers c ON c.id = o.customer_id", "", 1);
        }
        format!("{select} WHERE o.id = $1")
    })
}

/// How many columns [`SELECT`] has; the aggregated lines and history follow.
const ORDER_COLUMNS: usize = 18;

/// An order row read in place. Columns are taken by position, in
/// [`SELECT`]'s order: looking each name up costs on every lookup, and the
/// repository test compares this row with the pool's field by field.
fn order_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OrderRow> {
    Ok(OrderRow {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        status: stored_in_place(r, 2, "orders.status", OrderStatus::parse)?,
        payment_method: stored_in_place(r, 3, "orders.payment_method", PaymentMethod::parse)?,
        payment_status: stored_in_place(r, 4, "orders.payment_status", PaymentStatus::parse)?,
        source: stored_in_place(r, 5, "orders.source", OrderSource::parse)?,
        total: r.get(6)?,
        address_enc: r.get(7)?,
        instructions_enc: r.get(8)?,
        created_by: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        name_enc: r.get(12)?,
        phone_enc: r.get(13)?,
        email_enc: r.get(14)?,
        wrapped_key: r.get(15)?,
        unconfirmed: r.get(16)?,
        erased_at: r.get(17)?,
    })
}

/// A status in an order's history; one that is not an order status fails
/// here, as the order's own does.
fn event_status(column: &str, value: &str) -> Result<OrderStatus> {
    OrderStatus::parse(value)
        .ok_or_else(|| StorageError::Database(crate::not_known("order_events", column, value)))
}

fn assemble(order: OrderRow, items_json: &str, events_json: &str) -> Result<FullOrder> {
    let bad = |e: serde_json::Error| StorageError::Database(sqlx::Error::Decode(Box::new(e)));
    let items: Vec<(i64, Option<String>, String, i64, i64)> =
        serde_json::from_str(items_json).map_err(bad)?;
    let events: Vec<(Option<String>, String, Option<i64>, i64)> =
        serde_json::from_str(events_json).map_err(bad)?;
    let id = order.id;
    Ok(FullOrder {
        items: items
            .into_iter()
            .map(|(line_no, sku, name, quantity, unit_price)| ItemRow {
                order_id: id,
                line_no,
                sku,
                name,
                quantity,
                unit_price,
            })
            .collect(),
        events: events
            .into_iter()
            .map(|(from, to, staff_id, at)| {
                Ok(EventRow {
                    from_status: from.map(|s| event_status("from_status", &s)).transpose()?,
                    to_status: event_status("to_status", &to)?,
                    staff_id,
                    at,
                })
            })
            .collect::<Result<_>>()?,
        order,
    })
}
