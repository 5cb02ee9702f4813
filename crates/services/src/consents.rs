//! The consent ledger: every grant and withdrawal, per person and purpose,
//! with the time, where it was made, the policy version in force and the
//! exact words shown. Rows are only ever added; the current choice is the
//! newest row. Opting out of marketing also puts the person's phone number
//! and email on the suppression list, as keyed hashes only, and every
//! marketing send asks [`Services::may_send_marketing`] at send time.
use crate::error::{Result, ServiceError};
use crate::vault::open_text;
use crate::{audit, Actor, Services};
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::consent::SuppressionChannel;
use chotomoni_domain::{AuditAction, ConsentPurpose, CustomerId};
use chotomoni_storage::consents::{self, ConsentRow};
use chotomoni_storage::{customers as customer_rows, policies, Conn};

pub use chotomoni_domain::consent::ConsentChannel;

impl Services {
    /// The customer's current choice for every purpose (no record: not given).
    pub async fn consents(&self, customer: CustomerId) -> Result<Vec<(ConsentPurpose, bool)>> {
        let mut conn = self.db.conn().await?;
        let latest = consents::latest(&mut conn, customer.0).await?;
        Ok(ConsentPurpose::ALL
            .into_iter()
            .map(|p| {
                (
                    p,
                    latest
                        .iter()
                        .any(|(purpose, granted)| *purpose == p && *granted == 1),
                )
            })
            .collect())
    }

    /// Records a grant or a withdrawal made by the customer themselves.
    pub async fn set_consent(
        &self,
        actor: &Actor,
        purpose: ConsentPurpose,
        granted: bool,
        channel: ConsentChannel,
    ) -> Result<()> {
        let Actor::Customer(customer) = actor else {
            return Err(ServiceError::Forbidden);
        };
        self.record_consent_of(actor, *customer, purpose, granted, channel)
            .await
    }

