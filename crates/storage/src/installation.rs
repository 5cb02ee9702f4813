//! The installation's own row: the master key's canary (see migration
//! 0013), and what tells a database that holds customers from a new one.
use crate::Result;
use sqlx::AnyConnection;

/// The canary written at the first start, if any.
pub async fn key_canary(conn: &mut AnyConnection) -> Result<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("SELECT key_canary FROM installation WHERE id = $1")
            .bind(1_i64)
            .fetch_optional(conn)
            .await?,
    )
}

/// Writes the canary unless one is there (two servers starting at once
/// write the same value; the first wins).
pub async fn set_key_canary(conn: &mut AnyConnection, canary: &[u8], at: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO installation (id, key_canary, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(1_i64)
    .bind(canary.to_vec())
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// One customer's wrapped key, to try the master key on a database made
/// before the canary existed.
pub async fn any_wrapped_key(conn: &mut AnyConnection) -> Result<Option<(i64, Vec<u8>)>> {
    Ok(sqlx::query_as(
        "SELECT customer_id, wrapped_key FROM customer_keys ORDER BY customer_id LIMIT 1",
    )
    .fetch_optional(conn)
    .await?)
}

/// Whether the database already holds data a master key was used for: a
/// canary, or customers' keys.
pub async fn is_populated(conn: &mut AnyConnection) -> Result<bool> {
    if key_canary(conn).await?.is_some() {
        return Ok(true);
    }
    Ok(any_wrapped_key(conn).await?.is_some())
}
