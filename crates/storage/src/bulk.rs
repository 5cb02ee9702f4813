//! Bulk loading for benchmarks: many rows per statement, explicit ids, one
//! transaction per chunk.
use crate::sql::Sql;
use crate::{Db, Engine, Result};

/// Rows per INSERT statement. On SQLite each statement is handed to sqlx's
/// connection thread and back, so fewer, longer statements are cheaper; with
/// anonymous placeholders ([`Sql::many`]) their length costs nothing extra.
const ROWS_PER_STATEMENT: usize = 64;

pub struct BulkCustomer {
    pub id: i64,
    pub wrapped_key: Vec<u8>,
    pub name_enc: Vec<u8>,
    pub phone_enc: Vec<u8>,
    pub phone_index: Vec<u8>,
}

pub struct BulkOrder {
    pub id: i64,
    pub customer_id: i64,
    pub status: &'static str,
    pub total: i64,
    pub address_enc: Vec<u8>,
    pub at: i64,
    pub item: (String, String, i64, i64),
}

/// The next free ids of customers and orders.
pub async fn next_ids(db: &Db) -> Result<(i64, i64)> {
    let c: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM customers")
        .fetch_one(&db.pool)
        .await?;
    let o: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM orders")
        .fetch_one(&db.pool)
        .await?;
    Ok((c, o))
}

async fn run(tx: &mut sqlx::AnyConnection, q: Sql) -> Result<()> {
    let (text, args) = q.into_parts();
    sqlx::query_with(&text, args).execute(tx).await?;
    Ok(())
}

pub async fn insert_customers(db: &Db, rows: Vec<BulkCustomer>) -> Result<()> {
    let mut tx = db.begin().await?;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut keys = Sql::many(
            db.engine,
            "INSERT INTO customer_keys (customer_id, wrapped_key, created_at) VALUES ",
        );
        keys.list(chunk, ", ", |q, c| {
            q.push("(")
                .bind(c.id)
                .push(", ")
                .bind(c.wrapped_key.clone())
                .push(", 0)");
        });
        run(&mut tx, keys).await?;
        let mut cust = Sql::many(
            db.engine,
            "INSERT INTO customers (id, name_enc, phone_enc, phone_index, created_at) VALUES ",
        );
        cust.list(chunk, ", ", |q, c| {
            q.push("(")
                .bind(c.id)
                .push(", ")
                .bind(c.name_enc.clone())
                .push(", ")
                .bind(c.phone_enc.clone());
            q.push(", ").bind(c.phone_index.clone()).push(", 0)");
        });
        run(&mut tx, cust).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Inserts orders with one item and a first event each.
pub async fn insert_orders(db: &Db, rows: &[BulkOrder]) -> Result<()> {
    let mut conn = db.conn().await?;
    let sqlite = db.engine == Engine::Sqlite;
    if sqlite {
        sqlx::query(BIG_CACHE).execute(&mut *conn).await?;
    }
    let result = insert_orders_on(&mut conn, db.engine, rows).await;
    if sqlite {
        sqlx::query(DEFAULT_CACHE).execute(&mut *conn).await?;
    }
    result
}

/// SQLite keeps 2 MB of pages per connection. A chunk of orders lands all
/// over the index by customer: with so small a cache, pages are written out
/// to the log and read back many times within one transaction (seeding
/// 1,000,000 orders took 42 s with it; 27 s with 256 MB and the seed's
/// larger transactions).
const BIG_CACHE: &str = "PRAGMA cache_size = -262144";
const DEFAULT_CACHE: &str = "PRAGMA cache_size = -2000";

async fn insert_orders_on(
    conn: &mut sqlx::AnyConnection,
    engine: Engine,
    rows: &[BulkOrder],
) -> Result<()> {
    let mut tx = sqlx::Connection::begin_with(&mut *conn, engine.begin_write()).await?;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut o = Sql::many(
            engine,
            "INSERT INTO orders (id, customer_id, status, payment_method, payment_status, source, total, address_enc, created_at, updated_at) VALUES ",
        );
        o.list(chunk, ", ", |q, r| {
            q.push("(")
                .bind(r.id)
                .push(", ")
                .bind(r.customer_id)
                .push(", ")
                .bind(r.status);
            q.push(", 'cod', 'pending', 'shop', ")
                .bind(r.total)
                .push(", ")
                .bind(r.address_enc.clone());
            q.push(", ").bind(r.at).push(", ").bind(r.at).push(")");
        });
        run(&mut tx, o).await?;
        let mut i = Sql::many(
            engine,
            "INSERT INTO order_items (order_id, line_no, sku, name, quantity, unit_price) VALUES ",
        );
        i.list(chunk, ", ", |q, r| {
            q.push("(")
                .bind(r.id)
                .push(", 1, ")
                .bind(r.item.0.clone())
                .push(", ")
                .bind(r.item.1.clone());
            q.push(", ")
                .bind(r.item.2)
                .push(", ")
                .bind(r.item.3)
                .push(")");
        });
        run(&mut tx, i).await?;
        let mut e = Sql::many(
            engine,
            "INSERT INTO order_events (order_id, to_status, at) VALUES ",
        );
        e.list(chunk, ", ", |q, r| {
            q.push("(")
                .bind(r.id)
                .push(", 'placed', ")
                .bind(r.at)
                .push(")");
        });
        run(&mut tx, e).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// After a bulk load the planner's statistics describe empty tables: without
/// fresh ones PostgreSQL picks bitmap scans for one order's lines until
/// autovacuum catches up. SQLite's `ANALYZE` feeds its planner the same way.
pub async fn analyze(db: &Db) -> Result<()> {
    sqlx::query("ANALYZE").execute(&db.pool).await?;
    Ok(())
}

/// After explicit ids, PostgreSQL's identity sequences must move past them.
pub async fn fix_sequences(db: &Db) -> Result<()> {
    if db.engine == Engine::Postgres {
        for table in ["customers", "orders", "order_events"] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            ))
            .execute(&db.pool)
            .await?;
        }
    }
    Ok(())
}

/// Moves a demo order back in time: placed at `at`, each later event an hour
/// after the one before, so date filters and slips-by-day have something to show.
pub async fn backdate_order(db: &Db, order_id: i64, at: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE order_events SET at = $1 + (id - (SELECT MIN(e.id) FROM order_events e WHERE e.order_id = $2)) * 3600000 \
         WHERE order_id = $2",
    )
    .bind(at)
    .bind(order_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE orders SET created_at = $1, updated_at = (SELECT MAX(at) FROM order_events WHERE order_id = $2) WHERE id = $2",
    )
    .bind(at)
    .bind(order_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
