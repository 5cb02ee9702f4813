//! Reads the live schema, so tests can hold it against the data catalog.
use crate::{Db, Engine, Result};

/// Every (table, column) of the application's tables, sorted.
pub async fn columns(db: &Db) -> Result<Vec<(String, String)>> {
    let sql = match db.engine {
        Engine::Sqlite => {
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx_%' \
             ORDER BY m.name, p.name"
        }
        Engine::Postgres => {
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx\\_%' \
             ORDER BY table_name, column_name"
        }
    };
    Ok(sqlx::query_as(sql).fetch_all(&db.pool).await?)
}
