//! A guest files from the tracking page: a one-time code sent to the phone
//! the order was placed with signs its customer in (their number proven,
//! their guest orders joined, as registration does), and the order page's
//! form files the claim. Nothing tells a stranger whether a number is the
//! order's: the first step answers the same either way.
use crate::accounts::{code_hash, sms_text, CODE_VALID_MS, CODE_WRONG};
use crate::auth::{ClientInfo, Session};
use crate::error::{Result, ServiceError};
use crate::{audit, Actor, Services};
use chotomoni_domain::catalog::Lang;
use chotomoni_domain::{CustomerId, FieldError, OrderNumber, Phone};
use chotomoni_storage::{customers as customer_rows, orders as order_rows, verifications, Conn};
use rand::Rng;

/// Said, once the code proved the number, to a customer who has a password.
pub const SIGN_IN_INSTEAD: &str =
    "this number has an account: sign in with its password to file the claim";

fn parse(number: &str, phone: &str) -> Result<(OrderNumber, Phone)> {
    let number = OrderNumber::from_scan(number)
        .map_err(|_| FieldError::new("number", "must be an order number such as CM-000123"))?;
    let phone = Phone::parse(phone).map_err(|_| {
        FieldError::new(
            "phone",
            "must be a Bangladeshi mobile number such as 01712345678",
        )
    })?;
    Ok((number, phone))
}

impl Services {
    /// The order's customer, when `phone` is the number it was placed with
    /// and they are not erased.
    async fn customer_of_order(
        &self,
        conn: &mut Conn,
        number: OrderNumber,
        phone: &Phone,
    ) -> Result<Option<customer_rows::CustomerRow>> {
        // Both reads whatever the first finds: the time taken says nothing.
        let by_phone =
            customer_rows::find_by_phone_index(conn, &self.vault.phone_index(phone)).await?;
        let order = order_rows::get(conn, number.id().0).await?;
        Ok(by_phone.filter(|c| {
            order.as_ref().is_some_and(|o| o.customer_id == c.id) && c.erased_at.is_none()
        }))
    }

    /// Step one: a code to `phone` if the order was placed with it. Counted
    /// against the number like registration codes.
    pub async fn start_claim_sign_in(
        &self,
        number: &str,
        phone: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let (number, phone) = parse(number, phone)?;
        let Some(sms) = self.sms.clone() else {
            return Err(ServiceError::Conflict(crate::accounts::NEEDS_SMS.into()));
        };
        let attempt = crate::rate_limit::Attempt::RegistrationCode {
            phone: phone.as_e164(),
        };
        self.attempt(attempt, client).await?;
        let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32));
        let at = self.now_ms();
        let mut conn = self.db.conn().await?;
        // Stored whether or not it is sent: the same work either way.
        verifications::insert(
            &mut conn,
            &self.vault.phone_index(&phone),
            &code_hash(self, &phone, &code),
            at,
            at + CODE_VALID_MS,
        )
        .await?;
        let customer = self.customer_of_order(&mut conn, number, &phone).await?;
        drop(conn);
        if let Some(customer) = customer {
            // After the answer, so the provider's speed does not show in it.
            let services = self.clone();
            tokio::spawn(async move {
                let sent = sms.send(phone.as_e164(), &sms_text(&code)).await;
                let disclosed = match sent {
                    Ok(()) => services
                        .code_sent_through_provider(customer.id, "customers.phone_enc")
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                if let Err(e) = disclosed {
                    tracing::error!(error = %e, "a claim sign-in code could not be sent");
                }
            });
        }
        Ok(())
    }

    /// Step two: the code signs the order's customer in. A code for any
    /// other number, or this number with another's order, is a wrong code.
    pub async fn finish_claim_sign_in(
        &self,
        number: &str,
        phone: &str,
        code: &str,
        lang: Lang,
        client: &ClientInfo,
    ) -> Result<(String, Session)> {
        let (number, phone) = parse(number, phone)?;
        self.use_code(&phone, code).await?;
        let mut tx = self.db.begin().await?;
        let customer = self
            .customer_of_order(&mut tx, number, &phone)
            .await?
            .ok_or_else(|| FieldError::new("code", CODE_WRONG))?;
        if customer.password_hash.is_some() {
            return Err(ServiceError::Conflict(SIGN_IN_INSTEAD.into()));
        }
        let now = self.now_ms();
        customer_rows::mark_phone_verified(&mut tx, customer.id, now).await?;
        let joined = order_rows::confirm_guest_orders(&mut tx, customer.id).await?;
        let actor = Actor::Customer(CustomerId(customer.id));
        audit::change(
            &mut tx,
            &actor,
            chotomoni_domain::AuditAction::CustomerSignInByCode,
            &actor.audit_ref(),
            &format!("for=claim order={number} guest_orders_joined={joined}"),
        )
        .await?;
        tx.commit().await?;
        self.open_session(actor, lang, client).await
    }
}
