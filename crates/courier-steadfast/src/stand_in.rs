//! A local stand-in for Steadfast's merchant API, for tests. It follows the
//! published document: `Api-Key` and `Secret-Key` on every call, JSON,
//! `create_order` with its field rules (invoice alphanumeric with `-` and
//! `_` and unique, name ≤ 100, phone exactly 11 digits, address ≤ 250,
//! `cod_amount` a number ≥ 0), the bulk endpoint with `{"data": "<JSON
//! array>"}` and at most 500 items, status by consignment id, invoice and
//! tracking code, and return requests.
//!
//! Where the document is silent the stand-in answers as real clients'
//! code expects: bad keys get 401 `{"message":"Unauthenticated."}`, a
//! refused field gets 400 `{"status":400,"message":"The given data was
//! invalid.","errors":{field:[text]}}` (a taken invoice: "The invoice has
//! already been taken."), an unknown consignment 404 `{"status":404,
//! "message":"Consignment not found."}`, and `status_by_invoice` also names
//! the consignment (switch it off with
//! [`StandIn::set_invoice_lookup_names_consignment`]).
use crate::SteadfastConfig;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::Rng;
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// One call the stand-in read: its path and JSON body as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub path: String,
    pub body: Value,
}

/// A consignment the stand-in holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Consignment {
    pub consignment_id: u64,
    pub invoice: String,
    pub tracking_code: String,
    pub status: String,
    /// The fields it was created with.
    pub fields: Value,
}

#[derive(Default)]
struct Inner {
    consignments: Vec<Consignment>,
    received: Vec<Received>,
    return_requests: Vec<Value>,
    delay: Duration,
    /// Server errors still to answer, and their status.
    failures: (u32, u16),
    hide_ids_by_invoice: bool,
    refusals_in_200: bool,
}

#[derive(Clone)]
struct Shared {
    api_key: String,
    secret_key: String,
    inner: Arc<Mutex<Inner>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().expect("not poisoned")
    }
}

/// A running stand-in on a random local port; it stops with the runtime.
pub struct StandIn {
    /// Ends in `/api/v1`, as the real base URL does.
    pub base_url: String,
    pub api_key: String,
    pub secret_key: String,
    /// The bearer token the stand-in's webhooks carry.
    pub webhook_token: String,
    shared: Shared,
}

fn random_text(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect()
}

fn key() -> String {
    random_text(32, b"abcdefghijklmnopqrstuvwxyz0123456789")
}

impl StandIn {
    pub async fn start() -> StandIn {
        let shared = Shared {
            api_key: key(),
            secret_key: key(),
            inner: Arc::new(Mutex::new(Inner::default())),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Steadfast stand-in");
        let base_url = format!(
            "http://{}/api/v1",
            listener.local_addr().expect("local address")
        );
        let api = Router::new()
            .route("/create_order", post(create_order))
            .route("/create_order/bulk-order", post(bulk_order))
            .route("/status_by_cid/{id}", get(status_by_cid))
            .route("/status_by_invoice/{invoice}", get(status_by_invoice))
            .route(
                "/status_by_trackingcode/{code}",
                get(status_by_tracking_code),
            )
            .route("/create_return_request", post(create_return_request))
            .route(
                "/get_balance",
                get(|| async { Json(json!({"status": 200, "current_balance": 0})) }),
            )
            .layer(middleware::from_fn_with_state(shared.clone(), gate))
            .with_state(shared.clone());
        let app = Router::new().nest("/api/v1", api);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandIn {
            base_url,
            api_key: shared.api_key.clone(),
            secret_key: shared.secret_key.clone(),
            webhook_token: key(),
            shared,
        }
    }

    /// Client settings that reach this stand-in.
    pub fn config(&self) -> SteadfastConfig {
        SteadfastConfig {
            base_url: self.base_url.clone(),
            status_retries: 1,
            ..SteadfastConfig::new(&self.api_key, &self.secret_key, &self.webhook_token)
        }
    }

    /// Every body POSTed with valid keys, in order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().received.clone()
    }

    pub fn consignments(&self) -> Vec<Consignment> {
        self.shared.lock().consignments.clone()
    }

    /// The bodies of the return requests accepted.
    pub fn return_requests(&self) -> Vec<Value> {
        self.shared.lock().return_requests.clone()
    }

    /// Answers every call only after `delay` (for timeout tests).
    pub fn set_delay(&self, delay: Duration) {
        self.shared.lock().delay = delay;
    }

    /// Answers the next `count` calls with `status` (a 5xx) and Laravel's
    /// `{"message":"Server Error"}`, as an overloaded Steadfast does.
    pub fn fail_next(&self, count: u32, status: u16) {
        self.shared.lock().failures = (count, status);
    }

