//! Rate limits on what can be guessed or abused from outside: passwords,
//! one-time code requests, order look-ups. Each kind counts apart, so
//! customers behind one carrier NAT asking for codes do not use up each
//! other's sign-in allowance. Subjects and addresses are stored only as
//! keyed fingerprints.
use crate::auth::ClientInfo;
use crate::error::{Result, ServiceError};
use crate::Services;
use chotomoni_crypto::Keyring;
use chotomoni_storage::attempts::{self, NewAttempt, Scope};

/// The limits, all configurable; windows are in minutes.
#[derive(Debug, Clone)]
pub struct RateLimits {
    pub window_minutes: u32,
    /// Failed sign-ins per account from one address in the window.
    pub sign_in_per_account_address: u32,
    /// Failed sign-ins per address, whatever the account, in the window.
    pub sign_in_per_address: u32,
    /// Failed sign-ins per account from anywhere in 24 hours after which each
    /// further try waits twice as long as the one before (1 s, 2 s, 4 s, …),
    /// up to the window. A backoff rather than a lock, so strangers cannot
    /// lock the owner out for long.
    pub sign_in_backoff_after: u32,
    /// Codes sent per phone or email in the window.
    pub codes_per_target: u32,
    /// Codes asked for from one address in the window.
    pub codes_per_address: u32,
    /// Wrong code tries per phone or email in 24 hours, over all its codes.
    pub code_wrong_tries_per_day: u32,
    /// Failed order look-ups (`/track`) per address, and per order number.
    pub track_per_address: u32,
    pub track_per_order: u32,
    /// Password checks (Argon2) running at once; more are refused at once
    /// with 503 instead of queueing.
    pub password_checks: u32,
    /// Orders placed without signing in from one address, per window.
    pub guest_orders_per_address: u32,
    /// Orders placed without signing in with one phone number in 24 hours,
    /// so nobody can bury a number under junk orders.
    pub guest_orders_per_phone_per_day: u32,
    /// Visitor sessions (a cart, a language) opened from one address, per window.
    pub visitor_sessions_per_address: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            window_minutes: 15,
            sign_in_per_account_address: 5,
            sign_in_per_address: 30,
            sign_in_backoff_after: 20,
            codes_per_target: 5,
            codes_per_address: 60,
            code_wrong_tries_per_day: 10,
            track_per_address: 20,
            track_per_order: 10,
            password_checks: 4,
            guest_orders_per_address: 10,
            guest_orders_per_phone_per_day: 5,
            visitor_sessions_per_address: 30,
        }
    }
}

impl RateLimits {
    pub(crate) fn window_ms(&self) -> i64 {
        i64::from(self.window_minutes) * 60_000
    }
}

/// What is being attempted, and on what.
#[derive(Debug, Clone, Copy)]
pub enum Attempt<'a> {
    StaffSignIn {
        username: &'a str,
    },
    /// By the phone number in E.164.
    CustomerSignIn {
        phone: &'a str,
    },
    RegistrationCode {
        phone: &'a str,
    },
    /// By the normalized phone number or email.
    PrivacyRequestCode {
        address: &'a str,
    },
    Track {
        order: &'a str,
    },
    /// An order placed without signing in, by its phone number in E.164.
    GuestOrder {
        phone: &'a str,
    },
    /// A visitor's session being opened.
    VisitorSession,
}

pub use chotomoni_storage::attempts::LimitKind;

/// A person's data that a rate limit's key can be made of, and that
/// erasure therefore recomputes the key from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MadeOf {
    /// The phone number in E.164.
    Phone,
    /// The email address, normalized.
    Email,
}

