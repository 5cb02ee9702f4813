//! A local stand-in for SSLCommerz's API v4, for tests. It follows the
//! official libraries and documentation: sessions (`/gwprocess/v4/api.php`,
//! a form with the store credentials and the required fields,
//! `total_amount` 10.00–500000.00, `tran_id` ≤ 30), the IPN SSLCommerz
//! posts to `ipn_url` (signed as [`crate::sign`] checks it, card fields
//! and all), validation (`VALID`, then `VALIDATED` when asked again,
//! `INVALID_TRANSACTION` for an unknown `val_id`), transaction queries by
//! `tran_id` and `sessionkey`, refunds (never above what was paid) and
//! refund status.
//!
//! Its own wording where SSLCommerz's is not published: refusal texts, and
//! a refund staying `processing` until [`StandIn::settle_refund`].
//! `verify_sign_sha2` is not sent (its algorithm is inferred from one sample).
use crate::{sign, QUERY_PATH, SESSION_PATH, VALIDATION_PATH};
use axum::extract::{Form, Query, Request, State};
use axum::http::{StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chotomoni_gateway::{poisha_from_taka, taka, Poisha};
use serde_json::json;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

mod answers;
use answers::{merchant_answer, transaction_json, validation_answer};

/// The fields SSLCommerz signs in a notice, as its sample IPN names them.
pub const VERIFY_KEY: &str = "amount,bank_tran_id,base_fair,card_brand,card_issuer,card_issuer_country,card_issuer_country_code,card_no,card_type,currency,currency_amount,currency_rate,currency_type,risk_level,risk_title,status,store_amount,store_id,tran_date,tran_id,val_id,value_a,value_b,value_c,value_d";

/// The fields a session must carry (`cus_email` may be empty: the official
/// libraries send it so when a customer has none).
const REQUIRED: &[&str] = &[
    "total_amount",
    "currency",
    "tran_id",
    "success_url",
    "fail_url",
    "cancel_url",
    "product_category",
    "product_name",
    "product_profile",
    "num_of_item",
    "shipping_method",
    "cus_name",
    "cus_add1",
    "cus_city",
    "cus_country",
    "cus_phone",
];

/// One call the stand-in read: its path and its form or query pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub path: String,
    pub pairs: Vec<(String, String)>,
}

impl Received {
    pub fn get(&self, name: &str) -> Option<&str> {
        field(&self.pairs, name)
    }
}

/// The card a test pays with; the stand-in reports it as SSLCommerz does.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// The full number; notices and answers carry it masked.
    pub number: String,
    pub brand: String,
    pub issuer: String,
    pub issuer_country: String,
    pub issuer_country_code: String,
    /// 0 safe, 1 risky.
    pub risk_level: u8,
}

impl Card {
    /// A Luhn-valid VISA number from a Bangladeshi bank.
    pub fn visa() -> Card {
        Card {
            number: "4111111111111111".into(),
            brand: "VISA".into(),
            issuer: "TRUST BANK, LTD.".into(),
            issuer_country: "Bangladesh".into(),
            issuer_country_code: "BD".into(),
            risk_level: 0,
        }
    }

    /// As SSLCommerz writes it: first six and last four digits.
    pub fn masked(&self) -> String {
        let n = &self.number;
        format!("{}XXXXXX{}", &n[..6], &n[n.len() - 4..])
    }
}

/// A session the stand-in holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub sessionkey: String,
    pub tran_id: String,
    pub total_amount: String,
    pub ipn_url: String,
    /// `PENDING`, then `VALID`, `FAILED` or `CANCELLED`.
    pub status: String,
    pub val_id: Option<String>,
    pub bank_tran_id: Option<String>,
    pub card: Option<Card>,
    /// How many times the validation API was asked about it.
    pub validations: u32,
}

/// A refund the stand-in holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Refund {
    pub refund_ref_id: String,
    pub bank_tran_id: String,
    pub tran_id: String,
    pub amount: Poisha,
    /// `processing`, `refunded` or `cancelled`.
    pub status: String,
}

