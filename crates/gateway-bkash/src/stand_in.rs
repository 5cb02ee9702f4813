//! A local stand-in for bKash's tokenized checkout API, for tests. It
//! follows what bKash publishes: `token/grant` and `token/refresh` with
//! `username`/`password` headers; `authorization: <id_token>` (no
//! `Bearer`) and `x-app-key` on every other call, 401 `Unauthorized` for a
//! missing, unknown or expired token; `create`, `execute` (once),
//! `payment/status`, `general/searchTransaction` and `payment/refund`
//! (a refund with `amount`, its status without), answering HTTP 200 with
//! `statusCode` `0000` or bKash's error code and `statusMessage`. Answers
//! name the payer's wallet (`customerMsisdn`) as bKash's do.
//!
//! Assumed, not published: the numbers of the error codes below (bKash's
//! list gives them, its texts vary between versions), that a refresh token
//! is good once, and the 15-day limit counted in whole days on a clock
//! tests move with [`StandIn::advance_days`].
use crate::BkashConfig;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chotomoni_gateway::{poisha_from_taka, Poisha};
use payments::{execute, refund, refund_status, search};
use rand::Rng;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod payments;

pub const USERNAME: &str = "sandboxTokenizedUser02";
pub const APP_KEY: &str = "4f6o0cjiki2rfm34kfdadl1eqq";
/// Where the API lives under the host, as on bKash's servers.
pub const PREFIX: &str = "/v1.2.0-beta/tokenized/checkout";

pub const INVALID_CREDENTIALS: &str = "2079";
pub const INVALID_PAYMENT_ID: &str = "2002";
pub const MISSING_FIELD: &str = "2065";
pub const INVALID_STATE: &str = "2056";
pub const REFUND_ABOVE_PAID: &str = "2071";
pub const REFUND_TOO_LATE: &str = "2072";
pub const NO_REFUND: &str = "2073";

/// The fields of a `create` request, as published.
pub const CREATE_FIELDS: &[&str] = &[
    "mode",
    "payerReference",
    "callbackURL",
    "amount",
    "currency",
    "intent",
    "merchantInvoiceNumber",
];

/// A payment the stand-in created.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPayment {
    pub payment_id: String,
    /// The `create` body, as received.
    pub received: Map<String, Value>,
    pub transaction_status: String,
    /// What the customer did on bKash's page (`success`, `failure`, `cancel`).
    pub customer_status: Option<String>,
    pub wallet: Option<String>,
    pub trx_id: Option<String>,
    pub paid_day: i64,
    /// `(refundTrxID, amount)`, oldest first.
    pub refunds: Vec<(String, Poisha)>,
}

impl StoredPayment {
    fn field(&self, name: &str) -> &str {
        self.received
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The answer bKash gives about a payment (execute, status).
    fn answer(&self) -> Value {
        let mut a = json!({
            "paymentID": self.payment_id,
            "mode": self.field("mode"),
            "paymentCreateTime": "2026-12-06T10:15:00:000 GMT+0600",
            "amount": self.field("amount"),
            "currency": self.field("currency"),
            "intent": self.field("intent"),
            "merchantInvoiceNumber": self.field("merchantInvoiceNumber"),
            "payerReference": self.field("payerReference"),
            "transactionStatus": self.transaction_status,
            "verificationStatus": "Complete",
        });
        if let Some(wallet) = &self.wallet {
            a["customerMsisdn"] = json!(wallet);
            a["payerAccount"] = json!(wallet);
        }
        if let Some(trx) = &self.trx_id {
            a["trxID"] = json!(trx);
            a["paymentExecuteTime"] = json!("2026-12-06T10:16:02:000 GMT+0600");
        }
        a
    }
}

/// What the next API calls answer instead of their own answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Http(u16),
    Code(String, String),
}

impl Failure {
    fn response(self) -> Response {
        match self {
            Failure::Http(status) => (
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                Json(json!({"message": "Internal server error"})),
            )
                .into_response(),
            Failure::Code(code, message) => refused(&code, &message),
        }
    }
}

#[derive(Default)]
struct Books {
    tokens: HashMap<String, Instant>,
    refresh: HashMap<String, Instant>,
    lifetime: Duration,
    payments: Vec<StoredPayment>,
    received: Vec<(String, Map<String, Value>)>,
    grants: usize,
    refreshes: usize,
    /// Path (`*` for all) → how long its answers wait, after acting.
    delays: HashMap<String, Duration>,
    failures: Vec<Failure>,
    token_failures: Vec<Failure>,
    day: i64,
}

