//! Privacy requests: what a person may ask of the shop under the policy
//! ("Your rights": access, deletion, opting out of marketing), and the rules
//! of their life: the 90-day deadline and the order the back office sees
//! them in.
use crate::order::string_enum;
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

/// The policy's longest time to complete a request.
pub const DEADLINE_DAYS: i64 = 90;
/// The longest reason for rejecting a request, in characters.
pub const MAX_REJECTION_REASON: usize = 200;
/// The longest note on a legal hold, in characters.
pub const MAX_HOLD_NOTE: usize = 200;
const DAY_MS: i64 = 86_400_000;

string_enum! {
    /// What the person asks for.
    RequestKind {
        Access = "access",
        Erasure = "erasure",
        MarketingOptOut = "marketing_opt_out",
    }
}

string_enum! {
    /// How the request reached the shop.
    RequestChannel {
        Account = "account",
        PublicForm = "public_form",
        SupportEmail = "support_email",
        Api = "api",
    }
}

string_enum! {
    /// Where a request stands: `unverified` (logged on the person's behalf,
    /// identity not yet confirmed), `open` (confirmed, waiting to be carried
    /// out), `in_progress` (an export being built), `held` (waiting for
    /// something that stops it now, such as an order out for delivery),
    /// `completed` or `rejected`.
    RequestStatus {
        Unverified = "unverified",
        Open = "open",
        InProgress = "in_progress",
        Held = "held",
        Completed = "completed",
        Rejected = "rejected",
    }
}

string_enum! {
    /// Where an access export stands as stored: being built, ready to
    /// download, failed, or expired (its file deleted).
    StoredExportStatus {
        Building = "building",
        Ready = "ready",
        Failed = "failed",
        Expired = "expired",
    }
}

string_enum! {
    /// How a requester's identity was confirmed.
    VerifiedBy {
        SignedIn = "signed_in",
        StaffCheck = "staff_check",
        EmailOnRecord = "email_on_record",
        OneTimeCodeSms = "one_time_code_sms",
        OneTimeCodeEmail = "one_time_code_email",
    }
}

string_enum! {
    /// How far an access export's build got, shown beside its progress.
    ExportStage {
        Queued = "queued",
        Collecting = "collecting",
        CopyingProofs = "copying_proofs",
        WritingDocuments = "writing_documents",
        Storing = "storing",
        Ready = "ready",
        Failed = "failed",
        Expired = "expired",
    }
}

string_enum! {
    /// Why an order's proof media is kept past an erasure.
    HoldReason {
        OpenClaim = "open_claim",
        Legal = "legal",
    }
}

impl RequestKind {
    pub fn label(self, lang: crate::catalog::Lang) -> &'static str {
        let (en, bn) = match self {
            RequestKind::Access => ("a copy of my data", "আমার তথ্যের কপি"),
            RequestKind::Erasure => ("delete my data", "আমার তথ্য মুছে ফেলা"),
            RequestKind::MarketingOptOut => ("stop marketing messages", "মার্কেটিং বার্তা বন্ধ"),
        };
        lang.pick(en, bn)
    }
}

impl RequestStatus {
    /// Whether nothing more will happen to the request.
    pub fn is_final(self) -> bool {
        matches!(self, RequestStatus::Completed | RequestStatus::Rejected)
    }

    /// The statuses a request may move to from this one.
    pub fn may_become(self, next: RequestStatus) -> bool {
        use RequestStatus::*;
        match self {
            Unverified => matches!(next, Open | Rejected),
            Open => matches!(next, InProgress | Held | Completed | Rejected),
            InProgress => matches!(next, Completed | Held | Open),
            Held => matches!(next, Open | InProgress | Completed),
            Completed | Rejected => false,
        }
    }

    pub fn label(self, lang: crate::catalog::Lang) -> &'static str {
        use RequestStatus::*;
        let (en, bn) = match self {
            Unverified => ("waiting for identity confirmation", "পরিচয় নিশ্চিতের অপেক্ষায়"),
            Open => ("received", "গৃহীত"),
            InProgress => ("in progress", "চলছে"),
            Held => ("on hold", "স্থগিত"),
            Completed => ("completed", "সম্পন্ন"),
            Rejected => ("rejected", "প্রত্যাখ্যাত"),
        };
        lang.pick(en, bn)
    }
}

/// When a request received at `received_at` (Unix ms) must be complete.
pub fn deadline(received_at: i64) -> i64 {
    received_at + DEADLINE_DAYS * DAY_MS
}

/// Whether an unfinished request has passed its deadline at `now`.
pub fn is_overdue(status: RequestStatus, deadline_at: i64, now: i64) -> bool {
    !status.is_final() && now > deadline_at
}

/// The back office's order: unfinished before finished, overdue first, then
/// the nearest deadline; finished ones newest first.
pub fn queue_order(a: (RequestStatus, i64), b: (RequestStatus, i64)) -> std::cmp::Ordering {
    match (a.0.is_final(), b.0.is_final()) {
        (false, true) => std::cmp::Ordering::Less,
        (true, false) => std::cmp::Ordering::Greater,
        (false, false) => a.1.cmp(&b.1),
        (true, true) => b.1.cmp(&a.1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestStatus::*;

    #[test]
    fn the_deadline_is_ninety_days_after_receipt() {
        let received = 1_700_000_000_000;
        assert_eq!(deadline(received) - received, 90 * 86_400_000);
        assert!(!is_overdue(Open, deadline(received), deadline(received)));
        assert!(is_overdue(Open, deadline(received), deadline(received) + 1));
        assert!(!is_overdue(
            Completed,
            deadline(received),
            deadline(received) + 1
        ));
    }

    #[test]
    fn finished_requests_never_change() {
        for next in RequestStatus::ALL {
            assert!(!Completed.may_become(*next));
            assert!(!Rejected.may_become(*next));
        }
        assert!(Unverified.may_become(Open));
        assert!(!Unverified.may_become(Completed));
        assert!(Held.may_become(Open));
    }

    #[test]
    fn overdue_requests_come_first() {
        let mut q = vec![
            (Completed, 5),
            (Open, 300),
            (Held, 100),
            (Completed, 9),
            (Unverified, 200),
        ];
        q.sort_by(|a, b| queue_order(*a, *b));
        assert_eq!(
            q,
            vec![
                (Held, 100),
                (Unverified, 200),
                (Open, 300),
                (Completed, 9),
                (Completed, 5)
            ]
        );
    }

    #[test]
    fn kinds_parse_from_the_api_words() {
        assert_eq!(
            RequestKind::parse("marketing_opt_out"),
            Some(RequestKind::MarketingOptOut)
        );
        assert_eq!(RequestKind::parse("delete"), None);
        assert_eq!(
            serde_json::to_string(&RequestKind::Erasure).unwrap(),
            "\"erasure\""
        );
    }
}
