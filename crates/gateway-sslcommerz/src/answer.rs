//! Reading SSLCommerz's answers, each already through [`Kept`], into the
//! shop's words. Nothing here sees a field [`Kept`] dropped.
use chotomoni_gateway::{
    poisha_from_taka, GatewayError, Kept, PaymentFacts, PaymentOutcome, RefundFacts, RefundOutcome,
};

/// SSLCommerz's words for a payment it confirms.
pub fn is_valid(status: &str) -> bool {
    matches!(status, "VALID" | "VALIDATED")
}

/// A status that is not a confirmation, in the shop's words. Never `Paid`:
/// only a validated answer makes a payment.
pub fn unpaid_outcome(status: &str) -> PaymentOutcome {
    match status {
        "FAILED" => PaymentOutcome::Failed,
        // The customer left, or the session ran out unpaid.
        "CANCELLED" | "EXPIRED" => PaymentOutcome::Cancelled,
        // PENDING, UNATTEMPTED and anything new: ask again later.
        _ => PaymentOutcome::Pending,
    }
}

/// `APIConnect` as SSLCommerz's documentation lists it: `DONE`, or why the
/// call itself was not taken (`FAILED` is its word for refused credentials).
pub fn check_api_connect(kept: &Kept) -> Result<(), GatewayError> {
    match kept.get("APIConnect") {
        None | Some("DONE") => Ok(()),
        Some("FAILED") => Err(GatewayError::Unauthorized),
        Some(code @ ("INVALID_REQUEST" | "INACTIVE")) => Err(GatewayError::Refused {
            code: code.to_owned(),
            message: kept
                .get("errorReason")
                .unwrap_or(if code == "INACTIVE" {
                    "the store is inactive at SSLCommerz"
                } else {
                    "SSLCommerz found the request invalid"
                })
                .to_owned(),
        }),
        Some(_) => Err(GatewayError::Protocol(
            "an APIConnect value SSLCommerz does not document".into(),
        )),
    }
}

/// The payment as an answer (a notice, a validation, a query element)
/// states it. The amount is in the session's currency, as the official
/// library compares it: `currency_amount`/`currency_type` where given,
/// else `amount`/`currency`; the caller compares both with the order.
pub fn payment_facts(tran_id: &str, kept: &Kept, outcome: PaymentOutcome) -> PaymentFacts {
    let (amount, currency) = match kept.get("currency_type") {
        Some(currency) => (kept.get("currency_amount"), Some(currency)),
        None => (kept.get("amount"), kept.get("currency")),
    };
    PaymentFacts {
        tran_id: tran_id.to_owned(),
        outcome,
        amount: amount.and_then(poisha_from_taka),
        currency: currency.map(str::to_owned),
        gateway_payment_id: kept.get("val_id").map(str::to_owned),
        gateway_transaction_id: kept.get("bank_tran_id").map(str::to_owned),
        risk_level: kept.get("risk_level").and_then(|r| r.trim().parse().ok()),
        gateway_status: kept.get("status").unwrap_or_default().to_owned(),
    }
}

/// A validation answer: only `VALID`/`VALIDATED` for our `tran_id` pays.
pub fn validated(tran_id: &str, kept: &Kept) -> Result<PaymentFacts, GatewayError> {
    check_api_connect(kept)?;
    let status = kept.get("status").unwrap_or_default();
    if !is_valid(status) {
        return Err(GatewayError::Refused {
            code: if status.is_empty() {
                "no status"
            } else {
                status
            }
            .to_owned(),
            message: "SSLCommerz's validation API does not confirm this payment".into(),
        });
    }
    if kept.get("tran_id") != Some(tran_id) {
        return Err(GatewayError::Refused {
            code: "tran_id".into(),
            message: "SSLCommerz validated a payment of another transaction".into(),
        });
    }
    Ok(payment_facts(tran_id, kept, PaymentOutcome::Paid))
}

/// The elements of a query by `tran_id` (each through [`Kept`] already):
/// a confirmed one pays; else the first one's status; none is pending.
pub fn queried(tran_id: &str, elements: &[Kept]) -> PaymentFacts {
    let ours: Vec<&Kept> = elements
        .iter()
        .filter(|e| e.get("tran_id") == Some(tran_id))
        .collect();
    if let Some(paid) = ours.iter().find(|e| e.get("status").is_some_and(is_valid)) {
        return payment_facts(tran_id, paid, PaymentOutcome::Paid);
    }
    match ours.first() {
        Some(e) => payment_facts(
            tran_id,
            e,
            unpaid_outcome(e.get("status").unwrap_or_default()),
        ),
        None => PaymentFacts {
            tran_id: tran_id.to_owned(),
            outcome: PaymentOutcome::Pending,
            amount: None,
            currency: None,
            gateway_payment_id: None,
            gateway_transaction_id: None,
            risk_level: None,
            gateway_status: "no transaction found".into(),
        },
    }
}

/// A refund's answer (initiation or status query).
pub fn refund_facts(refund_id: &str, kept: &Kept) -> Result<RefundFacts, GatewayError> {
    check_api_connect(kept)?;
    let status = kept.get("status").unwrap_or_default();
    let outcome = match status {
        "refunded" => RefundOutcome::Refunded,
        // An initiation's `success` is the request taken, not the money
        // back: the status query says `refunded` when it is.
        "success" | "processing" => RefundOutcome::Processing,
        "cancelled" => RefundOutcome::Refused,
        _ => {
            return Err(GatewayError::Refused {
                code: if status.is_empty() { "failed" } else { status }.to_owned(),
                message: kept
                    .get("errorReason")
                    .unwrap_or("SSLCommerz refused the refund without a reason")
                    .to_owned(),
            })
        }
    };
    Ok(RefundFacts {
        refund_id: refund_id.to_owned(),
        outcome,
        gateway_ref: kept.get("refund_ref_id").map(str::to_owned),
        gateway_status: status.to_owned(),
    })
}
