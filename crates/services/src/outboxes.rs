//! The development outboxes (`sms_provider = "file"`, `mail_transport =
//! "outbox"`) keep on this machine a copy of every message sent: numbers,
//! addresses, codes, order news. The catalog lists them (`sms_outbox`,
//! `mail_outbox`); erasure removes the person's messages from them and the
//! technical sweep removes those past the technical-data period. A real
//! provider keeps nothing here, and both calls do nothing for it.
use crate::error::{Context as _, Result};
use crate::Services;
use serde::{Deserialize, Serialize};

/// Where one person's messages went: what the outboxes forget.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct SentTo {
    /// E.164, as messages are sent.
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl Services {
    /// Whether a transport here keeps copies of what it sends.
    pub(crate) fn outboxes_kept(&self) -> bool {
        self.sms.as_ref().is_some_and(|s| s.keeps_copies())
            || self.mail.as_ref().is_some_and(|m| m.keeps_copies())
    }

    /// Removes from the outboxes every message that went to `to`; an error
    /// means some may still be there.
    pub(crate) async fn forget_in_outboxes(&self, to: &SentTo) -> Result<()> {
        if let (Some(sms), Some(phone)) = (&self.sms, &to.phone) {
            sms.forget(phone)
                .await
                .context("forgetting a number in the SMS outbox")?;
        }
        if let (Some(mail), Some(email)) = (&self.mail, &to.email) {
            mail.forget(email)
                .await
                .context("forgetting an address in the mail outbox")?;
        }
        Ok(())
    }

    /// Removes the outboxes' messages sent before `sent_before_ms`; how many.
    pub(crate) async fn sweep_outboxes(&self, sent_before_ms: i64) -> Result<usize> {
        let mut removed = 0;
        if let Some(sms) = &self.sms {
            removed += sms
                .sweep(sent_before_ms)
                .await
                .context("sweeping the SMS outbox")?;
        }
        if let Some(mail) = &self.mail {
            removed += mail
                .sweep(sent_before_ms)
                .await
                .context("sweeping the mail outbox")?;
        }
        Ok(removed)
    }
}
