//! The logs of a full order flow, captured through the production logging
//! layer at debug level, hold none of the customer's personal data.
#[path = "app/common/mod.rs"]
mod common;

use chotomoni_domain::Role;
use chotomoni_gateway_sslcommerz::stand_in::{Card, StandIn as Ssl};
use chotomoni_testkit::Engine;
use chotomoni_web::logging::Masking;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_an_order_flow_hold_no_personal_data() {
    let captured = Captured::default();
    tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_ansi(false)
        .with_writer(Masking(captured.clone()))
        .init();

    let app = common::spawn(Engine::Sqlite).await;
    let support = app.staff("sumi", Role::Support).await;
    let mut body = common::order_body("Zubaida Quddus", "01755667788");
    body["customer"]["email"] = json!("zubaida.q@example.org");
    body["address"]["line"] = json!("Flat 9B, Gulmohor Villa");
    body["delivery_instructions"] = json!("Leave with Jorina at the gate");
    let (s, order) = app.post("/api/v1/orders", None, &body).await;
    assert_eq!(s, 201);
    let number = order["number"].as_str().unwrap().to_owned();
    app.get(&format!("/api/v1/orders/{number}"), &support).await;
    app.get("/api/v1/orders?phone=01755667788", &support).await;
    app.get("/api/v1/orders?phone=%2B8801755667788", &support)
        .await;
    app.post(
        &format!("/api/v1/orders/{number}/status"),
        Some(&support),
        &json!({"status": "confirmed"}),
    )
    .await;
    let (s, _) = app
        .post(
            "/api/v1/orders",
            None,
            &json!({"customer": {"name": "Zubaida Quddus", "phone": "01755667788x"}}),
        )
        .await;
    assert_eq!(s, 422);
    app.services.audit().flush().await;

    // Online payments through both gateways' stand-ins, with card, bank and
    // wallet details in the fields they send: none of it reaches the logs.
    let (shop, g) = common::payments::spawn(Engine::Sqlite).await;
    let clerk = shop.staff("sumi", Role::Support).await;
    let paid = common::payments::online_order(&shop, "Zubaida Quddus", "01755667788").await;
    let tran_id = common::payments::started(&shop, &clerk, &paid, "sslcommerz").await;
    let mut notice = g.ssl.pay(&tran_id, Card::visa());
    for (k, v) in notice.iter_mut() {
        match k.as_str() {
            "card_no" => *v = "4111111111111111".into(),
            "value_a" => *v = "01898765432".into(),
            "value_b" => *v = "5555555555554444".into(),
            _ => {}
        }
    }
    notice.push(("bank_name".into(), "TRUST BANK".into()));
    Ssl::sign(&mut notice, &g.ssl.store_password);
    assert_eq!(g.ssl.post_notice(&tran_id, &notice).await, 200);
    let mut forged = notice.clone();
    for (k, v) in forged.iter_mut() {
        if k == "amount" {
            *v = "1.00".into();
        }
    }
    assert_eq!(g.ssl.post_notice(&tran_id, &forged).await, 401);
    let second = common::payments::online_order(&shop, "Zubaida Quddus", "01755667788").await;
    let tran_id = common::payments::started(&shop, &clerk, &second, "bkash").await;
    let id = common::payments::bkash_payment_id(&g.bkash, &tran_id);
    common::payments::follow(&g.bkash.customer(&id, Some("01898765432"), "success")).await;
    assert_eq!(
        common::payments::payment_status(&shop, &clerk, &second).await,
        "paid"
    );

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("payment finished"), "payments were logged");
    assert!(
        logs.contains("order placed") && logs.contains(&number),
        "the flow was logged:\n{logs}"
    );
    assert!(logs.contains("/api/v1/orders"), "requests were logged");
    for secret in [
        "Zubaida",
        "Quddus",
        "1755667788",
        "zubaida.q",
        "example.org",
        "Gulmohor",
        "Jorina",
        "4111111111111111",
        "411111XXXXXX1111",
        "5555555555554444",
        "TRUST BANK",
        "1898765432",
    ] {
        assert!(!logs.contains(secret), "{secret} reached the logs:\n{logs}");
    }
}
