use crate::{duplicate_as, stored, Result};
use chotomoni_domain::Role;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

/// A staff account; its role is read as the domain's, and a value that is
/// not one fails where it is read.
#[derive(Debug, Clone)]
pub struct StaffRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub disabled_at: Option<i64>,
}

impl FromRow<'_, AnyRow> for StaffRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(StaffRow {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            password_hash: row.try_get("password_hash")?,
            role: stored(row, "staff", "role", Role::parse)?,
            disabled_at: row.try_get("disabled_at")?,
        })
    }
}

const SELECT: &str = "SELECT id, username, password_hash, role, disabled_at FROM staff";

pub async fn insert(
    conn: &mut AnyConnection,
    username: &str,
    hash: &str,
    role: Role,
    at: i64,
) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO staff (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(username)
    .bind(hash)
    .bind(role.as_str())
    .bind(at)
    .fetch_one(conn)
    .await
    .map_err(duplicate_as("username"))
}

pub async fn by_username(conn: &mut AnyConnection, username: &str) -> Result<Option<StaffRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE username = $1"))
        .bind(username)
        .fetch_optional(conn)
        .await?)
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<StaffRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

pub async fn set_password_hash(conn: &mut AnyConnection, id: i64, hash: &str) -> Result<()> {
    sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
