//! Marketing messages and the ways out of them.
//!
//! Every send asks [`Services::may_send_marketing`] at the moment of
//! sending (a standing grant in the consent ledger and no suppression), and
//! a refusal is an outcome, not an error. Every marketing email carries an
//! unsubscribe link (RFC 2369 `List-Unsubscribe` with an HTTPS and a
//! `mailto:` URI, and RFC 8058 one-click `List-Unsubscribe-Post`); every
//! marketing SMS ends with how to reply STOP. Opting out by the link or by
//! STOP is recorded in the ledger and puts the address on the suppression
//! list as a keyed hash only.
//!
//! An unsubscribe token names a customer and a channel and carries a MAC
//! under its own key derived from the master key: it holds no personal data
//! (the customer is named by their internal reference, as in the audit log)
//! and cannot be forged or pointed at someone else.
use crate::consents::ConsentChannel;
use crate::customers::{open_contact, ContactView};
use crate::error::Context as _;
use crate::error::{Result, ServiceError};
use crate::{audit, Actor, Services};
use base64::Engine as _;
use chotomoni_domain::AuditAction;
use chotomoni_domain::{ConsentPurpose, CustomerId, FieldError, Phone};
use chotomoni_storage::{consents, customers as customer_rows};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
const TOKEN_VERSION: u8 = 1;
/// Version, channel, customer id (8 bytes), MAC (16 bytes).
const TOKEN_LEN: usize = 1 + 1 + 8 + 16;

/// The last line of every marketing SMS.
pub const SMS_OPT_OUT_LINE: &str = "STOP লিখে উত্তর দিন / Reply STOP to opt out";

/// The answer to a STOP.
pub const SMS_STOP_CONFIRMATION: &str = "ছোটমনি থেকে আর কোনো মার্কেটিং এসএমএস পাবেন না। / You will get no more marketing SMS from Chotomoni.";

/// The `List-Unsubscribe-Post` value of RFC 8058.
pub const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

/// What became of a marketing send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketingOutcome {
    /// Handed to the transport.
    Sent,
    /// Not sent: no standing grant for this channel, or the address is on
    /// the suppression list (checked at the moment of sending).
    OptedOut,
    /// Not sent: the customer has no address for this channel.
    NoAddress,
}

/// What an unsubscribe link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsubscribeOutcome {
    /// The withdrawal was recorded and the address suppressed now.
    Unsubscribed,
    /// Nothing to do: already withdrawn and suppressed (links are idempotent).
    AlreadyUnsubscribed,
}

/// Who an unsubscribe link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsubscribeLink {
    pub customer: CustomerId,
    /// `MarketingEmail` or `MarketingSms`.
    pub purpose: ConsentPurpose,
}

/// What a STOP did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsStopOutcome {
    /// The number is a customer's: their ledger shows the withdrawal.
    Customer(CustomerId),
    /// Not a customer's number: suppressed all the same.
    NotACustomer,
}

fn channel_byte(purpose: ConsentPurpose) -> Option<u8> {
    match purpose {
        ConsentPurpose::MarketingEmail => Some(b'e'),
        ConsentPurpose::MarketingSms => Some(b's'),
        _ => None,
    }
}

fn channel_name(purpose: ConsentPurpose) -> &'static str {
    match purpose {
        ConsentPurpose::MarketingSms => "sms",
        _ => "email",
    }
}

impl Services {
    fn unsubscribe_mac(&self, body: &[u8]) -> [u8; 32] {
        let mut signed = b"unsubscribe:".to_vec();
        signed.extend_from_slice(body);
        self.vault.keyring().unsubscribe_mac(&signed)
    }

    /// The token of the unsubscribe link for `customer` and a marketing
    /// `purpose` (the same token every time: links in old emails keep working).
    pub fn unsubscribe_token(
        &self,
        customer: CustomerId,
        purpose: ConsentPurpose,
    ) -> Result<String> {
        let channel = channel_byte(purpose).ok_or_else(|| {
            ServiceError::Internal(format!("{} is not a marketing purpose", purpose.as_str()))
        })?;
        let mut raw = vec![TOKEN_VERSION, channel];
        raw.extend_from_slice(&customer.0.to_be_bytes());
        let mac = self.unsubscribe_mac(&raw);
        raw.extend_from_slice(&mac[..16]);
        Ok(B64.encode(raw))
    }

    /// `https://HOST/unsubscribe/TOKEN`, from the configured public URL.
    pub fn unsubscribe_url(&self, customer: CustomerId, purpose: ConsentPurpose) -> Result<String> {
        let base = self.public_url.as_deref().ok_or_else(|| {
            ServiceError::Internal(
                "public_url is not configured: marketing messages need it for their unsubscribe link"
                    .into(),
            )
        })?;
        Ok(format!(
            "{base}/unsubscribe/{}",
            self.unsubscribe_token(customer, purpose)?
        ))
    }

