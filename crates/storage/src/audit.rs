//! The append-only audit log. Both engines refuse UPDATE and DELETE on it by
//! trigger. Entries name people only by reference (`customer:9`), never by
//! their personal data.
use crate::Result;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

pub async fn append(
    conn: &mut AnyConnection,
    at: i64,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn recent(
    conn: &mut AnyConnection,
    target: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditRow>> {
    let rows = match target {
        Some(t) => {
            sqlx::query_as("SELECT id, at, actor, action, target, detail FROM audit_log WHERE target = $1 ORDER BY id DESC LIMIT $2")
                .bind(t)
                .bind(limit)
                .fetch_all(conn)
                .await?
        }
        None => {
            sqlx::query_as("SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT $1")
                .bind(limit)
                .fetch_all(conn)
                .await?
        }
    };
    Ok(rows)
}
