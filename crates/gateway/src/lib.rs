//! Payment gateways (SSLCommerz, bKash) behind one trait, [`Gateway`].
//! Each adapter is its own crate with a real HTTP client and, under its
//! `stand-in` feature, a local server that answers as the gateway's
//! published API does.
//!
//! The policy: "we do not store full card or banking details; we only
//! receive payment status confirmation." Every payload a gateway sends us
//! (a return, a notice, an answer to a query) is read through [`Kept`],
//! which copies only the fields named in [`KEPT_FIELDS`] and drops
//! everything else (card numbers, even masked; card brand, issuer and its
//! country; bank names; EMI details; the payer's wallet number) before an
//! adapter looks at it. Nothing outside [`PaymentFacts`] and
//! [`RefundFacts`] leaves an adapter, and neither can hold card or wallet
//! data: they have no field for it.
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use thiserror::Error;

/// Money in poisha (1 taka = 100 poisha), as the shop keeps it.
pub type Poisha = i64;

/// The only payload fields any gateway adapter may read. Everything else a
/// gateway sends is dropped by [`Kept::from_pairs`] / [`Kept::from_json`].
pub const KEPT_FIELDS: &[&str] = &[
    // Ours, echoed back.
    "tran_id",
    "merchantInvoiceNumber",
    // The gateway's ids for the payment (SSLCommerz; bKash).
    "val_id",
    "bank_tran_id",
    "sessionkey",
    "paymentID",
    "trxID",
    "originalTrxID",
    "refundTrxID",
    "refund_ref_id",
    "refId",
    // What was paid and how it stands.
    "amount",
    "currency",
    "currency_type",
    "currency_amount",
    "status",
    "transactionStatus",
    "statusCode",
    "statusMessage",
    "errorCode",
    "errorMessage",
    "risk_level",
    "risk_title",
    "tran_date",
    "paymentExecuteTime",
    "completedTime",
    "initiationTime",
    // SSLCommerz's signature over the notice, and the keys it covers.
    "verify_sign",
    "verify_sign_sha2",
    "verify_key",
    // SSLCommerz refund answers.
    "APIConnect",
    "refund_amount",
    "initiated_on",
    "refunded_on",
    // SSLCommerz's reason for a refused refund or query: its own words,
    // which staff need; it names no card or payer.
    "errorReason",
    // Session answers (where to send the customer).
    "GatewayPageURL",
    "bkashURL",
    "failedreason",
    // bKash token answers (held in memory, never stored).
    "id_token",
    "refresh_token",
    "expires_in",
    "token_type",
];

/// Fields named in a signature's key list that are not kept: a notice
/// signs card fields too, so checking the signature needs their values
/// while the check runs, and only then.
pub const SIGNED_BUT_DROPPED: &[&str] = &[
    "card_no",
    "card_type",
    "card_issuer",
    "card_brand",
    "card_issuer_country",
    "card_issuer_country_code",
    "card_sub_brand",
    "card_category",
    "store_amount",
    "store_id",
    "currency_rate",
    "base_fair",
    "value_a",
    "value_b",
    "value_c",
    "value_d",
    "emi_instalment",
    "emi_amount",
    "emi_description",
    "emi_issuer",
    "account_details",
];

/// A gateway payload with only the kept fields left, as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kept(BTreeMap<String, String>);

