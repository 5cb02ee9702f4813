//! What erasure does to the rows of one customer (the steps the data
//! catalog states, run here), legal holds on proof media, and the erasure
//! journal. The service calls these inside one transaction.
use crate::{stored, Result};
use chotomoni_domain::catalog::{ErasureStep, Owner};
use chotomoni_domain::HoldReason;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

/// A proof of the customer being erased.
#[derive(Debug, Clone, FromRow)]
pub struct ErasedProof {
    pub id: i64,
    pub order_id: i64,
    pub blob_key: String,
    pub poster_key: Option<String>,
    pub proof_key_enc: Option<Vec<u8>>,
}

/// A legal hold; its reason is read as the domain's, and a value that is
/// not one fails where it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRow {
    pub id: i64,
    pub order_id: i64,
    pub reason: HoldReason,
    pub note: String,
    pub placed_at: i64,
    pub until_at: Option<i64>,
    pub released_at: Option<i64>,
}

impl FromRow<'_, AnyRow> for HoldRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(HoldRow {
            id: row.try_get("id")?,
            order_id: row.try_get("order_id")?,
            reason: stored(row, "legal_holds", "reason", HoldReason::parse)?,
            note: row.try_get("note")?,
            placed_at: row.try_get("placed_at")?,
            until_at: row.try_get("until_at")?,
            released_at: row.try_get("released_at")?,
        })
    }
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
    reason: HoldReason,
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
    .bind(reason.as_str())
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

/// Unfinished uploads of the customer, whose staging files go after the
/// erasure commits.
pub async fn upload_ids(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM uploads WHERE customer_id = $1 ORDER BY id")
            .bind(customer_id)
            .fetch_all(conn)
            .await?,
    )
}

/// Where the customer's access exports and claim packs lie in the object
/// store, deleted after the erasure commits.
pub async fn export_files(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT blob_key FROM exports WHERE customer_id = $1 AND blob_key IS NOT NULL \
         UNION ALL \
         SELECT blob_key FROM claim_packs WHERE customer_id = $1 AND blob_key IS NOT NULL",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

/// Whose rows an erasure step finds.
pub struct Subject<'a> {
    pub customer_id: i64,
    /// The stand-in customer that keeps the legal record.
    pub stand_in: i64,
    /// The keyed fingerprints of the customer's phone and email.
    pub contact_indexes: &'a [Vec<u8>],
    /// The rate-limit fingerprints made from them.
    pub sign_in_fingerprints: &'a [String],
}

/// Columns that cannot be NULL: emptied to this value instead.
const EMPTIED_NOT_NULL: &[(&str, &str, &str)] = &[("orders", "marketing_opt_in", "0")];

fn emptied(table: &str, column: &str) -> String {
    let value = EMPTIED_NOT_NULL
        .iter()
        .find(|(t, c, _)| *t == table && *c == column)
        .map_or("NULL", |(_, _, v)| v);
    format!("{column} = {value}")
}

/// Runs one step of an erasure as the catalog states it; returns how many
/// rows it deleted or changed. Table and column names come only from the
/// catalog's constants.
pub async fn run_step(
    conn: &mut AnyConnection,
    step: &ErasureStep,
    who: &Subject<'_>,
) -> Result<u64> {
    let (table, owner, set) = match step {
        ErasureStep::DeleteRows { table, owner } => (*table, *owner, None),
        ErasureStep::Clear {
            table,
            owner,
            emptied: gone,
            pseudonymised,
        } => {
            let mut set: Vec<String> = gone.iter().map(|c| emptied(table, c)).collect();
            // Only the customer link is pseudonymised (a catalog test holds it so).
            set.extend(pseudonymised.iter().map(|c| format!("{c} = $2")));
            (
                *table,
                *owner,
                Some((set.join(", "), !pseudonymised.is_empty())),
            )
        }
    };
    let Some((filter, bind)) = owner_filter(owner) else {
        return Ok(0);
    };
    let sql = match &set {
        None => format!("DELETE FROM {table} WHERE {filter}"),
        Some((set, _)) => format!("UPDATE {table} SET {set} WHERE {filter}"),
    };
    match bind {
        Bind::ContactIndexes => for_each(conn, &sql, who.contact_indexes).await,
        Bind::SignInFingerprints => for_each(conn, &sql, who.sign_in_fingerprints).await,
        Bind::CustomerId => {
            let mut query = sqlx::query(&sql).bind(who.customer_id);
            if matches!(set, Some((_, true))) {
                query = query.bind(who.stand_in);
            }
            Ok(query.execute(conn).await?.rows_affected())
        }
    }
}

/// What a table's owner filter binds as `$1`: the customer's number, or
/// each of their fingerprints in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bind {
    CustomerId,
    ContactIndexes,
    SignInFingerprints,
}

/// The condition that finds one customer's rows of a table owned this way;
/// `None` for a table not looked up by customer.
pub fn owner_filter(owner: Owner) -> Option<(String, Bind)> {
    let by_customer = |filter: &str| Some((filter.to_owned(), Bind::CustomerId));
    match owner {
        Owner::Customer => by_customer("id = $1"),
        Owner::CustomerColumn => by_customer("customer_id = $1"),
        Owner::Order => by_customer("order_id IN (SELECT id FROM orders WHERE customer_id = $1)"),
        Owner::Proof => by_customer("proof_id IN (SELECT id FROM proofs WHERE customer_id = $1)"),
        Owner::Claim => by_customer("claim_id IN (SELECT id FROM claims WHERE customer_id = $1)"),
        Owner::Request => {
            by_customer("request_id IN (SELECT id FROM privacy_requests WHERE customer_id = $1)")
        }
        Owner::ContactIndex(column) => Some((format!("{column} = $1"), Bind::ContactIndexes)),
        Owner::SignInFingerprint(column) => {
            Some((format!("{column} = $1"), Bind::SignInFingerprints))
        }
        Owner::Unlinked(_) => None,
    }
}

/// Runs `sql` once for each value bound as `$1`; returns the rows it touched.
async fn for_each<T>(conn: &mut AnyConnection, sql: &str, values: &[T]) -> Result<u64>
where
    T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Clone + Send + 'static,
{
    let mut n = 0;
    for value in values {
        n += sqlx::query(sql)
            .bind(value.clone())
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(n)
}

/// Marks the customer erased (their fields are emptied by the steps).
pub async fn mark_erased(conn: &mut AnyConnection, customer_id: i64, at: i64) -> Result<()> {
    sqlx::query("UPDATE customers SET erased_at = COALESCE(erased_at, $1) WHERE id = $2")
        .bind(at)
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
