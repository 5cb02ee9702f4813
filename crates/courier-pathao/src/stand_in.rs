//! A local stand-in for Pathao's merchant API, for tests. It follows what
//! Pathao publishes: `issue-token` with the password and refresh grants
//! (an unwrapped OAuth answer; 401 for wrong credentials or an unknown
//! refresh token), `Authorization: Bearer` on every other call (401
//! `Unauthenticated.` for a missing, unknown or expired token), answers
//! wrapped `{message, type, code, data}`, 422 with per-field `errors` for
//! invalid orders, and the location lists.
//!
//! Assumed, not published: a repeated `merchant_order_id` is refused with
//! a 422 validation error (the real API may accept it; see the crate docs).
//! Tokens live [`StandIn::set_token_lifetime`] (default 5 days, as Pathao's
//! `expires_in`: 432000); refresh tokens live ten times as long.
use crate::webhook::{HANDSHAKE_EVENT, SIGNATURE_HEADER};
use crate::PathaoConfig;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::Rng;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const CLIENT_ID: &str = "7N1aMJQbWm";
pub const USERNAME: &str = "test@pathao.com";
pub const STORE_ID: u64 = 148_213;

/// An order the stand-in accepted, with exactly the fields it received.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOrder {
    pub consignment_id: String,
    /// Every field of the request body, as sent.
    pub received: serde_json::Map<String, Value>,
    pub status_slug: String,
}

#[derive(Default)]
struct Books {
    /// access token → when it expires.
    access: HashMap<String, Instant>,
    /// refresh token → when it expires.
    refresh: HashMap<String, Instant>,
    orders: Vec<StoredOrder>,
    bulk_batches: Vec<Vec<Value>>,
}

#[derive(Clone)]
struct Shared {
    client_secret: String,
    password: String,
    books: Arc<Mutex<Books>>,
    lifetime_ms: Arc<AtomicU64>,
    delay_ms: Arc<AtomicU64>,
    issued: Arc<AtomicUsize>,
    refreshed: Arc<AtomicUsize>,
    /// How many of the next API calls (not token calls) fail.
    failures: Arc<AtomicUsize>,
    /// How many of the next token calls fail.
    token_failures: Arc<AtomicUsize>,
    failure_status: Arc<std::sync::atomic::AtomicU16>,
    /// API calls answered, failed ones included.
    calls: Arc<AtomicUsize>,
}

/// A running stand-in on a random local port; it stops with the runtime.
pub struct StandIn {
    pub base_url: String,
    pub client_secret: String,
    pub password: String,
    pub webhook_secret: String,
    shared: Shared,
}

fn random_token(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.gen_range(0..36)]))
        .collect()
}

impl StandIn {
    pub async fn start() -> StandIn {
        let shared = Shared {
            client_secret: random_token(40),
            password: random_token(16),
            books: Arc::new(Mutex::new(Books::default())),
            lifetime_ms: Arc::new(AtomicU64::new(432_000_000)),
            delay_ms: Arc::new(AtomicU64::new(0)),
            issued: Arc::new(AtomicUsize::new(0)),
            refreshed: Arc::new(AtomicUsize::new(0)),
            failures: Arc::new(AtomicUsize::new(0)),
            token_failures: Arc::new(AtomicUsize::new(0)),
            failure_status: Arc::new(std::sync::atomic::AtomicU16::new(500)),
            calls: Arc::new(AtomicUsize::new(0)),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Pathao stand-in");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));
        let app = Router::new()
            .route("/aladdin/api/v1/issue-token", post(issue_token))
            .route("/aladdin/api/v1/orders", post(create_order))
            .route("/aladdin/api/v1/orders/bulk", post(create_bulk))
            .route("/aladdin/api/v1/orders/{id}/info", get(order_info))
            .route("/aladdin/api/v1/city-list", get(cities))
            .route("/aladdin/api/v1/cities/{id}/zone-list", get(zones))
            .route("/aladdin/api/v1/zones/{id}/area-list", get(areas))
            .with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandIn {
            base_url,
            client_secret: shared.client_secret.clone(),
            password: shared.password.clone(),
            webhook_secret: random_token(32),
            shared,
        }
    }

    /// Client settings that reach this stand-in.
    pub fn config(&self) -> PathaoConfig {
        PathaoConfig {
            base_url: self.base_url.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: self.client_secret.clone(),
            username: USERNAME.into(),
            password: self.password.clone(),
            store_id: STORE_ID,
            webhook_secret: self.webhook_secret.clone(),
            timeout: Duration::from_secs(5),
        }
    }

    /// The `expires_in` of tokens issued from now on.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        let ms = u64::try_from(lifetime.as_millis()).unwrap_or(u64::MAX);
        self.shared.lifetime_ms.store(ms, Ordering::SeqCst);
    }

