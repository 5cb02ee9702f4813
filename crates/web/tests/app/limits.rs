//! Quotas on what one person may start, as a greedy client meets them, on
//! both engines: unfinished uploads (count and bytes), claim uploads per
//! day, access exports per day; 429 in the one envelope, with Retry-After
//! where waiting helps.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_services::proofs::{ProofSettings, UploadQuotas};
use chotomoni_services::{ExportQuotas, Settings};
use chotomoni_testkit::{both_engines, fake_mp4, Engine};
use common::tus::{metadata, Answer};
use serde_json::{json, Value};

fn refused(answer: &Answer, code: &str) {
    assert_eq!(answer.status, 429, "{}", answer.body);
    assert_eq!(answer.json()["error"]["code"], code, "{}", answer.body);
}

/// A shop order; its customer is the one `first_customer_session` signs in.
async fn place_order(app: &common::TestApp) -> Value {
    let body = common::order_body("Shapla Akter", "01711000111");
    let (status, order) = app.post("/api/v1/orders", None, &body).await;
    assert_eq!(status, 201, "{order}");
    order
}

fn claim(order: &str) -> String {
    metadata(&[
        ("order", order),
        ("kind", "claim"),
        ("filename", "damage.mp4"),
    ])
}

async fn upload_quotas(engine: Engine) {
    let proofs = ProofSettings {
        quotas: UploadQuotas {
            unfinished_uploads: 2,
            unfinished_bytes: 1_000_000,
            claims_per_day: 2,
        },
        ..Default::default()
    };
    let app =
        common::spawn_with_limits(engine, Settings::default(), proofs, Default::default()).await;
    let order = place_order(&app).await;
    let number = order["number"].as_str().unwrap();
    let packing = metadata(&[("order", number), ("kind", "packing")]);

    // A packer holding uploads open: the third is refused, and so is one
    // that would take the declared bytes past the limit.
    let packer = app.staff("packer", Role::Packer).await;
    let first = app.tus_create(&packer, 400_000, &packing).await;
    assert_eq!(first.status, 201);
    assert_eq!(app.tus_create(&packer, 400_000, &packing).await.status, 201);
    let third = app.tus_create(&packer, 1_000, &packing).await;
    refused(&third, "too_many_unfinished_uploads");
    assert!(
        third.header("retry-after").is_none(),
        "waiting does not help; finishing does"
    );
    assert_eq!(third.header("tus-resumable").as_deref(), Some("1.0.0"));
    let path = first.header("location").unwrap();
    assert_eq!(app.tus_delete(&packer, &path).await.status, 204);
    refused(
        &app.tus_create(&packer, 700_000, &packing).await,
        "unfinished_upload_bytes",
    );
    assert_eq!(app.tus_create(&packer, 600_000, &packing).await.status, 201);
    // Another uploader's quota is their own.
    let other = app.staff("other", Role::Packer).await;
    assert_eq!(app.tus_create(&other, 400_000, &packing).await.status, 201);

    // A customer's claims: a finished one and an open one use up the day.
    let (_, customer, _) = app.first_customer_session().await;
    let file = fake_mp4(3_000);
    app.upload_whole(&customer, &claim(number), &file).await;
    let open = app.tus_create(&customer, 1_000, &claim(number)).await;
    assert_eq!(open.status, 201);
    let third = app.tus_create(&customer, 1_000, &claim(number)).await;
    refused(&third, "claim_uploads_per_day");
    let wait: u64 = third
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(
        (86_000..=86_400).contains(&wait),
        "until the first claim is a day old: {wait}"
    );
    // A cancelled claim is gone with its bytes, and no longer counts.
    let open = open.header("location").unwrap();
    assert_eq!(app.tus_delete(&customer, &open).await.status, 204);
    assert_eq!(
        app.tus_create(&customer, 1_000, &claim(number))
            .await
            .status,
        201
    );
}
both_engines!(upload_quotas_refuse_a_greedy_uploader, super::upload_quotas);

async fn wait_ready(app: &common::TestApp, id: i64, token: &str) {
    for _ in 0..200 {
        let (_, export) = app
            .get(&format!("/api/v1/privacy/exports/{id}"), token)
            .await;
        if export["status"] != "building" {
            assert_eq!(export["status"], "ready", "{export}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("export {id} was not built in time");
}

async fn export_quotas(engine: Engine) {
    let settings = Settings {
        export_quotas: ExportQuotas {
            per_day: 2,
            running: 1,
        },
        ..Default::default()
    };
    let app =
        common::spawn_with_limits(engine, settings, Default::default(), Default::default()).await;
    place_order(&app).await;
    let (me, customer, _) = app.first_customer_session().await;
    let start = || async {
        let res = app
            .http
            .post(app.url("/api/v1/privacy/exports"))
            .bearer_auth(&customer)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let retry = res
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, retry, res.json::<Value>().await.unwrap())
    };
    // Pressing the button again while it builds gives the same export.
    let (status, _, first) = start().await;
    assert_eq!(status, 202, "{first}");
    let (status, _, again) = start().await;
    if status == 202 {
        assert_eq!(again["id"], first["id"], "no second build while one runs");
        wait_ready(&app, first["id"].as_i64().unwrap(), &customer).await;
    } else {
        // It was ready already: the second is a new one, within the day's two.
        assert_eq!(status, 202, "{again}");
    }
    let (status, _, second) = start().await;
    if second["id"] != first["id"] {
        assert_eq!(status, 202, "{second}");
        wait_ready(&app, second["id"].as_i64().unwrap(), &customer).await;
    }
    let (status, retry, body) = start().await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "exports_per_day");
    let wait: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((86_000..=86_400).contains(&wait), "{wait}");
    // Support acting for the customer (a privacy request's deadline) is
    // not held back by the customer's own quota.
    let support = app.staff("support", Role::Support).await;
    let (status, body) = app
        .post(
            "/api/v1/privacy/exports",
            Some(&support),
            &json!({"customer_id": me}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
}
both_engines!(export_quotas_refuse_a_greedy_customer, super::export_quotas);
