//! The public request form: a one-time code to the phone or email on
//! record confirms who asks, and the answers never tell whether an address
//! belongs to a customer.
use super::Logged;
use crate::accounts::{code_matches, CODE_EXPIRED, CODE_VALID_MS, CODE_WRONG};
use crate::auth::ClientInfo;
use crate::error::{Result, ServiceError};
use crate::{Actor, Services};
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::{Email, FieldError, Phone, RequestChannel, RequestKind, VerifiedBy};
use chotomoni_storage::privacy_requests as rows;
use chotomoni_storage::{customers as customer_rows, Conn};
use rand::Rng;

/// What the public form confirms a code against: a phone or an email.
enum Address {
    Phone(Phone),
    Email(Email),
}

impl Address {
    fn parse(input: &str) -> Result<Address> {
        let input = input.trim();
        if input.contains('@') {
            Email::parse(input).map(Address::Email).map_err(|_| {
                FieldError::new(
                    "address",
                    "must be an email address or a Bangladeshi mobile number",
                )
                .into()
            })
        } else {
            Phone::parse(input).map(Address::Phone).map_err(|_| {
                FieldError::new(
                    "address",
                    "must be a Bangladeshi mobile number such as 01712345678, or an email address",
                )
                .into()
            })
        }
    }

    fn normalized(&self) -> String {
        match self {
            Address::Phone(p) => p.as_e164().to_owned(),
            Address::Email(e) => e.normalized(),
        }
    }
}

fn code_message(code: &str) -> String {
    format!(
        "ছোটমনি: আপনার গোপনীয়তা অনুরোধের কোড {code}। ১০ মিনিট কাজ করবে। \
         Chotomoni: your privacy request code is {code}. It works for 10 minutes."
    )
}

impl Services {
    fn address_index(&self, a: &Address) -> Vec<u8> {
        match a {
            Address::Phone(p) => self.vault.phone_index(p),
            Address::Email(e) => self.vault.email_index(e),
        }
    }

    fn request_code_hash(&self, a: &Address, kind: RequestKind, code: &str) -> Vec<u8> {
        self.vault.keyring().blind_index(
            "request-code",
            &format!("{}\u{0}{}\u{0}{code}", a.normalized(), kind.as_str()),
        )
    }

    /// The live customer a phone or email belongs to, if any.
    async fn customer_at(&self, conn: &mut Conn, a: &Address) -> Result<Option<i64>> {
        Ok(match a {
            Address::Phone(p) => {
                customer_rows::find_by_phone_index(conn, &self.vault.phone_index(p))
                    .await?
                    .filter(|c| c.erased_at.is_none())
                    .map(|c| c.id)
            }
            // Only an email its owner proved (a code sent to it) is on
            // record: one typed at a checkout could be anyone's.
            Address::Email(e) => {
                customer_rows::find_by_email_index(conn, &self.vault.email_index(e))
                    .await?
                    .into_iter()
                    .find(|c| c.erased_at.is_none() && c.email_verified_at.is_some())
                    .map(|c| c.id)
            }
        })
    }