    /// Every answer waits this long first (for timeout tests).
    pub fn set_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Forgets every access token, as when the merchant rotates the
    /// credentials; with `and_refresh`, the refresh tokens too.
    pub fn revoke_tokens(&self, and_refresh: bool) {
        let mut books = self.shared.books.lock().expect("not poisoned");
        books.access.clear();
        if and_refresh {
            books.refresh.clear();
        }
    }

    /// The next `count` API calls answer `status` (500, 503, 429…).
    pub fn fail_next(&self, count: usize, status: u16) {
        self.shared.failure_status.store(status, Ordering::SeqCst);
        self.shared.failures.store(count, Ordering::SeqCst);
    }

    /// The next `count` token calls answer `status`.
    pub fn fail_next_token_calls(&self, count: usize, status: u16) {
        self.shared.failure_status.store(status, Ordering::SeqCst);
        self.shared.token_failures.store(count, Ordering::SeqCst);
    }

    /// API calls received (token calls not counted).
    pub fn calls(&self) -> usize {
        self.shared.calls.load(Ordering::SeqCst)
    }

    /// Tokens issued with the password grant.
    pub fn tokens_issued(&self) -> usize {
        self.shared.issued.load(Ordering::SeqCst)
    }

    /// Tokens issued with the refresh grant.
    pub fn tokens_refreshed(&self) -> usize {
        self.shared.refreshed.load(Ordering::SeqCst)
    }

    pub fn orders(&self) -> Vec<StoredOrder> {
        self.shared
            .books
            .lock()
            .expect("not poisoned")
            .orders
            .clone()
    }

    /// The `orders` of each bulk request, as received.
    pub fn bulk_batches(&self) -> Vec<Vec<Value>> {
        self.shared
            .books
            .lock()
            .expect("not poisoned")
            .bulk_batches
            .clone()
    }

    /// Moves a stored order to another `order_status_slug` (`Delivered`…).
    pub fn set_status(&self, consignment_id: &str, slug: &str) {
        let mut books = self.shared.books.lock().expect("not poisoned");
        if let Some(order) = books
            .orders
            .iter_mut()
            .find(|o| o.consignment_id == consignment_id)
        {
            order.status_slug = slug.to_owned();
        }
    }

    /// A webhook body as Pathao sends it for `event` on a consignment.
    pub fn event_body(&self, event: &str, consignment_id: &str, invoice: &str) -> Value {
        let mut body = json!({
            "consignment_id": consignment_id,
            "merchant_order_id": invoice,
            "updated_at": "2026-12-06 10:15:00",
            "timestamp": "2026-12-06T04:15:00+00:00",
            "store_id": STORE_ID,
            "event": event,
        });
        // Pathao has written amounts both as numbers and as decimal strings.
        match event {
            "order.delivered" => {
                body["collected_amount"] = json!(1060.5);
                body["delivery_fee"] = json!(80);
            }
            "order.partial-delivery" => {
                body["collected_amount"] = json!("530.00");
                body["delivery_fee"] = json!("80");
            }
            _ => {}
        }
        body
    }

