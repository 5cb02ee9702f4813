use crate::{duplicate_as, Result};
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct StaffRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub disabled_at: Option<i64>,
}

const SELECT: &str = "SELECT id, username, password_hash, role, disabled_at FROM staff";

pub async fn insert(
    conn: &mut AnyConnection,
    username: &str,
    hash: &str,
    role: &str,
    at: i64,
) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO staff (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(username)
    .bind(hash)
    .bind(role)
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