#[derive(Clone)]
struct Shared {
    base_url: String,
    password: String,
    app_secret: String,
    books: Arc<Mutex<Books>>,
}

/// A running stand-in on a random local port; it stops with the runtime.
pub struct StandIn {
    pub base_url: String,
    shared: Shared,
}

/// Random letters and digits, upper case as bKash's payment and transaction ids.
fn random_id(len: usize) -> String {
    let text: String = rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect();
    text.to_ascii_uppercase()
}

impl StandIn {
    pub async fn start() -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the bKash stand-in");
        let host = format!("http://{}", listener.local_addr().expect("local address"));
        let shared = Shared {
            base_url: format!("{host}{PREFIX}"),
            password: random_id(16),
            app_secret: random_id(50),
            books: Arc::new(Mutex::new(Books {
                lifetime: Duration::from_secs(3600),
                ..Books::default()
            })),
        };
        let app = Router::new()
            .route(&format!("{PREFIX}/{{*path}}"), post(dispatch))
            .with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandIn {
            base_url: shared.base_url.clone(),
            shared,
        }
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.shared.books.lock().expect("not poisoned")
    }

    /// Client settings that reach this stand-in.
    pub fn config(&self) -> BkashConfig {
        BkashConfig {
            base_url: self.base_url.clone(),
            username: USERNAME.into(),
            password: self.shared.password.clone(),
            app_key: APP_KEY.into(),
            app_secret: self.shared.app_secret.clone(),
            timeout: Duration::from_secs(5),
        }
    }

    /// The `expires_in` of tokens granted from now on (bKash: 3600 s).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.books().lifetime = lifetime;
    }

    /// Answers of `path` (`None`: every API call) wait this long after
    /// acting, as a slow bKash whose answer comes too late.
    pub fn set_delay(&self, path: Option<&str>, delay: Duration) {
        self.books()
            .delays
            .insert(path.unwrap_or("*").into(), delay);
    }

    /// Forgets every id token; with `and_refresh`, the refresh tokens too.
    pub fn revoke_tokens(&self, and_refresh: bool) {
        let mut books = self.books();
        books.tokens.clear();
        if and_refresh {
            books.refresh.clear();
        }
    }

    /// The next `count` API calls answer `failure` without acting.
    pub fn fail_next(&self, count: usize, failure: Failure) {
        self.books().failures = vec![failure; count];
    }

    /// The next `count` token calls answer `failure`.
    pub fn fail_next_token_calls(&self, count: usize, failure: Failure) {
        self.books().token_failures = vec![failure; count];
    }

    pub fn grants(&self) -> usize {
        self.books().grants
    }

    pub fn refreshes(&self) -> usize {
        self.books().refreshes
    }

    /// The bodies `path` received, failed calls included.
    pub fn received(&self, path: &str) -> Vec<Map<String, Value>> {
        let books = self.books();
        let sent = books.received.iter().filter(|(p, _)| p == path);
        sent.map(|(_, body)| body.clone()).collect()
    }

    pub fn payments(&self) -> Vec<StoredPayment> {
        self.books().payments.clone()
    }

    /// Moves the clock refunds are counted on.
    pub fn advance_days(&self, days: i64) {
        self.books().day += days;
    }

    /// The customer on bKash's page: pays with `wallet` (`Some`) or leaves
    /// with `status` (`failure`, `cancel`). Gives the callback URL bKash
    /// sends them back to.
    pub fn customer(&self, payment_id: &str, wallet: Option<&str>, status: &str) -> String {
        let mut books = self.books();
        let p = books
            .payments
            .iter_mut()
            .find(|p| p.payment_id == payment_id)
            .expect("a payment the stand-in created");
        p.customer_status = Some(status.into());
        p.wallet = wallet.map(str::to_owned);
        let callback = p.field("callbackURL");
        let joiner = if callback.contains('?') { '&' } else { '?' };
        let signature = random_id(16);
        format!(
            "{callback}{joiner}paymentID={payment_id}&status={status}&signature={signature}&apiVersion=1.2.0-beta"
        )
    }
}

fn answer(mut body: Value) -> Response {
    body["statusCode"] = json!("0000");
    body["statusMessage"] = json!("Successful");
    Json(body).into_response()
}

fn refused(code: &str, message: &str) -> Response {
    Json(json!({"statusCode": code, "statusMessage": message})).into_response()
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"message": "Unauthorized"})),
    )
        .into_response()
}

fn text<'a>(body: &'a Map<String, Value>, name: &str) -> &'a str {
    body.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