    /// Posts `body` as Pathao does, signed with this stand-in's webhook secret.
    pub async fn send_webhook(&self, url: &str, body: &Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(url)
            .header(SIGNATURE_HEADER, &self.webhook_secret)
            .json(body)
            .send()
            .await
            .expect("the webhook answers")
    }

    /// The integration handshake Pathao sends when a webhook URL is saved.
    pub async fn send_handshake(&self, url: &str) -> reqwest::Response {
        self.send_webhook(url, &json!({ "event": HANDSHAKE_EVENT }))
            .await
    }
}

fn wrapped(status: StatusCode, message: &str, data: Value) -> Response {
    let kind = if status.is_success() {
        "success"
    } else {
        "error"
    };
    (
        status,
        Json(json!({"message": message, "type": kind, "code": status.as_u16(), "data": data})),
    )
        .into_response()
}

fn invalid(errors: Value) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({
            "message": "Please fix the given errors",
            "type": "error",
            "code": 422,
            "errors": errors,
        })),
    )
        .into_response()
}

fn unauthenticated() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"message": "Unauthenticated."})),
    )
        .into_response()
}

impl Shared {
    async fn pause(&self) {
        let ms = self.delay_ms.load(Ordering::SeqCst);
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }

    /// Waits the set delay, answers a failure if one is due, then refuses
    /// a call without a live access token.
    async fn admit(&self, headers: &HeaderMap) -> Result<(), Response> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.pause().await;
        if let Some(failed) = self.failure_due(&self.failures) {
            return Err(failed);
        }
        if self.authorized(headers) {
            Ok(())
        } else {
            Err(unauthenticated())
        }
    }

    /// The set failure, if `counter` says one is still due.
    fn failure_due(&self, counter: &AtomicUsize) -> Option<Response> {
        counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .ok()?;
        let status = StatusCode::from_u16(self.failure_status.load(Ordering::SeqCst))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Some(wrapped(status, "Something went wrong", Value::Null))
    }

    /// Whether the request carries a live access token.
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(token) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return false;
        };
        let books = self.books.lock().expect("not poisoned");
        books
            .access
            .get(token)
            .is_some_and(|expires| Instant::now() < *expires)
    }

    fn issue(&self) -> Response {
        let lifetime = Duration::from_millis(self.lifetime_ms.load(Ordering::SeqCst));
        let (access, refresh) = (random_token(48), random_token(48));
        let now = Instant::now();
        let mut books = self.books.lock().expect("not poisoned");
        books.access.insert(access.clone(), now + lifetime);
        books.refresh.insert(refresh.clone(), now + lifetime * 10);
        Json(json!({
            "token_type": "Bearer",
            // Whole seconds, as Pathao writes it; a sub-second test lifetime rounds up.
            "expires_in": lifetime.as_secs() + u64::from(lifetime.subsec_nanos() > 0),
            "access_token": access,
            "refresh_token": refresh,
        }))
        .into_response()
    }
}

async fn issue_token(State(s): State<Shared>, body: Bytes) -> Response {
    s.pause().await;
    if let Some(failed) = s.failure_due(&s.token_failures) {
        return failed;
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return invalid(json!({"grant_type": ["The grant type field is required."]}));
    };
    let field = |name: &str| req.get(name).and_then(Value::as_str).unwrap_or_default();
    let refused = || {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({
                "error": "invalid_grant",
                "message": "The user credentials were incorrect.",
            })),
        )
            .into_response()
    };
    if field("client_id") != CLIENT_ID || field("client_secret") != s.client_secret {
        return refused();
    }
    match field("grant_type") {
        "password" => {
            if field("username") != USERNAME || field("password") != s.password {
                return refused();
            }
            s.issued.fetch_add(1, Ordering::SeqCst);
        }
        "refresh_token" => {
            let live = {
                let mut books = s.books.lock().expect("not poisoned");
                // A refresh token is good once.
                books
                    .refresh
                    .remove(field("refresh_token"))
                    .is_some_and(|expires| Instant::now() < expires)
            };
            if !live {
                return refused();
            }
            s.refreshed.fetch_add(1, Ordering::SeqCst);
        }
        _ => return invalid(json!({"grant_type": ["The selected grant type is invalid."]})),
    }
    s.issue()
}