macro_rules! key_kinds {
    ($($(#[$meta:meta])* $kind:ident = $prefix:literal, $limit:ident, [$($of:ident),*];)+) => {
        /// The kinds of key rate limits count by. Each kind's fingerprint is
        /// made from its prefix and the subject, and each kind says which of a
        /// person's data its subject can be: erasure recomputes every kind's
        /// key from the person's phone and email ([`fingerprints_of`]), so a
        /// kind added later is erased with the others, or says why it need not be.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum KeyKind { $($(#[$meta])* $kind),+ }

        impl KeyKind {
            pub const ALL: &'static [KeyKind] = &[$(KeyKind::$kind),+];

            /// What the key is prefixed with before it is fingerprinted; a
            /// stored fingerprint depends on it, so it never changes.
            fn prefix(self) -> &'static str {
                match self { $(KeyKind::$kind => $prefix),+ }
            }

            /// The limit that counts attempts with keys of this kind.
            pub fn limit(self) -> LimitKind {
                match self { $(KeyKind::$kind => LimitKind::$limit),+ }
            }

            /// Which of a person's data the subject can be; empty when it is
            /// never a customer's (a staff username, an order number, none).
            pub fn made_of(self) -> &'static [MadeOf] {
                match self { $(KeyKind::$kind => &[$(MadeOf::$of),*]),+ }
            }
        }
    };
}

key_kinds! {
    /// A staff member's username: not a customer's data.
    StaffSignIn = "staff", SignIn, [];
    CustomerSignIn = "customer", SignIn, [Phone];
    RegistrationCode = "register", CodeRequest, [Phone];
    PrivacyRequestCode = "privacy-request", CodeRequest, [Phone, Email];
    /// An order number: an order's, kept after erasure (pseudonymised).
    Track = "order", Track, [];
    GuestOrder = "guest-order", GuestOrder, [Phone];
    /// No subject at all: counted by address only.
    VisitorSession = "visitor-session", VisitorSession, [];
}

impl KeyKind {
    /// The keyed fingerprint of `subject` as a key of this kind.
    pub fn fingerprint(self, ring: &Keyring, subject: Option<&str>) -> String {
        let text = match subject {
            Some(s) => format!("{}:{s}", self.prefix()),
            None => self.prefix().to_owned(),
        };
        hex::encode(ring.blind_index("sign-in", &text))
    }
}

impl Attempt<'_> {
    /// The kind of key this attempt counts under, and its subject.
    pub fn key(&self) -> (KeyKind, Option<&str>) {
        match *self {
            Attempt::StaffSignIn { username } => (KeyKind::StaffSignIn, Some(username)),
            Attempt::CustomerSignIn { phone } => (KeyKind::CustomerSignIn, Some(phone)),
            Attempt::RegistrationCode { phone } => (KeyKind::RegistrationCode, Some(phone)),
            Attempt::PrivacyRequestCode { address } => (KeyKind::PrivacyRequestCode, Some(address)),
            Attempt::Track { order } => (KeyKind::Track, Some(order)),
            Attempt::GuestOrder { phone } => (KeyKind::GuestOrder, Some(phone)),
            Attempt::VisitorSession => (KeyKind::VisitorSession, None),
        }
    }

    pub fn kind(&self) -> LimitKind {
        self.key().0.limit()
    }

    /// The subject's keyed fingerprint. The derivation is what erasure
    /// recomputes from a person's number and email to delete their rows.
    pub fn fingerprint(&self, ring: &Keyring) -> String {
        let (kind, subject) = self.key();
        kind.fingerprint(ring, subject)
    }
}

/// Every fingerprint rate limiting can have made of a person's phone
/// (E.164) and email: each kind of key, from each datum it can be made of.
pub fn fingerprints_of(ring: &Keyring, phone: Option<&str>, email: Option<&str>) -> Vec<String> {
    KeyKind::ALL
        .iter()
        .flat_map(|kind| {
            kind.made_of().iter().filter_map(move |of| {
                let datum = match of {
                    MadeOf::Phone => phone,
                    MadeOf::Email => email,
                }?;
                Some(kind.fingerprint(ring, Some(datum)))
            })
        })
        .collect()
}

/// A recorded attempt, to be marked succeeded when it is.
#[derive(Debug, Clone, Copy)]
pub struct Recorded(i64);

