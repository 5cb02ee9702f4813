//! Proof retention per kind, on both engines: packing proof goes its
//! period after the order ended, not before, and never while a claim or a
//! legal hold keeps it; claim evidence goes when its claim's appeal period
//! has passed; the log keeps its leaves; staff see storage per kind and month.
use crate::common;

use chotomoni_domain::{JobKind, Role};
use chotomoni_testkit::{both_engines, Engine};
use common::privacy::{customer_token, place, set_status};
use common::TestApp;
use serde_json::{json, Value};
use std::time::Duration;

const DAY_MS: u64 = 86_400_000;

async fn advance_days(app: &TestApp, days: u64) {
    app.services
        .clock()
        .advance(Duration::from_millis(days * DAY_MS));
}

/// Runs the recurring expiry job as a server would: declared at start, due
/// again an hour after its last run, so a test that moved the clock finds
/// it due. Returns how many runs there were.
async fn run_expiry(app: &TestApp) -> usize {
    app.services.declare_schedule().await.unwrap();
    app.services
        .run_jobs_of(JobKind::ExpireProofs)
        .await
        .expect("the expiry job runs")
        .len()
}

async fn blob_of(app: &TestApp, proof: i64) -> Option<String> {
    sqlx::query_scalar(&format!("SELECT blob_key FROM proofs WHERE id = {proof}"))
        .fetch_optional(&app.services.db().pool)
        .await
        .unwrap()
}

async fn exists(app: &TestApp, token: &str, proof: i64) -> bool {
    let (status, body) = app.get(&format!("/api/v1/proofs/{proof}"), token).await;
    assert!(status == 200 || status == 404, "{status}: {body}");
    status == 200
}

async fn log_size(app: &TestApp) -> String {
    let res = reqwest::get(app.url("/api/v1/log/checkpoint"))
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    text.lines().nth(1).unwrap_or_default().to_owned()
}

async fn per_kind_and_month(engine: Engine) {
    let app = common::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let support = app.staff("support", Role::Support).await;
    let packer = app.staff("packer", Role::Packer).await;
    let clip = chotomoni_testkit::fake_mp4(4_000);

    // Four orders, each with its packing proof: one simply delivered, one
    // with a claim, one under a legal hold, one still with the courier.
    let mut orders = Vec::new();
    for (i, name) in ["Plain", "Claimed", "Held", "Travelling"]
        .iter()
        .enumerate()
    {
        let (number, customer) = place(&app, name, &format!("0171100041{i}")).await;
        for to in ["confirmed", "packed"] {
            set_status(&app, &admin, &number, to).await;
        }
        let proof = app.upload_proof(&packer, &number, &clip, clip.len()).await;
        set_status(&app, &admin, &number, "handed_to_courier").await;
        if *name != "Travelling" {
            set_status(&app, &admin, &number, "delivered").await;
        }
        orders.push((number, customer, proof));
    }
    let [(_, _, plain), (claimed_no, claimed_by, claimed), (held_no, _, held), (_, _, travelling)] =
        <[_; 4]>::try_from(orders).unwrap();
    let customer = customer_token(&app, claimed_by).await;
    let (status, claim) = app
        .post(
            &format!("/api/v1/orders/{claimed_no}/claims"),
            Some(&customer),
            &json!({"kind": "damaged", "items": [{"line_no": 1, "quantity": 1}]}),
        )
        .await;
    assert_eq!(status, 201, "{claim}");
    let claim_id = claim["id"].as_i64().unwrap();
    let evidence = app.upload_evidence(&customer, &claimed_no, &clip).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/orders/{held_no}/holds"),
            Some(&admin),
            &json!({"reason": "legal", "note": "court order 17"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    // Storage per kind and month, for staff who may watch proofs only.
    let (status, storage) = app.get("/api/v1/proofs/storage", &support).await;
    assert_eq!(status, 200, "{storage}");
    let row = |kind: &str| -> Value {
        storage
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} row in {storage}"))
    };
    assert_eq!(row("packing")["proofs"], 4);
    assert_eq!(row("claim")["proofs"], 1);
    assert!(row("packing")["bytes"].as_i64().unwrap() >= 4 * clip.len() as i64);
    assert_eq!(
        row("packing")["month"].as_str().unwrap().len(),
        7,
        "YYYY-MM"
    );
    assert_eq!(app.get("/api/v1/proofs/storage", &packer).await.0, 403);
    assert_eq!(app.get("/api/v1/proofs/storage", &customer).await.0, 401);

    // A day short of the period: nothing goes.
    let leaves = log_size(&app).await;
    advance_days(&app, 59).await;
    assert_eq!(run_expiry(&app).await, 1);
    for p in [plain, claimed, held, travelling, evidence] {
        assert!(exists(&app, &support, p).await, "proof {p} went early");
    }

    // Past it: the plain order's proof goes, blob and all, and the log keeps
    // its leaf; a claim, a hold and an order not yet ended keep theirs.
    let plain_blob = blob_of(&app, plain).await.unwrap();
    advance_days(&app, 2).await;
    run_expiry(&app).await;
    assert!(!exists(&app, &support, plain).await);
    assert!(!app.db.dir.path().join("media").join(&plain_blob).exists());
    for p in [claimed, held, travelling, evidence] {
        assert!(exists(&app, &support, p).await, "proof {p} went while kept");
    }
    assert_eq!(log_size(&app).await, leaves, "the log lost a leaf");
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'proof.expire' AND actor = 'system'",
    )
    .fetch_one(&app.services.db().pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // The claim decided: its proof and evidence stay through the appeal
    // period (30 days), then go.
    let (status, body) = app
        .post(
            &format!("/api/v1/claims/{claim_id}/decision"),
            Some(&support),
            &json!({"decision": "rejected", "reason": "The parcel left us whole"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    advance_days(&app, 29).await;
    run_expiry(&app).await;
    assert!(exists(&app, &support, claimed).await);
    assert!(exists(&app, &support, evidence).await);
    advance_days(&app, 2).await;
    run_expiry(&app).await;
    assert!(!exists(&app, &support, claimed).await);
    assert!(!exists(&app, &support, evidence).await);
    assert!(
        exists(&app, &support, held).await,
        "a legal hold has no end"
    );
    assert!(exists(&app, &support, travelling).await);
}
both_engines!(proofs_expire_by_kind_unless_held, super::per_kind_and_month);

/// What `/privacy/data` and the catalog say is what is configured.
async fn stated(engine: Engine) {
    let mut settings = chotomoni_services::Settings::default();
    settings.proof_days.packing = 45;
    let app = common::spawn_with(engine, settings).await;
    let (status, catalog) = app.get("/api/v1/privacy/catalog", "").await;
    assert_eq!(status, 200, "{catalog}");
    let text = catalog.to_string();
    assert!(text.contains("packing proof 45 days"), "{text}");
    let page = reqwest::get(app.url("/privacy/data?lang=en"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("packing proof 45 days"), "{page}");
}
both_engines!(the_catalog_states_the_configured_periods, super::stated);