/// Every field an order may have, as published.
const PUBLISHED_FIELDS: &[&str] = &[
    "store_id",
    "merchant_order_id",
    "recipient_name",
    "recipient_phone",
    "recipient_secondary_phone",
    "recipient_address",
    "recipient_city",
    "recipient_zone",
    "recipient_area",
    "delivery_type",
    "item_type",
    "special_instruction",
    "item_quantity",
    "item_weight",
    "item_description",
    "amount_to_collect",
];

/// The fields Pathao requires (since July 2025 city, zone and area are not).
const REQUIRED_FIELDS: &[&str] = &[
    "store_id",
    "recipient_name",
    "recipient_phone",
    "recipient_address",
    "delivery_type",
    "item_type",
    "item_quantity",
    "item_weight",
    "amount_to_collect",
];

/// The field problems Pathao reports for one order.
fn order_errors(order: &serde_json::Map<String, Value>) -> serde_json::Map<String, Value> {
    let mut errors = serde_json::Map::new();
    let text = |name: &str| order.get(name).and_then(Value::as_str).unwrap_or_default();
    let number = |name: &str| order.get(name).and_then(Value::as_f64);
    let mut problem = |field: &str, message: &str| {
        errors.insert(field.into(), json!([message]));
    };
    if number("store_id") != Some(STORE_ID as f64) {
        problem("store_id", "The selected store id is invalid.");
    }
    if text("recipient_name").trim().chars().count() < 3 {
        problem(
            "recipient_name",
            "The recipient name must be at least 3 characters.",
        );
    }
    let phone = text("recipient_phone");
    if phone.len() != 11 || !phone.bytes().all(|b| b.is_ascii_digit()) {
        problem(
            "recipient_phone",
            "The recipient phone must be 11 characters.",
        );
    }
    if text("recipient_address").chars().count() < 10 {
        problem(
            "recipient_address",
            "The recipient address must be at least 10 characters.",
        );
    }
    if !matches!(number("delivery_type"), Some(t) if t == 48.0 || t == 12.0) {
        problem("delivery_type", "The selected delivery type is invalid.");
    }
    if !matches!(number("item_type"), Some(t) if t == 1.0 || t == 2.0) {
        problem("item_type", "The selected item type is invalid.");
    }
    if !matches!(number("item_quantity"), Some(q) if q >= 1.0 && q.fract() == 0.0) {
        problem("item_quantity", "The item quantity must be at least 1.");
    }
    if !matches!(number("item_weight"), Some(w) if (0.5..=10.0).contains(&w)) {
        problem("item_weight", "The item weight must be between 0.5 and 10.");
    }
    if !matches!(number("amount_to_collect"), Some(a) if a >= 0.0 && a.fract() == 0.0) {
        problem(
            "amount_to_collect",
            "The amount to collect must be an integer.",
        );
    }
    // Last, so a missing field reads as missing rather than invalid.
    for field in REQUIRED_FIELDS {
        if order.get(*field).is_none_or(Value::is_null) {
            problem(
                field,
                &format!("The {} field is required.", field.replace('_', " ")),
            );
        }
    }
    for field in order.keys() {
        if !PUBLISHED_FIELDS.contains(&field.as_str()) {
            problem(field, "This field is not accepted.");
        }
    }
    errors
}

