//! Steadfast's webhook calls: a JSON POST with `Authorization: Bearer
//! <token>`, the token set with the callback URL in the merchant panel (a
//! plain token, no signature: compared in constant time).
use crate::{parcel_status, poisha_from_taka};
use chotomoni_courier::{secret_matches, StatusReport, WebhookError, WebhookEvent};
use serde_json::Value;

/// The body Steadfast expects back (HTTP 200) for a call it may stop
/// resending.
pub const WEBHOOK_ANSWER: &str =
    r#"{"status":"success","message":"Webhook received successfully."}"#;

fn bearer(headers: &[(String, String)]) -> Option<&str> {
    let value = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.trim())?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn text(body: &Value, field: &str) -> Option<String> {
    match body.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Steadfast writes money as numbers (`1500.00`), sometimes as strings.
fn poisha(body: &Value, field: &str) -> Option<i64> {
    match body.get(field)? {
        Value::Number(n) => n.as_f64().map(poisha_from_taka),
        Value::String(s) => s.trim().parse::<f64>().ok().map(poisha_from_taka),
        _ => None,
    }
}

/// Authenticates one call against `token` and reads it.
pub fn read(
    token: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<WebhookEvent, WebhookError> {
    if !bearer(headers).is_some_and(|presented| secret_matches(presented, token)) {
        return Err(WebhookError::Unauthenticated);
    }
    let body: Value =
        serde_json::from_slice(body).map_err(|_| WebhookError::Malformed("not JSON".into()))?;
    let kind = body
        .get("notification_type")
        .and_then(Value::as_str)
        .ok_or_else(|| WebhookError::Malformed("no notification_type".into()))?;
    match kind {
        "delivery_status" => {
            let consignment_id = text(&body, "consignment_id")
                .ok_or_else(|| WebhookError::Malformed("no consignment_id".into()))?;
            let courier_status =
                text(&body, "status").ok_or_else(|| WebhookError::Malformed("no status".into()))?;
            Ok(WebhookEvent::Status(StatusReport {
                consignment_id,
                invoice: text(&body, "invoice"),
                status: parcel_status(&courier_status),
                courier_status,
                collected: poisha(&body, "cod_amount"),
                delivery_fee: poisha(&body, "delivery_charge"),
                at: text(&body, "updated_at"),
            }))
        }
        other => Ok(WebhookEvent::Ignored {
            what: other.to_owned(),
        }),
    }
}