impl Services {
    /// Records the attempt, then counts it with the others; refused (and
    /// taken back) when over a limit.
    pub(crate) async fn attempt(&self, a: Attempt<'_>, client: &ClientInfo) -> Result<Recorded> {
        let ring = self.vault.keyring();
        let key = a.fingerprint(ring);
        let address = client
            .ip
            .as_deref()
            .map(|ip| hex::encode(ring.blind_index("sign-in-ip", ip)));
        let kind = a.kind();
        let now = self.now_ms();
        let mut conn = self.db.conn().await?;
        let id = attempts::insert(
            &mut conn,
            &NewAttempt {
                kind,
                key_hash: &key,
                address_hash: address.as_deref(),
                at: now,
            },
        )
        .await?;
        let l = &self.settings.limits;
        let window = l.window_ms();
        let day = attempts::kept_ms();
        // (what is counted, how many may pass, over how long)
        let mut rules = Vec::new();
        match kind {
            LimitKind::SignIn => {
                if let Some(ip) = &address {
                    rules.push((Scope::Pair(&key, ip), l.sign_in_per_account_address, window));
                    rules.push((Scope::Address(ip), l.sign_in_per_address, window));
                }
            }
            LimitKind::CodeRequest => {
                rules.push((Scope::Key(&key), l.codes_per_target, window));
                if let Some(ip) = &address {
                    rules.push((Scope::Address(ip), l.codes_per_address, window));
                }
            }
            LimitKind::Track => {
                rules.push((Scope::Key(&key), l.track_per_order, window));
                if let Some(ip) = &address {
                    rules.push((Scope::Address(ip), l.track_per_address, window));
                }
            }
            LimitKind::GuestOrder => {
                rules.push((Scope::Key(&key), l.guest_orders_per_phone_per_day, day));
                if let Some(ip) = &address {
                    rules.push((Scope::Address(ip), l.guest_orders_per_address, window));
                }
            }
            LimitKind::VisitorSession => {
                if let Some(ip) = &address {
                    rules.push((Scope::Address(ip), l.visitor_sessions_per_address, window));
                }
            }
        }
        let mut wait_ms = 0;
        for (scope, max, over) in rules {
            let (n, _) = attempts::failures(&mut conn, kind, scope, now - over, id).await?;
            if n > i64::from(max) {
                wait_ms = over;
                break;
            }
        }
        if wait_ms == 0 && kind == LimitKind::SignIn {
            let since = now - attempts::kept_ms();
            let (n, newest) =
                attempts::failures(&mut conn, kind, Scope::Key(&key), since, id).await?;
            wait_ms = backoff_left(n - 1, newest, now, l);
        }
        if wait_ms > 0 {
            attempts::withdraw(&mut conn, id).await?;
            return Err(ServiceError::RateLimited {
                retry_after_secs: (wait_ms as u64).div_ceil(1000),
            });
        }
        Ok(Recorded(id))
    }

    /// Public tracking (`Services::track`) behind its limits: failed
    /// look-ups count per address and per order number, so neither phone
    /// numbers for one order nor orders for one phone can be run through.
    pub async fn track_limited(
        &self,
        number: &str,
        phone: &str,
        client: &ClientInfo,
    ) -> Result<crate::orders::OrderView> {
        let order = chotomoni_domain::OrderNumber::from_scan(number)
            .map(|n| n.to_string())
            .unwrap_or_else(|_| number.trim().to_owned());
        let attempt = self
            .attempt(Attempt::Track { order: &order }, client)
            .await?;
        let view = self.track(number, phone).await?;
        self.attempt_succeeded(attempt).await?;
        Ok(view)
    }

