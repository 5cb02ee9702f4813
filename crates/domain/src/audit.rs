//! What the audit log records: every kind of action, named once. An entry
//! is written with one of these, never with a text made up at the call, so
//! the log's vocabulary is this list and a test can go through all of it.
use crate::order::string_enum;
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

string_enum! {
    /// An audited action. The names are what the log stores.
    AuditAction {
        ClaimDecide = "claim.decide",
        ClaimFile = "claim.file",
        ClaimPackDownload = "claim_pack.download",
        ClaimPackExpire = "claim_pack.expire",
        ClaimPackFailed = "claim_pack.failed",
        ClaimPackMake = "claim_pack.make",
        ClaimPackReady = "claim_pack.ready",
        ClaimPackRevoke = "claim_pack.revoke",
        ClaimPackSharedOpen = "claim_pack.shared_open",
        ClaimReview = "claim.review",
        ClaimView = "claim.view",
        ConsentGrant = "consent.grant",
        ConsentWithdraw = "consent.withdraw",
        CustomerEmailProven = "customer.email_proven",
        CustomerErase = "customer.erase",
        CustomerPhoneProven = "customer.phone_proven",
        CustomerRegister = "customer.register",
        CustomerSignInByCode = "customer.sign_in_by_code",
        ExportDownload = "export.download",
        ExportExpire = "export.expire",
        ExportFailed = "export.failed",
        ExportLink = "export.link",
        ExportReady = "export.ready",
        ExportStart = "export.start",
        FraudPhoneCheck = "fraud.phone_check",
        HoldPlace = "hold.place",
        HoldRelease = "hold.release",
        JobRetry = "job.retry",
        MarketingRefused = "marketing.refused",
        MarketingSend = "marketing.send",
        MarketingSuppress = "marketing.suppress",
        OrderCreate = "order.create",
        OrderList = "order.list",
        OrderStatus = "order.status",
        OrderView = "order.view",
        ParcelBook = "parcel.book",
        ParcelCancel = "parcel.cancel",
        ParcelPayout = "parcel.payout",
        ParcelUnknownSeen = "parcel.unknown_seen",
        PaymentAccept = "payment.accept",
        PaymentHeld = "payment.held",
        PaymentPaid = "payment.paid",
        PaymentReturn = "payment.return",
        PaymentStart = "payment.start",
        PaymentUnpaid = "payment.unpaid",
        PolicyAccept = "policy.accept",
        PolicyPublish = "policy.publish",
        PrivacyRequestCreate = "privacy_request.create",
        PrivacyRequestQueue = "privacy_request.queue",
        PrivacyRequestStatus = "privacy_request.status",
        PrivacyRequestView = "privacy_request.view",
        ProofAdd = "proof.add",
        ProofDurationCorrected = "proof.duration_corrected",
        ProofEraseAfterHold = "proof.erase_after_hold",
        ProofExpire = "proof.expire",
        ProofList = "proof.list",
        ProofShare = "proof.share",
        ProofShareRevoke = "proof.share.revoke",
        ProofSharedView = "proof.shared_view",
        ProofWatch = "proof.watch",
        RefundManual = "refund.manual",
        RefundPaid = "refund.paid",
        RefundRefused = "refund.refused",
        RefundSend = "refund.send",
        SessionOpen = "session.open",
        StaffAdd = "staff.add",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_read_back() {
        let mut seen = std::collections::HashSet::new();
        for a in AuditAction::ALL {
            assert!(seen.insert(a.as_str()), "{a:?}");
            assert_eq!(AuditAction::parse(a.as_str()), Some(*a));
            // Lower-case words joined by dots, as the log has always named them.
            assert!(
                a.as_str()
                    .split('.')
                    .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '_')),
                "{a}"
            );
        }
    }
}
