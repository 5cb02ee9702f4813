//! What the stand-in does with a payment once it exists: execute it,
//! find its transaction, refund it and tell how the refund stands.
use super::{
    answer, random_id, refused, text, Books, StoredPayment, INVALID_PAYMENT_ID, INVALID_STATE,
    MISSING_FIELD, NO_REFUND, REFUND_ABOVE_PAID, REFUND_TOO_LATE,
};
use crate::REFUND_DAYS;
use axum::response::Response;
use chotomoni_gateway::{poisha_from_taka, taka, Poisha};
use serde_json::{json, Map, Value};

pub(super) fn execute(p: &mut StoredPayment, day: i64) -> Response {
    if p.trx_id.is_some() {
        return refused(
            crate::ALREADY_EXECUTED,
            "Payment execution already been called before",
        );
    }
    if p.customer_status.as_deref() != Some("success") {
        return refused(INVALID_STATE, "Invalid Payment State");
    }
    p.transaction_status = "Completed".into();
    p.trx_id = Some(random_id(10));
    p.paid_day = day;
    answer(p.answer())
}

pub(super) fn search(books: &Books, trx_id: &str) -> Response {
    let Some(p) = books
        .payments
        .iter()
        .find(|p| p.trx_id.as_deref() == Some(trx_id))
    else {
        return refused(INVALID_PAYMENT_ID, "Invalid transaction ID");
    };
    answer(json!({
        "trxID": trx_id,
        "initiationTime": "2026-12-06T10:16:01:000 GMT+0600",
        "completedTime": "2026-12-06T10:16:02:000 GMT+0600",
        "transactionType": "bKash Tokenized Checkout via API",
        "customerMsisdn": p.wallet,
        "transactionStatus": p.transaction_status,
        "amount": p.field("amount"),
        "currency": p.field("currency"),
        "organizationShortCode": "50022",
    }))
}

fn refund_answer(p: &StoredPayment, refund_trx: &str, amount: Poisha) -> Response {
    answer(json!({
        "completedTime": "2026-12-07T11:00:00:000 GMT+0600",
        "transactionStatus": "Completed",
        "originalTrxID": p.trx_id,
        "refundTrxID": refund_trx,
        "amount": taka(amount),
        "currency": "BDT",
        "charge": "0.00",
    }))
}

pub(super) fn refund(p: &mut StoredPayment, body: &Map<String, Value>, day: i64) -> Response {
    if p.trx_id.as_deref() != Some(text(body, "trxID")) {
        return refused(INVALID_PAYMENT_ID, "Invalid transaction ID");
    }
    let Some(amount) = poisha_from_taka(text(body, "amount")).filter(|a| *a > 0) else {
        return refused(MISSING_FIELD, "Invalid amount");
    };
    if day - p.paid_day > i64::from(REFUND_DAYS) {
        return refused(REFUND_TOO_LATE, "Refund period is over");
    }
    let paid = poisha_from_taka(p.field("amount")).unwrap_or_default();
    let refunded: Poisha = p.refunds.iter().map(|(_, a)| a).sum();
    if refunded + amount > paid {
        return refused(
            REFUND_ABOVE_PAID,
            "Refund amount exceeds the transaction amount",
        );
    }
    let refund_trx = random_id(10);
    p.refunds.push((refund_trx.clone(), amount));
    refund_answer(p, &refund_trx, amount)
}

pub(super) fn refund_status(p: &StoredPayment, trx_id: &str) -> Response {
    match p.refunds.last() {
        Some((refund_trx, amount)) if p.trx_id.as_deref() == Some(trx_id) => {
            refund_answer(p, refund_trx, *amount)
        }
        _ => refused(NO_REFUND, "No refund found for the transaction"),
    }
}
