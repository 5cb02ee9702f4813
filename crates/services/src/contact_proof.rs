//! Proving an email address. An email typed at a checkout, or at
//! registration, can deliver an order's news but never identifies anyone in
//! a privacy request: only once a link sent to it comes back is it "on
//! record". The link is stateless: it names the customer and an expiry, and
//! carries a MAC (under a key derived from the master key) over them and the
//! keyed index of the email it was sent to, so it stops working when the
//! email changes, when it expires, or when the customer is erased.
use crate::error::{Result, ServiceError};
use crate::vault::open_text;
use crate::{audit, Actor, Services};
use base64::Engine as _;
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::AuditAction;
use chotomoni_domain::{CustomerId, OrderId, OrderNumber};
use chotomoni_storage::{customers as customer_rows, orders as order_rows};
use serde::Serialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// How long a confirmation link works.
pub const EMAIL_LINK_VALID_MS: i64 = 24 * 3600 * 1000;
const TOKEN_LEN: usize = 8 + 8 + 16;
pub const EMAIL_CONFIRM_PATH: &str = "/account/email/confirm/";

/// What the account page says about the customer's own contact details.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyContact {
    pub email: Option<String>,
    /// A link sent to the email came back: it can identify them.
    pub email_proven: bool,
    /// Orders placed without signing in whose checkout asked for marketing
    /// messages: not a consent until they turn marketing on themselves.
    pub pending_opt_ins: Vec<String>,
}

fn mac_body(customer: i64, expires_at: i64, email_index: &[u8]) -> Vec<u8> {
    let mut body = b"email-confirm\0".to_vec();
    body.extend_from_slice(&customer.to_be_bytes());
    body.extend_from_slice(&expires_at.to_be_bytes());
    body.extend_from_slice(email_index);
    body
}

impl Services {
    fn email_token(&self, customer: i64, expires_at: i64, email_index: &[u8]) -> String {
        let mac = self
            .vault
            .keyring()
            .link_mac(&mac_body(customer, expires_at, email_index));
        let mut raw = customer.to_be_bytes().to_vec();
        raw.extend_from_slice(&expires_at.to_be_bytes());
        raw.extend_from_slice(&mac[..16]);
        B64.encode(raw)
    }

    pub async fn my_contact(&self, actor: &Actor) -> Result<MyContact> {
        let Actor::Customer(CustomerId(me)) = actor else {
            return Err(ServiceError::Forbidden);
        };
        let mut conn = self.db.conn().await?;
        let row = customer_rows::get(&mut conn, *me)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        let pending = order_rows::pending_opt_ins(&mut conn, *me).await?;
        let key = self
            .vault
            .customer_key(row.id, row.wrapped_key.as_deref())?;
        Ok(MyContact {
            email: open_text(
                &key,
                sealed::CUSTOMER_EMAIL,
                row.id,
                row.email_enc.as_deref(),
            )?,
            email_proven: row.email_verified_at.is_some(),
            pending_opt_ins: pending
                .into_iter()
                .map(|id| OrderNumber::from_id(OrderId(id)).to_string())
                .collect(),
        })
    }

