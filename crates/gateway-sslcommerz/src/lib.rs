//! SSLCommerz (API v4) behind [`Gateway`]: [`Sslcommerz`] is a client of
//! its session, validation, transaction query and refund APIs, as its
//! official libraries (`SSLCommerz-PHP`, `-Python`, `-NodeJS`) call them.
//!
//! - `start`: a form POST to `/gwprocess/v4/api.php` with the fields the
//!   API requires and nothing more; the customer goes to `GatewayPageURL`.
//! - `notice` (IPN): `verify_sign` checked over the raw pairs ([`sign`]),
//!   then the pairs go through [`Kept`] and are not looked at again; a
//!   `VALID` notice is confirmed with the validation API
//!   (`/validator/api/validationserverAPI.php`) before it is `Paid`.
//! - `complete` (the customer's return): never trusted alone; its `val_id`
//!   is validated, or without one the transaction is queried.
//! - `query`, `refund`, `refund_status`:
//!   `/validator/api/merchantTransIDvalidationAPI.php` by `tran_id` (or
//!   `sessionkey`), with `bank_tran_id` and `refund_amount`, or with
//!   `refund_ref_id`.
//!
//! Reads (validation, queries, refund status) are tried again with backoff
//! after a timeout or a 5xx; a session or a refund never is, since a lost
//! answer may hide one made. The store password never appears in `Debug`,
//! `Display`, logs or errors (errors drop the URL, whose query carries it);
//! neither does anything about the customer.
use chotomoni_gateway::{
    taka, Checkout, Gateway, GatewayError, GatewayFuture, Kept, PaymentFacts, RefundFacts,
    RefundRequest, Return, Started,
};
use serde_json::Value;
use std::time::Duration;
use thiserror::Error;

pub mod answer;
pub mod sign;

#[cfg(any(test, feature = "stand-in"))]
pub mod stand_in;

#[cfg(test)]
mod tests;

pub const SANDBOX_URL: &str = "https://sandbox.sslcommerz.com";
pub const LIVE_URL: &str = "https://securepay.sslcommerz.com";

pub const SESSION_PATH: &str = "/gwprocess/v4/api.php";
pub const VALIDATION_PATH: &str = "/validator/api/validationserverAPI.php";
/// Transaction queries, refunds and refund status all answer here.
pub const QUERY_PATH: &str = "/validator/api/merchantTransIDvalidationAPI.php";

/// What a session says it sells: the order, not its items (the least).
const PRODUCT_CATEGORY: &str = "general";
const PRODUCT_PROFILE: &str = "general";

/// Settings of the SSLCommerz client. `Debug` never shows the password.
#[derive(Clone)]
pub struct SslcommerzConfig {
    /// [`SANDBOX_URL`] or [`LIVE_URL`].
    pub base_url: String,
    pub store_id: String,
    pub store_password: String,
    /// For each HTTP call, connecting included.
    pub timeout: Duration,
    /// How many more times a read is tried after a timeout or a 5xx.
    pub read_retries: u32,
    /// The pause before the first retry; each next one doubles it.
    pub retry_pause: Duration,
}

impl SslcommerzConfig {
    pub fn sandbox(store_id: &str, store_password: &str) -> SslcommerzConfig {
        SslcommerzConfig {
            base_url: SANDBOX_URL.to_owned(),
            store_id: store_id.to_owned(),
            store_password: store_password.to_owned(),
            timeout: Duration::from_secs(30),
            read_retries: 2,
            retry_pause: Duration::from_millis(300),
        }
    }

    pub fn live(store_id: &str, store_password: &str) -> SslcommerzConfig {
        SslcommerzConfig {
            base_url: LIVE_URL.to_owned(),
            ..SslcommerzConfig::sandbox(store_id, store_password)
        }
    }
}

impl std::fmt::Debug for SslcommerzConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SslcommerzConfig")
            .field("base_url", &self.base_url)
            .field("store_id", &self.store_id)
            .field("store_password", &"***")
            .field("timeout", &self.timeout)
            .field("read_retries", &self.read_retries)
            .field("retry_pause", &self.retry_pause)
            .finish()
    }
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
    #[error("the SSLCommerz base URL must be http or https")]
    BaseUrl,
    #[error("the SSLCommerz store id and password must be set")]
    Credentials,
}

