use crate::Result;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct ProductRow {
    pub id: i64,
    pub sku: String,
    pub name_en: String,
    pub name_bn: String,
    pub price: i64,
    pub active: i64,
}

pub async fn upsert(
    conn: &mut AnyConnection,
    sku: &str,
    name_en: &str,
    name_bn: &str,
    price: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO products (sku, name_en, name_bn, price, active) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (sku) DO UPDATE SET name_en = excluded.name_en, name_bn = excluded.name_bn, price = excluded.price",
    )
    .bind(sku)
    .bind(name_en)
    .bind(name_bn)
    .bind(price)
    .bind(1_i64)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn active(conn: &mut AnyConnection) -> Result<Vec<ProductRow>> {
    Ok(sqlx::query_as("SELECT id, sku, name_en, name_bn, price, active FROM products WHERE active = $1 ORDER BY id")
        .bind(1_i64)
        .fetch_all(conn)
        .await?)
}

pub async fn by_sku(conn: &mut AnyConnection, sku: &str) -> Result<Option<ProductRow>> {
    Ok(sqlx::query_as(
        "SELECT id, sku, name_en, name_bn, price, active FROM products WHERE sku = $1",
    )
    .bind(sku)
    .fetch_optional(conn)
    .await?)
}

/// The active products among `skus`, in one query.
pub async fn active_by_skus(conn: &mut AnyConnection, skus: &[String]) -> Result<Vec<ProductRow>> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = crate::sql::Sql::new(
        "SELECT id, sku, name_en, name_bn, price, active FROM products WHERE active = ",
    );
    q.bind(1_i64).push(" AND sku IN (");
    q.list(skus.iter().cloned(), ", ", |q, s| {
        q.bind(s);
    });
    q.push(")");
    let (text, args) = q.into_parts();
    Ok(sqlx::query_as_with(&text, args).fetch_all(conn).await?)
}
