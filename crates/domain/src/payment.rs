//! Online payments: which gateway, and how one payment attempt stands.
//! Only the gateway's status is kept, never card or wallet data (see
//! `chotomoni_gateway::Kept`).
use crate::order::string_enum;
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

string_enum! {
    /// The payment gateways Chotomoni takes online payments through.
    GatewayName {
        Sslcommerz = "sslcommerz",
        Bkash = "bkash",
    }
}

impl GatewayName {
    pub fn label(self) -> &'static str {
        match self {
            GatewayName::Sslcommerz => "SSLCommerz",
            GatewayName::Bkash => "bKash",
        }
    }
}

string_enum! {
    /// One payment attempt. `started` moves once, to one of the others: a
    /// payment completes once, whichever word about it arrives first.
    /// `held`: paid at the gateway, but not as the order says (amount,
    /// currency, a risky card, an order already paid): staff decide.
    PaymentState {
        Started = "started",
        Paid = "paid",
        Failed = "failed",
        Cancelled = "cancelled",
        Held = "held",
    }
}

/// Why a payment the gateway confirmed is held for staff instead of paying
/// the order, or `None` when it pays it.
pub fn hold_reason(
    expected: crate::Poisha,
    amount: Option<crate::Poisha>,
    currency: Option<&str>,
    risk_level: Option<u8>,
) -> Option<String> {
    match amount {
        None => return Some("the gateway did not state the amount paid".into()),
        Some(a) if a != expected => {
            return Some(format!(
                "the gateway confirmed {} but the order asks {}",
                crate::order::format_taka(a),
                crate::order::format_taka(expected)
            ))
        }
        _ => {}
    }
    match currency {
        Some("BDT") => {}
        Some(other) => {
            return Some(format!(
                "the gateway confirmed the payment in {other}, not BDT"
            ))
        }
        None => return Some("the gateway did not state the currency".into()),
    }
    if risk_level == Some(1) {
        return Some("the gateway marked the payment risky (risk_level 1)".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_amount_in_taka_and_no_risk_pays() {
        assert_eq!(hold_reason(1000, Some(1000), Some("BDT"), Some(0)), None);
        assert_eq!(hold_reason(1000, Some(1000), Some("BDT"), None), None);
        assert!(hold_reason(1000, Some(999), Some("BDT"), Some(0)).is_some());
        assert!(hold_reason(1000, Some(1000), Some("USD"), Some(0)).is_some());
        assert!(hold_reason(1000, Some(1000), None, None).is_some());
        assert!(hold_reason(1000, None, Some("BDT"), None).is_some());
        assert!(hold_reason(1000, Some(1000), Some("BDT"), Some(1))
            .unwrap()
            .contains("risk"));
        assert_eq!(GatewayName::parse("bkash"), Some(GatewayName::Bkash));
        assert_eq!(PaymentState::parse("held"), Some(PaymentState::Held));
    }
}
