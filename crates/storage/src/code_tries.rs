//! Tries at one-time codes, for both tables that hold them (registration's
//! `phone_verifications`, the privacy form's `request_codes`): per code, and
//! summed per phone or email over all its codes, so asking for a new code
//! does not buy new guesses.
use crate::Result;
use sqlx::AnyConnection;

#[derive(Debug, Clone, Copy)]
pub enum CodeTable {
    PhoneVerifications,
    RequestCodes,
}

impl CodeTable {
    /// The table and the column holding the target's blind index.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            CodeTable::PhoneVerifications => ("phone_verifications", "phone_index"),
            CodeTable::RequestCodes => ("request_codes", "address_index"),
        }
    }
}

/// Counts one more try at the code; returns its tries so far, this one
/// included (the row lock makes concurrent tries queue, not all pass).
pub async fn count_try(conn: &mut AnyConnection, table: CodeTable, id: i64) -> Result<i64> {
    let (table, _) = table.names();
    Ok(sqlx::query_scalar(&format!(
        "UPDATE {table} SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts"
    ))
    .bind(id)
    .fetch_one(conn)
    .await?)
}

/// Wrong tries at the target's codes sent since `since` (a used code's last
/// try was the right one).
pub async fn wrong_since(
    conn: &mut AnyConnection,
    table: CodeTable,
    target_index: &[u8],
    since: i64,
) -> Result<i64> {
    let (table, index) = table.names();
    Ok(sqlx::query_scalar(&format!(
        "SELECT CAST(COALESCE(SUM(attempts - used), 0) AS BIGINT) FROM {table} \
         WHERE {index} = $1 AND created_at >= $2"
    ))
    .bind(target_index.to_vec())
    .bind(since)
    .fetch_one(conn)
    .await?)
}
