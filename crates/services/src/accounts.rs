//! Customer accounts: registration proves the phone number with a one-time
//! code sent by SMS, because a guest customer record with that number may
//! already hold orders and an address. Only the phone's blind index and a
//! keyed hash of the code are stored; neither the number nor the code is
//! ever logged.
use crate::auth::{check_new_password, hash_password, ClientInfo, Session};
use crate::error::Context as _;
use crate::error::{Result, ServiceError};
use crate::{audit, customers, Actor, Services};
use chotomoni_domain::catalog::Lang;
use chotomoni_domain::AuditAction;
use chotomoni_domain::{CustomerId, CustomerName, Email, FieldError, Phone};
use chotomoni_storage::code_tries::{self, CodeTable};
use chotomoni_storage::{customers as customer_rows, verifications};
use rand::Rng;

/// How long a code works.
pub const CODE_VALID_MS: i64 = 10 * 60 * 1000;
/// Tries allowed per code.
pub const MAX_CODE_ATTEMPTS: i64 = 5;
/// Wrong tries are summed per phone or email over this long, across all
/// its codes: asking for a new code must not reset the count.
pub const CODE_TRIES_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// Shortest customer password.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The messages of the `code` field's errors (pages map them to their words).
pub const CODE_WRONG: &str = "is not the code we sent";
pub const CODE_EXPIRED: &str = "has expired or was already used; ask for a new code";
pub const CODE_TOO_MANY: &str = "was tried too many times; ask for a new code";
pub const CODE_TOO_MANY_TODAY: &str =
    "codes for this number or email were tried wrongly too many times today; try again tomorrow";
/// The refusal when no SMS transport is configured.
pub const NEEDS_SMS: &str =
    "registration needs SMS sending to be configured (sms_provider); ask the shop";
/// The refusal when the number already has a password.
pub const ALREADY_REGISTERED: &str = "this number already has an account; sign in";

/// What a registration form sends in its second step.
#[derive(Debug, Clone, Default)]
pub struct Registration<'a> {
    pub phone: &'a str,
    pub code: &'a str,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub password: &'a str,
}

pub(crate) fn code_hash(services: &Services, phone: &Phone, code: &str) -> Vec<u8> {
    services
        .vault
        .keyring()
        .blind_index("sms-code", &format!("{}\u{0}{code}", phone.as_e164()))
}

/// Whether `code` is six digits whose keyed hash (`hash_of`) is `stored`,
/// compared in constant time. Shared by registration and privacy requests.
pub(crate) fn code_matches(code: &str, stored: &[u8], hash_of: impl Fn(&str) -> Vec<u8>) -> bool {
    code.len() == 6
        && code.bytes().all(|b| b.is_ascii_digit())
        && bool::from(subtle::ConstantTimeEq::ct_eq(
            hash_of(code).as_slice(),
            stored,
        ))
}

/// Judges a try that is already counted: `tries` at this code and
/// `wrong_today` at all the target's codes, both including this one. A
/// refused try is rolled back with its transaction, so it does not count.
pub(crate) fn judge_tries(tries: i64, wrong_today: i64, per_day: u32) -> Result<()> {
    if tries > MAX_CODE_ATTEMPTS {
        return Err(FieldError::new("code", CODE_TOO_MANY).into());
    }
    if wrong_today > i64::from(per_day) {
        return Err(FieldError::new("code", CODE_TOO_MANY_TODAY).into());
    }
    Ok(())
}

impl Services {
    /// Counts a try at a code and judges it (see `judge_tries`).
    pub(crate) async fn count_try(
        &self,
        conn: &mut chotomoni_storage::Conn,
        table: CodeTable,
        id: i64,
        target_index: &[u8],
    ) -> Result<()> {
        let tries = code_tries::count_try(conn, table, id).await?;
        let since = self.now_ms() - CODE_TRIES_WINDOW_MS;
        let wrong = code_tries::wrong_since(conn, table, target_index, since).await?;
        judge_tries(tries, wrong, self.settings.limits.code_wrong_tries_per_day)
    }
}

pub(crate) fn sms_text(code: &str) -> String {
    format!(
        "ছোটমনি: আপনার কোড {code}। ১০ মিনিট কাজ করবে, কাউকে বলবেন না। \
         Chotomoni: your code is {code}. It works for 10 minutes; do not share it."
    )
}

impl Services {
    /// The customer proved by a one-time code that their phone is theirs:
    /// recorded, and the guest orders placed with it join their history.
    /// Returns how many did. (Registration does the same in its own
    /// transaction.)
    pub async fn phone_proven(&self, customer: CustomerId) -> Result<u64> {
        let mut tx = self.db.begin().await?;
        customer_rows::mark_phone_verified(&mut tx, customer.0, self.now_ms()).await?;
        let joined = chotomoni_storage::orders::confirm_guest_orders(&mut tx, customer.0).await?;
        audit::change(
            &mut tx,
            &Actor::Customer(customer),
            AuditAction::CustomerPhoneProven,
            &format!("customer:{}", customer.0),
            &format!("guest_orders_joined={joined}"),
        )
        .await?;
        tx.commit().await?;
        Ok(joined)
    }

    /// Whether registration can work here (an SMS transport is configured).
    pub fn registration_available(&self) -> bool {
        self.sms.is_some()
    }

