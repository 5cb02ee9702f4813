//! SQLite gathers no statistics for its query planner by itself; the
//! recurring `database.optimize` job (`Db::optimize`) does. On PostgreSQL
//! autovacuum does it, and `optimize` does nothing.
use chotomoni_storage::Db;
use chotomoni_testkit::{Engine, TestDb};

#[tokio::test]
async fn optimize_gathers_statistics_on_sqlite() {
    let t = TestDb::fresh(Engine::Sqlite).await;
    let db = Db::connect(&t.url, 4).await.expect("connect");
    db.migrate().await.expect("migrate");
    sqlx::query("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("CREATE INDEX t_b ON t (b)")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) \
         INSERT INTO t (a, b) SELECT i, 'v' || (i % 7) FROM n",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let stats = || async {
        // sqlite_stat1 exists only once something was analyzed.
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap()
    };
    assert_eq!(stats().await, 0, "a new database has no statistics");
    db.optimize().await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 't'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(rows >= 1, "the table was analyzed");
}

/// The hourly run is what corrects statistics gathered while a table was
/// small: with them, SQLite scans the table once it has grown.
#[tokio::test]
async fn optimize_analyzes_again_a_table_that_grew() {
    let t = TestDb::fresh(Engine::Sqlite).await;
    let db = Db::connect(&t.url, 4).await.expect("connect");
    db.migrate().await.expect("migrate");
    let run = |sql: &'static str| {
        let db = db.clone();
        async move { sqlx::query(sql).execute(&db.pool).await.unwrap() }
    };
    run("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)").await;
    run("CREATE INDEX t_b ON t (b)").await;
    run("INSERT INTO t (a, b) VALUES (1, 'v')").await;
    db.optimize().await.unwrap();
    let rows_known = || async {
        let stat: String = sqlx::query_scalar("SELECT stat FROM sqlite_stat1 WHERE idx = 't_b'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        stat.split(' ').next().unwrap().parse::<i64>().unwrap()
    };
    assert_eq!(rows_known().await, 1);
    run(
        "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) \
         INSERT INTO t (a, b) SELECT i, 'v' || (i % 7) FROM n",
    )
    .await;
    db.optimize().await.unwrap();
    assert_eq!(
        rows_known().await,
        5000,
        "the grown table was analyzed again"
    );
}