    /// Records a grant or withdrawal for `customer`, made by `actor` (the
    /// customer, or the system acting on their request), and keeps the
    /// suppression list in step.
    pub(crate) async fn record_consent_of(
        &self,
        actor: &Actor,
        customer: CustomerId,
        purpose: ConsentPurpose,
        granted: bool,
        channel: ConsentChannel,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        record(&mut tx, customer.0, purpose, granted, channel).await?;
        if purpose.is_marketing() {
            // Their own choice spends any opt-in ticked at a guest checkout.
            chotomoni_storage::orders::clear_pending_opt_ins(&mut tx, customer.0).await?;
            let hashes = self.address_hashes(&mut tx, customer.0, purpose).await?;
            for (hash, kind) in hashes {
                if granted {
                    consents::unsuppress(&mut tx, &hash).await?;
                } else {
                    consents::suppress(&mut tx, &hash, kind, self.now_ms()).await?;
                }
            }
        }
        let what = if granted {
            AuditAction::ConsentGrant
        } else {
            AuditAction::ConsentWithdraw
        };
        audit::change(
            &mut tx,
            actor,
            what,
            &format!("customer:{}", customer.0),
            &format!("purpose={} via={}", purpose.as_str(), channel.as_str()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Opts the customer out of every kind of marketing in one step.
    pub async fn opt_out_of_marketing(&self, actor: &Actor, channel: ConsentChannel) -> Result<()> {
        let Actor::Customer(customer) = actor else {
            return Err(ServiceError::Forbidden);
        };
        self.withdraw_marketing_of(actor, *customer, channel).await
    }

    /// Withdraws every marketing consent of `customer` (their own opt-out,
    /// or one carried out on their request).
    pub(crate) async fn withdraw_marketing_of(
        &self,
        actor: &Actor,
        customer: CustomerId,
        channel: ConsentChannel,
    ) -> Result<()> {
        for purpose in [ConsentPurpose::MarketingSms, ConsentPurpose::MarketingEmail] {
            self.record_consent_of(actor, customer, purpose, false, channel)
                .await?;
        }
        Ok(())
    }

    /// Asked at the moment of sending: may this customer get marketing by
    /// this channel? Only with a standing grant, and never when suppressed.
    pub async fn may_send_marketing(
        &self,
        customer: CustomerId,
        purpose: ConsentPurpose,
    ) -> Result<bool> {
        if !purpose.is_marketing() {
            return Err(ServiceError::Internal(format!(
                "{} is not a marketing purpose",
                purpose.as_str()
            )));
        }
        let mut conn = self.db.conn().await?;
        let granted = consents::latest(&mut conn, customer.0)
            .await?
            .iter()
            .any(|(p, g)| *p == purpose && *g == 1);
        if !granted {
            return Ok(false);
        }
        for (hash, _) in self.address_hashes(&mut conn, customer.0, purpose).await? {
            if consents::is_suppressed(&mut conn, &hash).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Keyed hashes of the addresses a marketing purpose would use.
    pub(crate) async fn address_hashes(
        &self,
        conn: &mut Conn,
        customer_id: i64,
        purpose: ConsentPurpose,
    ) -> Result<Vec<(Vec<u8>, SuppressionChannel)>> {
        let row = customer_rows::get(conn, customer_id)
            .await?
            .ok_or(ServiceError::NotFound("customer"))?;
        let key = self
            .vault
            .customer_key(row.id, row.wrapped_key.as_deref())?;
        let keys = self.vault.keyring();
        let mut out = vec![];
        if purpose == ConsentPurpose::MarketingSms {
            if let Some(phone) = open_text(
                &key,
                sealed::CUSTOMER_PHONE,
                row.id,
                row.phone_enc.as_deref(),
            )? {
                out.push((
                    keys.blind_index("suppress-phone", &phone),
                    SuppressionChannel::Sms,
                ));
            }
        } else if let Some(email) = open_text(
            &key,
            sealed::CUSTOMER_EMAIL,
            row.id,
            row.email_enc.as_deref(),
        )? {
            out.push((
                keys.blind_index("suppress-email", &email.to_lowercase()),
                SuppressionChannel::Email,
            ));
        }
        Ok(out)
    }
}

/// A cookie choice as made on the banner or the cookie settings page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CookieChoice {
    pub functional: bool,
    pub analytics: bool,
}

impl Services {
    /// Records a cookie choice (a signed-in customer's also goes to their
    /// consent ledger); returns the choice's id for the `cm_cookies` cookie.
    pub async fn record_cookie_choice(
        &self,
        actor: &Actor,
        choice: CookieChoice,
    ) -> Result<String> {
        use rand::RngCore;
        let mut raw = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let id = hex::encode(raw);
        let customer = match actor {
            Actor::Customer(c) => Some(c.0),
            _ => None,
        };
        let mut tx = self.db.begin().await?;
        let version = policies::latest(&mut tx)
            .await?
            .map(|p| p.version)
            .unwrap_or(1);
        consents::insert_cookie_choice(
            &mut tx,
            &consents::CookieChoiceRow {
                id: &id,
                customer_id: customer,
                functional: choice.functional,
                analytics: choice.analytics,
                policy_version: version,
                at: self.now_ms(),
            },
        )
        .await?;
        if let Some(c) = customer {
            record(
                &mut tx,
                c,
                ConsentPurpose::FunctionalCookies,
                choice.functional,
                ConsentChannel::CookieSettings,
            )
            .await?;
            record(
                &mut tx,
                c,
                ConsentPurpose::AnalyticsCookies,
                choice.analytics,
                ConsentChannel::CookieSettings,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }
}

/// Appends one ledger row, under the policy version in force.
pub(crate) async fn record(
    conn: &mut Conn,
    customer_id: i64,
    purpose: ConsentPurpose,
    granted: bool,
    channel: ConsentChannel,
) -> Result<()> {
    let version = policies::latest(conn)
        .await?
        .map(|p| p.version)
        .unwrap_or(1);
    consents::append(
        conn,
        customer_id,
        &ConsentRow {
            purpose,
            granted: i64::from(granted),
            channel,
            policy_version: version,
            wording: purpose.wording().into(),
            at: crate::now_ms(),
        },
    )
    .await?;
    Ok(())
}
