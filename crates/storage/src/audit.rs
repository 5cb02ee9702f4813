//! The append-only audit log. Both engines refuse UPDATE and DELETE on it by
//! trigger. Entries name people only by reference (`customer:9`), never by
//! their personal data.
use crate::{stored, Engine, Result};
use chotomoni_domain::AuditAction;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

/// An entry; its action is read as the domain's, and a value that is not
/// one fails where it is read.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: AuditAction,
    pub target: String,
    pub detail: String,
}

impl FromRow<'_, AnyRow> for AuditRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(AuditRow {
            id: row.try_get("id")?,
            at: row.try_get("at")?,
            actor: row.try_get("actor")?,
            action: stored(row, "audit_log", "action", AuditAction::parse)?,
            target: row.try_get("target")?,
            detail: row.try_get("detail")?,
        })
    }
}

pub async fn append(
    conn: &mut AnyConnection,
    at: i64,
    actor: &str,
    action: AuditAction,
    target: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(at)
    .bind(actor)
    .bind(action.as_str())
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
    pub action: AuditAction,
    pub target: &'a str,
    pub detail: &'a str,
}

/// Appends many entries with few statements (the view-audit batches).
pub async fn append_many(
    conn: &mut crate::sqlite_writer::WriteConn<'_>,
    engine: Engine,
    entries: &[Entry<'_>],
) -> Result<()> {
    for chunk in entries.chunks(64) {
        let mut q = crate::sql::Sql::many(
            engine,
            "WITH v (at, actor, action, target, detail, pos) AS (VALUES ",
        );
        q.padded_rows(chunk, |q, e| {
            q.bind(e.at)
                .push(", ")
                .bind(e.actor.to_owned())
                .push(", ")
                .bind(e.action.as_str().to_owned());
            q.push(", ")
                .bind(e.target.to_owned())
                .push(", ")
                .bind(e.detail.to_owned());
        })
        .push(
            ") INSERT INTO audit_log (at, actor, action, target, detail) \
             SELECT at, actor, action, target, detail FROM v WHERE pos < ",
        )
        .bind_kept(chunk)
        .push(" ORDER BY pos");
        conn.execute(q).await?;
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
