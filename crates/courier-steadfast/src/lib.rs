//! Steadfast Courier (Packzy) behind [`Courier`]: [`Steadfast`] is a client of
//! its merchant API (`https://portal.packzy.com/api/v1`, `Api-Key` and
//! `Secret-Key` headers, JSON), and [`webhook`] reads the delivery-status
//! calls Steadfast makes with the merchant's bearer token.
//!
//! - `book`: `POST /create_order`; `book_all`: `POST
//!   /create_order/bulk-order` with `{"data": "<JSON array>"}`, at most
//!   [`BULK_LIMIT`] a call; `status`: `GET /status_by_cid/{id}`; `cancel`:
//!   `POST /create_return_request` (Steadfast has no cancel).
//! - A repeated invoice. Steadfast keeps invoices unique and refuses a second
//!   `create_order` with a validation error on `invoice` ("The invoice has
//!   already been taken.", as real clients' tests show it). The published
//!   document does not say more, so this adapter assumes that answer (HTTP
//!   400 or 422, or 200 with `"status": 400` in the body) and then asks
//!   `GET /status_by_invoice/{invoice}` for the first consignment. The
//!   published answer of that lookup carries only `delivery_status`; some
//!   clients read `consignment_id` and `tracking_code` from it as well. When
//!   they are there, booking twice returns the first booking; when not, it
//!   is [`CourierError::Refused`] with Steadfast's message, and still never
//!   a second consignment.
//! - `stand_in` (feature `stand-in`, and in this crate's tests): a local
//!   server answering as the published API does.
//!
//! Only the published fields of a [`Parcel`] are sent (invoice, recipient
//! name, 11-digit phone, address, amount to collect, note, item count as
//! `total_lot`). The API key, secret key and webhook token never appear in
//! `Debug`, `Display`, logs or errors; neither does the recipient.
use chotomoni_courier::{
    Booking, Courier, CourierError, CourierFuture, Parcel, StatusReport, WebhookAnswer,
    WebhookError, WebhookEvent,
};
use serde_json::{json, Value};
use std::time::Duration;
use thiserror::Error;

mod fields;
mod status;
pub mod webhook;
pub use fields::poisha_from_taka;
use fields::{
    booking_from, id_text, is_duplicate_invoice, order_fields, path_segment, refusal_message,
    BulkItem,
};
pub use status::parcel_status;
pub use webhook::WEBHOOK_ANSWER;

#[cfg(any(test, feature = "stand-in"))]
pub mod stand_in;

#[cfg(test)]
mod tests;

pub const BASE_URL: &str = "https://portal.packzy.com/api/v1";

/// Steadfast takes at most this many consignments per bulk call.
pub const BULK_LIMIT: usize = 500;

/// Settings of the Steadfast client. `Debug` never shows the keys or token.
#[derive(Clone)]
pub struct SteadfastConfig {
    /// [`BASE_URL`] in production.
    pub base_url: String,
    pub api_key: String,
    pub secret_key: String,
    /// The bearer token set with the callback URL in Steadfast's panel.
    pub webhook_token: String,
    /// For each HTTP call, connecting included.
    pub timeout: Duration,
    /// How many more times a status lookup is tried after a transient
    /// failure; bookings and return requests are never repeated, since a
    /// lost answer may hide a created consignment.
    pub status_retries: u32,
}

impl SteadfastConfig {
    pub fn new(api_key: &str, secret_key: &str, webhook_token: &str) -> SteadfastConfig {
        SteadfastConfig {
            base_url: BASE_URL.to_owned(),
            api_key: api_key.to_owned(),
            secret_key: secret_key.to_owned(),
            webhook_token: webhook_token.to_owned(),
            timeout: Duration::from_secs(20),
            status_retries: 2,
        }
    }
}

impl std::fmt::Debug for SteadfastConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SteadfastConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"***")
            .field("secret_key", &"***")
            .field("webhook_token", &"***")
            .field("timeout", &self.timeout)
            .field("status_retries", &self.status_retries)
            .finish()
    }
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
    #[error("the Steadfast base URL must be http or https")]
    BaseUrl,
}

/// The Steadfast client.
#[derive(Clone)]
pub struct Steadfast {
    config: SteadfastConfig,
    // The keys go on each request, not as default headers: reqwest's
    // `Debug` of a client prints its default headers.
    http: reqwest::Client,
}

impl std::fmt::Debug for Steadfast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Steadfast")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Display for Steadfast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Steadfast at {}", self.config.base_url)
    }
}

/// An answer that is not a success, as an error; `body` is kept for the
/// duplicate-invoice check.
struct Refusal {
    error: CourierError,
    body: Value,
}