/// What the stand-in has seen and holds, as tests read it.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// Every call that reached a route, with its pairs, in order
    /// (credentials checked or not; not the calls [`Trouble`] answered).
    pub received: Vec<Received>,
    pub sessions: Vec<Session>,
    pub refunds: Vec<Refund>,
}

impl Seen {
    /// The calls to `path`.
    pub fn calls_to(&self, path: &str) -> Vec<&Received> {
        self.received.iter().filter(|r| r.path == path).collect()
    }

    pub fn session(&self, tran_id: &str) -> Option<&Session> {
        self.sessions.iter().find(|s| s.tran_id == tran_id)
    }
}

/// What goes wrong on the way to SSLCommerz, for timeout and retry tests.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Trouble {
    #[default]
    None,
    /// Every call is answered only after this long.
    Slow(Duration),
    /// The next `count` calls get `status` (a 5xx) and no body to read.
    ServerErrors { count: u32, status: u16 },
}

impl Trouble {
    /// What one call meets: a wait, then its route or a server error.
    fn meet(&mut self) -> (Duration, Option<StatusCode>) {
        match self {
            Trouble::Slow(wait) => (*wait, None),
            Trouble::ServerErrors { count, status } if *count > 0 => {
                *count -= 1;
                (Duration::ZERO, StatusCode::from_u16(*status).ok())
            }
            _ => (Duration::ZERO, None),
        }
    }
}

#[derive(Default)]
struct Inner {
    seen: Seen,
    trouble: Trouble,
}

#[derive(Clone)]
struct Shared {
    store_id: String,
    store_password: String,
    base_url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().expect("not poisoned")
    }

    fn credentials_hold(&self, pairs: &[(String, String)]) -> bool {
        field(pairs, "store_id") == Some(self.store_id.as_str())
            && field(pairs, "store_passwd") == Some(self.store_password.as_str())
    }
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `len` characters drawn from `alphabet`, as SSLCommerz's ids look.
fn random_text(len: usize, alphabet: &[u8]) -> String {
    use rand::seq::SliceRandom;
    let mut rng = rand::thread_rng();
    std::iter::repeat_with(|| alphabet.choose(&mut rng).copied().map(char::from))
        .take(len)
        .flatten()
        .collect()
}

fn upper_hex(len: usize) -> String {
    random_text(len, b"0123456789ABCDEF")
}

/// A running stand-in on a random local port; it stops with the runtime.
pub struct StandIn {
    pub base_url: String,
    pub store_id: String,
    pub store_password: String,
    shared: Shared,
}