    /// Moves a consignment on, as Steadfast's riders and staff do.
    pub fn set_status(&self, consignment_id: &str, status: &str) {
        let mut inner = self.shared.lock();
        if let Some(c) = inner
            .consignments
            .iter_mut()
            .find(|c| c.consignment_id.to_string() == consignment_id)
        {
            c.status = status.to_owned();
        }
    }

    /// Whether `status_by_invoice` names the consignment (the default) or
    /// answers only its `delivery_status`, as the published example does.
    pub fn set_invoice_lookup_names_consignment(&self, names: bool) {
        self.shared.lock().hide_ids_by_invoice = !names;
    }

    /// Whether field errors come with HTTP 200 (and `"status": 400` in the
    /// body), as some clients' code says Steadfast answers them.
    pub fn set_refusals_in_200(&self, in_200: bool) {
        self.shared.lock().refusals_in_200 = in_200;
    }

    /// A `delivery_status` notification as Steadfast sends it.
    pub fn delivery_status_event(
        consignment: &Consignment,
        status: &str,
        cod_amount: f64,
        delivery_charge: f64,
    ) -> Value {
        json!({
            "notification_type": "delivery_status",
            "consignment_id": consignment.consignment_id,
            "invoice": consignment.invoice,
            "cod_amount": cod_amount,
            "status": status,
            "delivery_charge": delivery_charge,
            "tracking_message": "Your package has been delivered successfully.",
            "updated_at": "2026-12-06 12:45:30",
        })
    }

    /// POSTs a notification to `url` as Steadfast does, with `token` as
    /// bearer (`None`: no `Authorization` header).
    pub async fn post_webhook(url: &str, token: Option<&str>, event: &Value) -> reqwest::Response {
        let mut request = reqwest::Client::new().post(url).json(event);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the webhook answers")
    }
}

/// The delay switch and the key check, before every route.
async fn gate(
    State(s): State<Shared>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let delay = s.lock().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("Api-Key") != Some(s.api_key.as_str())
        || header("Secret-Key") != Some(s.secret_key.as_str())
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Unauthenticated."})),
        )
            .into_response();
    }
    let failure = {
        let mut inner = s.lock();
        let (left, status) = inner.failures;
        (left > 0).then(|| {
            inner.failures.0 = left - 1;
            status
        })
    };
    if let Some(status) = failure {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, Json(json!({"message": "Server Error"}))).into_response();
    }
    let mut response = next.run(request).await;
    if response.status() == StatusCode::BAD_REQUEST && s.lock().refusals_in_200 {
        *response.status_mut() = StatusCode::OK;
    }
    response
}

fn invalid(errors: Map<String, Value>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"status": 400, "message": "The given data was invalid.", "errors": errors})),
    )
        .into_response()
}

fn invalid_field(field: &str, text: &str) -> Response {
    let mut errors = Map::new();
    errors.insert(field.to_owned(), json!([text]));
    invalid(errors)
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"status": 404, "message": "Consignment not found."})),
    )
        .into_response()
}

/// The published rules of one order; field errors as Steadfast words them.
fn validate(fields: &Value, taken: &[Consignment]) -> Map<String, Value> {
    let mut errors = Map::new();
    let mut fail = |field: &str, text: &str| {
        errors.insert(field.to_owned(), json!([text]));
    };
    let text = |field: &str| fields.get(field).and_then(Value::as_str).unwrap_or("");
    let invoice = text("invoice");
    if invoice.is_empty() {
        fail("invoice", "The invoice field is required.");
    } else if !invoice
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        fail("invoice", "The invoice format is invalid.");
    } else if taken.iter().any(|c| c.invoice == invoice) {
        fail("invoice", "The invoice has already been taken.");
    }
    let name = text("recipient_name");
    if name.is_empty() {
        fail("recipient_name", "The recipient name field is required.");
    } else if name.chars().count() > 100 {
        fail(
            "recipient_name",
            "The recipient name may not be greater than 100 characters.",
        );
    }
    let phone = text("recipient_phone");
    if phone.len() != 11 || !phone.bytes().all(|b| b.is_ascii_digit()) {
        fail("recipient_phone", "The recipient phone must be 11 digits.");
    }
    let address = text("recipient_address");
    if address.is_empty() {
        fail(
            "recipient_address",
            "The recipient address field is required.",
        );
    } else if address.chars().count() > 250 {
        fail(
            "recipient_address",
            "The recipient address may not be greater than 250 characters.",
        );
    }
    match fields.get("cod_amount").and_then(Value::as_f64) {
        None => fail(
            "cod_amount",
            "The cod amount field is required and must be a number.",
        ),
        Some(amount) if amount < 0.0 => fail("cod_amount", "The cod amount must be at least 0."),
        Some(_) => {}
    }
    errors
}

