//! The disclosure log: who outside the shop received which personal fields.
use crate::Result;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct DisclosureRow {
    pub order_id: Option<i64>,
    pub recipient: String,
    /// Comma-separated catalog field names (`orders.address_enc`).
    pub fields: String,
    pub purpose: String,
    pub at: i64,
}

pub async fn append(conn: &mut AnyConnection, customer_id: i64, d: &DisclosureRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO disclosures (customer_id, order_id, recipient, fields, purpose, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(customer_id)
    .bind(d.order_id)
    .bind(&d.recipient)
    .bind(&d.fields)
    .bind(&d.purpose)
    .bind(d.at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn for_customer(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<DisclosureRow>> {
    Ok(sqlx::query_as(
        "SELECT order_id, recipient, fields, purpose, at FROM disclosures WHERE customer_id = $1 ORDER BY id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}