    /// Step one: sends a one-time code to `phone`. The answer is the same
    /// whether or not the number belongs to a customer or an account.
    pub async fn start_registration(&self, phone: &str, client: &ClientInfo) -> Result<()> {
        let Some(sms) = self.sms.clone() else {
            return Err(ServiceError::Conflict(NEEDS_SMS.into()));
        };
        let phone = Phone::parse(phone).map_err(|_| {
            FieldError::new(
                "phone",
                "must be a Bangladeshi mobile number such as 01712345678",
            )
        })?;
        // Every code sent counts against the number and the address.
        let attempt = crate::rate_limit::Attempt::RegistrationCode {
            phone: phone.as_e164(),
        };
        self.attempt(attempt, client).await?;
        let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32));
        let at = self.now_ms();
        verifications::insert(
            &mut *self.db.conn().await?,
            &self.vault.phone_index(&phone),
            &code_hash(self, &phone, &code),
            at,
            at + CODE_VALID_MS,
        )
        .await?;
        sms.send(phone.as_e164(), &sms_text(&code))
            .await
            .context("the code could not be sent")?;
        // The number of an existing customer went to the SMS provider.
        let existing = customer_rows::find_by_phone_index(
            &mut *self.db.conn().await?,
            &self.vault.phone_index(&phone),
        )
        .await?;
        if let Some(c) = existing.filter(|c| c.erased_at.is_none()) {
            self.code_sent_through_provider(c.id, "customers.phone_enc")
                .await?;
        }
        Ok(())
    }

    /// Checks a code and uses it up; its tries are counted even when the
    /// rest of the registration then fails.
    pub(crate) async fn use_code(&self, phone: &Phone, code: &str) -> Result<()> {
        let code = code.trim();
        let mut tx = self.db.begin().await?;
        let index = self.vault.phone_index(phone);
        let row = verifications::latest_unused(&mut tx, &index).await?;
        let now = self.now_ms();
        let Some(row) = row.filter(|r| r.expires_at > now) else {
            return Err(FieldError::new("code", CODE_EXPIRED).into());
        };
        self.count_try(&mut tx, CodeTable::PhoneVerifications, row.id, &index)
            .await?;
        let right = code_matches(code, &row.code_hash, |c| code_hash(self, phone, c));
        if !right {
            tx.commit().await?;
            return Err(FieldError::new("code", CODE_WRONG).into());
        }
        if !verifications::mark_used(&mut tx, row.id).await? {
            return Err(FieldError::new("code", CODE_EXPIRED).into());
        }
        tx.commit().await?;
        Ok(())
    }

    /// Step two: with the code received, sets a password on the customer
    /// record of that number (a guest's earlier orders become the account's)
    /// or creates one, and signs the customer in.
    pub async fn complete_registration(
        &self,
        r: &Registration<'_>,
        lang: Lang,
        client: &ClientInfo,
    ) -> Result<(String, Session)> {
        let phone = Phone::parse(r.phone).map_err(|_| {
            FieldError::new(
                "phone",
                "must be a Bangladeshi mobile number such as 01712345678",
            )
        })?;
        let name = CustomerName::parse(r.name)?;
        let email = r
            .email
            .filter(|e| !e.trim().is_empty())
            .map(Email::parse)
            .transpose()?;
        check_new_password(r.password, MIN_PASSWORD_CHARS)?;
        self.use_code(&phone, r.code).await?;
        let password = r.password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .context("password hashing failed")??;
        let mut tx = self.db.begin().await?;
        let existing =
            customer_rows::find_by_phone_index(&mut tx, &self.vault.phone_index(&phone)).await?;
        let (id, how) = match existing {
            Some(row) if row.password_hash.is_some() || row.erased_at.is_some() => {
                return Err(ServiceError::Conflict(ALREADY_REGISTERED.into()));
            }
            Some(row) => {
                // The code proved the number is theirs: what guests typed
                // with it gives way to what its owner types now.
                let key = self
                    .vault
                    .customer_key(row.id, row.wrapped_key.as_deref())?;
                let contact = self
                    .vault
                    .seal_contact(&key, row.id, &name, &phone, email.as_ref());
                customer_rows::replace_contact(&mut tx, row.id, &contact, self.now_ms()).await?;
                (row.id, "existing-customer")
            }
            None => {
                let (id, _, _) =
                    customers::find_or_create(&mut tx, &self.vault, &name, &phone, email.as_ref())
                        .await?;
                customer_rows::mark_phone_verified(&mut tx, id, self.now_ms()).await?;
                (id, "new-customer")
            }
        };
        customer_rows::set_password_hash(&mut tx, id, &hash).await?;
        // Guest orders placed with the number join the account's history.
        let joined = chotomoni_storage::orders::confirm_guest_orders(&mut tx, id).await?;
        let actor = Actor::Customer(CustomerId(id));
        // The registration page shows the policy in force; it is accepted here.
        if let Some(current) = chotomoni_storage::policies::latest(&mut tx).await? {
            chotomoni_storage::policies::accept(
                &mut tx,
                id,
                current.version,
                chotomoni_domain::policy::Acceptance::Registration,
                self.now_ms(),
            )
            .await?;
        }
        audit::change(
            &mut tx,
            &actor,
            AuditAction::CustomerRegister,
            &actor.audit_ref(),
            &format!("{how} guest_orders_joined={joined}"),
        )
        .await?;
        tx.commit().await?;
        self.open_session(actor, lang, client).await
    }
}

#[cfg(test)]
mod tests {
    use chotomoni_domain::catalog::kept_ms;

    /// Codes are swept after the catalog's period: a window longer than
    /// that would count tries that are no longer there.
    #[test]
    fn wrong_tries_are_counted_no_longer_than_codes_are_kept() {
        assert!(super::CODE_TRIES_WINDOW_MS <= kept_ms("phone_verifications"));
        assert!(super::CODE_TRIES_WINDOW_MS <= kept_ms("request_codes"));
    }
}