impl Kept {
    /// From form or query pairs (SSLCommerz posts forms).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Kept {
        Kept(
            pairs
                .into_iter()
                .filter(|(k, _)| KEPT_FIELDS.contains(k))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// From a JSON object's top level (nested objects are dropped whole).
    pub fn from_json(value: &serde_json::Value) -> Kept {
        let Some(object) = value.as_object() else {
            return Kept::default();
        };
        Kept(
            object
                .iter()
                .filter(|(k, _)| KEPT_FIELDS.contains(&k.as_str()))
                .filter_map(|(k, v)| {
                    let text = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::Bool(b) => b.to_string(),
                        _ => return None,
                    };
                    Some((k.clone(), text))
                })
                .collect(),
        )
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        debug_assert!(KEPT_FIELDS.contains(&field), "{field} is not a kept field");
        self.0
            .get(field)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// What a checkout tells the gateway: the least its API requires.
#[derive(Clone, PartialEq, Eq)]
pub struct Checkout {
    /// Our id for this attempt (≤ 30 characters, unique per attempt).
    pub tran_id: String,
    /// The order number (`CM-000123`).
    pub order_number: String,
    pub amount: Poisha,
    /// Where the customer comes back to; the adapter adds what its
    /// gateway needs (`?result=success`…).
    pub return_url: String,
    /// Where the gateway posts its server-to-server notice (SSLCommerz IPN).
    pub notice_url: String,
    /// Only for gateways whose API requires them (SSLCommerz): the
    /// customer's name, phone, email, address line and district.
    pub customer: Option<CheckoutCustomer>,
    pub item_count: u32,
}

impl std::fmt::Debug for Checkout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkout")
            .field("tran_id", &self.tran_id)
            .field("order_number", &self.order_number)
            .field("amount", &self.amount)
            .finish_non_exhaustive()
    }
}

/// Contact details SSLCommerz's session API requires. Never in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct CheckoutCustomer {
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
    pub address: String,
    pub city: String,
}

/// A session the customer is sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub redirect_url: String,
    /// The gateway's id for the session (SSLCommerz `sessionkey`, bKash `paymentID`).
    pub gateway_ref: String,
    /// The catalog names of the customer fields sent (for the disclosure log).
    pub customer_fields_sent: Vec<&'static str>,
}

/// How a payment stands, in the shop's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// Validated with the gateway.
    Paid,
    Failed,
    Cancelled,
    /// Not finished yet, or the gateway does not know yet.
    Pending,
}

/// Everything kept about a payment: no field can hold card or wallet data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFacts {
    pub tran_id: String,
    pub outcome: PaymentOutcome,
    pub amount: Option<Poisha>,
    pub currency: Option<String>,
    /// SSLCommerz `val_id`; bKash `paymentID`.
    pub gateway_payment_id: Option<String>,
    /// SSLCommerz `bank_tran_id` (refunds need it); bKash `trxID`.
    pub gateway_transaction_id: Option<String>,
    /// SSLCommerz `risk_level` (0 safe, 1 risky).
    pub risk_level: Option<u8>,
    /// The gateway's own word for the status, for staff.
    pub gateway_status: String,
}

/// What the customer's browser brought back from the gateway (its query
/// or form fields, already through [`Kept`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Return {
    pub tran_id: String,
    /// The gateway's id for the session, as we stored it when starting.
    pub gateway_ref: String,
    pub fields: Kept,
}

/// A refund to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// Our id for the refund.
    pub refund_id: String,
    pub payment: PaymentFacts,
    pub amount: Poisha,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundOutcome {
    Refunded,
    Processing,
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundFacts {
    pub refund_id: String,
    pub outcome: RefundOutcome,
    /// The gateway's reference for the refund (bKash `refundTrxID`,
    /// SSLCommerz `refund_ref_id`).
    pub gateway_ref: Option<String>,
    pub gateway_status: String,
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum GatewayError {
    /// The gateway refused; `message` is its own text for staff.
    #[error("the gateway refused it ({code})")]
    Refused { code: String, message: String },
    #[error("the gateway refused the credentials")]
    Unauthorized,
    /// A notice or return whose signature does not hold: nothing in it is trusted.
    #[error("the gateway's signature does not match")]
    BadSignature,
    #[error("the gateway did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the gateway could not be reached: {0}")]
    Unreachable(String),
    #[error("the gateway answered something unreadable: {0}")]
    Protocol(String),
    #[error("{0} is not something this gateway offers")]
    NotSupported(&'static str),
}

impl GatewayError {
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            GatewayError::Timeout(_) | GatewayError::Unreachable(_)
        )
    }
}

pub type GatewayFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, GatewayError>> + Send + 'a>>;

/// One payment gateway's API.
pub trait Gateway: Send + Sync {
    /// `sslcommerz` or `bkash`.
    fn name(&self) -> &'static str;

    /// Opens a payment session for `checkout`.
    fn start<'a>(&'a self, checkout: &'a Checkout) -> GatewayFuture<'a, Started>;

    /// Finishes a payment the customer came back from: checks what they
    /// brought (never trusted alone) with the gateway (SSLCommerz:
    /// validation API; bKash: `execute`, then `payment/status` if that
    /// fails or times out).
    fn complete<'a>(&'a self, back: &'a Return) -> GatewayFuture<'a, PaymentFacts>;

    /// Reads a server-to-server notice (SSLCommerz's IPN, a form post):
    /// checks its signature over the raw pairs, then confirms it with the
    /// gateway. `pairs` are the raw form fields: the signature covers card
    /// fields, which are read for the check and then dropped.
    fn notice<'a>(&'a self, pairs: &'a [(String, String)]) -> GatewayFuture<'a, PaymentFacts>;

    /// Asks how a payment stands (a payment with no news).
    fn query<'a>(
        &'a self,
        tran_id: &'a str,
        gateway_ref: &'a str,
    ) -> GatewayFuture<'a, PaymentFacts>;

    fn refund<'a>(&'a self, refund: &'a RefundRequest) -> GatewayFuture<'a, RefundFacts>;

    fn refund_status<'a>(
        &'a self,
        refund: &'a RefundRequest,
        gateway_ref: &'a str,
    ) -> GatewayFuture<'a, RefundFacts>;
}