impl Steadfast {
    pub fn new(config: SteadfastConfig) -> Result<Steadfast, ConfigError> {
        if !(config.base_url.starts_with("https://") || config.base_url.starts_with("http://")) {
            return Err(ConfigError::BaseUrl);
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        Ok(Steadfast { config, http })
    }

    pub fn config(&self) -> &SteadfastConfig {
        &self.config
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    fn transport_error(&self, e: reqwest::Error) -> CourierError {
        if e.is_timeout() {
            CourierError::Timeout(self.config.timeout)
        } else {
            // Without the URL: it may carry an invoice or consignment id.
            CourierError::Unreachable(e.without_url().to_string())
        }
    }

    /// One call; a success is HTTP 2xx whose body, when it carries a numeric
    /// `status`, says 2xx (Steadfast also refuses inside a 200).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Refusal> {
        let mut request = self
            .http
            .request(method, self.url(path))
            .header("Api-Key", &self.config.api_key)
            .header("Secret-Key", &self.config.secret_key)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let refused = |error| Refusal {
            error,
            body: Value::Null,
        };
        let res = request
            .send()
            .await
            .map_err(|e| refused(self.transport_error(e)))?;
        let http_status = res.status().as_u16();
        let bytes = res
            .bytes()
            .await
            .map_err(|e| refused(self.transport_error(e)))?;
        let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
        let body_status = parsed
            .as_ref()
            .and_then(|b| b.get("status"))
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok());
        let status = match body_status {
            Some(s) if (200..300).contains(&http_status) && !(200..300).contains(&s) => s,
            _ => http_status,
        };
        if status == 401 || status == 403 {
            return Err(refused(CourierError::Unauthorized { status }));
        }
        let Some(parsed) = parsed else {
            return Err(refused(if (200..300).contains(&status) {
                CourierError::Protocol(format!("a body that is not JSON (HTTP {http_status})"))
            } else {
                CourierError::Refused {
                    status,
                    message: String::new(),
                }
            }));
        };
        if (200..300).contains(&status) {
            return Ok(parsed);
        }
        Err(Refusal {
            error: CourierError::Refused {
                status,
                message: refusal_message(&parsed),
            },
            body: parsed,
        })
    }

    /// A status lookup, tried again with backoff after transient failures:
    /// asking twice changes nothing at Steadfast.
    async fn lookup(&self, path: &str) -> Result<Value, CourierError> {
        chotomoni_courier::with_retries(
            self.config.status_retries,
            Duration::from_millis(200),
            || async {
                self.call(reqwest::Method::GET, path, None)
                    .await
                    .map_err(|r| r.error)
            },
        )
        .await
    }

    /// The consignment Steadfast already holds for `invoice`, if its answer
    /// names it (see the crate's documentation).
    async fn booking_by_invoice(&self, invoice: &str) -> Result<Option<Booking>, CourierError> {
        let body = self
            .lookup(&format!("/status_by_invoice/{}", path_segment(invoice)))
            .await?;
        Ok(body
            .get("consignment_id")
            .and_then(id_text)
            .map(|consignment_id| Booking {
                invoice: invoice.to_owned(),
                consignment_id,
                tracking_code: body
                    .get("tracking_code")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                delivery_fee: None,
            }))
    }

    /// After Steadfast refused an invoice as taken: the first booking, or
    /// the refusal when it cannot be found.
    async fn first_booking(
        &self,
        invoice: &str,
        refusal: CourierError,
    ) -> Result<Booking, CourierError> {
        match self.booking_by_invoice(invoice).await {
            Ok(Some(booking)) => {
                tracing::info!(
                    invoice,
                    "Steadfast already had this invoice; using its consignment"
                );
                Ok(booking)
            }
            _ => Err(refusal),
        }
    }

    async fn book_one(&self, parcel: &Parcel) -> Result<Booking, CourierError> {
        let fields = order_fields(parcel);
        match self
            .call(reqwest::Method::POST, "/create_order", Some(&fields))
            .await
        {
            Ok(body) => {
                let c = body.get("consignment").ok_or_else(|| {
                    CourierError::Protocol("a booking answer without its consignment".into())
                })?;
                booking_from(&parcel.invoice, c)
                    .ok_or_else(|| CourierError::Protocol("a consignment without its id".into()))
            }
            Err(r) if is_duplicate_invoice(&r.body) => {
                self.first_booking(&parcel.invoice, r.error).await
            }
            Err(r) => Err(r.error),
        }
    }

    async fn book_chunk(
        &self,
        parcels: &[Parcel],
    ) -> Result<Vec<Result<Booking, CourierError>>, CourierError> {
        let items: Vec<Value> = parcels.iter().map(order_fields).collect();
        let data =
            serde_json::to_string(&items).map_err(|e| CourierError::Protocol(e.to_string()))?;
        let body = self
            .call(
                reqwest::Method::POST,
                "/create_order/bulk-order",
                Some(&json!({ "data": data })),
            )
            .await
            .map_err(|r| r.error)?;
        let answers: Vec<BulkItem> =
            serde_json::from_value(body.get("data").cloned().unwrap_or(body))
                .map_err(|_| CourierError::Protocol("a bulk answer that is not a list".into()))?;
        let mut results = Vec::with_capacity(parcels.len());
        for (i, parcel) in parcels.iter().enumerate() {
            // Matched by invoice where the answer says it, else by position.
            let answer = answers
                .iter()
                .find(|a| a.invoice.as_deref() == Some(parcel.invoice.as_str()))
                .or_else(|| answers.get(i));
            results.push(self.bulk_result(parcel, answer).await);
        }
        Ok(results)
    }

