//! Messages to a customer sent from the job queue: the text and where to
//! send it are sealed into the job under the installation's key, in the
//! transaction of the change they tell about, so the message goes once even
//! if the server stops right after; the sealed contact is cleared once sent
//! (or after a day, by the sweep). Message jobs are at most once: a second
//! copy is worse than an error an admin retries. (Parcel notices carry no
//! sealed message: they are written when their job runs, `couriers::notify`.)
use crate::error::Context as _;
use crate::error::{Result, ServiceError};
use crate::jobs::Job;
use crate::outboxes::SentTo;
use crate::vault::open_text;
use crate::Services;
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::{CustomerId, JobKind};
use chotomoni_storage::jobs::JobRow;
use chotomoni_storage::Conn;
use serde::{Deserialize, Serialize};

/// Where the person can be told, opened from their record.
#[derive(Serialize, Deserialize)]
pub(crate) struct Reach {
    phone: Option<String>,
    email: Option<String>,
}

impl Reach {
    /// The catalog field a message to this reach hands to its provider:
    /// the phone when this server sends SMS, else a proven email address.
    pub(crate) fn field_used(&self, services: &Services) -> Option<&'static str> {
        match (&services.sms, &self.phone, &services.mail, &self.email) {
            (Some(_), Some(_), _, _) => Some("customers.phone_enc"),
            (_, _, Some(_), Some(_)) => Some("customers.email_enc"),
            _ => None,
        }
    }
}

/// What a message job carries, sealed.
#[derive(Serialize, Deserialize)]
struct Message {
    reach: Reach,
    text: String,
}

impl Services {
    pub(crate) async fn reach_of(&self, customer: CustomerId) -> Option<Reach> {
        let mut conn = self.db.conn().await.ok()?;
        self.reach_on(&mut conn, customer).await
    }

    /// [`Self::reach_of`] on `conn`: inside a transaction, so it needs no
    /// second connection from the pool while holding one.
    pub(crate) async fn reach_on(&self, conn: &mut Conn, customer: CustomerId) -> Option<Reach> {
        let row = chotomoni_storage::customers::get(conn, customer.0)
            .await
            .ok()??;
        let key = self
            .vault
            .customer_key(row.id, row.wrapped_key.as_deref())
            .ok()?;
        Some(Reach {
            phone: open_text(
                &key,
                sealed::CUSTOMER_PHONE,
                row.id,
                row.phone_enc.as_deref(),
            )
            .ok()
            .flatten(),
            // An email nobody proved is theirs could be a stranger's: no
            // message (and no link in it) ever goes there.
            email: row
                .email_verified_at
                .and_then(|_| {
                    open_text(
                        &key,
                        sealed::CUSTOMER_EMAIL,
                        row.id,
                        row.email_enc.as_deref(),
                    )
                    .ok()
                })
                .flatten(),
        })
    }

    /// Whether this server has any transport to tell a customer with.
    pub(crate) fn can_tell(&self) -> bool {
        self.sms.is_some() || self.mail.is_some()
    }

    /// Queues `text` to `reach` as a `kind` job about `subject`, on `tx`.
    pub(crate) async fn queue_message(
        &self,
        tx: &mut Conn,
        kind: JobKind,
        subject: i64,
        reach: Reach,
        text: String,
    ) -> Result<()> {
        debug_assert!(kind.at_most_once(), "{kind} is a message: at most once");
        let job = Job::about(kind, subject);
        let plain = serde_json::to_vec(&Message { reach, text }).expect("a message serialises");
        let sealed = self.vault.keyring().seal_for_job(&job.key(), &plain);
        self.enqueue(
            tx,
            Job {
                sealed: Some(&sealed),
                ..job
            },
        )
        .await?;
        Ok(())
    }

    /// The last message to an erased person: once it has gone, the
    /// development outboxes forget them again, so it is not the one copy of
    /// their number left. Not an error of the job when that fails (it would
    /// send the message twice): the erasure's cleanup job forgets them later.
    pub(crate) async fn send_last_message(&self, job: &JobRow, subject: &str) -> Result<()> {
        let reach = self.send_message(job, subject).await?;
        let sent_to = SentTo {
            phone: reach.phone,
            email: reach.email,
        };
        if let Err(e) = self.forget_in_outboxes(&sent_to).await {
            tracing::warn!(error = %crate::error::chain(&e), "an erased person's last message stays in an outbox until the erasure's cleanup job");
        }
        Ok(())
    }

    /// A message job: opens its sealed message and sends it once, by SMS
    /// when there is a phone and an SMS transport, else by email. Returns
    /// where it could go.
    pub(crate) async fn send_message(&self, job: &JobRow, subject: &str) -> Result<Reach> {
        let Some(sealed) = &job.sealed else {
            return Err(ServiceError::Internal(
                "the message's contact is gone (kept a day at most)".into(),
            ));
        };
        let plain = self
            .vault
            .keyring()
            .open_for_job(&job.dedupe_key, sealed)
            .map_err(|_| ServiceError::Sealed)?;
        let Message { reach, text } =
            serde_json::from_slice(&plain).context("a message that does not read")?;
        self.deliver(&reach, text, subject).await?;
        Ok(reach)
    }

    /// Sends `text` to `reach`: by SMS when there is a phone and an SMS
    /// transport, else by email; nothing when neither can reach them.
    pub(crate) async fn deliver(&self, reach: &Reach, text: String, subject: &str) -> Result<()> {
        match (&self.sms, &reach.phone, &self.mail, &reach.email) {
            (Some(sms), Some(phone), _, _) => {
                sms.send(phone, &text).await.context("sending the SMS")?
            }
            (_, _, Some(mail), Some(email)) => {
                let message = chotomoni_mail::OutgoingMail {
                    to: email.clone(),
                    subject: subject.into(),
                    text,
                    headers: Vec::new(),
                };
                mail.send(&message).await.context("sending the email")?
            }
            // No way to reach them on this server's transports.
            _ => {}
        }
        Ok(())
    }
}