    /// Sends the signed-in customer a link to prove their email is theirs.
    pub async fn send_email_confirmation(&self, actor: &Actor) -> Result<()> {
        let Actor::Customer(CustomerId(me)) = actor else {
            return Err(ServiceError::Forbidden);
        };
        let (Some(mail), Some(base)) = (&self.mail, &self.public_url) else {
            // The page offers no button then; an API caller learns why.
            return Err(ServiceError::Conflict(
                "confirming an email needs mail sending and public_url to be configured; ask the shop"
                    .into(),
            ));
        };
        let mut conn = self.db.conn().await?;
        let row = customer_rows::get(&mut conn, *me)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        drop(conn);
        let key = self
            .vault
            .customer_key(row.id, row.wrapped_key.as_deref())?;
        let to = open_text(
            &key,
            sealed::CUSTOMER_EMAIL,
            row.id,
            row.email_enc.as_deref(),
        )?
        .ok_or_else(|| ServiceError::Conflict("there is no email on your account".into()))?;
        let index = self
            .vault
            .email_index(&chotomoni_domain::Email::parse(&to)?);
        let token = self.email_token(row.id, self.now_ms() + EMAIL_LINK_VALID_MS, &index);
        let link = format!("{base}{EMAIL_CONFIRM_PATH}{token}");
        let message = chotomoni_mail::OutgoingMail {
            to,
            subject: "ছোটমনি: আপনার ইমেইল নিশ্চিত করুন / Chotomoni: confirm your email".into(),
            text: format!(
                "এই ইমেইলটি আপনার কি না নিশ্চিত করতে ২৪ ঘণ্টার মধ্যে লিংকটি খুলুন: {link}\n\
                 To confirm this email is yours, open this link within 24 hours: {link}\n"
            ),
            headers: Vec::new(),
        };
        mail.send(&message).await.map_err(|e| {
            ServiceError::Internal(format!("the confirmation could not be sent: {e}"))
        })?;
        self.code_sent_through_provider(row.id, "customers.email_enc")
            .await?;
        Ok(())
    }

    /// Whether a confirmation link is genuine and still works (the page
    /// asks for a click before confirming: mail scanners open links).
    pub async fn email_link_is_valid(&self, token: &str) -> bool {
        self.email_link_customer(token).await.is_ok()
    }

    /// Whether confirmation links can be sent here (mail and `public_url`
    /// are configured).
    pub fn email_confirmation_available(&self) -> bool {
        self.mail.is_some() && self.public_url.is_some()
    }

    /// The link came back: the email it was sent to is proven.
    pub async fn confirm_email(&self, token: &str) -> Result<()> {
        let (customer, index) = self.email_link_customer(token).await?;
        let mut tx = self.db.begin().await?;
        if !customer_rows::mark_email_verified(&mut tx, customer, &index, self.now_ms()).await? {
            return Err(ServiceError::NotFound("confirmation link"));
        }
        audit::change(
            &mut tx,
            &Actor::Customer(CustomerId(customer)),
            AuditAction::CustomerEmailProven,
            &format!("customer:{customer}"),
            "via=link",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The customer a link names and the index of their current email, if
    /// the link's MAC matches them and it has not expired.
    async fn email_link_customer(&self, token: &str) -> Result<(i64, Vec<u8>)> {
        let not_found = || ServiceError::NotFound("confirmation link");
        let raw = B64.decode(token.trim()).map_err(|_| not_found())?;
        if raw.len() != TOKEN_LEN {
            return Err(not_found());
        }
        let customer = i64::from_be_bytes(raw[..8].try_into().expect("8 bytes"));
        let expires_at = i64::from_be_bytes(raw[8..16].try_into().expect("8 bytes"));
        if expires_at <= self.now_ms() {
            return Err(not_found());
        }
        let mut conn = self.db.conn().await?;
        let row = customer_rows::get(&mut conn, customer)
            .await?
            .filter(|r| r.erased_at.is_none())
            .ok_or_else(not_found)?;
        let key = self
            .vault
            .customer_key(row.id, row.wrapped_key.as_deref())
            .map_err(|_| not_found())?;
        let email = open_text(
            &key,
            sealed::CUSTOMER_EMAIL,
            row.id,
            row.email_enc.as_deref(),
        )?
        .ok_or_else(not_found)?;
        let index = self
            .vault
            .email_index(&chotomoni_domain::Email::parse(&email)?);
        let expected = self
            .vault
            .keyring()
            .link_mac(&mac_body(customer, expires_at, &index));
        if !bool::from(expected[..16].ct_eq(&raw[16..])) {
            return Err(not_found());
        }
        Ok((customer, index))
    }
}
