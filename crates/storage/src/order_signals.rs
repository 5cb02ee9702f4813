//! Fraud signals from the shop's own history (tables `order_signals` and
//! `order_phone_checks`). An order placed through the shop or the API keeps
//! keyed fingerprints of the client's IP address and browser, never either
//! in clear; the counts behind the flags are read for a whole page of
//! orders in two queries. Staff's confirmations by phone are kept beside.
//! Both tables are kept for the technical-data period ([`sweep`]).
use crate::sql::Sql;
use crate::Result;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// Records the client of a newly placed order (both fingerprints may be absent).
pub async fn record(
    conn: &mut AnyConnection,
    order_id: i64,
    ip_index: Option<&str>,
    device_index: Option<&str>,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO order_signals (order_id, ip_index, device_index, at) VALUES ($1, $2, $3, $4)",
    )
    .bind(order_id)
    .bind(ip_index)
    .bind(device_index)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The windows counts are taken over, on either side of each order's time.
#[derive(Debug, Clone, Copy)]
pub struct Windows {
    pub window_ms: i64,
    pub burst_ms: i64,
}

/// What one order's phone (its customer record) has behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhoneCounts {
    pub order_id: i64,
    pub total: i64,
    /// Orders of the same customer in the window, this one included.
    pub in_window: i64,
    /// ... and in the short (velocity) window.
    pub in_burst: i64,
    /// Orders of the same customer placed before this one.
    pub earlier: i64,
    /// Other orders of the same customer, by how they ended.
    pub delivered: i64,
    pub returned: i64,
    pub cancelled: i64,
}

/// ` IN ($1, $2, …)` with `ids` bound.
pub(crate) fn in_list(q: &mut Sql, ids: &[i64]) {
    q.push(" IN (");
    q.list(ids.iter().copied(), ", ", |q, id| {
        q.bind(id);
    });
    q.push(")");
}

/// The phone counts of each order in `order_ids`, in one query.
pub async fn phone_counts(
    conn: &mut AnyConnection,
    order_ids: &[i64],
    w: Windows,
) -> Result<Vec<PhoneCounts>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new("SELECT o.id AS order_id, o.total AS total, COUNT(CASE WHEN p.created_at >= o.created_at - ");
    q.bind(w.window_ms)
        .push(" AND p.created_at <= o.created_at + ")
        .bind(w.window_ms)
        .push(" THEN 1 END) AS in_window, COUNT(CASE WHEN p.created_at >= o.created_at - ")
        .bind(w.burst_ms)
        .push(" AND p.created_at <= o.created_at + ")
        .bind(w.burst_ms)
        .push(
            " THEN 1 END) AS in_burst, \
             COUNT(CASE WHEN p.id < o.id THEN 1 END) AS earlier, \
             COUNT(CASE WHEN p.id <> o.id AND p.status = 'delivered' THEN 1 END) AS delivered, \
             COUNT(CASE WHEN p.id <> o.id AND p.status = 'returned' THEN 1 END) AS returned, \
             COUNT(CASE WHEN p.id <> o.id AND p.status = 'cancelled' THEN 1 END) AS cancelled \
             FROM orders o JOIN orders p ON p.customer_id = o.customer_id WHERE o.id",
        );
    in_list(&mut q, order_ids);
    q.push(" GROUP BY o.id, o.total");
    let (text, args) = q.into_parts();
    let rows: Vec<AnyRow> = sqlx::query_with(&text, args).fetch_all(conn).await?;
    rows.iter()
        .map(|r| {
            Ok(PhoneCounts {
                order_id: r.try_get("order_id")?,
                total: r.try_get("total")?,
                in_window: r.try_get("in_window")?,
                in_burst: r.try_get("in_burst")?,
                earlier: r.try_get("earlier")?,
                delivered: r.try_get("delivered")?,
                returned: r.try_get("returned")?,
                cancelled: r.try_get("cancelled")?,
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(crate::StorageError::Database)
}

/// Orders from the same device and the same IP address in the window, for
/// each order in `order_ids` that recorded them (absent: none recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientCounts {
    pub order_id: i64,
    pub device: Option<i64>,
    pub ip: Option<i64>,
}

/// The client counts of each order in `order_ids`, in one query.
pub async fn client_counts(
    conn: &mut AnyConnection,
    order_ids: &[i64],
    window_ms: i64,
) -> Result<Vec<ClientCounts>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new("SELECT s.order_id AS order_id, 'device' AS what, COUNT(t.order_id) AS n FROM order_signals s JOIN order_signals t ON t.device_index = s.device_index AND t.at >= s.at - ");
    q.bind(window_ms)
        .push(" AND t.at <= s.at + ")
        .bind(window_ms)
        .push(" WHERE s.order_id");
    in_list(&mut q, order_ids);
    q.push(" GROUP BY s.order_id UNION ALL SELECT s.order_id AS order_id, 'ip' AS what, COUNT(t.order_id) AS n FROM order_signals s JOIN order_signals t ON t.ip_index = s.ip_index AND t.at >= s.at - ");
    q.bind(window_ms)
        .push(" AND t.at <= s.at + ")
        .bind(window_ms)
        .push(" WHERE s.order_id");
    in_list(&mut q, order_ids);
    q.push(" GROUP BY s.order_id");
    let (text, args) = q.into_parts();
    let rows: Vec<AnyRow> = sqlx::query_with(&text, args).fetch_all(conn).await?;
    let mut out: Vec<ClientCounts> = Vec::new();
    for r in &rows {
        let id: i64 = r.try_get("order_id")?;
        let what: String = r.try_get("what")?;
        let n: i64 = r.try_get("n")?;
        let at = match out.iter().position(|c| c.order_id == id) {
            Some(i) => i,
            None => {
                out.push(ClientCounts {
                    order_id: id,
                    ..Default::default()
                });
                out.len() - 1
            }
        };
        match what.as_str() {
            "device" => out[at].device = Some(n),
            _ => out[at].ip = Some(n),
        }
    }
    Ok(out)
}

/// A confirmation by phone, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRow {
    pub id: i64,
    pub order_id: i64,
    pub staff_id: i64,
    pub username: String,
    pub outcome: String,
    pub note: String,
    pub at: i64,
}