/// Calls `call` again after a transient failure (timeout, unreachable),
/// at most `retries` more times, pausing `first_pause` and then twice as
/// long each time. Only for calls that are safe to repeat (reads): a
/// session or refund whose answer was lost may have been made.
pub async fn with_retries<T, F, Fut>(
    retries: u32,
    first_pause: Duration,
    mut call: F,
) -> Result<T, GatewayError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, GatewayError>>,
{
    let mut pause = first_pause;
    for _ in 0..retries {
        match call().await {
            Err(e) if e.is_transient() => {
                tracing::debug!(error = %e, "a gateway read failed; asking again");
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2);
            }
            done => return done,
        }
    }
    call().await
}

/// Poisha from the decimal taka gateways write (`"1060.50"`).
pub fn poisha_from_taka(text: &str) -> Option<Poisha> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(frac)
}

/// Poisha as the decimal taka gateways take (`1060.50`).
pub fn taka(poisha: Poisha) -> String {
    format!("{}.{:02}", poisha / 100, (poisha % 100).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_kept_fields_survive_a_payload() {
        let kept = Kept::from_pairs([
            ("tran_id", "CM-000001-1"),
            ("card_no", "418117XXXXXX6675"),
            ("card_brand", "VISA"),
            ("amount", "1060.50"),
            ("customerMsisdn", "01770618575"),
        ]);
        assert_eq!(kept.get("tran_id"), Some("CM-000001-1"));
        assert_eq!(kept.get("amount"), Some("1060.50"));
        assert_eq!(kept.0.len(), 2, "{kept:?}");
        let json = serde_json::json!({"paymentID": "TR001", "customerMsisdn": "01770618575",
            "payerReference": "01770618575", "amount": "500", "nested": {"card_no": "4111"}});
        let kept = Kept::from_json(&json);
        assert_eq!(kept.get("paymentID"), Some("TR001"));
        assert!(!format!("{kept:?}").contains("0177"), "{kept:?}");
    }

    #[test]
    fn no_card_or_wallet_field_is_kept() {
        for dropped in SIGNED_BUT_DROPPED.iter().chain(&[
            "customerMsisdn",
            "payerReference",
            "card_no",
            "bank_name",
        ]) {
            assert!(!KEPT_FIELDS.contains(dropped), "{dropped} is kept");
        }
    }

    #[test]
    fn taka_and_poisha() {
        assert_eq!(poisha_from_taka("1060.50"), Some(106_050));
        assert_eq!(poisha_from_taka("10"), Some(1_000));
        assert_eq!(poisha_from_taka("10.5"), Some(1_050));
        assert_eq!(poisha_from_taka("10.505"), None);
        assert_eq!(poisha_from_taka("-1"), None);
        assert_eq!(poisha_from_taka("1e3"), None);
        assert_eq!(taka(106_050), "1060.50");
    }
}
