//! The logs of a full order flow, captured through the production logging
//! layer at debug level, hold none of the customer's personal data.
#[path = "app/common/mod.rs"]
mod common;

use chotomoni_domain::Role;
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

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
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
    ] {
        assert!(!logs.contains(secret), "{secret} reached the logs:\n{logs}");
    }
}
