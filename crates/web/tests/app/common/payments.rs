//! The two gateways' stand-ins, and the server taking payments through them.
use super::TestApp;
use chotomoni_gateway_bkash::stand_in::StandIn as BkashStandIn;
use chotomoni_gateway_sslcommerz::stand_in::StandIn as SslStandIn;
use chotomoni_services::payments::GatewaySet;
use chotomoni_testkit::Engine;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub struct Gateways {
    pub ssl: SslStandIn,
    pub bkash: BkashStandIn,
}

/// The server (with the SMS stand-in) paying through both stand-ins. The
/// bKash client waits a second for an answer, so a slow `execute` times out.
pub async fn spawn(engine: Engine) -> (TestApp, Gateways) {
    let stands = Gateways {
        ssl: SslStandIn::start().await,
        bkash: BkashStandIn::start().await,
    };
    let bkash = chotomoni_gateway_bkash::BkashConfig {
        timeout: Duration::from_secs(1),
        ..stands.bkash.config()
    };
    let set = GatewaySet::new()
        .with(Arc::new(
            chotomoni_gateway_sslcommerz::Sslcommerz::new(stands.ssl.config()).unwrap(),
        ))
        .with(Arc::new(
            chotomoni_gateway_bkash::Bkash::new(bkash).unwrap(),
        ));
    let app = super::spawn_full(
        engine,
        (Default::default(), Default::default()),
        true,
        Default::default(),
        super::Media::Local,
        super::Transports {
            gateways: Some(set),
            ..super::Transports::default()
        },
    )
    .await;
    (app, stands)
}

/// An online order placed without signing in, by `phone`: 9,400 taka.
pub async fn online_order(app: &TestApp, name: &str, phone: &str) -> String {
    let mut body = super::order_body(name, phone);
    body["payment_method"] = json!("online");
    let (status, order) = app.post("/api/v1/orders", None, &body).await;
    assert_eq!(status, 201, "{order}");
    order["number"].as_str().unwrap().to_owned()
}

/// Starts a payment of `number` through `gateway` as `token`.
pub async fn start(app: &TestApp, token: &str, number: &str, gateway: &str) -> (u16, Value) {
    app.post(
        &format!("/api/v1/orders/{number}/payments"),
        Some(token),
        &json!({ "gateway": gateway }),
    )
    .await
}

/// A started payment's `tran_id`.
pub async fn started(app: &TestApp, token: &str, number: &str, gateway: &str) -> String {
    let (status, body) = start(app, token, number, gateway).await;
    assert_eq!(status, 201, "{body}");
    body["tran_id"].as_str().unwrap().to_owned()
}

/// The order's payment status, as support sees it.
pub async fn payment_status(app: &TestApp, token: &str, number: &str) -> String {
    let (status, order) = app.get(&format!("/api/v1/orders/{number}"), token).await;
    assert_eq!(status, 200, "{order}");
    order["payment_status"].as_str().unwrap().to_owned()
}

/// The payment's row: status and hold reason.
pub async fn payment_row(app: &TestApp, tran_id: &str) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, hold_reason FROM payments WHERE tran_id = $1")
        .bind(tran_id)
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap()
}

/// How many times the audit log says a payment was paid.
pub async fn paid_entries(app: &TestApp, tran_id: &str) -> i64 {
    app.services.audit().flush().await;
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'payment.paid' AND target = $1",
    )
    .bind(format!("payment:{tran_id}"))
    .fetch_one(&app.services.db().pool)
    .await
    .unwrap()
}

/// The customer's browser posting back to the return URL with `pairs`, as
/// SSLCommerz's page does; the page's text.
pub async fn post_return(
    app: &TestApp,
    gateway: &str,
    tran_id: &str,
    result: &str,
    pairs: &[(String, String)],
) -> (u16, String) {
    let res = reqwest::Client::new()
        .post(app.url(&format!(
            "/payments/{gateway}/return/{tran_id}?result={result}&lang=en"
        )))
        .form(pairs)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), super::html::text(res).await)
}

/// The customer's browser following bKash's callback URL; the page's text.
pub async fn follow(url: &str) -> (u16, String) {
    let res = reqwest::get(format!("{url}&lang=en")).await.unwrap();
    (res.status().as_u16(), super::html::text(res).await)
}

/// The paymentID bKash gave `tran_id`'s payment.
pub fn bkash_payment_id(bkash: &BkashStandIn, tran_id: &str) -> String {
    bkash
        .payments()
        .into_iter()
        .find(|p| {
            p.received
                .get("merchantInvoiceNumber")
                .and_then(Value::as_str)
                == Some(tran_id)
        })
        .expect("bKash created the payment")
        .payment_id
}
