//! The backup format: it covers (or deliberately leaves out) every table,
//! reads one snapshot, and a dump of one engine loads into the other with
//! integers, text, bytes and nulls intact and new ids continuing after it.
use chotomoni_storage::backup::{self, LEFT_OUT, TABLES};
use chotomoni_storage::{customers, products, schema, Db};
use chotomoni_testkit::{both_engines, Engine, TestDb};

async fn open(engine: Engine) -> (TestDb, Db) {
    let t = TestDb::fresh(engine).await;
    let db = Db::connect(&t.url, 4).await.expect("connect");
    db.migrate().await.expect("migrate");
    (t, db)
}

async fn every_table_is_backed_up_or_left_out_with_a_reason(engine: Engine) {
    let (_t, db) = open(engine).await;
    let mut live: Vec<String> = schema::columns(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    live.dedup();
    let mut covered: Vec<String> = TABLES
        .iter()
        .chain(LEFT_OUT.iter().map(|(t, _)| t))
        .map(|t| t.to_string())
        .collect();
    covered.sort();
    assert_eq!(
        live, covered,
        "a new table must be added to backup::TABLES or LEFT_OUT"
    );
}
both_engines!(
    backup_covers_the_schema,
    super::every_table_is_backed_up_or_left_out_with_a_reason
);

#[tokio::test]
async fn a_sqlite_backup_restores_into_postgresql_and_back() {
    for (from, to) in [
        (Engine::Sqlite, Engine::Postgres),
        (Engine::Postgres, Engine::Sqlite),
    ] {
        let (t, source) = open(from).await;
        let mut c = source.conn().await.unwrap();
        let id = customers::insert_empty(&mut c, 1_000).await.unwrap();
        customers::insert_key(&mut c, id, b"wrapped", 1_000)
            .await
            .unwrap();
        let contact = customers::SealedContact {
            name_enc: vec![0, 1, 2, 255],
            phone_enc: b"p".to_vec(),
            phone_index: b"index-left-out".to_vec(),
            email_enc: None,
            email_index: None,
        };
        customers::set_contact(&mut c, id, &contact).await.unwrap();
        products::upsert(&mut c, "SKU-1", "Tea", "চা", 4500)
            .await
            .unwrap();
        drop(c);
        let dir = t.dir.path().join("dump");
        let mut keys = vec![];
        let files = backup::dump(&source, &dir, |id, k| keys.push((id, k)))
            .await
            .unwrap();
        assert_eq!(
            keys,
            vec![(id, b"wrapped".to_vec())],
            "keys go to the vault, not the files"
        );
        let all = std::fs::read_to_string(dir.join("customers.jsonl")).unwrap();
        assert!(!all.contains("phone_index"), "{all}");

        let (_t2, target) = open(to).await;
        sqlx::query("DELETE FROM policy_versions")
            .execute(&target.pool)
            .await
            .unwrap();
        backup::load(&target, &dir, &files).await.unwrap();
        type Row = (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>, Option<i64>);
        let row: Row = sqlx::query_as(
            "SELECT name_enc, email_enc, phone_index, erased_at FROM customers WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&target.pool)
        .await
        .unwrap();
        assert_eq!(row, (vec![0, 1, 2, 255], None, None, None));
        let bn: String = sqlx::query_scalar("SELECT name_bn FROM products WHERE sku = 'SKU-1'")
            .fetch_one(&target.pool)
            .await
            .unwrap();
        assert_eq!(bn, "চা");
        // New rows continue after the restored ids.
        let mut c = target.conn().await.unwrap();
        let next = customers::insert_empty(&mut c, 2_000).await.unwrap();
        assert!(next > id, "{from:?} -> {to:?}: {next} after {id}");
    }
}