/// The SSLCommerz client.
#[derive(Clone)]
pub struct Sslcommerz {
    config: SslcommerzConfig,
    http: reqwest::Client,
}

impl std::fmt::Debug for Sslcommerz {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sslcommerz")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Display for Sslcommerz {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SSLCommerz at {}", self.config.base_url)
    }
}

/// `return_url` with `result=…` added, whether or not it has a query yet.
fn return_to(return_url: &str, result: &str) -> String {
    let joiner = if return_url.contains('?') { '&' } else { '?' };
    format!("{return_url}{joiner}result={result}")
}

/// A session's form pairs, and the catalog names of the customer fields
/// among them (for the disclosure log).
type SessionForm = (Vec<(&'static str, String)>, Vec<&'static str>);

/// Borrowed pairs for [`Kept::from_pairs`].
fn as_pairs(pairs: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

impl Sslcommerz {
    pub fn new(config: SslcommerzConfig) -> Result<Sslcommerz, ConfigError> {
        if !(config.base_url.starts_with("https://") || config.base_url.starts_with("http://")) {
            return Err(ConfigError::BaseUrl);
        }
        if config.store_id.is_empty() || config.store_password.is_empty() {
            return Err(ConfigError::Credentials);
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        Ok(Sslcommerz { config, http })
    }

    pub fn config(&self) -> &SslcommerzConfig {
        &self.config
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    fn transport_error(&self, e: reqwest::Error) -> GatewayError {
        if e.is_timeout() {
            GatewayError::Timeout(self.config.timeout)
        } else {
            // Without the URL: its query carries the store password.
            GatewayError::Unreachable(e.without_url().to_string())
        }
    }

    /// Sends one request and reads its JSON answer. A 5xx is `Unreachable`
    /// (worth another try); SSLCommerz answers its own refusals with 200.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, GatewayError> {
        let res = request
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = res.status();
        let bytes = res.bytes().await.map_err(|e| self.transport_error(e))?;
        if status.is_server_error() {
            return Err(GatewayError::Unreachable(format!(
                "HTTP {}",
                status.as_u16()
            )));
        }
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(GatewayError::Unauthorized);
        }
        let body: Value = serde_json::from_slice(&bytes).map_err(|_| {
            GatewayError::Protocol(format!(
                "a body that is not JSON (HTTP {})",
                status.as_u16()
            ))
        })?;
        if !status.is_success() {
            return Err(GatewayError::Protocol(format!("HTTP {}", status.as_u16())));
        }
        Ok(body)
    }

    /// A GET on the validator APIs, with the credentials and `v=1&format=json`.
    async fn get(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, GatewayError> {
        let mut query: Vec<(&str, &str)> = params.to_vec();
        query.extend([
            ("store_id", self.config.store_id.as_str()),
            ("store_passwd", self.config.store_password.as_str()),
            ("v", "1"),
            ("format", "json"),
        ]);
        self.send(self.http.get(self.url(path)).query(&query)).await
    }

    /// [`Self::get`] for a read, tried again with backoff after transient
    /// failures: asking twice changes nothing at SSLCommerz.
    async fn read(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, GatewayError> {
        chotomoni_gateway::with_retries(self.config.read_retries, self.config.retry_pause, || {
            self.get(path, params)
        })
        .await
    }

    /// The session form: exactly the fields the API requires.
    fn session_form(&self, checkout: &Checkout) -> Result<SessionForm, GatewayError> {
        let customer = checkout
            .customer
            .as_ref()
            .ok_or(GatewayError::NotSupported(
                "a session without the customer's contact details",
            ))?;
        let mut sent = vec!["customers.name_enc", "customers.phone_enc"];
        // The official libraries send an empty `cus_email` when there is
        // none (NodeJS writes '', PHP's cURL posts null as ''); inventing an
        // address would put a made-up contact in SSLCommerz's records.
        let email = match customer.email.as_deref().map(str::trim) {
            Some(email) if !email.is_empty() => {
                sent.push("customers.email_enc");
                email.to_owned()
            }
            _ => String::new(),
        };
        sent.push("orders.address_enc");
        let c = &self.config;
        let form = vec![
            ("store_id", c.store_id.clone()),
            ("store_passwd", c.store_password.clone()),
            ("total_amount", taka(checkout.amount)),
            ("currency", "BDT".to_owned()),
            ("tran_id", checkout.tran_id.clone()),
            ("success_url", return_to(&checkout.return_url, "success")),
            ("fail_url", return_to(&checkout.return_url, "fail")),
            ("cancel_url", return_to(&checkout.return_url, "cancel")),
            ("ipn_url", checkout.notice_url.clone()),
            ("product_category", PRODUCT_CATEGORY.to_owned()),
            ("product_name", format!("Order {}", checkout.order_number)),
            ("product_profile", PRODUCT_PROFILE.to_owned()),
            ("num_of_item", checkout.item_count.max(1).to_string()),
            // The shop ships itself; SSLCommerz needs no address for it.
            ("shipping_method", "NO".to_owned()),
            ("cus_name", customer.name.clone()),
            ("cus_email", email),
            ("cus_add1", customer.address.clone()),
            ("cus_city", customer.city.clone()),
            ("cus_country", "Bangladesh".to_owned()),
            ("cus_phone", customer.phone.clone()),
        ];
        Ok((form, sent))
    }

    async fn open_session(&self, checkout: &Checkout) -> Result<Started, GatewayError> {
        let (form, customer_fields_sent) = self.session_form(checkout)?;
        let body = self
            .send(self.http.post(self.url(SESSION_PATH)).form(&form))
            .await?;
        let kept = Kept::from_json(&body);
        match (kept.get("status"), kept.get("GatewayPageURL")) {
            (Some("SUCCESS"), Some(url)) if self.may_send_customer_to(url) => Ok(Started {
                redirect_url: url.to_owned(),
                gateway_ref: kept.get("sessionkey").unwrap_or_default().to_owned(),
                customer_fields_sent,
            }),
            (Some("FAILED"), _) => Err(GatewayError::Refused {
                code: "FAILED".into(),
                message: kept
                    .get("failedreason")
                    .unwrap_or("SSLCommerz refused the session without a reason")
                    .to_owned(),
            }),
            _ => Err(GatewayError::Protocol(
                "a session answer without GatewayPageURL".into(),
            )),
        }
    }

    /// A live store sends customers only to https pages (a stand-in on
    /// plain http may send them to http).
    fn may_send_customer_to(&self, url: &str) -> bool {
        url.starts_with("https://")
            || (url.starts_with("http://") && self.config.base_url.starts_with("http://"))
    }

    /// Asks the validation API about `val_id`; only a confirmation of our
    /// `tran_id` pays.
    async fn validate(&self, tran_id: &str, val_id: &str) -> Result<PaymentFacts, GatewayError> {
        let body = self.read(VALIDATION_PATH, &[("val_id", val_id)]).await?;
        answer::validated(tran_id, &Kept::from_json(&body))
    }

    async fn read_notice(&self, pairs: &[(String, String)]) -> Result<PaymentFacts, GatewayError> {
        if !sign::signature_holds(pairs, &self.config.store_password) {
            tracing::warn!("an SSLCommerz notice whose verify_sign does not hold");
            return Err(GatewayError::BadSignature);
        }
        // From here on only the kept fields: the card fields were needed
        // for the signature and for nothing else.
        let kept = Kept::from_pairs(as_pairs(pairs));
        let tran_id = kept
            .get("tran_id")
            .ok_or_else(|| GatewayError::Protocol("a notice without tran_id".into()))?;
        let status = kept.get("status").unwrap_or_default();
        if !answer::is_valid(status) {
            return Ok(answer::payment_facts(
                tran_id,
                &kept,
                answer::unpaid_outcome(status),
            ));
        }
        let val_id = kept
            .get("val_id")
            .ok_or_else(|| GatewayError::Protocol("a VALID notice without val_id".into()))?;
        self.validate(tran_id, val_id).await
    }

    async fn finish_return(&self, back: &Return) -> Result<PaymentFacts, GatewayError> {
        // The return's own tran_id and status are the customer's word: only
        // our tran_id is asked about, and only SSLCommerz's answer counts.
        match back.fields.get("val_id") {
            Some(val_id) => self.validate(&back.tran_id, val_id).await,
            None => self.ask(&back.tran_id, &back.gateway_ref).await,
        }
    }

    /// The transaction query, by `tran_id` (or by `sessionkey` without one).
    async fn ask(&self, tran_id: &str, sessionkey: &str) -> Result<PaymentFacts, GatewayError> {
        if tran_id.is_empty() {
            let body = self.read(QUERY_PATH, &[("sessionkey", sessionkey)]).await?;
            let kept = Kept::from_json(&body);
            answer::check_api_connect(&kept)?;
            let tran_id = kept.get("tran_id").unwrap_or_default().to_owned();
            return Ok(answer::queried(&tran_id, &[kept]));
        }
        let body = self.read(QUERY_PATH, &[("tran_id", tran_id)]).await?;
        answer::check_api_connect(&Kept::from_json(&body))?;
        // Kept drops nested values whole, so each element goes through it
        // on its own; the array is only walked, never read.
        let elements: Vec<Kept> = body
            .get("element")
            .and_then(Value::as_array)
            .map(|list| list.iter().map(Kept::from_json).collect())
            .unwrap_or_default();
        Ok(answer::queried(tran_id, &elements))
    }

    async fn start_refund(&self, refund: &RefundRequest) -> Result<RefundFacts, GatewayError> {
        let bank_tran_id = refund
            .payment
            .gateway_transaction_id
            .as_deref()
            .ok_or_else(|| GatewayError::Refused {
                code: "bank_tran_id".into(),
                message: "an SSLCommerz refund needs the payment's bank_tran_id".into(),
            })?;
        let amount = taka(refund.amount);
        // Not retried: a lost answer may hide a refund made.
        let body = self
            .get(
                QUERY_PATH,
                &[
                    ("bank_tran_id", bank_tran_id),
                    ("refund_amount", amount.as_str()),
                    ("refund_remarks", refund.reason.as_str()),
                    ("refe_id", refund.refund_id.as_str()),
                    // Required by SSLCommerz's documentation since 2025;
                    // the libraries predate it.
                    ("refund_trans_id", refund.refund_id.as_str()),
                ],
            )
            .await?;
        answer::refund_facts(&refund.refund_id, &Kept::from_json(&body))
    }

    async fn ask_refund(
        &self,
        refund: &RefundRequest,
        refund_ref_id: &str,
    ) -> Result<RefundFacts, GatewayError> {
        let body = self
            .read(QUERY_PATH, &[("refund_ref_id", refund_ref_id)])
            .await?;
        answer::refund_facts(&refund.refund_id, &Kept::from_json(&body))
    }
}

impl Gateway for Sslcommerz {
    fn name(&self) -> &'static str {
        "sslcommerz"
    }

    fn start<'a>(&'a self, checkout: &'a Checkout) -> GatewayFuture<'a, Started> {
        Box::pin(self.open_session(checkout))
    }

    fn complete<'a>(&'a self, back: &'a Return) -> GatewayFuture<'a, PaymentFacts> {
        Box::pin(self.finish_return(back))
    }

    fn notice<'a>(&'a self, pairs: &'a [(String, String)]) -> GatewayFuture<'a, PaymentFacts> {
        Box::pin(self.read_notice(pairs))
    }

    fn query<'a>(
        &'a self,
        tran_id: &'a str,
        gateway_ref: &'a str,
    ) -> GatewayFuture<'a, PaymentFacts> {
        Box::pin(self.ask(tran_id, gateway_ref))
    }

    /// SSLCommerz's `success` is the request taken: the outcome is
    /// `Processing` until [`Gateway::refund_status`] says `refunded`.
    fn refund<'a>(&'a self, refund: &'a RefundRequest) -> GatewayFuture<'a, RefundFacts> {
        Box::pin(self.start_refund(refund))
    }

    fn refund_status<'a>(
        &'a self,
        refund: &'a RefundRequest,
        gateway_ref: &'a str,
    ) -> GatewayFuture<'a, RefundFacts> {
        Box::pin(self.ask_refund(refund, gateway_ref))
    }
}
