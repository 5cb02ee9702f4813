//! Pathao Courier's merchant API ("Aladdin") behind [`Courier`].
//!
//! - Tokens: `POST /aladdin/api/v1/issue-token` with the password grant
//!   gives an access and a refresh token and `expires_in`. The token is kept
//!   in memory only, refreshed with the refresh grant once less than
//!   [`refresh_margin`] of its life remains, and issued afresh when the
//!   refresh is refused or a call answers 401 (credentials rotated in the
//!   panel). One `tokio::sync::Mutex` guards it, so callers that find it
//!   stale at once wait for one refresh instead of each starting their own.
//! - Answers are wrapped `{message, type, code, data}`; a refusal keeps
//!   Pathao's `message` and its per-field `errors` for staff.
//! - [`Pathao::book`] sends no city, zone or area: since July 2025 Pathao
//!   derives them from the address. What it does send is listed in
//!   [`OrderFields`]. Refusals found here before anything is sent (an
//!   address under 10 characters, more than 10 kg) are
//!   `CourierError::Refused` with status 0.
//! - Duplicates: the API has no look-up by `merchant_order_id`, and Pathao's
//!   own plugin guards duplicates on its side ("Order already have a
//!   consignment id"). So this client books one parcel at a time, remembers
//!   each invoice it booked and answers a second booking with the first
//!   consignment; it assumes Pathao refuses a repeated `merchant_order_id`
//!   with a validation error (the stand-in does), which reaches staff as
//!   `Refused`. Across restarts the caller's stored consignment id is the
//!   guard.
//! - [`Courier::book_all`] books one parcel after another: the bulk endpoint
//!   answers 202 `data: true` and no ids, which cannot give the one
//!   `Booking` per parcel the trait promises. [`Pathao::submit_bulk`] uses
//!   it for callers that take the ids from the `order.created` webhooks.
//! - Pathao's API offers no cancellation: [`Courier::cancel`] is
//!   `NotSupported` (merchants cancel in the panel; `order.pickup-cancelled`
//!   then arrives by webhook).
//! - Reads (status, locations) are tried [`READ_ATTEMPTS`] times after
//!   timeouts, unreachable hosts, 429 and 5xx, with a doubling wait;
//!   bookings once, since Pathao may have acted on one whose answer was
//!   lost (a 401 is tried again with a new token: Pathao did not act).
//! - Webhooks: see [`webhook`].
//!
//! Client secrets, passwords and tokens never appear in `Debug`, errors or
//! logs; neither do recipients' names, numbers or addresses.
use chotomoni_courier::{
    Booking, Courier, CourierError, CourierFuture, Parcel, Poisha, StatusReport, WebhookAnswer,
    WebhookError, WebhookEvent,
};
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;

mod fields;
mod locations;
mod status;
mod token;
pub mod webhook;
pub use fields::{poisha_of, whole_taka, OrderFields};
pub use locations::Location;
pub use status::status_of;
pub use token::refresh_margin;
use token::Token;

#[cfg(any(test, feature = "stand-in"))]
pub mod stand_in;

#[cfg(test)]
mod tests;

pub const PRODUCTION_BASE_URL: &str = "https://api-hermes.pathao.com";
pub const SANDBOX_BASE_URL: &str = "https://courier-api-sandbox.pathao.com";

/// `delivery_type` 48: normal delivery (12 is on-demand).
pub const DELIVERY_TYPE_NORMAL: u32 = 48;
/// `item_type` 2: a parcel (1 is a document).
pub const ITEM_TYPE_PARCEL: u32 = 2;
/// How many bookings a client remembers to answer a repeated one.
pub const REMEMBERED_BOOKINGS: usize = 10_000;
/// How often a read (status, locations) is tried in all.
pub const READ_ATTEMPTS: u32 = 3;
/// The wait before a read's second try; doubled before each further one.
pub const RETRY_BACKOFF: Duration = Duration::from_millis(250);
/// Pathao refuses a shorter `recipient_address`.
pub const MIN_ADDRESS_CHARS: usize = 10;
pub const MIN_WEIGHT_GRAMS: u32 = 500;
pub const MAX_WEIGHT_GRAMS: u32 = 10_000;

/// Settings of the Pathao client. `Debug` shows none of the secrets.
#[derive(Clone)]
pub struct PathaoConfig {
    /// [`PRODUCTION_BASE_URL`] or [`SANDBOX_BASE_URL`].
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// The merchant panel's login (an email address).
    pub username: String,
    pub password: String,
    pub store_id: u64,
    /// The secret set in the panel, sent back as `X-PATHAO-Signature`.
    pub webhook_secret: String,
    /// For each HTTP request. A call that finds its token stale makes up
    /// to three (refresh, issue, the call itself), and one refused with
    /// 401 one more.
    pub timeout: Duration,
}

