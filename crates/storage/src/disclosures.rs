//! The disclosure log: who outside the shop received which personal fields.
use crate::{stored, Result};
use chotomoni_domain::catalog::{Purpose, Recipient};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

/// A disclosure; its recipient and purpose are read as the catalog's, and a
/// value that is not one fails where it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureRow {
    pub order_id: Option<i64>,
    pub recipient: Recipient,
    /// Comma-separated catalog field names (`orders.address_enc`).
    pub fields: String,
    pub purpose: Purpose,
    pub at: i64,
}

impl FromRow<'_, AnyRow> for DisclosureRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(DisclosureRow {
            order_id: row.try_get("order_id")?,
            recipient: stored(row, "disclosures", "recipient", Recipient::parse)?,
            fields: row.try_get("fields")?,
            purpose: stored(row, "disclosures", "purpose", Purpose::parse)?,
            at: row.try_get("at")?,
        })
    }
}

pub async fn append(conn: &mut AnyConnection, customer_id: i64, d: &DisclosureRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO disclosures (customer_id, order_id, recipient, fields, purpose, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(customer_id)
    .bind(d.order_id)
    .bind(d.recipient.as_str())
    .bind(&d.fields)
    .bind(d.purpose.as_str())
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