impl StandIn {
    pub async fn start() -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SSLCommerz stand-in");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));
        let shared = Shared {
            store_id: format!("chotomoni{}", random_text(6, b"0123456789abcdef")),
            store_password: format!("{}@ssl", random_text(16, b"0123456789abcdef")),
            base_url: base_url.clone(),
            inner: Arc::new(Mutex::new(Inner::default())),
        };
        let app = Router::new()
            .route(SESSION_PATH, post(session))
            .route(VALIDATION_PATH, get(validator))
            .route(QUERY_PATH, get(validator))
            .layer(middleware::from_fn_with_state(shared.clone(), gate))
            .with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandIn {
            base_url,
            store_id: shared.store_id.clone(),
            store_password: shared.store_password.clone(),
            shared,
        }
    }

    /// Client settings that reach this stand-in, with short retry pauses.
    pub fn config(&self) -> crate::SslcommerzConfig {
        crate::SslcommerzConfig {
            base_url: self.base_url.clone(),
            timeout: Duration::from_secs(5),
            read_retries: 1,
            retry_pause: Duration::from_millis(20),
            ..crate::SslcommerzConfig::sandbox(&self.store_id, &self.store_password)
        }
    }

    /// A copy of what the stand-in has seen and holds now.
    pub fn seen(&self) -> Seen {
        self.shared.lock().seen.clone()
    }

    pub fn set_trouble(&self, trouble: Trouble) {
        self.shared.lock().trouble = trouble;
    }

    /// The customer pays `tran_id`'s session with `card`; returns the
    /// notice SSLCommerz then posts (see [`StandIn::post_notice`]).
    pub fn pay(&self, tran_id: &str, card: Card) -> Vec<(String, String)> {
        self.finish(tran_id, "VALID", Some(card))
    }

    /// The payment fails (`FAILED`) or the customer cancels (`CANCELLED`).
    pub fn end_unpaid(&self, tran_id: &str, status: &str) -> Vec<(String, String)> {
        self.finish(tran_id, status, None)
    }

    fn finish(&self, tran_id: &str, status: &str, card: Option<Card>) -> Vec<(String, String)> {
        {
            let mut inner = self.shared.lock();
            let s = inner
                .seen
                .sessions
                .iter_mut()
                .find(|s| s.tran_id == tran_id)
                .expect("a session for this tran_id");
            s.status = status.to_owned();
            if card.is_some() {
                let stamp = "261207021500";
                s.val_id = Some(format!("{stamp}{}", random_text(15, b"abcdefghijkLMNOPQ")));
                s.bank_tran_id = Some(format!("{stamp}{}", random_text(15, b"ABCDEFGHjklmnop")));
            }
            s.card = card;
        }
        self.notice(tran_id)
    }

    /// The notice for `tran_id` as it stands, signed with the store
    /// password: what SSLCommerz posts to `ipn_url`, and what the
    /// customer's browser brings back to the success, fail or cancel URL.
    pub fn notice(&self, tran_id: &str) -> Vec<(String, String)> {
        let inner = self.shared.lock();
        let s = inner
            .seen
            .session(tran_id)
            .expect("a session for this tran_id");
        let mut body = transaction_json(s, &s.status);
        body.insert("store_id".into(), json!(self.store_id));
        body.insert("verify_key".into(), json!(VERIFY_KEY));
        let mut pairs: Vec<(String, String)> = body
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map(str::to_owned).unwrap_or_default()))
            .collect();
        StandIn::sign(&mut pairs, &self.store_password);
        pairs
    }

    /// Signs `pairs` (again) with `password`, as SSLCommerz does: a helper
    /// for forged notices (a wrong password, a field changed after signing).
    pub fn sign(pairs: &mut Vec<(String, String)>, password: &str) {
        pairs.retain(|(k, _)| k != "verify_sign");
        let signature = sign::verify_sign(pairs, password).unwrap_or_default();
        pairs.push(("verify_sign".into(), signature));
    }

    /// POSTs `pairs` to `tran_id`'s `ipn_url` as SSLCommerz does (a form);
    /// the same pairs again is a replay.
    pub async fn post_notice(&self, tran_id: &str, pairs: &[(String, String)]) -> u16 {
        let url = self
            .seen()
            .session(tran_id)
            .map(|s| s.ipn_url.clone())
            .expect("a session for this tran_id");
        reqwest::Client::new()
            .post(url)
            .form(pairs)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }

    /// SSLCommerz finishes (`refunded`) or cancels a refund.
    pub fn settle_refund(&self, refund_ref_id: &str, status: &str) {
        let mut inner = self.shared.lock();
        if let Some(r) = inner
            .seen
            .refunds
            .iter_mut()
            .find(|r| r.refund_ref_id == refund_ref_id)
        {
            r.status = status.to_owned();
        }
    }
}

/// [`Trouble`] before every route.
async fn gate(State(s): State<Shared>, request: Request, next: Next) -> Response {
    let (wait, error) = s.lock().trouble.meet();
    tokio::time::sleep(wait).await;
    match error {
        Some(status) => (status, "Service Unavailable").into_response(),
        None => next.run(request).await,
    }
}

fn record(s: &Shared, path: &str, pairs: &[(String, String)]) {
    s.lock().seen.received.push(Received {
        path: path.to_owned(),
        pairs: pairs.to_vec(),
    });
}

