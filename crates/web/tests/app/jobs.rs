//! The job queue with two servers on one database, on both engines: the
//! same due privacy requests run on both at once are carried out once
//! each (one erasure, one export, one last message per person); a job
//! whose server died is taken over by the other when its lease runs out,
//! except a message, which is given up rather than risk sending it twice;
//! admins see the queue and retry a failed job, and nobody else does.
use crate::common;

use chotomoni_domain::{JobKind, Role};
use chotomoni_services::{now_ms, Settings};
use chotomoni_storage::jobs;
use chotomoni_testkit::{both_engines, Engine};
use common::privacy::{ask, customer_token, place};
use common::TestApp;
use serde_json::json;
use std::time::Duration;

/// Two servers over one database; `workers`: background workers on each.
async fn two_servers(engine: Engine, workers: usize) -> (TestApp, TestApp) {
    let mut settings = Settings {
        // Erasure requests are due at once.
        erasure_review_days: 0,
        ..Settings::default()
    };
    settings.jobs.workers = workers;
    let a = common::spawn_configured(engine, settings, Default::default(), true).await;
    let b = a.restart().await;
    (a, b)
}

/// Erasure notices the stand-in received for `to`.
fn notices_to(app: &TestApp, to: &str) -> usize {
    app.sms
        .as_ref()
        .unwrap()
        .messages()
        .iter()
        .filter(|m| m.to == to && m.body.contains("your data has been deleted"))
        .count()
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap()
}

