//! The inbox of courier reports on both engines: reports come out oldest
//! first, as they went in, until they are removed; on PostgreSQL two
//! servers applying at once take different reports.
use chotomoni_domain::{CourierName, EventSource, ParcelStatus};
use chotomoni_storage::courier_reports::{self as inbox, Report};
use chotomoni_storage::sqlite_writer::WriteConn;
use chotomoni_storage::{Db, Engine as DbEngine};
use chotomoni_testkit::{both_engines, Engine, TestDb};

async fn open(engine: Engine) -> (TestDb, Db) {
    let t = TestDb::fresh(engine).await;
    let db = Db::connect(&t.url, 4).await.expect("connect");
    db.migrate().await.expect("migrate");
    (t, db)
}

fn report(consignment_id: &str, parcel_status: ParcelStatus) -> Report<'_> {
    Report {
        courier: CourierName::Steadfast,
        consignment_id,
        parcel_status,
        courier_status: "pending",
        collected: Some(150_000),
        delivery_fee: None,
        courier_at: Some("2026-12-07 10:00:00"),
        source: EventSource::Webhook,
        received_at: 1_000,
    }
}

/// The consignment ids of the oldest `n` reports, in the order given.
async fn oldest(conn: &mut WriteConn<'_>, engine: DbEngine, n: usize) -> Vec<String> {
    inbox::oldest(conn, engine, n)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.consignment_id)
        .collect()
}

async fn oldest_first_until_removed(engine: Engine) {
    let (_t, db) = open(engine).await;
    let mut c = db.conn().await.unwrap();
    let mut conn = WriteConn::Pool(&mut c);
    let reports: Vec<Report> = ["c1", "c2", "c3", "c4", "c5"]
        .into_iter()
        .map(|id| report(id, ParcelStatus::WithCourier))
        .collect();
    inbox::receive(&mut conn, db.engine, &reports[..3])
        .await
        .unwrap();
    inbox::receive(&mut conn, db.engine, &reports[3..])
        .await
        .unwrap();

    let first = inbox::oldest(&mut conn, db.engine, 2).await.unwrap();
    let ids: Vec<&str> = first.iter().map(|r| r.consignment_id.as_str()).collect();
    assert_eq!(ids, ["c1", "c2"]);
    // What the courier said comes back as it went in.
    let r = &first[0];
    assert_eq!(
        (r.courier, r.parcel_status, r.courier_status.as_str()),
        (CourierName::Steadfast, ParcelStatus::WithCourier, "pending")
    );
    assert_eq!((r.collected, r.delivery_fee), (Some(150_000), None));
    assert_eq!(r.courier_at.as_deref(), Some("2026-12-07 10:00:00"));
    assert_eq!((r.source, r.received_at), (EventSource::Webhook, 1_000));

    let ids: Vec<i64> = first.iter().map(|r| r.id).collect();
    inbox::remove(&mut conn, db.engine, &ids).await.unwrap();
    assert_eq!(oldest(&mut conn, db.engine, 10).await, ["c3", "c4", "c5"]);
}
both_engines!(
    reports_come_out_oldest_first_until_removed,
    super::oldest_first_until_removed
);

#[tokio::test]
async fn two_servers_take_different_reports_on_postgres() {
    let (_t, db) = open(Engine::Postgres).await;
    let reports: Vec<Report> = ["c1", "c2", "c3", "c4"]
        .into_iter()
        .map(|id| report(id, ParcelStatus::Delivered))
        .collect();
    let mut c = db.conn().await.unwrap();
    inbox::receive(&mut WriteConn::Pool(&mut c), db.engine, &reports)
        .await
        .unwrap();

    let (mut a, mut b) = (db.conn().await.unwrap(), db.conn().await.unwrap());
    let mut first = db.begin_on(&mut a).await.unwrap();
    let mut second = db.begin_on(&mut b).await.unwrap();
    let taken_first = oldest(&mut WriteConn::Pool(&mut first), db.engine, 2).await;
    // The first server's are locked until it commits: passed over.
    let taken_second = oldest(&mut WriteConn::Pool(&mut second), db.engine, 2).await;
    assert_eq!(taken_first, ["c1", "c2"]);
    assert_eq!(taken_second, ["c3", "c4"]);
    second.rollback().await.unwrap();
    // Given back by a transaction that did not commit: taken again.
    let mut third = db.begin_on(&mut b).await.unwrap();
    assert_eq!(
        oldest(&mut WriteConn::Pool(&mut third), db.engine, 10).await,
        ["c3", "c4"]
    );
    first.commit().await.unwrap();
}
