use crate::Result;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct ConsentRow {
    pub purpose: String,
    /// 1 for a grant, 0 for a withdrawal.
    pub granted: i64,
    pub channel: String,
    pub policy_version: i64,
    pub wording: String,
    pub at: i64,
}

pub async fn append(conn: &mut AnyConnection, customer_id: i64, c: &ConsentRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO consents (customer_id, purpose, granted, channel, policy_version, wording, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(customer_id)
    .bind(&c.purpose)
    .bind(c.granted)
    .bind(&c.channel)
    .bind(c.policy_version)
    .bind(&c.wording)
    .bind(c.at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn for_customer(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<ConsentRow>> {
    Ok(sqlx::query_as(
        "SELECT purpose, granted, channel, policy_version, wording, at FROM consents WHERE customer_id = $1 ORDER BY id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}