    /// Public form, step one: sends a code to the phone or email when it
    /// belongs to a customer. The answer is the same either way.
    pub async fn start_public_request(
        &self,
        kind: RequestKind,
        address: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let address = Address::parse(address)?;
        let normalized = address.normalized();
        let attempt = crate::rate_limit::Attempt::PrivacyRequestCode {
            address: &normalized,
        };
        self.attempt(attempt, client).await?;
        let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32));
        let at = self.now_ms();
        let mut conn = self.db.conn().await?;
        rows::insert_code(
            &mut conn,
            &self.address_index(&address),
            kind,
            &self.request_code_hash(&address, kind, &code),
            at,
            at + CODE_VALID_MS,
        )
        .await?;
        let customer = self.customer_at(&mut conn, &address).await?;
        drop(conn);
        // The same queries whether or not the address is a customer's; the
        // sending, which only a customer's gets, happens after the answer,
        // so neither the work nor the provider's speed shows in its timing.
        if let Some(customer) = customer {
            let services = self.clone();
            tokio::spawn(async move { services.send_request_code(customer, address, code).await });
        }
        Ok(())
    }

    /// Sends a public form's code to the customer and records the disclosure.
    /// Failures are logged, never told to the visitor: that would say the
    /// address is a customer's.
    async fn send_request_code(&self, customer: i64, address: Address, code: String) {
        let sent = match &address {
            Address::Phone(p) => match &self.sms {
                Some(sms) => sms
                    .send(p.as_e164(), &code_message(&code))
                    .await
                    .map_err(|e| e.to_string()),
                None => Err("no SMS transport is configured".into()),
            },
            Address::Email(_) => {
                self.send_code_by_email(customer, &code_message(&code))
                    .await
            }
        };
        let field = match address {
            Address::Phone(_) => "customers.phone_enc",
            Address::Email(_) => "customers.email_enc",
        };
        let disclosed = match sent {
            Ok(()) => self
                .code_sent_through_provider(customer, field)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        if let Err(e) = disclosed {
            tracing::error!(error = %e, "a privacy request code could not be sent");
        }
    }

    /// Public form, step two: the code makes the request.
    pub async fn confirm_public_request(
        &self,
        kind: RequestKind,
        address: &str,
        code: &str,
    ) -> Result<Logged> {
        let address = Address::parse(address)?;
        let code = code.trim();
        let index = self.address_index(&address);
        let mut tx = self.db.begin().await?;
        let row = rows::latest_code(&mut tx, &index, kind).await?;
        let now = self.now_ms();
        let Some(row) = row.filter(|r| r.expires_at > now) else {
            return Err(FieldError::new("code", CODE_EXPIRED).into());
        };
        let table = chotomoni_storage::code_tries::CodeTable::RequestCodes;
        self.count_try(&mut tx, table, row.id, &index).await?;
        let right = code_matches(code, &row.code_hash, |c| {
            self.request_code_hash(&address, kind, c)
        });
        let customer = if right {
            self.customer_at(&mut tx, &address).await?
        } else {
            None
        };
        let Some(customer) = customer else {
            tx.commit().await?;
            return Err(FieldError::new("code", CODE_WRONG).into());
        };
        if !rows::use_code(&mut tx, row.id).await? {
            return Err(FieldError::new("code", CODE_EXPIRED).into());
        }
        if let Address::Phone(_) = address {
            customer_rows::mark_phone_verified(&mut tx, customer, self.now_ms()).await?;
        }
        tx.commit().await?;
        let how = match address {
            Address::Phone(_) => VerifiedBy::OneTimeCodeSms,
            Address::Email(_) => VerifiedBy::OneTimeCodeEmail,
        };
        self.create_request(
            &Actor::Visitor,
            customer,
            kind,
            RequestChannel::PublicForm,
            Some(how),
        )
        .await
    }

    /// Sends to the address on record, as it was given, not as typed now.
    async fn send_code_by_email(
        &self,
        customer: i64,
        text: &str,
    ) -> std::result::Result<(), String> {
        let Some(mail) = &self.mail else {
            return Err("no mail transport is configured".into());
        };
        let on_record = async {
            let mut conn = self.db.conn().await?;
            let row = customer_rows::get(&mut conn, customer)
                .await?
                .ok_or(ServiceError::NotFound("customer"))?;
            let key = self
                .vault
                .customer_key(row.id, row.wrapped_key.as_deref())?;
            crate::vault::open_text(
                &key,
                sealed::CUSTOMER_EMAIL,
                row.id,
                row.email_enc.as_deref(),
            )
        };
        let to = match on_record.await {
            Ok(Some(to)) => to,
            Ok(None) => return Err("the customer has no email on record".into()),
            Err(e) => return Err(e.to_string()),
        };
        let message = chotomoni_mail::OutgoingMail {
            to,
            subject: "ছোটমনি: গোপনীয়তা অনুরোধের কোড / Chotomoni: your privacy request code".into(),
            text: text.to_owned(),
            headers: Vec::new(),
        };
        mail.send(&message).await.map_err(|e| e.to_string())
    }
}
