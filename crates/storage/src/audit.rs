//! The append-only audit log. Both engines refuse UPDATE and DELETE on it by
//! trigger. Entries name people only by reference (`customer:9`), never by
//! their personal data.
use crate::{Engine, Result};
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

/// One entry to append in bulk.
pub struct Entry<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: &'a str,
}

/// Appends many entries with few statements (the view-audit batches).
pub async fn append_many(
    conn: &mut AnyConnection,
    engine: Engine,
    entries: &[Entry<'_>],
) -> Result<()> {
    for chunk in entries.chunks(64) {
        let mut q = crate::sql::Sql::many(
            engine,
            "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ",
        );
        q.list(chunk, ", ", |q, e| {
            q.push("(")
                .bind(e.at)
                .push(", ")
                .bind(e.actor.to_owned())
                .push(", ")
                .bind(e.action.to_owned());
            q.push(", ")
                .bind(e.target.to_owned())
                .push(", ")
                .bind(e.detail.to_owned())
                .push(")");
        });
        let (text, args) = q.into_parts();
        sqlx::query_with(&text, args).execute(&mut *conn).await?;
    }
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
