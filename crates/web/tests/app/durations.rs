//! Durations stored before live-written recordings were measured from
//! their own fragments are corrected by the one-time job migration 0016
//! queues, on both engines: the migration queues it only where inspected
//! videos exist, the job reads the stored (encrypted) video again, sets the
//! right duration, which the proof API then shows, and writes it in the
//! audit log; run again, it changes nothing.
use crate::common;

use chotomoni_domain::{JobKind, Role};
use chotomoni_services::Settings;
use chotomoni_testkit::{both_engines, Engine};
use common::privacy::place;
use common::tus::real_mp4;
use common::TestApp;

/// Runs migration 0016's statement again, as a database that held
/// inspected videos when it upgraded ran it.
async fn migrate_0016(app: &TestApp, engine: Engine) {
    let sql = match engine {
        Engine::Sqlite => {
            include_str!("../../../storage/migrations/sqlite/0016_correct_proof_durations.sql")
        }
        Engine::Postgres => {
            include_str!("../../../storage/migrations/postgres/0016_correct_proof_durations.sql")
        }
    };
    sqlx::raw_sql(sql)
        .execute(&app.services.db().pool)
        .await
        .unwrap();
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap()
}

async fn duration_shown(app: &TestApp, proof: i64, token: &str) -> Option<i64> {
    let (status, view) = app.get(&format!("/api/v1/proofs/{proof}"), token).await;
    assert_eq!(status, 200, "{view}");
    view["duration_ms"].as_i64()
}

async fn run_correction(app: &TestApp) {
    let ran = app
        .services
        .run_jobs_of(JobKind::CorrectDurations)
        .await
        .unwrap();
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert_eq!(ran[0].error, None);
}

async fn corrections_recorded(app: &TestApp) -> i64 {
    scalar(
        app,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'proof.duration_corrected'",
    )
    .await
}

async fn wrong_durations_corrected(engine: Engine) {
    let mut settings = Settings::default();
    settings.jobs.workers = 0;
    let app = common::spawn_configured(engine, settings, Default::default(), false).await;
    let queued_corrections =
        "SELECT COUNT(*) FROM jobs WHERE kind = 'proofs.correct_durations' AND state = 'queued'";

    // No inspected video yet: nothing to correct, no job.
    migrate_0016(&app, engine).await;
    assert_eq!(scalar(&app, queued_corrections).await, 0);

    let (number, _) = place(&app, "Long Recording", "01711000901").await;
    let packer = app.staff("packer", Role::Packer).await;
    let support = app.staff("support", Role::Support).await;
    let clip = real_mp4();
    let wrong = app.upload_proof(&packer, &number, &clip, 100_000).await;
    let right = app.upload_proof(&packer, &number, &clip, 100_000).await;
    app.services
        .run_jobs_of(JobKind::ProofInspect)
        .await
        .unwrap();
    let real = duration_shown(&app, right, &support).await.unwrap();
    assert!((1850..=2150).contains(&real), "{real} ms");
    // What a pipe-fed ffprobe used to store for a live-written recording.
    sqlx::query("UPDATE proofs SET duration_ms = 999 WHERE id = $1")
        .bind(wrong)
        .execute(&app.services.db().pool)
        .await
        .unwrap();

    migrate_0016(&app, engine).await;
    assert_eq!(scalar(&app, queued_corrections).await, 1);
    run_correction(&app).await;
    assert_eq!(duration_shown(&app, wrong, &support).await, Some(real));
    assert_eq!(duration_shown(&app, right, &support).await, Some(real));
    let (target, detail): (String, String) = sqlx::query_as(
        "SELECT target, detail FROM audit_log WHERE action = 'proof.duration_corrected'",
    )
    .fetch_one(&app.services.db().pool)
    .await
    .unwrap();
    assert_eq!(target, format!("proof:{wrong}"));
    assert_eq!(detail, format!("999 ms -> {real} ms"));

    // Queued and run again (a server that stopped mid-way): nothing changes.
    migrate_0016(&app, engine).await;
    run_correction(&app).await;
    assert_eq!(duration_shown(&app, wrong, &support).await, Some(real));
    assert_eq!(corrections_recorded(&app).await, 1);
}
both_engines!(wrong_durations, super::wrong_durations_corrected);
