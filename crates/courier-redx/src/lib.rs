//! RedX behind [`Courier`]: a client of RedX's open API
//! (`API-ACCESS-TOKEN: Bearer <jwt>`; `POST /parcel`, `GET /parcel/info/{id}`,
//! `PATCH /parcels` to cancel, `GET /areas`) and a reader of its webhooks.
//!
//! - RedX wants a delivery area id with every parcel, while a [`Parcel`]
//!   carries the area and district as text. [`Redx::book`] asks
//!   `GET /areas?district_name=` and takes the area whose name equals the
//!   parcel's (ignoring case and repeated spaces); no partial or fuzzy
//!   match, so a parcel never goes to a neighbouring area by guess. A parcel
//!   without an area or district, or whose area is not listed, is refused
//!   before anything is sent ([`CourierError::NotSupported`]), so staff fix
//!   the address.
//! - RedX has no bulk endpoint: [`Courier::book_all`] books one by one.
//! - Booking twice: RedX offers no lookup by `merchant_invoice_id` (none in
//!   its documentation nor in the clients we read) and no source says it
//!   refuses a repeated invoice. So a repeated `POST /parcel` would make a
//!   second parcel. What this client guarantees:
//!   * one client never posts the same invoice twice: it remembers each
//!     invoice it booked (bookings are serialized, so a double click waits
//!     for the first and gets its tracking id);
//!   * [`Redx::book_unless_booked`] takes the tracking id the caller stored
//!     and, when given one, asks RedX about it instead of booking; it is
//!     the call to use after a restart;
//!   * a booking is never retried here: a timeout may have created a parcel
//!     whose tracking id we never saw. Such a failure is transient and the
//!     caller must have staff check RedX's panel before booking again.
//! - Reads (`GET /areas`, `GET /parcel/info`) are retried twice after a
//!   transient failure, with a growing pause; the areas of a district are
//!   asked once per client.
//! - Webhooks carry no signature: the token is in the callback URL's query
//!   string (`?token=…`), compared in constant time.
//!
//! The access token and webhook token never appear in `Debug`, in errors
//! or in logs; errors carry no phone number, name or address.
use chotomoni_courier::{
    secret_matches, taka, Booking, Courier, CourierError, CourierFuture, Parcel, ParcelStatus,
    Poisha, StatusReport, WebhookError, WebhookEvent,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

mod areas;
pub use areas::Area;

#[cfg(any(test, feature = "stand-in"))]
pub mod stand_in;

#[cfg(test)]
mod tests;

pub const SANDBOX_BASE_URL: &str = "https://sandbox.redx.com.bd/v1.0.0-beta";
pub const PRODUCTION_BASE_URL: &str = "https://openapi.redx.com.bd/v1.0.0-beta";

/// How often a read is retried after a transient failure, and the first
/// pause; bookings are never retried (see above).
const GET_RETRIES: u32 = 2;
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// The header RedX reads the access token from (`Bearer <jwt>`).
pub const ACCESS_TOKEN_HEADER: &str = "API-ACCESS-TOKEN";

/// Settings of the RedX client. `Debug` never shows the tokens.
#[derive(Clone)]
pub struct RedxConfig {
    /// [`SANDBOX_BASE_URL`] or [`PRODUCTION_BASE_URL`].
    pub base_url: String,
    /// The JWT from RedX's merchant panel, without `Bearer `.
    pub access_token: String,
    /// The id from `GET /pickup/stores`, not the shop's id; without it RedX
    /// picks up from the account's default store.
    pub pickup_store_id: Option<u64>,
    /// The `token` we put in the callback URL registered with RedX.
    pub webhook_token: String,
    pub timeout: Duration,
}

impl std::fmt::Debug for RedxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedxConfig")
            .field("base_url", &self.base_url)
            .field("access_token", &"***")
            .field("pickup_store_id", &self.pickup_store_id)
            .field("webhook_token", &"***")
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Deserialize)]
struct BookedBody {
    tracking_id: String,
}

#[derive(Deserialize)]
struct InfoBody {
    parcel: ParcelInfo,
}

/// The part of `GET /parcel/info` read here; amounts are taka, which RedX
/// writes as numbers or strings.
#[derive(Deserialize)]
struct ParcelInfo {
    tracking_id: String,
    status: String,
    #[serde(default)]
    merchant_invoice_id: Option<String>,
    #[serde(default)]
    charge: Option<Value>,
    #[serde(default)]
    cash_collection_amount: Option<Value>,
}

