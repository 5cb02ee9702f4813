//! The job queue's table on both engines: one claim per job however many
//! servers ask at once, leases that run out and are taken over, only the
//! owner ending a run, one queued job per piece of work, and a stored
//! value that is not ours failing where it is read.
use chotomoni_domain::{JobKind, JobState};
use chotomoni_storage::jobs::{self, NewJob, Outcome};
use chotomoni_storage::sqlite_writer::WriteConn;
use chotomoni_storage::Db;
use chotomoni_testkit::{both_engines, Engine, TestDb};
use std::collections::HashSet;

async fn open(engine: Engine) -> (TestDb, Db) {
    let t = TestDb::fresh(engine).await;
    let db = Db::connect(&t.url, 12).await.expect("connect");
    db.migrate().await.expect("migrate");
    (t, db)
}

fn job(key: &str) -> NewJob<'_> {
    NewJob {
        kind: JobKind::ExportBuild,
        dedupe_key: key,
        payload: "{}",
        sealed: Some(b"sealed"),
        run_at: 1_000,
        max_attempts: 3,
    }
}

async fn claims_are_exclusive(engine: Engine) {
    let (_t, db) = open(engine).await;
    let mut c = db.conn().await.unwrap();
    for i in 0..40 {
        let key = format!("export.build:{i}");
        assert!(jobs::enqueue(&mut c, &job(&key), 1_000)
            .await
            .unwrap()
            .is_some());
    }
    drop(c);
    // Eight servers claim at once until nothing is left.
    let mut tasks = Vec::new();
    for w in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(j) = jobs::claim(&db, &format!("server-{w}"), 60_000, 2_000, None)
                .await
                .unwrap()
            {
                assert_eq!(j.state, JobState::Running);
                assert_eq!(j.attempts, 1);
                mine.push(j.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 40, "every job claimed");
    assert_eq!(distinct.len(), 40, "no job claimed twice: {all:?}");
}
both_engines!(
    each_job_is_claimed_by_one_server,
    super::claims_are_exclusive
);

async fn leases(engine: Engine) {
    let (_t, db) = open(engine).await;
    let mut c = db.conn().await.unwrap();
    let id = jobs::enqueue(&mut c, &job("export.build:7"), 1_000)
        .await
        .unwrap()
        .unwrap();
    // Not due yet, then due.
    assert!(jobs::claim(&db, "a", 5_000, 999, None)
        .await
        .unwrap()
        .is_none());
    let a = jobs::claim(&db, "a", 5_000, 1_000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.id, id);
    // While a's lease runs, nobody else gets it; a renews it.
    assert!(jobs::claim(&db, "b", 9_000, 4_000, None)
        .await
        .unwrap()
        .is_none());
    assert!(jobs::renew(&db, id, "a", 8_000, 4_000).await.unwrap());
    assert!(jobs::claim(&db, "b", 9_000, 7_000, None)
        .await
        .unwrap()
        .is_none());
    // a stops renewing (its server died): b takes the job over.
    let b = jobs::claim(&db, "b", 20_000, 8_001, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((b.id, b.attempts), (id, 2));
    assert_eq!(b.lease_owner.as_deref(), Some("b"));
    // a comes back: it can neither renew nor end what is now b's.
    assert!(!jobs::renew(&db, id, "a", 30_000, 9_000).await.unwrap());
    assert!(!jobs::end(&mut c, id, "a", Outcome::Done, 9_000)
        .await
        .unwrap());
    // b fails it once: queued again for later, the error kept.
    assert!(jobs::end(
        &mut c,
        id,
        "b",
        Outcome::Again {
            run_at: 50_000,
            error: Some("provider down")
        },
        10_000
    )
    .await
    .unwrap());
    let row = jobs::get(&mut c, id).await.unwrap().unwrap();
    assert_eq!(row.state, JobState::Queued);
    assert_eq!(row.last_error.as_deref(), Some("provider down"));
    assert_eq!(row.lease_owner, None);
    assert!(jobs::claim(&db, "b", 60_000, 49_999, None)
        .await
        .unwrap()
        .is_none());
    // Given up: kept with its error, and its sealed part, until an admin retries.
    let again = jobs::claim(&db, "b", 60_000, 50_000, None)
        .await
        .unwrap()
        .unwrap();
    assert!(jobs::end(
        &mut c,
        id,
        "b",
        Outcome::Failed { error: "gave up" },
        51_000
    )
    .await
    .unwrap());
    let row = jobs::get(&mut c, again.id).await.unwrap().unwrap();
    assert_eq!((row.state, row.attempts), (JobState::Failed, 3));
    assert_eq!(row.sealed.as_deref(), Some(&b"sealed"[..]));
    assert!(jobs::retry(&mut c, id, 52_000).await.unwrap());
    assert!(
        !jobs::retry(&mut c, id, 52_000).await.unwrap(),
        "only a failed job"
    );
    let last = jobs::claim(&db, "c", 99_000, 52_000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last.attempts, 1, "a retry counts its attempts anew");
    // Done: what it carried sealed is cleared.
    assert!(jobs::end(&mut c, id, "c", Outcome::Done, 53_000)
        .await
        .unwrap());
    let row = jobs::get(&mut c, id).await.unwrap().unwrap();
    assert_eq!((row.state, row.sealed), (JobState::Done, None));
}
both_engines!(
    a_lapsed_lease_is_taken_over_and_only_its_owner_ends_it,
    super::leases
);

async fn one_per_piece_of_work(engine: Engine) {
    let (_t, db) = open(engine).await;
    let mut c = db.conn().await.unwrap();
    let first = jobs::enqueue(&mut c, &job("privacy.request:1"), 1_000)
        .await
        .unwrap();
    assert!(first.is_some());
    assert_eq!(
        jobs::enqueue(&mut c, &job("privacy.request:1"), 1_000)
            .await
            .unwrap(),
        None
    );
    // Running still counts; done does not.
    let j = jobs::claim(&db, "a", 5_000, 1_000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        jobs::enqueue(&mut c, &job("privacy.request:1"), 1_100)
            .await
            .unwrap(),
        None
    );
    jobs::end(&mut c, j.id, "a", Outcome::Done, 1_200)
        .await
        .unwrap();
    assert!(jobs::enqueue(&mut c, &job("privacy.request:1"), 1_300)
        .await
        .unwrap()
        .is_some());
    // A retried failed job next to a new one of the same work: refused.
    let k = jobs::claim(&db, "a", 5_000, 1_300, None)
        .await
        .unwrap()
        .unwrap();
    jobs::end(&mut c, k.id, "a", Outcome::Failed { error: "x" }, 1_400)
        .await
        .unwrap();
    jobs::enqueue(&mut c, &job("privacy.request:1"), 1_500)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        jobs::retry(&mut c, k.id, 1_600).await,
        Err(chotomoni_storage::StorageError::Duplicate(_))
    ));
    // Claims by kind leave the others.
    jobs::enqueue(
        &mut c,
        &NewJob {
            kind: JobKind::ProofInspect,
            ..job("proof.inspect:4")
        },
        1_000,
    )
    .await
    .unwrap();
    let only = jobs::claim(&db, "a", 9_000, 2_000, Some(JobKind::ProofInspect))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(only.kind, JobKind::ProofInspect);
    assert!(
        jobs::claim(&db, "a", 9_000, 2_000, Some(JobKind::ProofInspect))
            .await
            .unwrap()
            .is_none()
    );
}
both_engines!(
    one_job_is_queued_per_piece_of_work,
    super::one_per_piece_of_work
);

