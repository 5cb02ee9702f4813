//! What goes to Steadfast and what comes back: a parcel's published
//! fields, a booking read from an answer, a refusal's text for staff.
use chotomoni_courier::{Booking, Parcel, Poisha};
use serde_json::{json, Value};

/// What one bulk item turned into.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct BulkItem {
    pub(crate) invoice: Option<String>,
    pub(crate) consignment_id: Option<Value>,
    pub(crate) tracking_code: Option<String>,
    pub(crate) status: Option<String>,
    // Not in the published document; read when Steadfast adds it.
    pub(crate) error: Option<Value>,
    pub(crate) message: Option<String>,
}

pub(crate) fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// Taka as a JSON number, whole when it is (`1060`, `1060.5`).
fn taka_number(poisha: Poisha) -> Value {
    if poisha % 100 == 0 {
        json!(poisha / 100)
    } else {
        json!(poisha as f64 / 100.0)
    }
}

/// Exactly the published fields Steadfast needs for one parcel.
pub(crate) fn order_fields(parcel: &Parcel) -> Value {
    let mut fields = json!({
        "invoice": parcel.invoice,
        "recipient_name": parcel.recipient_name,
        "recipient_phone": parcel.recipient_phone.as_str(),
        "recipient_address": parcel.address,
        "cod_amount": taka_number(parcel.cash_to_collect),
    });
    if let Some(note) = parcel.note.as_deref().filter(|n| !n.trim().is_empty()) {
        fields["note"] = json!(note);
    }
    if parcel.item_count > 0 {
        fields["total_lot"] = json!(parcel.item_count);
    }
    fields
}

/// Steadfast's text for a refusal: its `message` and each field error.
pub(crate) fn refusal_message(body: &Value) -> String {
    let mut parts: Vec<String> = vec![];
    if let Some(m) = body.get("message").and_then(Value::as_str) {
        parts.push(m.to_owned());
    }
    if let Some(errors) = body.get("errors").and_then(Value::as_object) {
        for messages in errors.values() {
            match messages {
                Value::Array(list) => {
                    parts.extend(list.iter().filter_map(Value::as_str).map(str::to_owned))
                }
                Value::String(s) => parts.push(s.clone()),
                _ => {}
            }
        }
    }
    if let Some(e) = body.get("error").and_then(Value::as_str) {
        parts.push(e.to_owned());
    }
    parts.join(" ")
}

/// Whether a refusal is Steadfast saying the invoice already has a consignment.
pub(crate) fn is_duplicate_invoice(body: &Value) -> bool {
    let taken = |s: &str| {
        let s = s.to_lowercase();
        s.contains("already") || s.contains("taken") || s.contains("duplicate")
    };
    let field_errors = body
        .get("errors")
        .and_then(|e| e.get("invoice"))
        .map(|v| match v {
            Value::Array(list) => list.iter().filter_map(Value::as_str).any(taken),
            Value::String(s) => taken(s),
            _ => false,
        })
        .unwrap_or(false);
    field_errors
        || body
            .get("message")
            .and_then(Value::as_str)
            .is_some_and(|m| m.to_lowercase().contains("invoice") && taken(m))
}

pub(crate) fn booking_from(invoice: &str, consignment: &Value) -> Option<Booking> {
    Some(Booking {
        invoice: consignment
            .get("invoice")
            .and_then(Value::as_str)
            .unwrap_or(invoice)
            .to_owned(),
        consignment_id: consignment.get("consignment_id").and_then(id_text)?,
        tracking_code: consignment
            .get("tracking_code")
            .and_then(Value::as_str)
            .map(str::to_owned),
        delivery_fee: consignment
            .get("delivery_fee")
            .and_then(Value::as_f64)
            .map(poisha_from_taka),
    })
}

/// Taka as Steadfast writes them (`1500.00`) in poisha.
pub fn poisha_from_taka(taka: f64) -> Poisha {
    (taka * 100.0).round() as Poisha
}

/// Keeps an id or invoice one path segment (invoices are alphanumeric
/// with `-` and `_`; anything else is percent-encoded).
pub(crate) fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