/// Stores a valid order; the caller has validated it under the same lock.
fn store(inner: &mut Inner, fields: &Value) -> Consignment {
    let consignment = Consignment {
        consignment_id: 1_424_107 + inner.consignments.len() as u64,
        invoice: fields["invoice"].as_str().unwrap_or_default().to_owned(),
        tracking_code: random_text(8, b"0123456789ABCDEF"),
        status: "in_review".into(),
        fields: fields.clone(),
    };
    inner.consignments.push(consignment.clone());
    consignment
}

/// The consignment as Steadfast answers it after booking.
fn consignment_json(c: &Consignment) -> Value {
    let mut body = c.fields.clone();
    body["consignment_id"] = json!(c.consignment_id);
    body["tracking_code"] = json!(c.tracking_code);
    body["status"] = json!(c.status);
    body["created_at"] = json!("2026-12-06T10:00:00.000000Z");
    body["updated_at"] = json!("2026-12-06T10:00:00.000000Z");
    body
}

fn record(s: &Shared, path: &str, body: &Value) {
    s.lock().received.push(Received {
        path: path.to_owned(),
        body: body.clone(),
    });
}

async fn create_order(State(s): State<Shared>, Json(fields): Json<Value>) -> Response {
    record(&s, "/create_order", &fields);
    let mut inner = s.lock();
    let errors = validate(&fields, &inner.consignments);
    if !errors.is_empty() {
        return invalid(errors);
    }
    let c = store(&mut inner, &fields);
    Json(json!({
        "status": 200,
        "message": "Consignment has been created successfully.",
        "consignment": consignment_json(&c),
    }))
    .into_response()
}

async fn bulk_order(State(s): State<Shared>, Json(body): Json<Value>) -> Response {
    record(&s, "/create_order/bulk-order", &body);
    let items: Option<Vec<Value>> = body
        .get("data")
        .and_then(Value::as_str)
        .and_then(|data| serde_json::from_str(data).ok());
    let Some(items) = items else {
        return invalid_field("data", "The data must be a JSON-encoded array.");
    };
    if items.len() > crate::BULK_LIMIT {
        return invalid_field("data", "The data may not have more than 500 items.");
    }
    let mut inner = s.lock();
    let answers: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut answer = item.clone();
            if validate(item, &inner.consignments).is_empty() {
                let c = store(&mut inner, item);
                answer["consignment_id"] = json!(c.consignment_id);
                answer["tracking_code"] = json!(c.tracking_code);
                answer["status"] = json!("success");
            } else {
                answer["consignment_id"] = Value::Null;
                answer["tracking_code"] = Value::Null;
                answer["status"] = json!("error");
            }
            answer
        })
        .collect();
    Json(Value::Array(answers)).into_response()
}

fn status_where(s: &Shared, find: impl Fn(&Consignment) -> bool, names_it: bool) -> Response {
    let inner = s.lock();
    let Some(c) = inner.consignments.iter().find(|c| find(c)) else {
        return not_found();
    };
    let mut body = json!({"status": 200, "delivery_status": c.status});
    if names_it && !inner.hide_ids_by_invoice {
        body["consignment_id"] = json!(c.consignment_id);
        body["invoice"] = json!(c.invoice);
        body["tracking_code"] = json!(c.tracking_code);
    }
    Json(body).into_response()
}

async fn status_by_cid(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    status_where(&s, |c| c.consignment_id.to_string() == id, false)
}

async fn status_by_invoice(State(s): State<Shared>, Path(invoice): Path<String>) -> Response {
    status_where(&s, |c| c.invoice == invoice, true)
}

async fn status_by_tracking_code(State(s): State<Shared>, Path(code): Path<String>) -> Response {
    status_where(&s, |c| c.tracking_code == code, false)
}

async fn create_return_request(State(s): State<Shared>, Json(body): Json<Value>) -> Response {
    record(&s, "/create_return_request", &body);
    let as_text = |field: &str| match body.get(field) {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(t)) => Some(t.clone()),
        _ => None,
    };
    let (cid, invoice, code) = (
        as_text("consignment_id"),
        as_text("invoice"),
        as_text("tracking_code"),
    );
    if cid.is_none() && invoice.is_none() && code.is_none() {
        return invalid_field(
            "consignment_id",
            "One of consignment_id, invoice or tracking_code is required.",
        );
    }
    let mut inner = s.lock();
    let Some(c) = inner.consignments.iter().find(|c| {
        cid.as_deref() == Some(c.consignment_id.to_string().as_str())
            || invoice.as_deref() == Some(c.invoice.as_str())
            || code.as_deref() == Some(c.tracking_code.as_str())
    }) else {
        return not_found();
    };
    let request = json!({
        "id": inner.return_requests.len() + 1,
        "consignment_id": c.consignment_id,
        "reason": body.get("reason").cloned().unwrap_or(Value::Null),
        "status": "pending",
        "created_at": "2026-12-06T10:00:00.000000Z",
        "updated_at": "2026-12-06T10:00:00.000000Z",
    });
    inner.return_requests.push(request.clone());
    Json(request).into_response()
}