async fn create_order(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = s.admit(&headers).await {
        return refused;
    }
    let Ok(Value::Object(order)) = serde_json::from_slice::<Value>(&body) else {
        return invalid(json!({"body": ["The body must be a JSON object."]}));
    };
    let mut errors = order_errors(&order);
    let invoice = order
        .get("merchant_order_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut books = s.books.lock().expect("not poisoned");
    if !invoice.is_empty()
        && books
            .orders
            .iter()
            .any(|o| o.received.get("merchant_order_id") == Some(&json!(invoice)))
    {
        errors.insert(
            "merchant_order_id".into(),
            json!(["The merchant order id has already been taken."]),
        );
    }
    if !errors.is_empty() {
        return invalid(Value::Object(errors));
    }
    let consignment_id = format!(
        "DA{:06}{}",
        61_206 + books.orders.len(),
        random_token(6).to_uppercase()
    );
    books.orders.push(StoredOrder {
        consignment_id: consignment_id.clone(),
        received: order,
        status_slug: "Pending".into(),
    });
    wrapped(
        StatusCode::OK,
        "Order Created Successfully",
        json!({
            "consignment_id": consignment_id,
            "merchant_order_id": invoice,
            "order_status": "Pending",
            "delivery_fee": 80,
        }),
    )
}

async fn create_bulk(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = s.admit(&headers).await {
        return refused;
    }
    let orders = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(mut o)) => match o.remove("orders") {
            Some(Value::Array(list)) if !list.is_empty() => list,
            _ => return invalid(json!({"orders": ["The orders field is required."]})),
        },
        _ => return invalid(json!({"orders": ["The orders field is required."]})),
    };
    let mut errors = serde_json::Map::new();
    for (i, order) in orders.iter().enumerate() {
        let found = match order {
            Value::Object(o) => order_errors(o),
            _ => serde_json::Map::from_iter([("".to_owned(), json!(["Not an order."]))]),
        };
        for (field, problem) in found {
            errors.insert(format!("orders.{i}.{field}"), problem);
        }
    }
    if !errors.is_empty() {
        return invalid(Value::Object(errors));
    }
    s.books
        .lock()
        .expect("not poisoned")
        .bulk_batches
        .push(orders);
    wrapped(StatusCode::ACCEPTED, "Your bulk order creation request is accepted, please wait some time to complete order creation.", json!(true))
}

async fn order_info(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(refused) = s.admit(&headers).await {
        return refused;
    }
    let books = s.books.lock().expect("not poisoned");
    let Some(order) = books.orders.iter().find(|o| o.consignment_id == id) else {
        return wrapped(StatusCode::NOT_FOUND, "Order not found", Value::Null);
    };
    wrapped(
        StatusCode::OK,
        "Order info",
        json!({
            "consignment_id": order.consignment_id,
            "merchant_order_id": order.received.get("merchant_order_id"),
            "order_status": order.status_slug.replace('_', " "),
            "order_status_slug": order.status_slug,
            "updated_at": "2026-12-06 10:15:00",
            "invoice_id": null,
        }),
    )
}

/// A list answer: `data.data[]` of rows with `{kind}_id` and `{kind}_name`.
fn listing(kind: &str, rows: &[(u64, &str)]) -> Response {
    let rows: Vec<Value> = rows
        .iter()
        .map(|(id, name)| json!({ format!("{kind}_id"): id, format!("{kind}_name"): name }))
        .collect();
    wrapped(
        StatusCode::OK,
        &format!("{kind} list"),
        json!({ "data": rows }),
    )
}

async fn cities(State(s): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(refused) = s.admit(&headers).await {
        return refused;
    }
    listing("city", &[(1, "Dhaka"), (2, "Chittagong"), (3, "Sylhet")])
}

async fn zones(State(s): State<Shared>, headers: HeaderMap, Path(city): Path<u64>) -> Response {
    if let Err(refused) = s.admit(&headers).await {
        return refused;
    }
    match city {
        1 => listing("zone", &[(298, "Banani"), (1070, "Dhanmondi")]),
        _ => listing("zone", &[]),
    }
}

async fn areas(State(s): State<Shared>, headers: HeaderMap, Path(zone): Path<u64>) -> Response {
    if let Err(refused) = s.admit(&headers).await {
        return refused;
    }
    match zone {
        298 => listing("area", &[(37, "Banani Road 11"), (38, "Banani DOHS")]),
        _ => listing("area", &[]),
    }
}