pub struct NewCheck<'a> {
    pub order_id: i64,
    pub staff_id: i64,
    pub outcome: &'a str,
    pub note: &'a str,
    pub at: i64,
}

pub async fn add_check(conn: &mut AnyConnection, c: &NewCheck<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO order_phone_checks (order_id, staff_id, outcome, note, at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(c.order_id)
    .bind(c.staff_id)
    .bind(c.outcome)
    .bind(c.note)
    .bind(c.at)
    .fetch_one(conn)
    .await?)
}

/// The confirmations of each order in `order_ids`, oldest first, in one query.
pub async fn checks_of(conn: &mut AnyConnection, order_ids: &[i64]) -> Result<Vec<CheckRow>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(
        "SELECT c.id, c.order_id, c.staff_id, s.username, c.outcome, c.note, c.at \
         FROM order_phone_checks c JOIN staff s ON s.id = c.staff_id WHERE c.order_id",
    );
    in_list(&mut q, order_ids);
    q.push(" ORDER BY c.id");
    let (text, args) = q.into_parts();
    let rows: Vec<AnyRow> = sqlx::query_with(&text, args).fetch_all(conn).await?;
    rows.iter()
        .map(|r| {
            Ok(CheckRow {
                id: r.try_get("id")?,
                order_id: r.try_get("order_id")?,
                staff_id: r.try_get("staff_id")?,
                username: r.try_get("username")?,
                outcome: r.try_get("outcome")?,
                note: r.try_get("note")?,
                at: r.try_get("at")?,
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(crate::StorageError::Database)
}

/// The client fingerprints kept for a customer's orders: (order, IP, browser).
pub async fn of_customer(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<(i64, Option<String>, Option<String>)>> {
    Ok(sqlx::query_as(
        "SELECT order_id, ip_index, device_index FROM order_signals WHERE order_id IN \
         (SELECT id FROM orders WHERE customer_id = $1) ORDER BY order_id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

/// Deletes what is past the technical-data period; returns the rows deleted.
pub async fn sweep(conn: &mut AnyConnection, before: i64) -> Result<u64> {
    let mut n = 0;
    for table in ["order_signals", "order_phone_checks"] {
        n += sqlx::query(&format!("DELETE FROM {table} WHERE at < $1"))
            .bind(before)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(n)
}
