//! What erasure does to the rows of one customer, legal holds on proof
//! media, and the erasure journal. The service decides (from the data
//! catalog) and calls these inside one transaction.
use crate::Result;
use sqlx::{AnyConnection, FromRow};

/// A proof of the customer being erased.
#[derive(Debug, Clone, FromRow)]
pub struct ErasedProof {
    pub id: i64,
    pub order_id: i64,
    pub blob_key: String,
    pub poster_key: Option<String>,
    pub proof_key_enc: Option<Vec<u8>>,
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct HoldRow {
    pub id: i64,
    pub order_id: i64,
    pub reason: String,
    pub note: String,
    pub placed_at: i64,
    pub until_at: Option<i64>,
    pub released_at: Option<i64>,
}

/// The statuses of the customer's orders that stop an erasure now.
pub async fn orders_in_status(
    conn: &mut AnyConnection,
    customer_id: i64,
    status: &str,
) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM orders WHERE customer_id = $1 AND status = $2 ORDER BY id",
    )
    .bind(customer_id)
    .bind(status)
    .fetch_all(conn)
    .await?)
}

pub async fn proofs_of_customer(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<ErasedProof>> {
    Ok(sqlx::query_as(
        "SELECT id, order_id, blob_key, poster_key, proof_key_enc FROM proofs \
         WHERE customer_id = $1 ORDER BY id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

/// Holds in force at `now` on any order of this customer.
pub async fn active_holds_of_customer(
    conn: &mut AnyConnection,
    customer_id: i64,
    now: i64,
) -> Result<Vec<HoldRow>> {
    Ok(sqlx::query_as(
        "SELECT h.id, h.order_id, h.reason, h.note, h.placed_at, h.until_at, h.released_at \
         FROM legal_holds h JOIN orders o ON o.id = h.order_id \
         WHERE o.customer_id = $1 AND h.released_at IS NULL \
         AND (h.until_at IS NULL OR h.until_at > $2) ORDER BY h.id",
    )
    .bind(customer_id)
    .bind(now)
    .fetch_all(conn)
    .await?)
}

pub async fn holds_of_order(conn: &mut AnyConnection, order_id: i64) -> Result<Vec<HoldRow>> {
    Ok(sqlx::query_as(
        "SELECT id, order_id, reason, note, placed_at, until_at, released_at \
         FROM legal_holds WHERE order_id = $1 ORDER BY id",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?)
}

pub async fn get_hold(conn: &mut AnyConnection, id: i64) -> Result<Option<HoldRow>> {
    Ok(sqlx::query_as(
        "SELECT id, order_id, reason, note, placed_at, until_at, released_at \
         FROM legal_holds WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

pub async fn place_hold(
    conn: &mut AnyConnection,
    order_id: i64,
    reason: &str,
    note: &str,
    placed_by: Option<i64>,
    at: i64,
    until_at: Option<i64>,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO legal_holds (order_id, reason, note, placed_by, placed_at, until_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(order_id)
    .bind(reason)
    .bind(note)
    .bind(placed_by)
    .bind(at)
    .bind(until_at)
    .fetch_one(conn)
    .await?)
}

pub async fn release_hold(
    conn: &mut AnyConnection,
    id: i64,
    by: Option<i64>,
    at: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE legal_holds SET released_at = $1, released_by = $2 \
         WHERE id = $3 AND released_at IS NULL",
    )
    .bind(at)
    .bind(by)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Proofs kept past their customer's erasure whose holds have all ended.
pub async fn proofs_no_longer_held(conn: &mut AnyConnection, now: i64) -> Result<Vec<ErasedProof>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.order_id, p.blob_key, p.poster_key, p.proof_key_enc FROM proofs p \
         JOIN customers c ON c.id = p.customer_id \
         WHERE c.erased_at IS NOT NULL AND NOT EXISTS ( \
           SELECT 1 FROM legal_holds h WHERE h.order_id = p.order_id \
           AND h.released_at IS NULL AND (h.until_at IS NULL OR h.until_at > $1)) \
         ORDER BY p.id",
    )
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// A stand-in customer that keeps an erased person's orders (for legal
/// records) and held proofs, with nothing linking it to the person.
pub async fn insert_placeholder(conn: &mut AnyConnection, erased_at: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO customers (created_at, erased_at) VALUES ($1, $2) RETURNING id",
    )
    .bind(0_i64)
    .bind(erased_at)
    .fetch_one(conn)
    .await?)
}

/// Deletes proof rows (and their share links) by id.
pub async fn delete_proofs(conn: &mut AnyConnection, ids: &[i64]) -> Result<()> {
    for id in ids {
        sqlx::query("DELETE FROM share_links WHERE proof_id = $1")
            .bind(*id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM proofs WHERE id = $1")
            .bind(*id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Moves a held proof to the placeholder, with its key re-sealed under the
/// placeholder's key.
pub async fn move_proof(
    conn: &mut AnyConnection,
    proof_id: i64,
    to_customer: i64,
    proof_key_enc: Option<Vec<u8>>,
) -> Result<()> {
    sqlx::query(
        "UPDATE proofs SET customer_id = $1, proof_key_enc = $2, file_name_enc = NULL WHERE id = $3",
    )
    .bind(to_customer)
    .bind(proof_key_enc)
    .bind(proof_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Unfinished uploads of the customer (their staging files go too).
pub async fn delete_uploads(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<String>> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM uploads WHERE customer_id = $1")
        .bind(customer_id)
        .fetch_all(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM uploads WHERE customer_id = $1")
        .bind(customer_id)
        .execute(conn)
        .await?;
    Ok(ids)
}

/// Rows that are only about the person, deleted outright. A test holds
/// this list (with [`HANDLED_OTHERWISE`]) against the data catalog.
pub const DELETED_WITH_CUSTOMER: &[&str] = &[
    "sessions",
    "consents",
    "policy_acceptances",
    "cookie_choices",
    "disclosures",
];

pub async fn delete_rows_of(conn: &mut AnyConnection, customer_id: i64) -> Result<()> {
    for table in DELETED_WITH_CUSTOMER {
        sqlx::query(&format!("DELETE FROM {table} WHERE customer_id = $1"))
            .bind(customer_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Short-lived codes sent to the person's number or address.
pub async fn delete_codes(conn: &mut AnyConnection, indexes: &[Vec<u8>]) -> Result<()> {
    for index in indexes {
        sqlx::query("DELETE FROM phone_verifications WHERE phone_index = $1")
            .bind(index.clone())
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM request_codes WHERE address_index = $1")
            .bind(index.clone())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Orders keep their legal record (number, amounts, dates, items) under the
/// placeholder; their address and instructions are deleted.
pub async fn pseudonymise_orders(
    conn: &mut AnyConnection,
    customer_id: i64,
    placeholder: i64,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE orders SET customer_id = $1, address_enc = NULL, instructions_enc = NULL, \
         marketing_opt_in = 0 \
         WHERE customer_id = $2",
    )
    .bind(placeholder)
    .bind(customer_id)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Clears every personal field of the customer row and destroys their key.
pub async fn clear_customer(conn: &mut AnyConnection, customer_id: i64, at: i64) -> Result<()> {
    sqlx::query(
        "UPDATE customers SET name_enc = NULL, phone_enc = NULL, phone_index = NULL, \
         email_enc = NULL, email_index = NULL, password_hash = NULL, phone_verified_at = NULL, email_verified_at = NULL, \
         erased_at = COALESCE(erased_at, $1) WHERE id = $2",
    )
    .bind(at)
    .bind(customer_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM customer_keys WHERE customer_id = $1")
        .bind(customer_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records the erasure in the journal (once).
pub async fn journal(
    conn: &mut AnyConnection,
    customer_id: i64,
    request_id: Option<i64>,
    at: i64,
    held_proofs: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO erasures (customer_id, request_id, erased_at, held_proofs) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id) DO NOTHING",
    )
    .bind(customer_id)
    .bind(request_id)
    .bind(at)
    .bind(held_proofs)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ErasureRow {
    pub customer_id: i64,
    pub request_id: Option<i64>,
    pub erased_at: i64,
    pub held_proofs: i64,
}

pub async fn journal_entries(conn: &mut AnyConnection) -> Result<Vec<ErasureRow>> {
    Ok(sqlx::query_as(
        "SELECT customer_id, request_id, erased_at, held_proofs FROM erasures ORDER BY erased_at",
    )
    .fetch_all(conn)
    .await?)
}

pub async fn journal_entry(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Option<ErasureRow>> {
    Ok(sqlx::query_as(
        "SELECT customer_id, request_id, erased_at, held_proofs FROM erasures WHERE customer_id = $1",
    )
    .bind(customer_id)
    .fetch_optional(conn)
    .await?)
}

/// The keyed fingerprints of the customer's phone and email (for deleting
/// codes sent to them).
pub async fn contact_indexes(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<Vec<u8>>> {
    type Indexes = (Option<Vec<u8>>, Option<Vec<u8>>);
    let row: Option<Indexes> =
        sqlx::query_as("SELECT phone_index, email_index FROM customers WHERE id = $1")
            .bind(customer_id)
            .fetch_optional(conn)
            .await?;
    Ok(row
        .map(|(p, e)| p.into_iter().chain(e).collect())
        .unwrap_or_default())
}

/// Keys of erased stand-ins that no longer seal any proof.
pub async fn drop_unused_placeholder_keys(conn: &mut AnyConnection) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM customer_keys WHERE customer_id IN ( \
           SELECT c.id FROM customers c WHERE c.erased_at IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM proofs p WHERE p.customer_id = c.id))",
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Sign-in attempt fingerprints made from the person's number or address.
pub async fn delete_attempts(conn: &mut AnyConnection, key_hashes: &[String]) -> Result<()> {
    for hash in key_hashes {
        sqlx::query("DELETE FROM sign_in_attempts WHERE key_hash = $1")
            .bind(hash)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Customers whose blind indexes a restore must rebuild.
pub async fn sealed_contacts(
    conn: &mut AnyConnection,
) -> Result<Vec<(i64, Option<Vec<u8>>, Option<Vec<u8>>, Vec<u8>)>> {
    Ok(sqlx::query_as(
        "SELECT c.id, c.phone_enc, c.email_enc, k.wrapped_key FROM customers c \
         JOIN customer_keys k ON k.customer_id = c.id WHERE c.erased_at IS NULL ORDER BY c.id",
    )
    .fetch_all(conn)
    .await?)
}

pub async fn set_indexes(
    conn: &mut AnyConnection,
    customer_id: i64,
    phone_index: Option<Vec<u8>>,
    email_index: Option<Vec<u8>>,
) -> Result<()> {
    sqlx::query("UPDATE customers SET phone_index = $1, email_index = $2 WHERE id = $3")
        .bind(phone_index)
        .bind(email_index)
        .bind(customer_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Tables whose rows erasure handles in its own way (cleared, moved,
/// deleted by fingerprint), besides [`DELETED_WITH_CUSTOMER`].
pub const HANDLED_OTHERWISE: &[&str] = &[
    "customers",
    "orders",
    "proofs",
    "uploads",
    "exports",
    "sign_in_attempts",
    "phone_verifications",
    "request_codes",
    // The contact the last message goes to: sealed by erasure's own
    // transaction, deleted when the message is sent (a day at most).
    "jobs",
];

#[cfg(test)]
mod tests {
    use super::*;
    use chotomoni_domain::catalog::{Erasure, FIELDS};

    /// A new table holding a field the catalog says erasure deletes must be
    /// handled here, or erasure would silently leave it behind.
    #[test]
    fn every_field_erasure_deletes_is_handled() {
        for f in FIELDS.iter().filter(|f| f.erasure == Erasure::Delete) {
            assert!(
                DELETED_WITH_CUSTOMER.contains(&f.table) || HANDLED_OTHERWISE.contains(&f.table),
                "{}.{} is deleted on erasure, but erasure does not touch {}",
                f.table,
                f.column,
                f.table
            );
        }
    }
}