#[derive(Deserialize)]
struct CancelBody {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct WebhookBody {
    tracking_number: String,
    #[serde(default)]
    timestamp: Option<String>,
    status: String,
    #[serde(default)]
    invoice_number: Option<String>,
}

/// The RedX open-API client.
pub struct Redx {
    config: RedxConfig,
    http: reqwest::Client,
    /// Invoice → tracking id of every parcel this client booked; the lock
    /// is held through a booking so the same invoice is never posted twice.
    booked: tokio::sync::Mutex<HashMap<String, String>>,
    /// Areas by district (lower case), as first listed.
    areas_known: std::sync::Mutex<HashMap<String, Vec<Area>>>,
}

impl std::fmt::Debug for Redx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redx")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Taka as RedX writes it (`60`, `60.5`, `"1060.50"`) in poisha.
fn poisha(value: &Value) -> Option<Poisha> {
    let taka = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    Some((taka * 100.0).round() as Poisha)
}

/// RedX's parcel statuses (from its documentation's webhook list and the
/// clients' status tables) in the shop's words.
pub fn map_status(status: &str) -> ParcelStatus {
    match status {
        "pickup-pending" | "pickup-processing" => ParcelStatus::Booked,
        "ready-for-delivery" | "delivery-in-progress" | "agent-area-change" => {
            ParcelStatus::WithCourier
        }
        "agent-hold" => ParcelStatus::OnHold,
        "delivered" => ParcelStatus::Delivered,
        "agent-returning" | "returned" => ParcelStatus::Returned,
        "cancelled" => ParcelStatus::Cancelled,
        _ => ParcelStatus::Unknown,
    }
}

impl Redx {
    pub fn new(config: RedxConfig) -> Result<Redx, CourierError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| CourierError::Unreachable(e.to_string()))?;
        Ok(Redx {
            config,
            http,
            booked: tokio::sync::Mutex::new(HashMap::new()),
            areas_known: std::sync::Mutex::new(HashMap::new()),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    fn transport_error(&self, e: reqwest::Error) -> CourierError {
        if e.is_timeout() {
            CourierError::Timeout(self.config.timeout)
        } else {
            // Without the URL: it carries tracking ids and district names.
            CourierError::Unreachable(e.without_url().to_string())
        }
    }

    /// Sends one request with the access token and reads RedX's answer.
    async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, CourierError> {
        let res = request
            .header(
                ACCESS_TOKEN_HEADER,
                format!("Bearer {}", self.config.access_token),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = res.status().as_u16();
        let bytes = res.bytes().await.map_err(|e| self.transport_error(e))?;
        if status == 401 || status == 403 {
            return Err(CourierError::Unauthorized { status });
        }
        if !(200..300).contains(&status) {
            return Err(CourierError::Refused {
                status,
                message: refusal_message(&bytes),
            });
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| CourierError::Protocol(format!("unreadable answer (HTTP {status}): {e}")))
    }

    /// Reads something: safe to ask again, so a transient failure (timeout,
    /// unreachable, 5xx, 429) is retried after a growing pause.
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, CourierError> {
        chotomoni_courier::with_retries(GET_RETRIES, RETRY_PAUSE, || {
            self.call(self.http.get(self.url(path)).query(query))
        })
        .await
    }

    /// The fields of `POST /parcel`, exactly the published ones that a
    /// [`Parcel`] fills; optional ones only when there is something to say.
    fn parcel_body(&self, parcel: &Parcel, area: &Area) -> Value {
        let mut body = json!({
            "customer_name": parcel.recipient_name,
            "customer_phone": parcel.recipient_phone.as_str(),
            "delivery_area": area.name,
            "delivery_area_id": area.id,
            "customer_address": parcel.address,
            "cash_collection_amount": taka(parcel.cash_to_collect),
            "parcel_weight": parcel.weight_grams,
            "value": taka(parcel.value),
            "merchant_invoice_id": parcel.invoice,
        });
        if let Some(note) = parcel.note.as_deref().filter(|n| !n.trim().is_empty()) {
            body["instruction"] = json!(note);
        }
        if let Some(store) = self.config.pickup_store_id {
            body["pickup_store_id"] = json!(store);
        }
        body
    }

    async fn book_now(&self, parcel: &Parcel) -> Result<Booking, CourierError> {
        let mut booked = self.booked.lock().await;
        if let Some(tracking_id) = booked.get(&parcel.invoice) {
            return Ok(booking(parcel, tracking_id.clone()));
        }
        let area = self.resolve_area(parcel).await?;
        let request = self
            .http
            .post(self.url("/parcel"))
            .json(&self.parcel_body(parcel, &area));
        let answer: BookedBody = self.call(request).await?;
        tracing::info!(invoice = %parcel.invoice, tracking_id = %answer.tracking_id, "RedX parcel booked");
        booked.insert(parcel.invoice.clone(), answer.tracking_id.clone());
        Ok(booking(parcel, answer.tracking_id))
    }

    /// Books `parcel` unless the caller already holds its tracking id; then
    /// RedX is asked about that parcel and, if it is this invoice's, its
    /// booking is returned without posting anything.
    pub async fn book_unless_booked(
        &self,
        parcel: &Parcel,
        known_tracking_id: Option<&str>,
    ) -> Result<Booking, CourierError> {
        let Some(tracking_id) = known_tracking_id else {
            return self.book_now(parcel).await;
        };
        let info = self.info(tracking_id).await?;
        match info.merchant_invoice_id.as_deref() {
            Some(invoice) if invoice != parcel.invoice => Err(CourierError::Protocol(format!(
                "parcel {tracking_id} belongs to another invoice"
            ))),
            _ => Ok(booking(parcel, info.tracking_id)),
        }
    }

    async fn info(&self, tracking_id: &str) -> Result<ParcelInfo, CourierError> {
        let path = format!("/parcel/info/{tracking_id}");
        Ok(self.get::<InfoBody>(&path, &[]).await?.parcel)
    }

    async fn status_now(&self, tracking_id: &str) -> Result<StatusReport, CourierError> {
        let info = self.info(tracking_id).await?;
        let status = map_status(&info.status);
        // RedX reports the amount to collect; it is what was collected only
        // once the parcel is delivered.
        let collected = (status == ParcelStatus::Delivered)
            .then(|| info.cash_collection_amount.as_ref().and_then(poisha))
            .flatten();
        Ok(StatusReport {
            consignment_id: info.tracking_id,
            invoice: info.merchant_invoice_id,
            status,
            courier_status: info.status,
            collected,
            delivery_fee: info.charge.as_ref().and_then(poisha),
            at: None,
        })
    }

    async fn cancel_now(&self, tracking_id: &str, reason: &str) -> Result<(), CourierError> {
        let request = self.http.patch(self.url("/parcels")).json(&json!({
            "entity_type": "parcel-tracking-id",
            "entity_id": tracking_id,
            "update_details": {
                "property_name": "status",
                "new_value": "cancelled",
                "reason": reason,
            },
        }));
        let answer: CancelBody = self.call(request).await?;
        if answer.success {
            Ok(())
        } else {
            Err(CourierError::Refused {
                status: 200,
                message: answer.message.unwrap_or_default(),
            })
        }
    }
}

fn booking(parcel: &Parcel, tracking_id: String) -> Booking {
    Booking {
        invoice: parcel.invoice.clone(),
        consignment_id: tracking_id,
        // RedX's customers track by the same id.
        tracking_code: None,
        delivery_fee: None,
    }
}

/// RedX's own words from an error body (`message`, with `validation_errors`
/// when it lists them), or the start of the body when it is not JSON.
fn refusal_message(bytes: &[u8]) -> String {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(body) => {
            let message = body
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match body.get("validation_errors") {
                Some(details) => format!("{message} {details}"),
                None => message.to_owned(),
            }
        }
        Err(_) => String::from_utf8_lossy(bytes).chars().take(200).collect(),
    }
}

impl Courier for Redx {
    fn name(&self) -> &'static str {
        "redx"
    }

    fn book<'a>(&'a self, parcel: &'a Parcel) -> CourierFuture<'a, Booking> {
        Box::pin(self.book_now(parcel))
    }

    // `book_all` is the trait's one-by-one booking: RedX has no bulk endpoint.

    fn tracking_url(&self, consignment_id: &str, _tracking_code: Option<&str>) -> Option<String> {
        Some(format!(
            "https://redx.com.bd/track-parcel/?trackingId={consignment_id}"
        ))
    }

    fn status<'a>(&'a self, consignment_id: &'a str) -> CourierFuture<'a, StatusReport> {
        Box::pin(self.status_now(consignment_id))
    }

    fn cancel<'a>(&'a self, consignment_id: &'a str, reason: &'a str) -> CourierFuture<'a, ()> {
        Box::pin(self.cancel_now(consignment_id, reason))
    }

    fn read_webhook(
        &self,
        _headers: &[(String, String)],
        query: &str,
        body: &[u8],
    ) -> Result<WebhookEvent, WebhookError> {
        let params: Vec<(String, String)> =
            serde_urlencoded::from_str(query.trim_start_matches('?')).unwrap_or_default();
        let token = params
            .iter()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        if !secret_matches(token, &self.config.webhook_token) {
            return Err(WebhookError::Unauthenticated);
        }
        let event: WebhookBody =
            serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        Ok(WebhookEvent::Status(StatusReport {
            consignment_id: event.tracking_number,
            invoice: event.invoice_number.filter(|i| !i.is_empty()),
            status: map_status(&event.status),
            courier_status: event.status,
            collected: None,
            delivery_fee: None,
            at: event.timestamp,
        }))
    }
}