async fn once_across_servers(engine: Engine) {
    let (a, b) = two_servers(engine, 2).await;
    let mut erased = Vec::new();
    let mut exported = Vec::new();
    for i in 0..6 {
        let phone = format!("0171100{:04}", 700 + i);
        let (_, me) = place(&a, &format!("Customer {i}"), &phone).await;
        let token = customer_token(&a, me).await;
        let kind = if i % 2 == 0 { "erasure" } else { "access" };
        let (status, req) = ask(&a, Some(&token), json!({"kind": kind, "phone": phone})).await;
        assert_eq!(status, 201, "{req}");
        let id = req["id"].as_i64().unwrap();
        if kind == "erasure" {
            erased.push((id, format!("+88{phone}")));
        } else {
            exported.push(id);
        }
    }
    // Both servers run the privacy job at the same moment, a few times over,
    // while their background workers run too.
    for _ in 0..3 {
        let (x, y) = tokio::join!(
            a.services.run_privacy_requests(),
            b.services.run_privacy_requests()
        );
        x.unwrap();
        y.unwrap();
    }
    // Exports finish in the background; the job then completes their requests.
    for _ in 0..100 {
        let open = scalar(
            &a,
            "SELECT COUNT(*) FROM privacy_requests WHERE status <> 'completed'",
        )
        .await;
        if open == 0 {
            break;
        }
        let (x, y) = tokio::join!(
            a.services.run_privacy_requests(),
            b.services.run_privacy_requests()
        );
        x.unwrap();
        y.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let open = scalar(
        &a,
        "SELECT COUNT(*) FROM privacy_requests WHERE status <> 'completed'",
    )
    .await;
    assert_eq!(open, 0, "every request completed");
    assert_eq!(a.count("erasures").await, 3, "one erasure per person");
    assert_eq!(
        scalar(
            &a,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'customer.erase'"
        )
        .await,
        3
    );
    for id in &exported {
        let n = scalar(
            &a,
            &format!("SELECT COUNT(*) FROM exports WHERE request_id = {id}"),
        )
        .await;
        assert_eq!(n, 1, "one export for request {id}");
    }
    assert_eq!(
        scalar(
            &a,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'export.start'"
        )
        .await,
        3
    );
    // One last message each, sent by whichever server claimed it.
    for _ in 0..50 {
        if erased.iter().all(|(_, to)| notices_to(&a, to) >= 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (id, to) in &erased {
        assert_eq!(notices_to(&a, to), 1, "request {id}: one notice to {to}");
    }
    assert_eq!(
        scalar(&a, "SELECT COUNT(*) FROM jobs WHERE kind = 'message.erasure_notice' AND state = 'done' AND sealed IS NULL").await,
        3,
        "each notice done, its sealed contact gone"
    );
    // Jobs ran on both servers' workers, never twice: one job per request.
    let runs = scalar(
        &a,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'privacy.request' AND attempts > 1",
    )
    .await;
    assert_eq!(runs, 0, "no privacy request job ran twice");
}
both_engines!(
    two_servers_carry_out_each_request_once,
    super::once_across_servers
);

async fn takeover(engine: Engine) {
    let (a, b) = two_servers(engine, 0).await;
    let (_, me) = place(&a, "Lost Lease", "01711000801").await;
    let token = customer_token(&a, me).await;
    let (_, req) = ask(
        &a,
        Some(&token),
        json!({"kind": "erasure", "phone": "01711000801"}),
    )
    .await;
    let id = req["id"].as_i64().unwrap();
    assert_eq!(a.services.scan_privacy_requests().await.unwrap(), 1);
    // Server "a" claims the request's job and dies at once: its lease
    // lapses with nothing done.
    let now = now_ms();
    let dead = jobs::claim(
        a.services.db(),
        "dead-server",
        now + 300,
        now,
        Some(JobKind::PrivacyRequest),
    )
    .await
    .unwrap()
    .expect("the request's job");
    assert_eq!(dead.dedupe_key, format!("privacy.request:{id}"));
    // Before the lease ends, the other server leaves it alone.
    assert!(b
        .services
        .run_jobs_of(JobKind::PrivacyRequest)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(a.count("erasures").await, 0);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let ran = b
        .services
        .run_jobs_of(JobKind::PrivacyRequest)
        .await
        .unwrap();
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert_eq!(ran[0].error, None);
    assert_eq!(a.count("erasures").await, 1);
    let admin_token = a.staff("admin", Role::Admin).await;
    let (_, view) = a
        .get(&format!("/api/v1/privacy/requests/{id}"), &admin_token)
        .await;
    assert_eq!(view["status"], "completed", "{view}");
    let row = {
        let mut c = a.services.db().conn().await.unwrap();
        jobs::get(&mut c, dead.id).await.unwrap().unwrap()
    };
    assert_eq!((row.attempts, row.state.as_str()), (2, "done"));

    // The last message: its server vanishes mid-send. It is not sent again
    // by the other; an admin sees why, and retries it.
    let e164 = "+8801711000801";
    let notice = jobs::claim(
        a.services.db(),
        "dead-server",
        now_ms() + 200,
        now_ms(),
        Some(JobKind::ErasureNotice),
    )
    .await
    .unwrap();
    let notice = notice.expect("the notice job, queued by the erasure");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(b
        .services
        .run_jobs_of(JobKind::ErasureNotice)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(notices_to(&a, e164), 0, "not sent by the other server");
    let (status, queue) = a.get("/api/v1/jobs?state=failed", &admin_token).await;
    assert_eq!(status, 200, "{queue}");
    assert_eq!(queue["failed"], 1, "{queue}");
    let failed = &queue["jobs"][0];
    assert_eq!(failed["id"], notice.id);
    assert!(
        failed["last_error"]
            .as_str()
            .unwrap()
            .contains("cannot happen twice"),
        "{failed}"
    );
    assert!(failed.get("payload").is_none() && failed.get("sealed").is_none());
    let (status, retried) = a
        .post(
            &format!("/api/v1/jobs/{}/retry", notice.id),
            Some(&admin_token),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["state"], "queued");
    let sent = b
        .services
        .run_jobs_of(JobKind::ErasureNotice)
        .await
        .unwrap();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].error, None);
    assert_eq!(notices_to(&a, e164), 1, "sent once, after the retry");
    let (status, again) = a
        .post(
            &format!("/api/v1/jobs/{}/retry", notice.id),
            Some(&admin_token),
            &json!({}),
        )
        .await;
    assert_eq!(status, 409, "{again}");
}
both_engines!(
    a_dead_servers_job_is_taken_over_but_a_message_is_not_sent_twice,
    super::takeover
);

async fn queue_is_for_admins(engine: Engine) {
    let app = common::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let support = app.staff("support", Role::Support).await;
    let packer = app.staff("packer", Role::Packer).await;
    for token in [&support, &packer] {
        let (status, body) = app.get("/api/v1/jobs", token).await;
        assert_eq!(status, 403, "{body}");
        let (status, _) = app
            .post("/api/v1/jobs/1/retry", Some(token), &json!({}))
            .await;
        assert_eq!(status, 403);
    }
    let res = app.http.get(app.url("/api/v1/jobs")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let (status, body) = app.get("/api/v1/jobs?state=opened", &admin).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "state");
    let (status, body) = app
        .post("/api/v1/jobs/999999/retry", Some(&admin), &json!({}))
        .await;
    assert_eq!(status, 404, "{body}");
    // The page lists the queue for an admin, with a retry button on a failed job.
    let mut c = app.services.db().conn().await.unwrap();
    let id = jobs::enqueue(
        &mut c,
        &jobs::NewJob {
            kind: JobKind::ProofInspect,
            dedupe_key: "proof.inspect:424242",
            payload: r#"{"subject":424242}"#,
            sealed: None,
            run_at: now_ms() + 3_600_000,
            max_attempts: 1,
        },
        now_ms(),
    )
    .await
    .unwrap()
    .unwrap();
    sqlx::query("UPDATE jobs SET state = 'failed', attempts = 1, last_error = 'probe: no such proof' WHERE id = $1")
        .bind(id)
        .execute(&app.services.db().pool)
        .await
        .unwrap();
    let (_, failed) = app.get("/api/v1/jobs?state=failed", &admin).await;
    assert_eq!(failed["jobs"][0]["max_attempts"], 1, "{failed}");
    assert_eq!(failed["jobs"][0]["last_error"], "probe: no such proof");
    let page = app
        .http
        .get(app.url("/staff/jobs"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("proof.inspect:424242") && html.contains("probe: no such proof"),
        "{html}"
    );
    assert!(html.contains(&format!("/staff/jobs/{id}/retry")), "{html}");
    let page = app
        .http
        .get(app.url("/staff/jobs"))
        .bearer_auth(&support)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
}
both_engines!(only_admins_see_and_retry_jobs, super::queue_is_for_admins);

/// What an erasure leaves outside the database is deleted at once, and
/// again by its job ten minutes later: a proof file that is still there
/// then (a server stopped before deleting it, a store that was down) goes.
async fn erasure_cleanup_job(engine: Engine) {
    let mut settings = Settings::default();
    settings.jobs.workers = 0;
    let app = common::spawn_configured(engine, settings, Default::default(), false).await;
    let (number, me) = place(&app, "Left Behind", "01711000802").await;
    let packer = app.staff("packer", Role::Packer).await;
    let file = chotomoni_testkit::fake_mp4(20_000);
    app.upload_proof(&packer, &number, &file, 20_000).await;
    let blob_key: String = sqlx::query_scalar("SELECT blob_key FROM proofs WHERE customer_id = $1")
        .bind(me)
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    let blobs = &app.services.proofs().blobs;
    app.erase(me).await;
    assert!(blobs.get(&blob_key).await.is_err(), "deleted at once");
    blobs.put(&blob_key, b"still here".to_vec()).await.unwrap();
    // Not due yet: the immediate attempt has its ten minutes.
    assert!(app
        .services
        .run_jobs_of(JobKind::ErasureCleanup)
        .await
        .unwrap()
        .is_empty());
    app.run_erasure_cleanup().await;
    assert!(blobs.get(&blob_key).await.is_err(), "deleted by the job");
    // Its payload names files by key and the customer by number, nothing else.
    let payload: String =
        sqlx::query_scalar("SELECT payload FROM jobs WHERE kind = 'erasure.cleanup'")
            .fetch_one(&app.services.db().pool)
            .await
            .unwrap();
    assert!(
        !payload.contains("Left Behind") && !payload.contains("1711000802"),
        "{payload}"
    );
    assert!(payload.contains(&blob_key), "{payload}");
}
both_engines!(erasure_leaves_nothing_behind, super::erasure_cleanup_job);