    async fn bulk_result(
        &self,
        parcel: &Parcel,
        answer: Option<&BulkItem>,
    ) -> Result<Booking, CourierError> {
        let Some(answer) = answer else {
            return Err(CourierError::Protocol(
                "the bulk answer left this parcel out".into(),
            ));
        };
        let id = answer.consignment_id.as_ref().and_then(id_text);
        if let (Some("success"), Some(consignment_id)) = (answer.status.as_deref(), id) {
            return Ok(Booking {
                invoice: parcel.invoice.clone(),
                consignment_id,
                tracking_code: answer.tracking_code.clone(),
                delivery_fee: None,
            });
        }
        let message = answer
            .error
            .as_ref()
            .map(|e| match e {
                Value::String(s) => s.clone(),
                other => refusal_message(&json!({ "errors": other })),
            })
            .or_else(|| answer.message.clone())
            .unwrap_or_else(|| "Steadfast refused this item of the bulk order".into());
        let refusal = CourierError::Refused {
            status: 400,
            message,
        };
        // The bulk answer does not say why an item failed; a taken invoice
        // must still give back the first consignment.
        self.first_booking(&parcel.invoice, refusal).await
    }

    async fn status_of(&self, consignment_id: &str) -> Result<StatusReport, CourierError> {
        let body = self
            .lookup(&format!("/status_by_cid/{}", path_segment(consignment_id)))
            .await?;
        let courier_status = body
            .get("delivery_status")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                CourierError::Protocol("a status answer without delivery_status".into())
            })?;
        Ok(StatusReport {
            consignment_id: consignment_id.to_owned(),
            invoice: None,
            status: parcel_status(courier_status),
            courier_status: courier_status.to_owned(),
            collected: None,
            delivery_fee: None,
            at: None,
        })
    }

    async fn return_request(&self, consignment_id: &str, reason: &str) -> Result<(), CourierError> {
        // Steadfast's ids are numbers; one that is not is sent as written.
        let id = consignment_id
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(consignment_id));
        self.call(
            reqwest::Method::POST,
            "/create_return_request",
            Some(&json!({ "consignment_id": id, "reason": reason })),
        )
        .await
        .map(|_| ())
        .map_err(|r| r.error)
    }
}

impl Courier for Steadfast {
    fn name(&self) -> &'static str {
        "steadfast"
    }

    fn book<'a>(&'a self, parcel: &'a Parcel) -> CourierFuture<'a, Booking> {
        Box::pin(self.book_one(parcel))
    }

    /// In calls of at most [`BULK_LIMIT`]; a call that fails as a whole
    /// fails each of its parcels with a copy of its error.
    fn book_all<'a>(
        &'a self,
        parcels: &'a [Parcel],
    ) -> CourierFuture<'a, Vec<Result<Booking, CourierError>>> {
        Box::pin(async move {
            let mut results = Vec::with_capacity(parcels.len());
            for chunk in parcels.chunks(BULK_LIMIT) {
                match self.book_chunk(chunk).await {
                    Ok(done) => results.extend(done),
                    // Credentials refused: nothing else will go through.
                    Err(e @ CourierError::Unauthorized { .. }) => return Err(e),
                    Err(e) => results.extend(chunk.iter().map(|_| Err(e.clone()))),
                }
            }
            Ok(results)
        })
    }

    fn status<'a>(&'a self, consignment_id: &'a str) -> CourierFuture<'a, StatusReport> {
        Box::pin(self.status_of(consignment_id))
    }

    /// Steadfast has no cancel: this files a return request
    /// (`POST /create_return_request` with the consignment id and reason),
    /// which Steadfast reviews; its progress is not a parcel status.
    fn cancel<'a>(&'a self, consignment_id: &'a str, reason: &'a str) -> CourierFuture<'a, ()> {
        Box::pin(self.return_request(consignment_id, reason))
    }

    fn read_webhook(
        &self,
        headers: &[(String, String)],
        _query: &str,
        body: &[u8],
    ) -> Result<WebhookEvent, WebhookError> {
        webhook::read(&self.config.webhook_token, headers, body)
    }

    fn webhook_answer(&self, _event: &WebhookEvent) -> WebhookAnswer {
        WebhookAnswer {
            body: webhook::WEBHOOK_ANSWER,
            ..WebhookAnswer::default()
        }
    }

    /// Steadfast's public tracking page takes the tracking code.
    fn tracking_url(&self, _consignment_id: &str, tracking_code: Option<&str>) -> Option<String> {
        tracking_code.map(|code| format!("https://steadfast.com.bd/t/{code}"))
    }
}