impl std::fmt::Debug for PathaoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PathaoConfig")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("store_id", &self.store_id)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Pathao's answer wrapper.
#[derive(Deserialize)]
struct Envelope<T> {
    data: Option<T>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    errors: Option<serde_json::Value>,
}

impl ErrorBody {
    /// Pathao's message followed by its per-field errors.
    fn for_staff(self) -> String {
        let mut text = self.message.unwrap_or_default();
        if let Some(serde_json::Value::Object(fields)) = self.errors {
            for (field, problems) in fields {
                let problems = match problems {
                    serde_json::Value::Array(list) => list
                        .iter()
                        .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(" "),
                    other => other.to_string(),
                };
                text.push_str(&format!("; {field}: {problems}"));
            }
        }
        text
    }
}

#[derive(Deserialize)]
struct CreatedOrder {
    consignment_id: String,
    #[serde(default)]
    delivery_fee: Option<f64>,
}

#[derive(Deserialize)]
struct OrderInfo {
    consignment_id: String,
    #[serde(default)]
    merchant_order_id: Option<String>,
    #[serde(default)]
    order_status: Option<String>,
    #[serde(default)]
    order_status_slug: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
}

/// The Pathao merchant API client.
pub struct Pathao {
    config: PathaoConfig,
    http: reqwest::Client,
    token: tokio::sync::Mutex<Option<Token>>,
    booked: tokio::sync::Mutex<HashMap<String, Booking>>,
}

impl std::fmt::Debug for Pathao {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pathao")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Pathao {
    pub fn new(config: PathaoConfig) -> Result<Pathao, CourierError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| CourierError::Unreachable(e.without_url().to_string()))?;
        Ok(Pathao {
            config,
            http,
            token: tokio::sync::Mutex::new(None),
            booked: tokio::sync::Mutex::new(HashMap::new()),
        })
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/aladdin/api/v1/{path}",
            self.config.base_url.trim_end_matches('/')
        )
    }

    fn transport(&self, e: reqwest::Error) -> CourierError {
        if e.is_timeout() {
            CourierError::Timeout(self.config.timeout)
        } else {
            // Without the URL: the query may name a consignment, and errors get logged.
            CourierError::Unreachable(e.without_url().to_string())
        }
    }

    /// One authorized call. Reads (GET) are tried again after a transient
    /// failure, waiting [`RETRY_BACKOFF`] and then twice as long; a booking
    /// is not, since Pathao may have acted on a request whose answer was lost.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, Option<T>), CourierError> {
        let attempts = if method == reqwest::Method::GET {
            READ_ATTEMPTS
        } else {
            1
        };
        chotomoni_courier::with_retries(attempts - 1, RETRY_BACKOFF, || {
            self.call_once(method.clone(), path, body)
        })
        .await
    }

    /// One authorized call; a 401 gets one new token and one more try
    /// (Pathao did not act on the refused request).
    async fn call_once<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, Option<T>), CourierError> {
        let mut token = self.access_token(None).await?;
        for attempt in 0..2 {
            let mut req = self
                .http
                .request(method.clone(), self.url(path))
                .bearer_auth(&token)
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(body) = body {
                req = req.json(body);
            }
            let res = req.send().await.map_err(|e| self.transport(e))?;
            let status = res.status().as_u16();
            let bytes = res.bytes().await.map_err(|e| self.transport(e))?;
            if status == 401 {
                if attempt == 0 {
                    token = self.access_token(Some(&token)).await?;
                    continue;
                }
                return Err(CourierError::Unauthorized { status });
            }
            if !(200..300).contains(&status) {
                return Err(refusal(status, &bytes));
            }
            let envelope: Envelope<T> = serde_json::from_slice(&bytes).map_err(|_| {
                CourierError::Protocol(format!("unreadable answer (HTTP {status})"))
            })?;
            // Only the status: Pathao's message may repeat what was sent.
            tracing::debug!(status, "Pathao answered");
            return Ok((status, envelope.data));
        }
        unreachable!("the loop returns on its second attempt")
    }

    async fn data<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, CourierError> {
        let (status, data) = self.call(method, path, body).await?;
        data.ok_or_else(|| {
            CourierError::Protocol(format!("an answer without data (HTTP {status})"))
        })
    }

    async fn book_one(&self, parcel: &Parcel) -> Result<Booking, CourierError> {
        let fields = OrderFields::from_parcel(parcel, self.config.store_id)?;
        // Held across the request: two bookings of one order at once (a
        // double click) must not both reach Pathao.
        let mut booked = self.booked.lock().await;
        if let Some(first) = booked.get(&parcel.invoice) {
            return Ok(first.clone());
        }
        let body =
            serde_json::to_value(&fields).map_err(|e| CourierError::Protocol(e.to_string()))?;
        let created: CreatedOrder = self
            .data(reqwest::Method::POST, "orders", Some(&body))
            .await?;
        let booking = Booking {
            invoice: parcel.invoice.clone(),
            consignment_id: created.consignment_id,
            tracking_code: None,
            delivery_fee: created.delivery_fee.map(poisha_of),
        };
        // The caller's stored consignment id is the lasting guard; this one
        // only has to cover a process's recent bookings.
        if booked.len() >= REMEMBERED_BOOKINGS {
            booked.clear();
        }
        booked.insert(parcel.invoice.clone(), booking.clone());
        Ok(booking)
    }

    /// Hands the parcels to Pathao's bulk endpoint, which books them later:
    /// it answers 202 with no ids, and each consignment id arrives with its
    /// invoice in an `order.created` webhook. Nothing is sent unless every
    /// parcel passes the local checks.
    pub async fn submit_bulk(&self, parcels: &[Parcel]) -> Result<(), CourierError> {
        let orders = parcels
            .iter()
            .map(|p| OrderFields::from_parcel(p, self.config.store_id))
            .collect::<Result<Vec<_>, _>>()?;
        let body = serde_json::json!({ "orders": orders });
        let (status, accepted) = self
            .call::<serde_json::Value>(reqwest::Method::POST, "orders/bulk", Some(&body))
            .await?;
        match accepted {
            Some(serde_json::Value::Bool(true)) => Ok(()),
            _ => Err(CourierError::Protocol(format!(
                "the bulk booking was not accepted (HTTP {status})"
            ))),
        }
    }

    async fn status_now(&self, consignment_id: &str) -> Result<StatusReport, CourierError> {
        let info: OrderInfo = self
            .data(
                reqwest::Method::GET,
                &format!("orders/{}/info", path_segment(consignment_id)?),
                None,
            )
            .await?;
        let said = info
            .order_status_slug
            .or(info.order_status)
            .unwrap_or_default();
        Ok(StatusReport {
            consignment_id: info.consignment_id,
            invoice: info.merchant_order_id,
            status: status_of(&said),
            courier_status: said,
            collected: None,
            delivery_fee: None,
            at: info.updated_at,
        })
    }
}

