//! The customer the export tests share: orders, a session with technical
//! data, consents, a policy acceptance, disclosures and a proof; and reading
//! the downloaded ZIP.
use crate::common::{self, TestApp};
use chotomoni_domain::catalog::{Purpose, Recipient};
use chotomoni_domain::{ConsentPurpose, CustomerId, Role};
use chotomoni_services::auth::ClientInfo;
use chotomoni_services::consents::ConsentChannel;
use chotomoni_services::policies::Acceptance;
use chotomoni_services::Actor;
use chotomoni_testkit::fake_mp4;
use serde_json::{json, Value};
use std::io::Read;

pub const NAME: &str = "Tahmina Zerin Akhtaruzzaman";
pub const PHONE: &str = "01719876543";
pub const EMAIL: &str = "tahmina.export@example.com";
pub const LINE_1: &str = "Flat 9B, Lake View Road 3";
pub const LINE_2: &str = "House 21, Sonargaon Janapath";
pub const INSTRUCTIONS: &str = "গেটে দুইবার বেল দিন, call first";
pub const IP: &str = "203.0.113.77";
pub const AGENT: &str = "ExportTestBrowser/1.0 (Linux; Android 14) Mobile";

pub fn order(line: &str, area: &str, marketing: bool) -> Value {
    json!({
        "customer": {"name": NAME, "phone": PHONE, "email": EMAIL},
        "address": {"line": line, "area": area, "district": "Dhaka"},
        "items": [{"name": "Nakshi kantha throw", "sku": "NAK-KAN-04", "quantity": 2, "unit_price": 320000}],
        "delivery_instructions": INSTRUCTIONS,
        "payment_method": "cod",
        "marketing_opt_in": marketing,
    })
}

pub struct Scene {
    pub me: i64,
    /// The customer's bearer token (their session has the IP and browser).
    pub token: String,
    pub other: String,
    pub support: String,
    pub packer: String,
    pub proof: i64,
    pub file: Vec<u8>,
}

pub async fn scene(app: &TestApp) -> Scene {
    let (status, first) = app
        .post("/api/v1/orders", None, &order(LINE_1, "Dhanmondi", true))
        .await;
    assert_eq!(status, 201, "{first}");
    let (status, _) = app
        .post("/api/v1/orders", None, &order(LINE_2, "Uttara", false))
        .await;
    assert_eq!(status, 201);
    let (status, _) = app
        .post(
            "/api/v1/orders",
            None,
            &common::order_body("Other Person", "01711000002"),
        )
        .await;
    assert_eq!(status, 201);
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT DISTINCT customer_id FROM orders ORDER BY customer_id")
            .fetch_all(&app.services.db().pool)
            .await
            .unwrap();
    let (me, them) = (ids[0], ids[1]);
    let client = ClientInfo {
        ip: Some(IP.into()),
        user_agent: Some(AGENT.into()),
    };
    let (token, _) = app.customer_session(me, &client).await;
    let (other, _) = app.customer_session(them, &ClientInfo::default()).await;
    let actor = Actor::Customer(CustomerId(me));
    app.services
        .set_consent(
            &actor,
            ConsentPurpose::MarketingEmail,
            true,
            ConsentChannel::AccountPage,
        )
        .await
        .unwrap();
    app.services
        .set_consent(
            &actor,
            ConsentPurpose::MarketingSms,
            false,
            ConsentChannel::AccountPage,
        )
        .await
        .unwrap();
    app.services
        .accept_policy(&actor, 1, Acceptance::Notice)
        .await
        .unwrap();
    let number = first["number"].as_str().unwrap().to_owned();
    let order_id: i64 = sqlx::query_scalar("SELECT MIN(id) FROM orders")
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    {
        let mut tx = app.services.db().begin().await.unwrap();
        chotomoni_services::disclosures::disclose(
            &mut tx,
            me,
            Some(order_id),
            Recipient::Courier,
            &[
                "customers.name_enc",
                "customers.phone_enc",
                "orders.address_enc",
            ],
            Purpose::Fulfilment,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let packer = app.staff("packer", Role::Packer).await;
    let support = app.staff("support", Role::Support).await;
    let file = fake_mp4(150_000);
    let proof = app.upload_proof(&packer, &number, &file, 64_000).await;
    // A share link for a courier claim is a disclosure too.
    let (status, _) = app
        .post(
            &format!("/api/v1/proofs/{proof}/share-links"),
            Some(&support),
            &json!({"purpose": "courier_claim"}),
        )
        .await;
    assert_eq!(status, 201);
    Scene {
        me,
        token,
        other,
        support,
        packer,
        proof,
        file,
    }
}

/// Polls the status until the export is no longer building; returns the
/// first answer that is not.
pub async fn wait_ready(app: &TestApp, id: i64, token: &str) -> Value {
    let mut seen_progress = vec![];
    for _ in 0..300 {
        let (status, body) = app
            .get(&format!("/api/v1/privacy/exports/{id}"), token)
            .await;
        assert_eq!(status, 200, "{body}");
        seen_progress.push(body["progress"].as_i64().unwrap());
        if body["status"] != "building" {
            assert!(
                seen_progress.windows(2).all(|w| w[0] <= w[1]),
                "progress only grows: {seen_progress:?}"
            );
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the export was not ready in 15 s: {seen_progress:?}");
}

pub fn zip_text(archive: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str) -> String {
    let mut out = String::new();
    archive
        .by_name(name)
        .unwrap_or_else(|e| panic!("{name} in the ZIP: {e}"))
        .read_to_string(&mut out)
        .unwrap();
    out
}

pub fn zip_bytes(archive: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str) -> Vec<u8> {
    let mut out = vec![];
    archive
        .by_name(name)
        .unwrap_or_else(|e| panic!("{name} in the ZIP: {e}"))
        .read_to_end(&mut out)
        .unwrap();
    out
}
