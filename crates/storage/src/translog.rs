//! Storage of the proof transparency log: perfect Merkle subtrees and signed
//! tree heads. Both tables refuse UPDATE and DELETE (triggers). Appends are
//! serialised: SQLite's `BEGIN IMMEDIATE` already does it; on PostgreSQL a
//! transaction-scoped advisory lock does.
use crate::{Engine, Result};
use sqlx::{AnyConnection, FromRow};

/// Key of the advisory lock that serialises log appends on PostgreSQL.
const APPEND_LOCK: i64 = 6962;

pub async fn lock_for_append(conn: &mut AnyConnection, engine: Engine) -> Result<()> {
    if engine == Engine::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(APPEND_LOCK)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The number of leaves: one past the highest leaf node.
pub async fn size(conn: &mut AnyConnection) -> Result<u64> {
    let n: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM translog_nodes WHERE level = 0")
            .fetch_one(conn)
            .await?;
    Ok(n as u64)
}

/// The stored hashes among `wanted` (level, index) pairs.
pub async fn nodes(
    conn: &mut AnyConnection,
    wanted: &[(u8, u64)],
) -> Result<Vec<(u8, u64, Vec<u8>)>> {
    let mut found = Vec::with_capacity(wanted.len());
    // A handful of nodes (about two per tree level); one short query each
    // keeps the SQL identical on both engines.
    for &(level, idx) in wanted {
        let hash: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT hash FROM translog_nodes WHERE level = $1 AND idx = $2")
                .bind(i64::from(level))
                .bind(idx as i64)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(hash) = hash {
            found.push((level, idx, hash));
        }
    }
    Ok(found)
}

pub async fn insert_nodes(conn: &mut AnyConnection, nodes: &[(u8, u64, [u8; 32])]) -> Result<()> {
    for (level, idx, hash) in nodes {
        sqlx::query("INSERT INTO translog_nodes (level, idx, hash) VALUES ($1, $2, $3)")
            .bind(i64::from(*level))
            .bind(*idx as i64)
            .bind(hash.to_vec())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct HeadRow {
    pub size: i64,
    pub root: Vec<u8>,
    pub signed_note: String,
    pub at: i64,
}

pub async fn insert_head(conn: &mut AnyConnection, head: &HeadRow) -> Result<()> {
    sqlx::query("INSERT INTO translog_heads (size, root, signed_note, at) VALUES ($1, $2, $3, $4)")
        .bind(head.size)
        .bind(head.root.clone())
        .bind(&head.signed_note)
        .bind(head.at)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn latest_head(conn: &mut AnyConnection) -> Result<Option<HeadRow>> {
    Ok(sqlx::query_as(
        "SELECT size, root, signed_note, at FROM translog_heads ORDER BY size DESC LIMIT 1",
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn head(conn: &mut AnyConnection, size: u64) -> Result<Option<HeadRow>> {
    Ok(
        sqlx::query_as("SELECT size, root, signed_note, at FROM translog_heads WHERE size = $1")
            .bind(size as i64)
            .fetch_optional(conn)
            .await?,
    )
}
