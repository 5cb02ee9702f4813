//! Pathao's webhooks. Every call carries `X-PATHAO-Signature`, which is the
//! secret set in the merchant panel itself (not a digest), compared here in
//! constant time. The integration handshake (`{"event":"webhook_integration"}`)
//! must be answered with [`HANDSHAKE_STATUS`] and the fixed header
//! [`HANDSHAKE_HEADER`]: [`HANDSHAKE_SECRET`] within 10 s, or Pathao does
//! not save the webhook URL; the HTTP layer does that on
//! `WebhookEvent::Handshake`.
//!
//! `order.updated` (an edit of the order's details), `order.paid` (the
//! merchant's payout invoice, not the customer's payment) and `store.*`
//! move no parcel: they are `Ignored`.
use crate::{poisha_of, status_of};
use chotomoni_courier::{secret_matches, Poisha, StatusReport, WebhookError, WebhookEvent};
use serde::Deserialize;

/// The header Pathao signs every webhook call with (lower case, as
/// [`Courier::read_webhook`](chotomoni_courier::Courier::read_webhook) gets names).
pub const SIGNATURE_HEADER: &str = "x-pathao-signature";
pub const HANDSHAKE_HEADER: &str = "X-Pathao-Merchant-Webhook-Integration-Secret";
/// A literal every merchant answers with, published by Pathao: not a secret.
pub const HANDSHAKE_SECRET: &str = "f3992ecc-59da-4cbe-a049-a13da2018d51";
pub const HANDSHAKE_STATUS: u16 = 202;
pub const HANDSHAKE_EVENT: &str = "webhook_integration";

#[derive(Deserialize)]
struct Payload {
    event: String,
    #[serde(default)]
    consignment_id: Option<String>,
    #[serde(default)]
    merchant_order_id: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    delivery_fee: Option<serde_json::Value>,
    #[serde(default)]
    collected_amount: Option<serde_json::Value>,
}

/// An amount in taka, which Pathao writes as a number or a decimal string.
fn amount(value: Option<serde_json::Value>) -> Option<Poisha> {
    match value? {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .map(poisha_of)
}

/// Authenticates and reads one webhook call.
pub fn read(
    secret: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<WebhookEvent, WebhookError> {
    let presented = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(SIGNATURE_HEADER))
        .map(|(_, value)| value.as_str())
        .ok_or(WebhookError::Unauthenticated)?;
    if !secret_matches(presented, secret) {
        return Err(WebhookError::Unauthenticated);
    }
    // serde's message may quote the body, which holds personal data: not kept.
    let payload: Payload = serde_json::from_slice(body)
        .map_err(|_| WebhookError::Malformed("not a Pathao webhook body".into()))?;
    let event = payload.event.as_str();
    if event == HANDSHAKE_EVENT {
        return Ok(WebhookEvent::Handshake);
    }
    if !event.starts_with("order.") || matches!(event, "order.updated" | "order.paid") {
        return Ok(WebhookEvent::Ignored {
            what: payload.event,
        });
    }
    let consignment_id = payload
        .consignment_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| WebhookError::Malformed(format!("{event} without a consignment_id")))?;
    Ok(WebhookEvent::Status(StatusReport {
        consignment_id,
        invoice: payload.merchant_order_id,
        status: status_of(event),
        collected: amount(payload.collected_amount),
        delivery_fee: amount(payload.delivery_fee),
        at: payload.updated_at.or(payload.timestamp),
        courier_status: payload.event,
    }))
}
