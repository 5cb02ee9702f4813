//! Refunds a claim decided: paid back through the gateway the order was
//! paid with (bKash within its limit, SSLCommerz), or by hand for a
//! cash-on-delivery order, which staff record with the mobile wallet's
//! transaction id. The rules here decide, without I/O, whether a gateway
//! refund may be asked for and whether a recorded transaction id is one.
use crate::error::FieldError;
use crate::order::{format_taka, string_enum, Poisha};
use crate::payment::GatewayName;
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

/// bKash refunds a payment only within this many days of it.
pub const BKASH_REFUND_DAYS: i64 = 15;
const DAY_MS: i64 = 86_400_000;

string_enum! {
    /// How a refund is paid back.
    RefundMethod {
        Sslcommerz = "sslcommerz",
        Bkash = "bkash",
        Manual = "manual",
    }
}

impl From<GatewayName> for RefundMethod {
    fn from(g: GatewayName) -> RefundMethod {
        match g {
            GatewayName::Sslcommerz => RefundMethod::Sslcommerz,
            GatewayName::Bkash => RefundMethod::Bkash,
        }
    }
}

string_enum! {
    /// Where a refund stands. `queued` → `sending` (the call is under way)
    /// → `processing` (the gateway took it) → `refunded`; the gateway may
    /// refuse (`refused`, with its reason). A manual refund waits for staff
    /// (`awaiting_manual`); a refused one may still be paid by hand.
    RefundState {
        Queued = "queued",
        Sending = "sending",
        Processing = "processing",
        Refunded = "refunded",
        Refused = "refused",
        AwaitingManual = "awaiting_manual",
    }
}

impl RefundState {
    /// Staff may record it as paid by hand.
    pub fn may_be_paid_by_hand(self) -> bool {
        matches!(self, RefundState::AwaitingManual | RefundState::Refused)
    }
}

string_enum! {
    /// The mobile wallet (or bank) a manual refund was paid through.
    RefundWallet {
        Bkash = "bkash",
        Nagad = "nagad",
        Rocket = "rocket",
        Upay = "upay",
        Bank = "bank",
    }
}

/// Why a gateway refund of `amount` may not be asked for, or `None` when it
/// may: past bKash's limit, or above what the payment has left to refund.
/// `refundable` is what the payment confirmed less its earlier refunds.
pub fn gateway_refund_refusal(
    gateway: GatewayName,
    paid_at: i64,
    now: i64,
    amount: Poisha,
    refundable: Poisha,
) -> Option<String> {
    if amount > refundable {
        return Some(format!(
            "{} is above what the {} payment has left to refund ({})",
            format_taka(amount),
            gateway.label(),
            format_taka(refundable.max(0))
        ));
    }
    if gateway == GatewayName::Bkash && now - paid_at > BKASH_REFUND_DAYS * DAY_MS {
        return Some(format!(
            "bKash refunds a payment only within {BKASH_REFUND_DAYS} days of it; pay this one back by hand and record it"
        ));
    }
    None
}

/// A mobile wallet's (or bank's) transaction id for a refund paid by hand:
/// 6 to 30 letters and digits. Never a phone number: a wallet number is not
/// kept, so one typed here by mistake is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct WalletTrxId(String);

impl WalletTrxId {
    pub fn parse(field: &str, input: &str) -> Result<WalletTrxId, FieldError> {
        let text = input.trim();
        if !(6..=30).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(FieldError::new(
                field,
                "must be the wallet's transaction id: 6 to 30 letters and digits",
            ));
        }
        if looks_like_a_phone(text) {
            return Err(FieldError::new(
                field,
                "looks like a phone number; enter the transaction id, not the wallet number",
            ));
        }
        Ok(WalletTrxId(text.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WalletTrxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 01XXXXXXXXX or 8801XXXXXXXXX: a Bangladeshi mobile number.
fn looks_like_a_phone(text: &str) -> bool {
    let digits = text.bytes().all(|b| b.is_ascii_digit());
    digits
        && ((text.len() == 11 && text.starts_with("01"))
            || (text.len() == 13 && text.starts_with("8801")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refund_above_what_is_left_or_past_bkash_days_is_refused() {
        let day = DAY_MS;
        assert_eq!(
            gateway_refund_refusal(GatewayName::Bkash, 0, 14 * day, 500, 500),
            None
        );
        let late = gateway_refund_refusal(GatewayName::Bkash, 0, 16 * day, 500, 500).unwrap();
        assert!(late.contains("15 days"), "{late}");
        // SSLCommerz has no such limit here.
        assert_eq!(
            gateway_refund_refusal(GatewayName::Sslcommerz, 0, 60 * day, 500, 500),
            None
        );
        let above = gateway_refund_refusal(GatewayName::Sslcommerz, 0, 0, 501, 500).unwrap();
        assert!(above.contains("above"), "{above}");
    }

    #[test]
    fn a_transaction_id_is_letters_and_digits_and_never_a_phone() {
        assert_eq!(
            WalletTrxId::parse("trx_id", " 9ba7x2k1q0 ")
                .unwrap()
                .as_str(),
            "9BA7X2K1Q0"
        );
        for bad in [
            "",
            "12345",
            "9BA7-X2K1",
            "01711000401",
            "8801711000401",
            &"A".repeat(31),
        ] {
            assert!(WalletTrxId::parse("trx_id", bad).is_err(), "{bad}");
        }
    }
}