    /// A new order behind the quotas of orders placed without signing in
    /// (per address, and per phone number a day); signed-in customers and
    /// staff are not counted.
    pub async fn create_order_limited(
        &self,
        actor: &crate::Actor,
        input: &crate::orders::OrderInput,
        client: &ClientInfo,
    ) -> Result<crate::orders::OrderView> {
        let counted = match (actor, chotomoni_domain::Phone::parse(&input.customer.phone)) {
            (crate::Actor::Visitor, Ok(phone)) => Some(
                self.attempt(
                    Attempt::GuestOrder {
                        phone: phone.as_e164(),
                    },
                    client,
                )
                .await?,
            ),
            // Signed in, or a number the order's own checks refuse.
            _ => None,
        };
        let placed = self.create_order(actor, input).await;
        if let (Err(_), Some(attempt)) = (&placed, counted) {
            // Only orders placed count: a refused one takes its place back.
            let mut conn = self.db.conn().await?;
            attempts::withdraw(&mut conn, attempt.0).await?;
        }
        if let Ok(view) = &placed {
            // The order stands even if its client could not be recorded.
            if let Err(e) = self.record_order_client(actor, &view.number, client).await {
                tracing::warn!(order = %view.number, error = %e, "the order's client was not recorded");
            }
        }
        placed
    }

    pub(crate) async fn attempt_succeeded(&self, r: Recorded) -> Result<()> {
        attempts::mark_succeeded(&mut *self.db.conn().await?, r.0).await?;
        Ok(())
    }
}

/// How much longer an account must wait after `prior` failures, the newest
/// at `newest`: nothing up to the threshold, then doubling from a second.
fn backoff_left(prior: i64, newest: Option<i64>, now: i64, l: &RateLimits) -> i64 {
    let over = prior - i64::from(l.sign_in_backoff_after);
    let Some(newest) = newest.filter(|_| over >= 0) else {
        return 0;
    };
    let wait = 1000_i64
        .saturating_mul(1 << over.min(40))
        .min(l.window_ms());
    (newest + wait - now).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fingerprints erasure deletes are the ones the limits stored: for
    /// every attempt made of a person's phone or email, whatever its kind.
    #[test]
    fn erasure_recomputes_every_key_made_of_a_phone_or_email() {
        let ring = chotomoni_crypto::MasterKey::generate().keyring();
        let phone = "+8801712345678";
        let email = "rahima@example.com";
        let made = fingerprints_of(&ring, Some(phone), Some(email));
        let of_the_person = [
            Attempt::CustomerSignIn { phone },
            Attempt::RegistrationCode { phone },
            Attempt::PrivacyRequestCode { address: phone },
            Attempt::PrivacyRequestCode { address: email },
            Attempt::GuestOrder { phone },
        ];
        for a in of_the_person {
            assert!(made.contains(&a.fingerprint(&ring)), "{a:?} is not erased");
        }
        assert_eq!(made.len(), of_the_person.len());
        for a in [
            Attempt::StaffSignIn { username: phone },
            Attempt::Track { order: phone },
            Attempt::VisitorSession,
        ] {
            assert!(!made.contains(&a.fingerprint(&ring)), "{a:?}");
        }
        // The stored derivation is the one of the first release.
        assert_eq!(
            Attempt::CustomerSignIn { phone }.fingerprint(&ring),
            hex::encode(ring.blind_index("sign-in", &format!("customer:{phone}")))
        );
        assert_eq!(
            Attempt::VisitorSession.fingerprint(&ring),
            hex::encode(ring.blind_index("sign-in", "visitor-session"))
        );
    }

    #[test]
    fn backoff_doubles_past_the_threshold_and_stops_at_the_window() {
        let l = RateLimits {
            sign_in_backoff_after: 3,
            ..Default::default()
        };
        assert_eq!(backoff_left(2, Some(0), 0, &l), 0);
        assert_eq!(backoff_left(3, Some(0), 0, &l), 1000);
        assert_eq!(backoff_left(5, Some(0), 0, &l), 4000);
        assert_eq!(backoff_left(5, Some(0), 3000, &l), 1000);
        assert_eq!(backoff_left(5, Some(0), 9000, &l), 0);
        assert_eq!(backoff_left(60, Some(0), 0, &l), l.window_ms());
    }
}