/// Many jobs in one statement, as a batch of courier reports queues its
/// notices (on a SQLite file in place, else through sqlx): each is queued
/// with its values, a key already queued is left alone, and the rows that
/// pad the statement to its shape are not queued.
async fn many_at_once(engine: Engine) {
    let (_t, db) = open(engine).await;
    let mut c = db.conn().await.unwrap();
    jobs::enqueue(&mut c, &job("export.build:2"), 1_000)
        .await
        .unwrap()
        .unwrap();
    let batch: Vec<NewJob> = ["export.build:1", "export.build:2", "export.build:3"]
        .into_iter()
        .map(job)
        .collect();
    let added = match &db.writer {
        Some(writer) => writer
            .transaction(|tx| {
                futures::executor::block_on(jobs::enqueue_many(tx, db.engine, &batch, 2_000))
            })
            .unwrap(),
        None => jobs::enqueue_many(&mut WriteConn::Pool(&mut c), db.engine, &batch, 2_000)
            .await
            .unwrap(),
    };
    assert_eq!(added, 2, "the key already queued is left alone");
    assert_eq!(engine == Engine::Sqlite, db.writer.is_some());
    let all: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(all, 3, "no padding row was queued");
    let first = jobs::active_by_key(&mut c, "export.build:1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.kind, first.state, first.run_at, first.created_at),
        (JobKind::ExportBuild, JobState::Queued, 1_000, 2_000)
    );
    assert_eq!(first.sealed.as_deref(), Some(&b"sealed"[..]));
    let kept = jobs::active_by_key(&mut c, "export.build:2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.created_at, 1_000);
}
both_engines!(many_jobs_are_queued_at_once, super::many_at_once);

async fn at_most_once(engine: Engine) {
    let (_t, db) = open(engine).await;
    let mut c = db.conn().await.unwrap();
    let notice = NewJob {
        kind: JobKind::ErasureNotice,
        ..job("message.erasure_notice:3")
    };
    let id = jobs::enqueue(&mut c, &notice, 1_000)
        .await
        .unwrap()
        .unwrap();
    jobs::claim(&db, "dead", 2_000, 1_000, None)
        .await
        .unwrap()
        .unwrap();
    // Its server vanished mid-send: given up, never taken over.
    assert_eq!(
        jobs::give_up_lost(&db, &[JobKind::ErasureNotice], 1_500)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        jobs::give_up_lost(&db, &[JobKind::ErasureNotice], 2_001)
            .await
            .unwrap(),
        1
    );
    assert!(jobs::claim(&db, "b", 9_000, 3_000, None)
        .await
        .unwrap()
        .is_none());
    let row = jobs::get(&mut c, id).await.unwrap().unwrap();
    assert_eq!(row.state, JobState::Failed);
    assert!(row.last_error.unwrap().contains("cannot happen twice"));
}
both_engines!(
    a_message_whose_server_died_is_not_sent_again,
    super::at_most_once
);

async fn corrupt_values_fail_loudly(engine: Engine) {
    let (_t, db) = open(engine).await;
    let mut c = db.conn().await.unwrap();
    let id = jobs::enqueue(&mut c, &job("export.build:1"), 1_000)
        .await
        .unwrap()
        .unwrap();
    sqlx::query("UPDATE jobs SET kind = 'export.teleport' WHERE id = $1")
        .bind(id)
        .execute(&db.pool)
        .await
        .unwrap();
    let err = jobs::get(&mut c, id).await.unwrap_err().to_string();
    assert!(err.contains("export.teleport"), "{err}");
    // And the table itself refuses a state that is not one.
    assert!(sqlx::query("UPDATE jobs SET state = 'open' WHERE id = $1")
        .bind(id)
        .execute(&db.pool)
        .await
        .is_err());
}
both_engines!(
    a_stored_value_that_is_not_ours_fails_where_it_is_read,
    super::corrupt_values_fail_loudly
);