/// A consignment id goes into a path: only the characters Pathao's ids use.
fn path_segment(id: &str) -> Result<&str, CourierError> {
    if !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(id)
    } else {
        Err(CourierError::Refused {
            status: 0,
            message: "not a Pathao consignment id".into(),
        })
    }
}

fn refusal(status: u16, bytes: &[u8]) -> CourierError {
    let body: ErrorBody = serde_json::from_slice(bytes).unwrap_or_default();
    CourierError::Refused {
        status,
        message: body.for_staff(),
    }
}

impl Courier for Pathao {
    fn name(&self) -> &'static str {
        "pathao"
    }

    fn book<'a>(&'a self, parcel: &'a Parcel) -> CourierFuture<'a, Booking> {
        Box::pin(self.book_one(parcel))
    }

    // `book_all` is the trait's one-by-one booking: Pathao's bulk endpoint
    // answers without ids (see `submit_bulk`).

    fn status<'a>(&'a self, consignment_id: &'a str) -> CourierFuture<'a, StatusReport> {
        Box::pin(self.status_now(consignment_id))
    }

    fn cancel<'a>(&'a self, _consignment_id: &'a str, _reason: &'a str) -> CourierFuture<'a, ()> {
        Box::pin(std::future::ready(Err(CourierError::NotSupported(
            "cancelling through the API",
        ))))
    }

    fn read_webhook(
        &self,
        headers: &[(String, String)],
        _query: &str,
        body: &[u8],
    ) -> Result<WebhookEvent, WebhookError> {
        webhook::read(&self.config.webhook_secret, headers, body)
    }

    /// Every call is answered 202; the handshake also with Pathao's header,
    /// without which it does not save the webhook URL.
    fn webhook_answer(&self, event: &WebhookEvent) -> WebhookAnswer {
        WebhookAnswer {
            status: webhook::HANDSHAKE_STATUS,
            header: matches!(event, WebhookEvent::Handshake)
                .then_some((webhook::HANDSHAKE_HEADER, webhook::HANDSHAKE_SECRET)),
            body: "{}",
        }
    }

    fn tracking_url(&self, consignment_id: &str, _tracking_code: Option<&str>) -> Option<String> {
        Some(format!(
            "https://merchant.pathao.com/tracking?consignment_id={consignment_id}"
        ))
    }
}
