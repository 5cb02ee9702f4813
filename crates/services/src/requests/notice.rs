//! Telling the person their erasure is done: what was kept, why and until
//! when, by SMS (or email) to the contact they had, read just before it was
//! deleted. Held only in memory for the one message; a failure is logged and
//! never undoes the erasure.
use crate::erasure::ErasureReport;
use crate::orders::local_time;
use crate::vault::open_text;
use crate::Services;
use chotomoni_domain::CustomerId;

/// Where the person can be told, opened before erasure deletes it.
pub(super) struct Reach {
    phone: Option<String>,
    email: Option<String>,
}

impl Services {
    pub(super) async fn reach_of(&self, customer: CustomerId) -> Option<Reach> {
        let mut conn = self.db.conn().await.ok()?;
        let row = chotomoni_storage::customers::get(&mut conn, customer.0)
            .await
            .ok()??;
        let key = self
            .vault
            .customer_key(row.id, row.wrapped_key.as_deref())
            .ok()?;
        Some(Reach {
            phone: open_text(&key, "customers.phone", row.id, row.phone_enc.as_deref())
                .ok()
                .flatten(),
            // An email nobody proved is theirs could be a stranger's: the
            // notice (and its status link) never goes there.
            email: row
                .email_verified_at
                .and_then(|_| {
                    open_text(&key, "customers.email", row.id, row.email_enc.as_deref()).ok()
                })
                .flatten(),
        })
    }

    pub(super) async fn tell_erased(
        &self,
        reach: Option<Reach>,
        report: &ErasureReport,
        status_path: Option<&str>,
    ) {
        let Some(reach) = reach else { return };
        let text = erased_text(report, self.public_url.as_deref(), status_path);
        let sent = match (&self.sms, &reach.phone, &self.mail, &reach.email) {
            (Some(sms), Some(phone), _, _) => {
                sms.send(phone, &text).await.map_err(|e| e.to_string())
            }
            (_, _, Some(mail), Some(email)) => {
                let message = chotomoni_mail::OutgoingMail {
                    to: email.clone(),
                    subject: "ছোটমনি: আপনার তথ্য মুছে ফেলা হয়েছে / Chotomoni: your data was deleted"
                        .into(),
                    text,
                    headers: Vec::new(),
                };
                mail.send(&message).await.map_err(|e| e.to_string())
            }
            _ => return,
        };
        if let Err(e) = sent {
            tracing::warn!(error = %e, "the erasure notice could not be sent");
        }
    }
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