    /// Who a token is for. A malformed, altered or forged token, or one for
    /// a customer who no longer exists, is simply not found.
    pub async fn unsubscribe_link(&self, token: &str) -> Result<UnsubscribeLink> {
        let not_found = || ServiceError::NotFound("unsubscribe link");
        let raw = B64.decode(token.trim()).map_err(|_| not_found())?;
        if raw.len() != TOKEN_LEN || raw[0] != TOKEN_VERSION {
            return Err(not_found());
        }
        let expected = self.unsubscribe_mac(&raw[..10]);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&raw[10..], &expected[..16])) {
            return Err(not_found());
        }
        let purpose = match raw[1] {
            b'e' => ConsentPurpose::MarketingEmail,
            b's' => ConsentPurpose::MarketingSms,
            _ => return Err(not_found()),
        };
        let customer = CustomerId(i64::from_be_bytes(raw[2..10].try_into().expect("8 bytes")));
        let mut conn = self.db.conn().await?;
        customer_rows::get(&mut conn, customer.0)
            .await?
            .ok_or_else(not_found)?;
        Ok(UnsubscribeLink { customer, purpose })
    }

    /// Carries out an unsubscribe link (RFC 8058 one-click, or the button
    /// on its page): the ledger records the withdrawal (channel
    /// `unsubscribe_link`) and the address goes on the suppression list.
    /// Idempotent: a second click changes nothing.
    pub async fn unsubscribe(&self, token: &str) -> Result<UnsubscribeOutcome> {
        let link = self.unsubscribe_link(token).await?;
        let id = link.customer.0;
        {
            let mut conn = self.db.conn().await?;
            let granted = consents::latest(&mut conn, id)
                .await?
                .iter()
                .any(|(p, g)| *p == link.purpose && *g == 1);
            let hashes = match self.address_hashes(&mut conn, id, link.purpose).await {
                Ok(h) => h,
                // Erased: there is no one left to send to.
                Err(ServiceError::Sealed) => return Ok(UnsubscribeOutcome::AlreadyUnsubscribed),
                Err(e) => return Err(e),
            };
            let mut suppressed = true;
            for (hash, _) in &hashes {
                suppressed &= consents::is_suppressed(&mut conn, hash).await?;
            }
            if !granted && suppressed {
                return Ok(UnsubscribeOutcome::AlreadyUnsubscribed);
            }
        }
        self.set_consent(
            &Actor::Customer(link.customer),
            link.purpose,
            false,
            ConsentChannel::UnsubscribeLink,
        )
        .await?;
        tracing::info!(
            channel = channel_name(link.purpose),
            "marketing opt-out by unsubscribe link"
        );
        Ok(UnsubscribeOutcome::Unsubscribed)
    }

    /// An SMS opt-out keyword from `from` (as the SMS provider gives it):
    /// the number goes on the suppression list as a keyed hash, whether or
    /// not it is a customer's, and a customer's ledger records the
    /// withdrawal (channel `sms_stop`). The number is never stored or logged.
    pub async fn sms_stop(&self, from: &str) -> Result<SmsStopOutcome> {
        let from = from.trim();
        if from.is_empty() {
            return Err(FieldError::new("From", "is required").into());
        }
        let phone = Phone::parse(from).ok();
        let normalised = phone
            .as_ref()
            .map(|p| p.as_e164().to_owned())
            .unwrap_or_else(|| from.to_owned());
        let hash = self
            .vault
            .keyring()
            .blind_index("suppress-phone", &normalised);
        let mut tx = self.db.begin().await?;
        let customer = match &phone {
            Some(p) => {
                customer_rows::find_by_phone_index(&mut tx, &self.vault.phone_index(p)).await?
            }
            None => None,
        };
        let outcome = match customer {
            Some(row) => {
                let withdrawn = consents::latest(&mut tx, row.id)
                    .await?
                    .iter()
                    .any(|(p, g)| *p == ConsentPurpose::MarketingSms && *g == 0);
                if !withdrawn {
                    crate::consents::record(
                        &mut tx,
                        row.id,
                        ConsentPurpose::MarketingSms,
                        false,
                        ConsentChannel::SmsStop,
                    )
                    .await?;
                    let actor = Actor::Customer(CustomerId(row.id));
                    audit::change(
                        &mut tx,
                        &actor,
                        AuditAction::ConsentWithdraw,
                        &actor.audit_ref(),
                        "purpose=marketing_sms via=sms_stop",
                    )
                    .await?;
                }
                SmsStopOutcome::Customer(CustomerId(row.id))
            }
            None => {
                audit::change(
                    &mut tx,
                    &Actor::Visitor,
                    AuditAction::MarketingSuppress,
                    "suppression:sms",
                    "via=sms_stop",
                )
                .await?;
                SmsStopOutcome::NotACustomer
            }
        };
        consents::suppress(
            &mut tx,
            &hash,
            chotomoni_domain::consent::SuppressionChannel::Sms,
            self.now_ms(),
        )
        .await?;
        tx.commit().await?;
        tracing::info!("marketing opt-out by SMS STOP");
        Ok(outcome)
    }

    /// Sends a marketing email to `customer`, if the ledger and the
    /// suppression list allow it now. It carries `List-Unsubscribe` (the
    /// HTTPS one-click link and a `mailto:`) and `List-Unsubscribe-Post`,
    /// and ends with the unsubscribe link in both languages.
    pub async fn send_marketing_email(
        &self,
        customer: CustomerId,
        subject: &str,
        body: &str,
    ) -> Result<MarketingOutcome> {
        let mailer = self
            .mail
            .clone()
            .ok_or_else(|| ServiceError::Internal("no mail transport is configured".into()))?;
        let purpose = ConsentPurpose::MarketingEmail;
        let url = self.unsubscribe_url(customer, purpose)?;
        if !self.may_send_marketing(customer, purpose).await? {
            self.note_refusal(customer, purpose, "opted_out").await?;
            return Ok(MarketingOutcome::OptedOut);
        }
        let Some(to) = self.marketing_contact(customer).await?.email else {
            self.note_refusal(customer, purpose, "no_address").await?;
            return Ok(MarketingOutcome::NoAddress);
        };
        let mailto = format!("mailto:{}?subject=unsubscribe", mailer.sender_address());
        let mail = chotomoni_mail::OutgoingMail {
            to,
            subject: subject.to_owned(),
            text: format!(
                "{}\n\n-- \nমার্কেটিং ইমেইল বন্ধ করতে / To stop marketing emails:\n{url}\n",
                body.trim_end()
            ),
            headers: vec![
                ("List-Unsubscribe".into(), format!("<{url}>, <{mailto}>")),
                ("List-Unsubscribe-Post".into(), ONE_CLICK.into()),
            ],
        };
        mailer
            .send(&mail)
            .await
            .context("marketing email not sent")?;
        self.note_send(customer, purpose).await?;
        Ok(MarketingOutcome::Sent)
    }

    /// Sends a marketing SMS to `customer`, if the ledger and the
    /// suppression list allow it now; it ends with the STOP line.
    pub async fn send_marketing_sms(
        &self,
        customer: CustomerId,
        text: &str,
    ) -> Result<MarketingOutcome> {
        let sms = self
            .sms
            .clone()
            .ok_or_else(|| ServiceError::Internal("no SMS transport is configured".into()))?;
        let purpose = ConsentPurpose::MarketingSms;
        if !self.may_send_marketing(customer, purpose).await? {
            self.note_refusal(customer, purpose, "opted_out").await?;
            return Ok(MarketingOutcome::OptedOut);
        }
        let phone = self.marketing_contact(customer).await?.phone;
        if phone.is_empty() {
            self.note_refusal(customer, purpose, "no_address").await?;
            return Ok(MarketingOutcome::NoAddress);
        }
        let text = format!("{}\n\n{SMS_OPT_OUT_LINE}", text.trim_end());
        sms.send(&phone, &text)
            .await
            .context("marketing SMS not sent")?;
        self.note_send(customer, purpose).await?;
        Ok(MarketingOutcome::Sent)
    }

    /// The customer's contact details, opened for sending.
    async fn marketing_contact(&self, customer: CustomerId) -> Result<ContactView> {
        let mut conn = self.db.conn().await?;
        let row = customer_rows::get(&mut conn, customer.0)
            .await?
            .ok_or(ServiceError::NotFound("customer"))?;
        let key = self
            .vault
            .customer_key(row.id, row.wrapped_key.as_deref())?;
        open_contact(
            &key,
            row.id,
            row.name_enc.as_deref(),
            row.phone_enc.as_deref(),
            row.email_enc.as_deref(),
        )
    }

    async fn note_refusal(
        &self,
        customer: CustomerId,
        purpose: ConsentPurpose,
        reason: &str,
    ) -> Result<()> {
        let mut conn = self.db.conn().await?;
        audit::change(
            &mut conn,
            &Actor::System,
            AuditAction::MarketingRefused,
            &format!("customer:{}", customer.0),
            &format!("channel={} reason={reason}", channel_name(purpose)),
        )
        .await?;
        Ok(())
    }

    async fn note_send(&self, customer: CustomerId, purpose: ConsentPurpose) -> Result<()> {
        let mut conn = self.db.conn().await?;
        audit::change(
            &mut conn,
            &Actor::System,
            AuditAction::MarketingSend,
            &format!("customer:{}", customer.0),
            &format!("channel={}", channel_name(purpose)),
        )
        .await?;
        Ok(())
    }
}
