//! Claims: a customer (or a marketplace or courier on their behalf) says
//! something was wrong, missing or damaged, and the shop settles it with
//! the proof it recorded. The rules here are the ones a claim is held to
//! whoever files it; the services apply them.
use crate::error::{optional_text, FieldError};
use crate::order::{string_enum, Poisha};
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct ClaimId(pub i64);

impl fmt::Display for ClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

string_enum! {
    /// What went wrong, as the customer says.
    ClaimKind {
        Damaged = "damaged",
        WrongItem = "wrong_item",
        MissingItem = "missing_item",
        NotReceived = "not_received",
        Other = "other",
    }
}

string_enum! {
    /// Where a claim stands. `Decided` is closed: its evidence is complete,
    /// and its hold on the order's proof runs out after the appeal period.
    ClaimStatus { Open = "open", InReview = "in_review", Decided = "decided" }
}

string_enum! {
    /// Who raised the claim: the customer (themselves, or through support by
    /// phone or message), or a marketplace or courier with its own reference.
    RaisedBy {
        Customer = "customer",
        Support = "support",
        Marketplace = "marketplace",
        Courier = "courier",
    }
}

string_enum! {
    /// How a claim is settled.
    Decision {
        FullRefund = "full_refund",
        PartialRefund = "partial_refund",
        Replacement = "replacement",
        ReturnPickup = "return_pickup",
        Rejected = "rejected",
    }
}

impl ClaimKind {
    pub fn label(self, bangla: bool) -> &'static str {
        let (en, bn) = match self {
            ClaimKind::Damaged => ("Damaged", "ক্ষতিগ্রস্ত"),
            ClaimKind::WrongItem => ("Wrong item", "ভুল পণ্য"),
            ClaimKind::MissingItem => ("Missing item", "পণ্য কম এসেছে"),
            ClaimKind::NotReceived => ("Not received", "পাইনি"),
            ClaimKind::Other => ("Other", "অন্যান্য"),
        };
        if bangla {
            bn
        } else {
            en
        }
    }
}

impl ClaimStatus {
    pub fn is_closed(self) -> bool {
        self == ClaimStatus::Decided
    }
}

impl Decision {
    pub fn label(self, bangla: bool) -> &'static str {
        let (en, bn) = match self {
            Decision::FullRefund => ("Full refund", "সম্পূর্ণ টাকা ফেরত"),
            Decision::PartialRefund => ("Partial refund", "আংশিক টাকা ফেরত"),
            Decision::Replacement => ("Replacement", "পণ্য বদলে দেওয়া"),
            Decision::ReturnPickup => ("Return pickup", "ফেরত নেওয়া"),
            Decision::Rejected => ("Rejected", "গ্রহণ করা হয়নি"),
        };
        if bangla {
            bn
        } else {
            en
        }
    }
}

pub const MAX_DESCRIPTION: usize = 2_000;
pub const MAX_REASON: usize = 1_000;
pub const MAX_REFERENCE: usize = 100;

/// How long claims may be filed and how fast the desk must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimRules {
    /// Days after delivery a claim may be filed.
    pub window_days: u32,
    /// Hours the desk has for its first response.
    pub first_response_hours: u32,
    /// Days the desk has to decide.
    pub decision_days: u32,
    /// Days after the decision the order's proof is still held, for an appeal.
    pub appeal_days: u32,
}

impl Default for ClaimRules {
    fn default() -> Self {
        ClaimRules {
            window_days: 7,
            first_response_hours: 24,
            decision_days: 3,
            appeal_days: 30,
        }
    }
}

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

impl ClaimRules {
    /// A claim on an order delivered at `delivered_at` may be filed at `now`.
    pub fn check_window(&self, delivered_at: i64, now: i64) -> Result<(), FieldError> {
        if now - delivered_at > i64::from(self.window_days) * DAY_MS {
            return Err(FieldError::new(
                "window",
                format!(
                    "claims can be filed within {} days of delivery; this order was delivered earlier",
                    self.window_days
                ),
            ));
        }
        Ok(())
    }

    pub fn first_response_due(&self, filed_at: i64) -> i64 {
        filed_at + i64::from(self.first_response_hours) * HOUR_MS
    }

    pub fn decision_due(&self, filed_at: i64) -> i64 {
        filed_at + i64::from(self.decision_days) * DAY_MS
    }

    /// Until when a decided claim holds its order's proof.
    pub fn hold_until(&self, decided_at: i64) -> i64 {
        decided_at + i64::from(self.appeal_days) * DAY_MS
    }
}

/// A decision as asked for, checked against what was paid: the amount to
/// refund (`None` when nothing is refunded) and the reason the customer reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedDecision {
    pub decision: Decision,
    pub refund: Option<Poisha>,
    pub reason: String,
}

impl CheckedDecision {
    pub fn new(
        decision: Decision,
        amount: Option<Poisha>,
        reason: &str,
        paid: Poisha,
    ) -> Result<CheckedDecision, FieldError> {
        let reason = optional_text("reason", reason, MAX_REASON)?
            .ok_or_else(|| FieldError::new("reason", "is required: the customer reads it"))?;
        let refund = match (decision, amount) {
            (Decision::FullRefund, None) => Some(paid),
            (Decision::FullRefund, Some(a)) if a == paid => Some(paid),
            (Decision::FullRefund, Some(_)) => {
                return Err(FieldError::new(
                    "amount",
                    "a full refund is what was paid; leave it out or choose a partial refund",
                ))
            }
            (Decision::PartialRefund, None) => {
                return Err(FieldError::new(
                    "amount",
                    "is required for a partial refund",
                ))
            }
            (Decision::PartialRefund, Some(a)) if a <= 0 => {
                return Err(FieldError::new("amount", "must be at least 1 poisha"))
            }
            (Decision::PartialRefund, Some(a)) if a > paid => {
                return Err(FieldError::new(
                    "amount",
                    format!("must be at most what was paid ({paid} poisha)"),
                ))
            }
            (Decision::PartialRefund, Some(a)) => Some(a),
            (_, Some(_)) => {
                return Err(FieldError::new(
                    "amount",
                    "is only for a full or partial refund",
                ))
            }
            (_, None) => None,
        };
        Ok(CheckedDecision {
            decision,
            refund,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_counted_from_delivery() {
        let rules = ClaimRules::default();
        assert!(rules.check_window(0, 7 * DAY_MS).is_ok());
        let late = rules.check_window(0, 7 * DAY_MS + 1).unwrap_err();
        assert_eq!(late.field, "window");
        assert!(late.message.contains("7 days"), "{}", late.message);
    }

    #[test]
    fn refunds_are_at_most_what_was_paid() {
        let ok = CheckedDecision::new(Decision::PartialRefund, Some(500), "Cracked lid", 1000);
        assert_eq!(ok.unwrap().refund, Some(500));
        let full = CheckedDecision::new(Decision::FullRefund, None, "Lost", 1000).unwrap();
        assert_eq!(full.refund, Some(1000));
        for (decision, amount) in [
            (Decision::PartialRefund, Some(1001)),
            (Decision::PartialRefund, Some(0)),
            (Decision::PartialRefund, None),
            (Decision::FullRefund, Some(10)),
            (Decision::Rejected, Some(10)),
        ] {
            let e = CheckedDecision::new(decision, amount, "why", 1000).unwrap_err();
            assert_eq!(e.field, "amount", "{decision:?} {amount:?}");
        }
        let no_reason = CheckedDecision::new(Decision::Rejected, None, "  ", 1000).unwrap_err();
        assert_eq!(no_reason.field, "reason");
    }
}
