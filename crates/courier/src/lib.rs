//! Couriers (Steadfast, Pathao, RedX) behind one trait, [`Courier`]. Each
//! adapter is its own crate with a real HTTP client and, under its
//! `stand-in` feature, a local server that answers as the courier's
//! published API does.
//!
//! A [`Parcel`] holds only what delivery needs (the policy allows sharing
//! "limited information with courier services … strictly for order
//! fulfillment"): who receives it, their 11-digit local number, the
//! address, the amount to collect, the order number as invoice, the
//! delivery note and the item count and weight. The caller checks each
//! field against the data catalog and writes the disclosure log; adapters
//! send these fields and nothing else. Phone numbers, names and addresses
//! never appear in an error's `Display` or in logs.
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use thiserror::Error;

/// An 11-digit Bangladeshi mobile number as couriers take it (`01712345678`).
#[derive(Clone, PartialEq, Eq)]
pub struct LocalPhone(String);

impl LocalPhone {
    /// From an 11-digit local number or its E.164 form (`+8801712345678`).
    pub fn parse(text: &str) -> Option<LocalPhone> {
        let local = text.strip_prefix("+88").unwrap_or(text);
        (local.len() == 11 && local.starts_with("01") && local.bytes().all(|b| b.is_ascii_digit()))
            .then(|| LocalPhone(local.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for LocalPhone {
    // Debug output ends up in logs; the number is personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalPhone(…)")
    }
}

/// Money in poisha (1 taka = 100 poisha), as the shop keeps it.
pub type Poisha = i64;

/// What a courier is told about one parcel.
#[derive(Clone, PartialEq, Eq)]
pub struct Parcel {
    /// The order number (`CM-000123`): the courier's invoice, unique per
    /// consignment, so booking the same order twice finds the first.
    pub invoice: String,
    pub recipient_name: String,
    pub recipient_phone: LocalPhone,
    /// Address line, area and district, as one line.
    pub address: String,
    pub area: Option<String>,
    pub district: Option<String>,
    /// Cash to collect on delivery; 0 when paid online.
    pub cash_to_collect: Poisha,
    /// The customer's delivery instructions.
    pub note: Option<String>,
    pub item_count: u32,
    pub weight_grams: u32,
    /// The order's total value (RedX insures up to it).
    pub value: Poisha,
}

impl std::fmt::Debug for Parcel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parcel")
            .field("invoice", &self.invoice)
            .field("cash_to_collect", &self.cash_to_collect)
            .field("item_count", &self.item_count)
            .finish_non_exhaustive()
    }
}

/// A booked consignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub invoice: String,
    /// The courier's id for it (Steadfast and Pathao: consignment id;
    /// RedX: tracking id).
    pub consignment_id: String,
    /// What the customer tracks it with, when it differs from the id.
    pub tracking_code: Option<String>,
    /// What the courier charges, when it says at booking.
    pub delivery_fee: Option<Poisha>,
}

pub use chotomoni_domain::ParcelStatus;

/// What a courier says about one consignment (asked, or by webhook).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    pub consignment_id: String,
    pub invoice: Option<String>,
    pub status: ParcelStatus,
    /// The courier's own word for it, for staff.
    pub courier_status: String,
    pub collected: Option<Poisha>,
    pub delivery_fee: Option<Poisha>,
    /// The courier's time for it, as it wrote it.
    pub at: Option<String>,
}

/// What a webhook call turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookEvent {
    Status(StatusReport),
    /// Pathao's integration handshake, answered with its own status and header.
    Handshake,
    /// A notice that moves nothing (a tracking message, a store update).
    Ignored {
        what: String,
    },
}

#[derive(Debug, Clone, Error)]
pub enum CourierError {
    /// The courier refused the request; `message` is its own text for staff
    /// (it may repeat what was sent: it is not logged).
    #[error("the courier refused it (HTTP {status})")]
    Refused { status: u16, message: String },
    /// The credentials were refused.
    #[error("the courier refused the credentials (HTTP {status})")]
    Unauthorized { status: u16 },
    #[error("the courier did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the courier could not be reached: {0}")]
    Unreachable(String),
    #[error("the courier answered something unreadable: {0}")]
    Protocol(String),
    #[error("{0} is not something this courier offers")]
    NotSupported(&'static str),
}

impl CourierError {
    /// Whether trying the same call again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CourierError::Timeout(_) | CourierError::Unreachable(_)
        ) || matches!(self, CourierError::Refused { status, .. } if *status >= 500 || *status == 429)
    }

    /// The courier's own message, shown to staff with a failed booking.
    pub fn courier_message(&self) -> Option<&str> {
        match self {
            CourierError::Refused { message, .. } => Some(message),
            _ => None,
        }
    }
}

/// Why a webhook call is refused. Answered as the courier expects (401 for
/// a bad secret); nothing in it is trusted.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("the webhook's secret is missing or wrong")]
    Unauthenticated,
    #[error("the webhook's body is not what this courier sends: {0}")]
    Malformed(String),
}

