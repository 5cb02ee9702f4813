//! Staff and customer sign-in, sessions and the sign-in rate limit.
use crate::error::Context as _;
use crate::error::{Result, ServiceError};
use crate::rate_limit::Attempt;
use crate::{audit, Actor, Services};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::Engine as _;
use chotomoni_domain::catalog::Lang;
use chotomoni_domain::AuditAction;
use chotomoni_domain::{catalog, CustomerId, FieldError, Phone, Role, SessionKind, StaffId};
use chotomoni_storage::{customers, sessions, staff};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A live session, resolved from its cookie or bearer token.
#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub actor: Actor,
    pub csrf_token: String,
    pub lang: Lang,
    pub cart: String,
}

/// Technical data of the request that opens a session.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// Phone, tablet or computer: all the policy's "device type" needs.
    pub fn device_kind(&self) -> Option<&'static str> {
        let ua = self.user_agent.as_deref()?;
        Some(if ua.contains("iPad") || ua.contains("Tablet") {
            "tablet"
        } else if ua.contains("Mobi") || ua.contains("Android") || ua.contains("iPhone") {
            "phone"
        } else {
            "computer"
        })
    }
}

pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .map(|h| h.to_string())
        .context("password hashing failed")
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Hashing is deliberately slow; keep it off the async workers.
async fn verify_off_thread(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        // An unknown user still costs one verification, so timing reveals nothing.
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        verify_password(&password, &hash)
    })
    .await
    .unwrap_or(false)
}

const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8zY0HyvdYO+K3T0lYGvyG+ey3W4V2yTQZUhCUa3wj7c";

