//! The stand-in's answer bodies: a transaction as SSLCommerz writes it in
//! notices, validations and queries, and its refund answers.
use super::{field, upper_hex, Refund, Seen, Session};
use chotomoni_gateway::{poisha_from_taka, taka};
use serde_json::{json, Map, Value};

/// A session's status as a query shows it: a validated payment reads
/// `VALIDATED` from then on.
fn shown_status(s: &Session) -> &str {
    match s.status.as_str() {
        "VALID" if s.validations > 0 => "VALIDATED",
        other => other,
    }
}

/// A transaction's fields as SSLCommerz writes them, card fields included.
pub(super) fn transaction_json(s: &Session, status: &str) -> Map<String, Value> {
    let card = s.card.as_ref();
    let text = |v: Option<String>| json!(v.unwrap_or_default());
    let amount: f64 = s.total_amount.parse().unwrap_or_default();
    let body = json!({
        "tran_id": s.tran_id,
        "val_id": text(s.val_id.clone()),
        "amount": s.total_amount,
        "card_type": text(card.map(|c| format!("{}-{}", c.brand, c.issuer))),
        "store_amount": format!("{:.2}", amount * 0.975),
        "card_no": text(card.map(|c| c.masked())),
        "bank_tran_id": text(s.bank_tran_id.clone()),
        "status": status,
        "tran_date": "2026-12-07 02:15:00",
        "error": if status == "FAILED" { "Declined by the issuer" } else { "" },
        "currency": "BDT",
        "card_issuer": text(card.map(|c| c.issuer.clone())),
        "card_brand": text(card.map(|c| c.brand.clone())),
        "card_issuer_country": text(card.map(|c| c.issuer_country.clone())),
        "card_issuer_country_code": text(card.map(|c| c.issuer_country_code.clone())),
        "currency_type": "BDT",
        "currency_amount": s.total_amount,
        "currency_rate": "1.0000",
        "base_fair": "0.00",
        "value_a": "",
        "value_b": "",
        "value_c": "",
        "value_d": "",
        "risk_level": card.map(|c| c.risk_level.to_string()).unwrap_or_else(|| "0".into()),
        "risk_title": if card.is_some_and(|c| c.risk_level > 0) { "Risky" } else { "Safe" },
    });
    match body {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn refund_failed(bank_tran_id: &str, reason: &str) -> Value {
    json!({
        "APIConnect": "DONE",
        "bank_tran_id": bank_tran_id,
        "status": "failed",
        "errorReason": reason,
    })
}

/// A refund request: never above what was paid, counting earlier refunds.
fn refund_answer(seen: &mut Seen, bank_tran_id: &str, pairs: &[(String, String)]) -> Value {
    let Some(paid) = seen
        .sessions
        .iter()
        .find(|x| x.bank_tran_id.as_deref() == Some(bank_tran_id) && x.status == "VALID")
    else {
        return refund_failed(
            bank_tran_id,
            "Invalid bank_tran_id or the transaction is not paid",
        );
    };
    let tran_id = paid.tran_id.clone();
    let paid_amount = poisha_from_taka(&paid.total_amount).unwrap_or_default();
    if field(pairs, "refund_remarks").is_none_or(|r| r.trim().is_empty()) {
        return refund_failed(bank_tran_id, "refund_remarks is required");
    }
    let Some(amount) = field(pairs, "refund_amount").and_then(poisha_from_taka) else {
        return refund_failed(bank_tran_id, "refund_amount is not a valid amount");
    };
    let refunded: i64 = seen
        .refunds
        .iter()
        .filter(|r| r.bank_tran_id == bank_tran_id && r.status != "cancelled")
        .map(|r| r.amount)
        .sum();
    if amount <= 0 || refunded + amount > paid_amount {
        return refund_failed(
            bank_tran_id,
            &format!(
                "Refund amount exceeds the refundable amount ({})",
                taka(paid_amount - refunded)
            ),
        );
    }
    let refund = Refund {
        refund_ref_id: upper_hex(13).to_lowercase(),
        bank_tran_id: bank_tran_id.to_owned(),
        tran_id: tran_id.clone(),
        amount,
        status: "processing".into(),
    };
    let answer = json!({
        "APIConnect": "DONE",
        "bank_tran_id": bank_tran_id,
        "trans_id": tran_id,
        "refund_ref_id": refund.refund_ref_id,
        "status": "success",
        "errorReason": "",
    });
    seen.refunds.push(refund);
    answer
}

fn refund_status_answer(seen: &Seen, refund_ref_id: &str) -> Value {
    match seen
        .refunds
        .iter()
        .find(|r| r.refund_ref_id == refund_ref_id)
    {
        Some(r) => json!({
            "APIConnect": "DONE",
            "bank_tran_id": r.bank_tran_id,
            "tran_id": r.tran_id,
            "refund_ref_id": r.refund_ref_id,
            "initiated_on": "2026-12-07 02:20:00",
            "refunded_on": if r.status == "refunded" { "2026-12-08 10:00:00" } else { "" },
            "status": r.status,
            "errorReason": "",
        }),
        None => json!({
            "APIConnect": "DONE",
            "refund_ref_id": refund_ref_id,
            "status": "failed",
            "errorReason": "Invalid refund_ref_id",
        }),
    }
}

/// The validation API: `VALID`, `VALIDATED` once asked before, and
/// `INVALID_TRANSACTION` for a `val_id` it never gave.
pub(super) fn validation_answer(seen: &mut Seen, pairs: &[(String, String)]) -> Value {
    let val_id = field(pairs, "val_id").unwrap_or_default();
    let Some(session) = seen
        .sessions
        .iter_mut()
        .find(|x| !val_id.is_empty() && x.val_id.as_deref() == Some(val_id))
    else {
        return json!({"status": "INVALID_TRANSACTION", "APIConnect": "DONE"});
    };
    let mut body = transaction_json(session, shown_status(session));
    session.validations += 1;
    body.insert("APIConnect".into(), json!("DONE"));
    body.insert("validated_on".into(), json!("2026-12-07 02:15:07"));
    body.insert("gw_version".into(), json!(""));
    for (emi, empty) in [
        ("emi_instalment", "0"),
        ("emi_amount", "0.00"),
        ("emi_description", ""),
        ("emi_issuer", ""),
        ("account_details", ""),
    ] {
        body.insert(emi.into(), json!(empty));
    }
    Value::Object(body)
}

/// `merchantTransIDvalidationAPI.php`: refund status, a refund, or a
/// transaction query by `sessionkey` or by `tran_id`.
pub(super) fn merchant_answer(seen: &mut Seen, pairs: &[(String, String)]) -> Value {
    if let Some(refund_ref_id) = field(pairs, "refund_ref_id") {
        return refund_status_answer(seen, refund_ref_id);
    }
    if let Some(bank_tran_id) = field(pairs, "bank_tran_id") {
        return refund_answer(seen, bank_tran_id, pairs);
    }
    if let Some(key) = field(pairs, "sessionkey") {
        return match seen.sessions.iter().find(|x| x.sessionkey == key) {
            Some(x) => {
                let mut body = transaction_json(x, shown_status(x));
                body.insert("sessionkey".into(), json!(x.sessionkey));
                body.insert("APIConnect".into(), json!("DONE"));
                Value::Object(body)
            }
            None => json!({"APIConnect": "DONE", "status": "INVALID_REQUEST"}),
        };
    }
    let Some(tran_id) = field(pairs, "tran_id") else {
        return json!({"APIConnect": "INVALID_REQUEST"});
    };
    let element: Vec<Value> = seen
        .sessions
        .iter()
        .filter(|x| x.tran_id == tran_id)
        .map(|x| Value::Object(transaction_json(x, shown_status(x))))
        .collect();
    json!({"APIConnect": "DONE", "no_of_trans_found": element.len(), "element": element})
}