/// What a courier expects back for a webhook call it need not send again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAnswer {
    pub status: u16,
    /// One header the courier looks for in the answer.
    pub header: Option<(&'static str, &'static str)>,
    /// A JSON body.
    pub body: &'static str,
}

impl Default for WebhookAnswer {
    fn default() -> Self {
        WebhookAnswer {
            status: 200,
            header: None,
            body: r#"{"status":"success"}"#,
        }
    }
}

pub type CourierFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CourierError>> + Send + 'a>>;

/// One courier's API.
pub trait Courier: Send + Sync {
    /// `steadfast`, `pathao` or `redx`.
    fn name(&self) -> &'static str;

    fn book<'a>(&'a self, parcel: &'a Parcel) -> CourierFuture<'a, Booking>;

    /// Books several at once, with the bulk endpoint where the courier has
    /// one that answers with an id per parcel; one result per parcel, in
    /// order. Without one, they are booked one after another.
    fn book_all<'a>(
        &'a self,
        parcels: &'a [Parcel],
    ) -> CourierFuture<'a, Vec<Result<Booking, CourierError>>> {
        Box::pin(async move {
            let mut results = Vec::with_capacity(parcels.len());
            for parcel in parcels {
                results.push(self.book(parcel).await);
            }
            Ok(results)
        })
    }

    fn status<'a>(&'a self, consignment_id: &'a str) -> CourierFuture<'a, StatusReport>;

    /// Cancels a consignment where the API allows it.
    fn cancel<'a>(&'a self, consignment_id: &'a str, reason: &'a str) -> CourierFuture<'a, ()>;

    /// The answer to an authenticated webhook call, including one about a
    /// consignment we do not know (which the courier should not resend).
    fn webhook_answer(&self, _event: &WebhookEvent) -> WebhookAnswer {
        WebhookAnswer::default()
    }

    /// Where the customer follows the parcel, when the courier has a page.
    fn tracking_url(&self, _consignment_id: &str, _tracking_code: Option<&str>) -> Option<String> {
        None
    }

    /// Authenticates and reads one webhook call: its headers (names in
    /// lower case), its query string and its body.
    fn read_webhook(
        &self,
        headers: &[(String, String)],
        query: &str,
        body: &[u8],
    ) -> Result<WebhookEvent, WebhookError>;
}

/// Calls `call` again after a transient failure (timeout, unreachable,
/// 429, 5xx), at most `retries` more times, pausing `first_pause` and then
/// twice as long each time. Only for calls that are safe to repeat (reads):
/// a booking whose answer was lost may have been made.
pub async fn with_retries<T, F, Fut>(
    retries: u32,
    first_pause: Duration,
    mut call: F,
) -> Result<T, CourierError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CourierError>>,
{
    let mut pause = first_pause;
    for _ in 0..retries {
        match call().await {
            Err(e) if e.is_transient() => {
                tracing::debug!(error = %e, "a courier read failed; asking again");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            done => return done,
        }
    }
    call().await
}

/// Compares a presented secret with the expected one in constant time.
pub fn secret_matches(presented: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    !expected.is_empty() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

/// Poisha as the decimal taka couriers take (`1060.50`).
pub fn taka(poisha: Poisha) -> String {
    format!("{}.{:02}", poisha / 100, (poisha % 100).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_numbers_are_eleven_digits() {
        assert_eq!(
            LocalPhone::parse("+8801712345678").unwrap().as_str(),
            "01712345678"
        );
        assert_eq!(
            LocalPhone::parse("01712345678").unwrap().as_str(),
            "01712345678"
        );
        assert!(LocalPhone::parse("1712345678").is_none());
        assert!(LocalPhone::parse("0171234567x").is_none());
        assert!(!format!("{:?}", LocalPhone::parse("01712345678").unwrap()).contains("1712"));
    }

    #[test]
    fn secrets_compare_whole_and_never_empty() {
        assert!(secret_matches("s3cret", "s3cret"));
        assert!(!secret_matches("s3cre", "s3cret"));
        assert!(!secret_matches("", ""));
    }

    #[tokio::test]
    async fn reads_are_asked_again_only_after_transient_failures() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let calls = AtomicU32::new(0);
        let flaky = || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(CourierError::Timeout(Duration::from_secs(1))),
                _ => Ok(7),
            }
        };
        assert_eq!(
            with_retries(2, Duration::from_millis(10), flaky)
                .await
                .unwrap(),
            7
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        calls.store(0, Ordering::SeqCst);
        let refused = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(CourierError::Refused {
                status: 422,
                message: String::new(),
            })
        };
        assert!(with_retries(2, Duration::from_millis(10), refused)
            .await
            .is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a refusal is final");
    }

    #[test]
    fn taka_has_two_decimals() {
        assert_eq!(taka(106050), "1060.50");
        assert_eq!(taka(5), "0.05");
    }
}
