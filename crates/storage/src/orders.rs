use crate::sql::Sql;
use crate::Result;
use chotomoni_domain::catalog::Lang;
use chotomoni_domain::{OrderSource, OrderStatus, PaymentMethod, PaymentStatus};
use sqlx::{AnyConnection, FromRow};

mod full;
pub use full::{get_full, load_full, Contact, FullOrder};

/// An order row joined with what is needed to open its sealed fields. Its
/// status, payment and source are read as the domain's enums, and a value
/// that is not one fails where it is read.
#[derive(Debug, Clone)]
pub struct OrderRow {
    pub id: i64,
    pub customer_id: i64,
    pub status: OrderStatus,
    pub payment_method: PaymentMethod,
    pub payment_status: PaymentStatus,
    pub source: OrderSource,
    pub total: i64,
    pub address_enc: Option<Vec<u8>>,
    pub instructions_enc: Option<Vec<u8>>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub name_enc: Option<Vec<u8>>,
    pub phone_enc: Option<Vec<u8>>,
    pub email_enc: Option<Vec<u8>>,
    pub wrapped_key: Option<Vec<u8>>,
    /// 1 for a guest order not yet confirmed by a code sent to its phone:
    /// linked to the customer record, but not in that customer's history.
    pub unconfirmed: i64,
    /// When the order's customer was erased (the order then belongs to a
    /// stand-in): the journal's word for it, never a key that fails to open.
    pub erased_at: Option<i64>,
}

/// The row as the database gives it, before its names are read as enums:
/// the same for the pool and for the PostgreSQL reader.
#[derive(FromRow)]
struct StoredOrder {
    id: i64,
    customer_id: i64,
    status: String,
    payment_method: String,
    payment_status: String,
    source: String,
    total: i64,
    address_enc: Option<Vec<u8>>,
    instructions_enc: Option<Vec<u8>>,
    created_by: Option<i64>,
    created_at: i64,
    updated_at: i64,
    name_enc: Option<Vec<u8>>,
    phone_enc: Option<Vec<u8>>,
    email_enc: Option<Vec<u8>>,
    wrapped_key: Option<Vec<u8>>,
    unconfirmed: i64,
    erased_at: Option<i64>,
}

impl<'r, R: sqlx::Row> FromRow<'r, R> for OrderRow
where
    StoredOrder: FromRow<'r, R>,
{
    fn from_row(row: &'r R) -> std::result::Result<Self, sqlx::Error> {
        let o = StoredOrder::from_row(row)?;
        let read = |column: &str, value: &str| crate::not_known("orders", column, value);
        Ok(OrderRow {
            id: o.id,
            customer_id: o.customer_id,
            status: OrderStatus::parse(&o.status).ok_or_else(|| read("status", &o.status))?,
            payment_method: PaymentMethod::parse(&o.payment_method)
                .ok_or_else(|| read("payment_method", &o.payment_method))?,
            payment_status: PaymentStatus::parse(&o.payment_status)
                .ok_or_else(|| read("payment_status", &o.payment_status))?,
            source: OrderSource::parse(&o.source).ok_or_else(|| read("source", &o.source))?,
            total: o.total,
            address_enc: o.address_enc,
            instructions_enc: o.instructions_enc,
            created_by: o.created_by,
            created_at: o.created_at,
            updated_at: o.updated_at,
            name_enc: o.name_enc,
            phone_enc: o.phone_enc,
            email_enc: o.email_enc,
            wrapped_key: o.wrapped_key,
            unconfirmed: o.unconfirmed,
            erased_at: o.erased_at,
        })
    }
}

impl OrderRow {
    /// The customer whose own order this is: `None` while it is an
    /// unconfirmed guest order, which that customer must not see as theirs.
    pub fn account_owner(&self) -> Option<i64> {
        (self.unconfirmed == 0).then_some(self.customer_id)
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct ItemRow {
    pub order_id: i64,
    pub line_no: i64,
    pub sku: Option<String>,
    pub name: String,
    pub quantity: i64,
    pub unit_price: i64,
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub from_status: Option<OrderStatus>,
    pub to_status: OrderStatus,
    pub staff_id: Option<i64>,
    pub at: i64,
}

pub struct NewOrder {
    pub customer_id: i64,
    pub status: OrderStatus,
    pub payment_method: PaymentMethod,
    pub payment_status: PaymentStatus,
    pub source: OrderSource,
    pub total: i64,
    pub created_by: Option<i64>,
    pub at: i64,
    /// Placed without signing in: see [`OrderRow::unconfirmed`].
    pub unconfirmed: bool,
    /// A marketing opt-in ticked at a guest checkout, waiting for the
    /// phone to be confirmed before it enters the consent ledger.
    pub marketing_opt_in: bool,
}

/// Filters of the order list. `before` pages backwards by id (newest first).
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub customer_id: Option<i64>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    pub before: Option<i64>,
    pub limit: i64,
    /// Leave out unconfirmed guest orders (a customer's own list).
    pub confirmed_only: bool,
    /// Whether the sealed contact is read at all (not for a packer).
    pub contact: Contact,
}

const SELECT: &str = "SELECT o.id, o.customer_id, o.status, o.payment_method, o.payment_status, \
     o.source, o.total, o.address_enc, o.instructions_enc, o.created_by, o.created_at, \
     o.updated_at, c.name_enc, c.phone_enc, c.email_enc, k.wrapped_key, o.unconfirmed, \
     (SELECT ce.erased_at FROM customers ce WHERE ce.id = o.customer_id) AS erased_at \
     FROM orders o JOIN customers c ON c.id = o.customer_id \
     LEFT JOIN customer_keys k ON k.customer_id = o.customer_id";

pub async fn insert(conn: &mut AnyConnection, o: &NewOrder) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO orders (customer_id, status, payment_method, payment_status, source, total, \
         created_by, created_at, updated_at, unconfirmed, marketing_opt_in) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) RETURNING id",
    )
    .bind(o.customer_id)
    .bind(o.status.as_str())
    .bind(o.payment_method.as_str())
    .bind(o.payment_status.as_str())
    .bind(o.source.as_str())
    .bind(o.total)
    .bind(o.created_by)
    .bind(o.at)
    .bind(i64::from(o.unconfirmed))
    .bind(i64::from(o.marketing_opt_in))
    .fetch_one(conn)
    .await?)
}

