//! Telling the person their erasure is done: what was kept, why and until
//! when, by SMS (or email) to the contact they had, read just before it was
//! deleted. The erasure's transaction completes the request and queues the
//! message as a job, its contact sealed under the installation's key (no
//! person's key remains to seal it), so the message goes once even if the
//! server stops right after; the job clears it once sent. A failure to
//! send never undoes the erasure.
use super::status_link::{random_token, STATUS_PATH};
use crate::erasure::ErasureReport;
use crate::error::Result;
use crate::messages::Reach;
use crate::orders::local_time;
use crate::{Actor, Services};
use chotomoni_domain::{JobKind, RequestChannel, RequestStatus};
use chotomoni_storage::privacy_requests::{self as rows, RequestRow};
use chotomoni_storage::Conn;

/// The privacy request an erasure completes, and where to tell the person.
pub(crate) struct ForRequest<'a> {
    pub row: &'a RequestRow,
    pub actor: &'a Actor,
    pub reach: Option<Reach>,
}

/// The subject of the notice sent by email.
pub(crate) const SUBJECT: &str =
    "ছোটমনি: আপনার তথ্য মুছে ফেলা হয়েছে / Chotomoni: your data was deleted";

impl Services {
    /// In the erasure's transaction: the request is completed with its
    /// report and the last message queued.
    pub(crate) async fn complete_erasure_request(
        &self,
        tx: &mut Conn,
        request: ForRequest<'_>,
        report: &ErasureReport,
    ) -> Result<()> {
        let row = request.row;
        if let Some(reach) = request.reach.filter(|_| self.can_tell()) {
            // The stored link is only a hash. A request support logged gave
            // its requester no link yet: the notice carries one. Anyone else
            // holds theirs, which must keep working.
            let link = if row.channel == RequestChannel::SupportEmail {
                let token = random_token();
                rows::set_status_token_hash(tx, row.id, &crate::auth::token_hash(&token)).await?;
                Some(format!("{STATUS_PATH}{token}"))
            } else {
                None
            };
            let text = erased_text(report, self.public_url.as_deref(), link.as_deref());
            self.queue_message(tx, JobKind::ErasureNotice, row.id, reach, text)
                .await?;
        }
        let outcome = serde_json::to_string(report).unwrap_or_default();
        let note = if report.held.is_empty() {
            "erased".to_owned()
        } else {
            format!(
                "erased; proofs of {} kept under a hold",
                held_orders(report)
            )
        };
        self.move_request_in(
            tx,
            request.actor,
            row,
            RequestStatus::Completed,
            &note,
            |c| {
                c.completed_at = Some(self.now_ms());
                c.outcome = Some(outcome);
            },
        )
        .await
    }
}

fn held_orders(report: &ErasureReport) -> String {
    report
        .held
        .iter()
        .map(|h| h.order.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The message, Bangla then English, naming each kept order and its end.
fn erased_text(
    report: &ErasureReport,
    public_url: Option<&str>,
    status_path: Option<&str>,
) -> String {
    let mut bn = String::from("ছোটমনি: আপনার অনুরোধে আপনার তথ্য মুছে ফেলা হয়েছে।");
    let mut en = String::from("Chotomoni: your data has been deleted, as you asked.");
    for h in &report.held {
        let (why_bn, why_en) = match h.reason.as_str() {
            "open_claim" => ("একটি খোলা ক্লেইমের কারণে", "because of an open claim"),
            _ => ("একটি আইনি বাধ্যবাধকতার কারণে", "because of a legal obligation"),
        };
        let (until_bn, until_en) = match h.until {
            Some(t) => (
                format!("{} পর্যন্ত", local_time(t, true)),
                format!("until {}", local_time(t, false)),
            ),
            None => (
                "হোল্ড তোলা পর্যন্ত".to_owned(),
                "until the hold is released".to_owned(),
            ),
        };
        bn.push_str(&format!(
            " অর্ডার {}-এর প্রুফ {why_bn} {until_bn} রাখা হবে, তারপর মুছে ফেলা হবে।",
            h.order
        ));
        en.push_str(&format!(
            " The proofs of order {} are kept {why_en}, {until_en}, then deleted.",
            h.order
        ));
    }
    let link = match (public_url, status_path) {
        (Some(u), Some(path)) => format!(" {}{path}", u.trim_end_matches('/')),
        _ => String::new(),
    };
    format!("{bn} {en}{link}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erasure::HeldProofs;

    #[test]
    fn the_notice_names_what_was_kept_why_and_until_when() {
        let report = ErasureReport {
            already_erased: false,
            erased_at: 0,
            orders_pseudonymised: 2,
            proofs_deleted: 1,
            held: vec![HeldProofs {
                order: "CM-000007".into(),
                reason: "open_claim".into(),
                note: String::new(),
                until: Some(1_800_000_000_000),
                proofs: 1,
            }],
        };
        let text = erased_text(
            &report,
            Some("https://shop.example/"),
            Some("/privacy/requests/status/ab12"),
        );
        assert!(text.contains("your data has been deleted"), "{text}");
        assert!(
            text.contains(
                "The proofs of order CM-000007 are kept because of an open claim, until 2027-01-15"
            ),
            "{text}"
        );
        assert!(text.contains("অর্ডার CM-000007-এর প্রুফ"), "{text}");
        assert!(
            text.ends_with("https://shop.example/privacy/requests/status/ab12"),
            "{text}"
        );
        let plain = erased_text(
            &ErasureReport {
                held: vec![],
                ..report
            },
            None,
            Some("/privacy/requests/status/ab12"),
        );
        assert!(
            !plain.contains("kept") && !plain.contains("http"),
            "{plain}"
        );
    }
}