pub fn check_new_password(password: &str, min_chars: usize) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < min_chars {
        return Err(FieldError::new(
            "password",
            format!("must be at least {min_chars} characters"),
        ));
    }
    if n > 256 {
        return Err(FieldError::new(
            "password",
            "must be at most 256 characters",
        ));
    }
    Ok(())
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Services {
    pub async fn add_staff(&self, username: &str, password: &str, role: Role) -> Result<StaffId> {
        let username = username.trim().to_lowercase();
        let valid = (3..=40).contains(&username.len())
            && username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-');
        if !valid {
            return Err(FieldError::new(
                "username",
                "must be 3 to 40 letters, digits, dots, dashes or underscores",
            )
            .into());
        }
        check_new_password(password, 10)?;
        let hash = hash_password(password)?;
        let mut tx = self.db.begin().await?;
        let id = staff::insert(&mut tx, &username, &hash, role, self.now_ms())
            .await
            .map_err(|e| match e {
                chotomoni_storage::StorageError::Duplicate(_) => {
                    ServiceError::Conflict(format!("staff user {username} already exists"))
                }
                other => other.into(),
            })?;
        audit::change(
            &mut tx,
            &Actor::System,
            AuditAction::StaffAdd,
            &format!("staff:{id}"),
            role.as_str(),
        )
        .await?;
        tx.commit().await?;
        Ok(StaffId(id))
    }

    /// A permit to run one password check, or `Busy` at once.
    fn password_check_permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit> {
        self.password_checks
            .clone()
            .try_acquire_owned()
            .map_err(|_| ServiceError::Busy {
                retry_after_secs: 1,
            })
    }

    /// Staff sign-in. Returns the bearer token (also the cookie's value).
    pub async fn staff_sign_in(
        &self,
        username: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<(String, Session)> {
        let username = username.trim().to_lowercase();
        let _permit = self.password_check_permit()?;
        let attempt = self
            .attempt(
                Attempt::StaffSignIn {
                    username: &username,
                },
                client,
            )
            .await?;
        let row = staff::by_username(&mut *self.db.conn().await?, &username).await?;
        let ok = verify_off_thread(
            password.to_owned(),
            row.as_ref().map(|r| r.password_hash.clone()),
        )
        .await;
        let row = row
            .filter(|r| ok && r.disabled_at.is_none())
            .ok_or(ServiceError::BadCredentials)?;
        self.attempt_succeeded(attempt).await?;
        let actor = Actor::Staff {
            id: StaffId(row.id),
            role: row.role,
        };
        self.open_session(actor, Lang::En, client).await
    }

    /// Customer sign-in with phone and password.
    pub async fn customer_sign_in(
        &self,
        phone: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<(String, Session)> {
        let phone = Phone::parse(phone)?;
        let _permit = self.password_check_permit()?;
        let attempt = self
            .attempt(
                Attempt::CustomerSignIn {
                    phone: phone.as_e164(),
                },
                client,
            )
            .await?;
        let row = customers::find_by_phone_index(
            &mut *self.db.conn().await?,
            &self.vault.phone_index(&phone),
        )
        .await?;
        let ok = verify_off_thread(
            password.to_owned(),
            row.as_ref().and_then(|r| r.password_hash.clone()),
        )
        .await;
        let row = row
            .filter(|r| ok && r.erased_at.is_none())
            .ok_or(ServiceError::BadCredentials)?;
        self.attempt_succeeded(attempt).await?;
        self.open_session(Actor::Customer(CustomerId(row.id)), Lang::Bn, client)
            .await
    }

    /// Opens a session for an actor; visitors get one only when they need it
    /// (a cart, a language choice), never just for browsing.
    pub async fn open_session(
        &self,
        actor: Actor,
        lang: Lang,
        client: &ClientInfo,
    ) -> Result<(String, Session)> {
        if let Actor::Visitor = actor {
            // Anyone can ask for one: each address gets a quota.
            self.attempt(crate::rate_limit::Attempt::VisitorSession, client)
                .await?;
        }
        let token = random_token();
        let hash = token_hash(&token);
        let csrf = random_token();
        let at = self.now_ms();
        let (kind, staff_id, customer_id) = match actor {
            Actor::Staff { id, .. } => (SessionKind::Staff, Some(id.0), None),
            Actor::Customer(id) => (SessionKind::Customer, None, Some(id.0)),
            _ => (SessionKind::Visitor, None, None),
        };
        let mut tx = self.db.begin().await?;
        sessions::insert(
            &mut tx,
            &sessions::NewSession {
                token_hash: &hash,
                kind,
                staff_id,
                customer_id,
                csrf_token: &csrf,
                lang,
                cart: "[]",
                ip_address: client.ip.as_deref(),
                user_agent: client.user_agent.as_deref().map(|u| truncate(u, 400)),
                device_kind: client.device_kind(),
                at,
                expires_at: at + i64::from(self.settings.session_days) * 86_400_000,
            },
        )
        .await?;
        if kind != SessionKind::Visitor {
            audit::change(
                &mut tx,
                &actor,
                AuditAction::SessionOpen,
                &actor.audit_ref(),
                "",
            )
            .await?;
        }
        tx.commit().await?;
        Ok((
            token,
            Session {
                token_hash: hash,
                actor,
                csrf_token: csrf,
                lang,
                cart: "[]".into(),
            },
        ))
    }

    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let hash = token_hash(token);
        if let Some(s) = self.session_cache.get(&hash) {
            return Ok(Some(s));
        }
        let now = self.now_ms();
        let Some(row) = sessions::get(&mut *self.db.conn().await?, &hash, now).await? else {
            return Ok(None);
        };
        let actor = match (row.kind, row.staff_id, row.customer_id) {
            (SessionKind::Staff, Some(id), _) => match row.staff_role {
                Some(role) => Actor::Staff {
                    id: StaffId(id),
                    role,
                },
                None => return Ok(None), // disabled since
            },
            (SessionKind::Customer, _, Some(id)) => Actor::Customer(CustomerId(id)),
            _ => Actor::Visitor,
        };
        let session = Session {
            token_hash: row.token_hash,
            actor,
            csrf_token: row.csrf_token,
            lang: row.lang,
            cart: row.cart,
        };
        // Only staff sessions: visitors' carts change and must be read fresh.
        if let Actor::Staff { .. } = actor {
            let left = std::time::Duration::from_millis((row.expires_at - now).max(0) as u64);
            self.session_cache.put(&session, left);
        }
        Ok(Some(session))
    }

    pub async fn sign_out(&self, session: &Session) -> Result<()> {
        self.session_cache.forget(&session.token_hash);
        sessions::delete(&mut *self.db.conn().await?, &session.token_hash).await?;
        Ok(())
    }

    pub async fn set_session_lang(&self, session: &Session, lang: Lang) -> Result<()> {
        self.session_cache.forget(&session.token_hash);
        sessions::set_lang(&mut *self.db.conn().await?, &session.token_hash, lang).await?;
        Ok(())
    }

    pub async fn set_cart(&self, session: &Session, cart: &str) -> Result<()> {
        sessions::set_cart(&mut *self.db.conn().await?, &session.token_hash, cart).await?;
        Ok(())
    }

    /// Purges technical data past its retention (with orders' client
    /// fingerprints and phone checks), expired sessions,
    /// phone verification codes once their wrong tries no longer count, and
    /// development outbox messages past the technical-data period.
    pub async fn sweep(&self) -> Result<(u64, u64)> {
        let now = self.now_ms();
        let cutoff = now - i64::from(self.settings.technical_retention_days) * 86_400_000;
        let mut conn = self.db.conn().await?;
        let swept = sessions::sweep(&mut conn, cutoff, now).await?;
        let codes_before = now - catalog::kept_ms("phone_verifications");
        chotomoni_storage::verifications::sweep(&mut conn, codes_before).await?;
        chotomoni_storage::consents::sweep_cookie_choices(&mut conn, cutoff).await?;
        chotomoni_storage::order_signals::sweep(&mut conn, cutoff).await?;
        drop(conn);
        // Purged rows must not live on in the SQLite write-ahead log either.
        self.db.truncate_wal().await?;
        let messages = self.sweep_outboxes(cutoff).await?;
        if messages > 0 {
            tracing::info!(messages, "swept the development outboxes");
        }
        Ok(swept)
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