pub async fn set_sealed(
    conn: &mut AnyConnection,
    id: i64,
    address_enc: &[u8],
    instructions_enc: Option<&[u8]>,
) -> Result<()> {
    sqlx::query("UPDATE orders SET address_enc = $1, instructions_enc = $2 WHERE id = $3")
        .bind(address_enc.to_vec())
        .bind(instructions_enc.map(|b| b.to_vec()))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_items(conn: &mut AnyConnection, items: &[ItemRow]) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let mut q = Sql::new(
        "INSERT INTO order_items (order_id, line_no, sku, name, quantity, unit_price) VALUES ",
    );
    q.list(items, ", ", |q, i| {
        q.push("(")
            .bind(i.order_id)
            .push(", ")
            .bind(i.line_no)
            .push(", ")
            .bind(i.sku.clone());
        q.push(", ")
            .bind(i.name.clone())
            .push(", ")
            .bind(i.quantity)
            .push(", ")
            .bind(i.unit_price)
            .push(")");
    });
    let (text, args) = q.into_parts();
    sqlx::query_with(&text, args).execute(conn).await?;
    Ok(())
}

pub async fn insert_event(
    conn: &mut AnyConnection,
    order_id: i64,
    from: Option<OrderStatus>,
    to: OrderStatus,
    staff_id: Option<i64>,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO order_events (order_id, from_status, to_status, staff_id, at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(order_id)
    .bind(from.map(OrderStatus::as_str))
    .bind(to.as_str())
    .bind(staff_id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<OrderRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE o.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

pub async fn list(conn: &mut AnyConnection, f: &OrderFilter) -> Result<Vec<OrderRow>> {
    let mut q = match f.contact {
        Contact::Load => Sql::new(SELECT),
        // Typed empty columns: the sealed contact never leaves the database.
        Contact::Skip => Sql::new(&SELECT.replacen(
            "c.name_enc, c.phone_enc, c.email_enc",
            "CASE WHEN 1 = 0 THEN c.name_enc END AS name_enc, \
             CASE WHEN 1 = 0 THEN c.phone_enc END AS phone_enc, \
             CASE WHEN 1 = 0 THEN c.email_enc END AS email_enc",
            1,
        )),
    };
    q.push(" WHERE 1 = 1");
    if let Some(s) = f.status {
        q.push(" AND o.status = ").bind(s.as_str().to_owned());
    }
    if let Some(c) = f.customer_id {
        q.push(" AND o.customer_id = ").bind(c);
    }
    if let Some(t) = f.created_from {
        q.push(" AND o.created_at >= ").bind(t);
    }
    if let Some(t) = f.created_to {
        q.push(" AND o.created_at < ").bind(t);
    }
    if let Some(b) = f.before {
        q.push(" AND o.id < ").bind(b);
    }
    if f.confirmed_only {
        q.push(" AND o.unconfirmed = 0");
    }
    q.push(" ORDER BY o.id DESC LIMIT ").bind(f.limit);
    let (text, args) = q.into_parts();
    Ok(sqlx::query_as_with(&text, args).fetch_all(conn).await?)
}

/// Moves an order from `from` to `to` only if it is still `from`; false when
/// someone else changed it first.
pub async fn compare_and_set_status(
    conn: &mut AnyConnection,
    id: i64,
    from: OrderStatus,
    to: OrderStatus,
    at: i64,
) -> Result<bool> {
    let done =
        sqlx::query("UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
            .bind(to.as_str())
            .bind(at)
            .bind(id)
            .bind(from.as_str())
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Confirms every guest order of `customer_id`: a code sent to their phone
/// proved the number is theirs, so its orders join their history. Returns
/// how many did.
pub async fn confirm_guest_orders(conn: &mut AnyConnection, customer_id: i64) -> Result<u64> {
    Ok(
        sqlx::query("UPDATE orders SET unconfirmed = 0 WHERE customer_id = $1 AND unconfirmed = 1")
            .bind(customer_id)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Orders of the customer whose checkout ticked the marketing opt-in while
/// not signed in: an opt-in nobody confirmed yet, never a consent.
pub async fn pending_opt_ins(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM orders WHERE customer_id = $1 AND marketing_opt_in = 1 ORDER BY id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

/// The customer made their own marketing choice: pending opt-ins are spent.
pub async fn clear_pending_opt_ins(conn: &mut AnyConnection, customer_id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE orders SET marketing_opt_in = 0 WHERE customer_id = $1 AND marketing_opt_in = 1",
    )
    .bind(customer_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The language the customer ordered in.
pub async fn lang_of(conn: &mut AnyConnection, id: i64) -> Result<Lang> {
    let text: Option<String> = sqlx::query_scalar("SELECT lang FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match text {
        None => Ok(Lang::Bn),
        Some(t) => Lang::parse(&t).ok_or_else(|| crate::not_known("orders", "lang", &t).into()),
    }
}

/// Records the language the customer ordered in.
pub async fn set_lang(conn: &mut AnyConnection, id: i64, lang: Lang) -> Result<()> {
    sqlx::query("UPDATE orders SET lang = $1 WHERE id = $2")
        .bind(lang.code())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