fn session_refused(reason: &str) -> Response {
    Json(json!({
        "status": "FAILED",
        "failedreason": reason,
        "sessionkey": "",
        "gw": [],
        "redirectGatewayURL": "",
        "directPaymentURLBank": "",
        "directPaymentURLCard": "",
        "directPaymentURL": "",
        "redirectGatewayURLFailed": "",
        "GatewayPageURL": "",
        "storeBanner": "",
        "storeLogo": "",
        "desc": [],
        "is_direct_pay_enable": "0",
    }))
    .into_response()
}

/// The published rules of a session; a refusal's text, or `None`.
fn session_problem(pairs: &[(String, String)]) -> Option<String> {
    if let Some(missing) = REQUIRED
        .iter()
        .find(|f| field(pairs, f).is_none_or(|v| v.trim().is_empty()))
    {
        return Some(format!("Invalid Information: {missing} is missing"));
    }
    if field(pairs, "cus_email").is_none() {
        return Some("Invalid Information: cus_email is missing".into());
    }
    let amount = field(pairs, "total_amount").and_then(poisha_from_taka);
    if !amount.is_some_and(|a| (1_000..=50_000_000).contains(&a)) {
        return Some("Invalid Information: total_amount must be 10.00 to 500000.00".into());
    }
    if field(pairs, "tran_id").is_some_and(|t| t.chars().count() > 30) {
        return Some("Invalid Information: tran_id may have at most 30 characters".into());
    }
    None
}

async fn session(State(s): State<Shared>, Form(pairs): Form<Vec<(String, String)>>) -> Response {
    record(&s, SESSION_PATH, &pairs);
    if !s.credentials_hold(&pairs) {
        return session_refused("Store Credential Error Or Store is De-active");
    }
    if let Some(problem) = session_problem(&pairs) {
        return session_refused(&problem);
    }
    let text = |name: &str| field(&pairs, name).unwrap_or_default().to_owned();
    let sessionkey = upper_hex(32);
    s.lock().seen.sessions.push(Session {
        sessionkey: sessionkey.clone(),
        tran_id: text("tran_id"),
        total_amount: taka(poisha_from_taka(&text("total_amount")).unwrap_or_default()),
        ipn_url: text("ipn_url"),
        status: "PENDING".into(),
        val_id: None,
        bank_tran_id: None,
        card: None,
        validations: 0,
    });
    let page = format!(
        "{}/EasyCheckOut/testcde{}",
        s.base_url,
        sessionkey.to_lowercase()
    );
    Json(json!({
        "status": "SUCCESS",
        "failedreason": "",
        "sessionkey": sessionkey,
        "gw": {"visa": "city_visa,ebl_visa,visacard", "master": "city_master,ebl_master,mastercard"},
        "redirectGatewayURL": format!("{}/gwprocess/v4/bankgw/indexhtml.php?mamount={}&ssl_id={}&Q=REDIRECT&SESSIONKEY={}&tran_type=success&cardname=", s.base_url, text("total_amount"), upper_hex(20), sessionkey),
        "GatewayPageURL": page,
        "storeBanner": format!("{}/stores/logos/demoLogo.png", s.base_url),
        "storeLogo": format!("{}/stores/logos/demoLogo.png", s.base_url),
        "desc": [],
        "is_direct_pay_enable": "0",
    }))
    .into_response()
}

/// The validator APIs: the validation API, and
/// `merchantTransIDvalidationAPI.php`, which answers queries, refunds and
/// refund status told apart by their parameters.
async fn validator(
    State(s): State<Shared>,
    uri: Uri,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    record(&s, uri.path(), &pairs);
    if !s.credentials_hold(&pairs) {
        return Json(json!({"APIConnect": "FAILED"})).into_response();
    }
    let mut inner = s.lock();
    let seen = &mut inner.seen;
    Json(if uri.path() == VALIDATION_PATH {
        validation_answer(seen, &pairs)
    } else {
        merchant_answer(seen, &pairs)
    })
    .into_response()
}