async fn dispatch(
    State(s): State<Shared>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => map,
        _ => return (StatusCode::BAD_REQUEST, "Bad Request").into_response(),
    };
    let (response, delay) = {
        let mut books = s.books.lock().expect("not poisoned");
        books.received.push((path.clone(), body.clone()));
        let delay = books
            .delays
            .get(&path)
            .or_else(|| books.delays.get("*"))
            .copied()
            .unwrap_or_default();
        let call = Call {
            path: &path,
            headers: &headers,
            body: &body,
        };
        let for_token = path.starts_with("token/");
        let due = if for_token {
            books.token_failures.pop()
        } else {
            books.failures.pop()
        };
        let response = match due {
            Some(failure) => failure.response(),
            None if for_token => s.token(&mut books, call),
            None => s.api(&mut books, call),
        };
        (response, delay)
    };
    tokio::time::sleep(delay).await;
    response
}

/// One request as received.
#[derive(Clone, Copy)]
struct Call<'a> {
    path: &'a str,
    headers: &'a HeaderMap,
    body: &'a Map<String, Value>,
}

impl Shared {
    fn token(&self, books: &mut Books, call: Call<'_>) -> Response {
        let Call {
            path,
            headers,
            body,
        } = call;
        if header(headers, "username") != USERNAME
            || header(headers, "password") != self.password
            || text(body, "app_key") != APP_KEY
            || text(body, "app_secret") != self.app_secret
        {
            return refused(INVALID_CREDENTIALS, "Invalid username and password");
        }
        let now = Instant::now();
        if path == "token/refresh" {
            // A refresh token is good once.
            let live = books
                .refresh
                .remove(text(body, "refresh_token"))
                .is_some_and(|expires| now < expires);
            if !live {
                return refused(INVALID_CREDENTIALS, "Invalid refresh token");
            }
            books.refreshes += 1;
        } else if path == "token/grant" {
            books.grants += 1;
        } else {
            return (StatusCode::NOT_FOUND, "Not Found").into_response();
        }
        let (id, refresh) = (random_id(64), random_id(64));
        let lifetime = books.lifetime;
        books.tokens.insert(id.clone(), now + lifetime);
        books.refresh.insert(refresh.clone(), now + lifetime * 10);
        // Whole seconds as bKash writes them; a test's shorter life as a fraction.
        let expires_in = if lifetime.subsec_nanos() == 0 {
            json!(lifetime.as_secs())
        } else {
            json!(lifetime.as_secs_f64())
        };
        answer(
            json!({"id_token": id, "token_type": "Bearer", "expires_in": expires_in,
            "refresh_token": refresh}),
        )
    }

    fn api(&self, books: &mut Books, call: Call<'_>) -> Response {
        let Call {
            path,
            headers,
            body,
        } = call;
        let live = books
            .tokens
            .get(header(headers, "authorization"))
            .is_some_and(|expires| Instant::now() < *expires);
        if !live || header(headers, "x-app-key") != APP_KEY {
            return unauthorized();
        }
        if path == "create" {
            return self.create(books, body);
        }
        if path == "general/searchTransaction" {
            return search(books, text(body, "trxID"));
        }
        let day = books.day;
        let Some(p) = books
            .payments
            .iter_mut()
            .find(|p| p.payment_id == text(body, "paymentID"))
        else {
            return refused(INVALID_PAYMENT_ID, "Invalid Payment ID");
        };
        match path {
            "execute" => execute(p, day),
            "payment/status" => answer(p.answer()),
            "payment/refund" if body.contains_key("amount") => refund(p, body, day),
            "payment/refund" => refund_status(p, text(body, "trxID")),
            _ => (StatusCode::NOT_FOUND, "Not Found").into_response(),
        }
    }

    fn create(&self, books: &mut Books, body: &Map<String, Value>) -> Response {
        let amount = poisha_from_taka(text(body, "amount")).filter(|a| *a > 0);
        if CREATE_FIELDS.iter().any(|f| text(body, f).is_empty())
            || amount.is_none()
            || text(body, "mode") != "0011"
            || text(body, "currency") != "BDT"
        {
            return refused(MISSING_FIELD, "Mandatory field missing or invalid");
        }
        let payment_id = format!("TR0011{}", random_id(20));
        let stored = StoredPayment {
            payment_id: payment_id.clone(),
            received: body.clone(),
            transaction_status: "Initiated".into(),
            customer_status: None,
            wallet: None,
            trx_id: None,
            paid_day: 0,
            refunds: Vec::new(),
        };
        let mut a = stored.answer();
        a["bkashURL"] = json!(format!("{}/pay?paymentId={payment_id}", self.base_url));
        a["callbackURL"] = json!(text(body, "callbackURL"));
        books.payments.push(stored);
        answer(a)
    }
}
