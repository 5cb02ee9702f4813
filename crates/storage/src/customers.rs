use crate::{duplicate_as, Result};
use sqlx::{AnyConnection, FromRow};

/// A customer as stored: personal fields sealed, with their wrapped key.
#[derive(Debug, Clone, FromRow)]
pub struct CustomerRow {
    pub id: i64,
    pub name_enc: Option<Vec<u8>>,
    pub phone_enc: Option<Vec<u8>>,
    pub email_enc: Option<Vec<u8>>,
    pub password_hash: Option<String>,
    pub created_at: i64,
    pub erased_at: Option<i64>,
    /// `None` once the key is destroyed: the sealed fields can never open again.
    pub wrapped_key: Option<Vec<u8>>,
    /// When a one-time code proved the person controls the phone.
    pub phone_verified_at: Option<i64>,
    /// When a code sent to the email proved the person controls it. An
    /// email typed at a checkout is not "on record" for privacy requests.
    pub email_verified_at: Option<i64>,
}

/// Sealed personal fields and their blind indexes, ready to store.
pub struct SealedContact {
    pub name_enc: Vec<u8>,
    pub phone_enc: Vec<u8>,
    pub phone_index: Vec<u8>,
    pub email_enc: Option<Vec<u8>>,
    pub email_index: Option<Vec<u8>>,
}

const SELECT: &str = "SELECT c.id, c.name_enc, c.phone_enc, c.email_enc, c.password_hash, \
     c.created_at, c.erased_at, k.wrapped_key, c.phone_verified_at, c.email_verified_at \
     FROM customers c LEFT JOIN customer_keys k ON k.customer_id = c.id";

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<CustomerRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

pub async fn find_by_phone_index(
    conn: &mut AnyConnection,
    index: &[u8],
) -> Result<Option<CustomerRow>> {
    Ok(
        sqlx::query_as(&format!("{SELECT} WHERE c.phone_index = $1"))
            .bind(index.to_vec())
            .fetch_optional(conn)
            .await?,
    )
}

pub async fn find_by_email_index(
    conn: &mut AnyConnection,
    index: &[u8],
) -> Result<Vec<CustomerRow>> {
    Ok(
        sqlx::query_as(&format!("{SELECT} WHERE c.email_index = $1 ORDER BY c.id"))
            .bind(index.to_vec())
            .fetch_all(conn)
            .await?,
    )
}

/// Creates the row first, because sealed values are bound to the row's id.
pub async fn insert_empty(conn: &mut AnyConnection, created_at: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("INSERT INTO customers (created_at) VALUES ($1) RETURNING id")
            .bind(created_at)
            .fetch_one(conn)
            .await?,
    )
}

pub async fn insert_key(
    conn: &mut AnyConnection,
    customer_id: i64,
    wrapped: &[u8],
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO customer_keys (customer_id, wrapped_key, created_at) VALUES ($1, $2, $3)",
    )
    .bind(customer_id)
    .bind(wrapped.to_vec())
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_contact(conn: &mut AnyConnection, id: i64, c: &SealedContact) -> Result<()> {
    sqlx::query(
        "UPDATE customers SET name_enc = $1, phone_enc = $2, phone_index = $3, \
         email_enc = $4, email_index = $5 WHERE id = $6",
    )
    .bind(c.name_enc.clone())
    .bind(c.phone_enc.clone())
    .bind(c.phone_index.clone())
    .bind(c.email_enc.clone())
    .bind(c.email_index.clone())
    .bind(id)
    .execute(conn)
    .await
    .map_err(duplicate_as("phone"))?;
    Ok(())
}

/// Replaces the contact of a record whose phone has just been proven by
/// its owner (registration): whatever a guest typed before gives way, and
/// the email, new or not, is unproven until a code sent to it comes back.
pub async fn replace_contact(
    conn: &mut AnyConnection,
    id: i64,
    c: &SealedContact,
    phone_verified_at: i64,
) -> Result<()> {
    set_contact(conn, id, c).await?;
    sqlx::query(
        "UPDATE customers SET phone_verified_at = $1, email_verified_at = NULL WHERE id = $2",
    )
    .bind(phone_verified_at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records that a one-time code sent to the phone came back.
pub async fn mark_phone_verified(conn: &mut AnyConnection, id: i64, at: i64) -> Result<()> {
    sqlx::query("UPDATE customers SET phone_verified_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records that a code sent to the email on record came back; only if the
/// email is still the one the code went to (`email_index`).
pub async fn mark_email_verified(
    conn: &mut AnyConnection,
    id: i64,
    email_index: &[u8],
    at: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE customers SET email_verified_at = $1 WHERE id = $2 AND email_index = $3",
    )
    .bind(at)
    .bind(id)
    .bind(email_index.to_vec())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_password_hash(conn: &mut AnyConnection, id: i64, hash: &str) -> Result<()> {
    sqlx::query("UPDATE customers SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The customer's wrapped key; `None` once erasure destroyed it.
pub async fn wrapped_key(conn: &mut AnyConnection, customer_id: i64) -> Result<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("SELECT wrapped_key FROM customer_keys WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_optional(conn)
            .await?,
    )
}
