//! Services: the shop's use cases over storage and keys. Personal fields are
//! sealed and opened here, never below; what a caller may see is decided
//! here, from the actor's role.

pub mod accounts;
pub mod actor;
pub mod audit;
pub mod auth;
pub mod catalogue;
pub mod claims;
pub mod clock;
pub mod consents;
pub mod contact_proof;
pub mod couriers;
pub mod customers;
pub mod disclosures;
pub mod erasure;
pub mod error;
pub mod jobs;
pub mod key_check;
pub mod marketing;
pub(crate) mod messages;
pub mod orders;
pub(crate) mod outboxes;
pub mod payments;
pub mod policies;
pub mod privacy_export;
pub mod proofs;
pub(crate) mod quota;
pub mod rate_limit;
pub mod requests;
pub mod restore;
pub mod seed;
pub mod session_cache;
pub mod vault;

pub use actor::Actor;
pub use error::ServiceError;

use chotomoni_crypto::Keyring;
use chotomoni_storage::Db;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Days technical data (IP address, user agent, device) is kept.
    pub technical_retention_days: u32,
    /// Days a sign-in lasts.
    pub session_days: u32,
    /// Days a verified erasure request waits for staff review before the
    /// background job carries it out (the 90-day deadline always wins).
    pub erasure_review_days: u32,
    /// Days an access export's download link works; then the file is deleted.
    pub export_link_days: u32,
    pub limits: rate_limit::RateLimits,
    /// Access exports a customer may start themselves.
    pub export_quotas: ExportQuotas,
    /// The background job queue on this server.
    pub jobs: jobs::JobSettings,
    /// The claim window and the desk's due times.
    pub claims: chotomoni_domain::ClaimRules,
    /// Days each kind of proof is kept after its order ended.
    pub proof_days: chotomoni_domain::catalog::ProofDays,
    /// When an order's fraud signals raise a flag.
    pub fraud: chotomoni_domain::FraudThresholds,
}

impl Settings {
    /// The periods the data catalog's retention is stated with.
    pub fn periods(&self) -> chotomoni_domain::catalog::Periods {
        chotomoni_domain::catalog::Periods {
            technical_days: self.technical_retention_days,
            proofs: self.proof_days,
            appeal_days: self.claims.appeal_days,
        }
    }
}

/// Limits on the access exports a customer starts themselves (staff and
/// privacy requests, which staff verify, are not limited: the law's
/// deadline is theirs to keep).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportQuotas {
    /// Exports started per 24 hours.
    pub per_day: u32,
    /// Exports of theirs being built at once, whoever started them.
    pub running: u32,
}

impl Default for ExportQuotas {
    fn default() -> Self {
        ExportQuotas {
            per_day: 3,
            running: 1,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            technical_retention_days: 90,
            session_days: 14,
            erasure_review_days: 7,
            export_link_days: 7,
            limits: Default::default(),
            export_quotas: ExportQuotas::default(),
            jobs: Default::default(),
            claims: Default::default(),
            proof_days: Default::default(),
            fraud: Default::default(),
        }
    }
}

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub(crate) db: Db,
    pub(crate) vault: vault::Vault,
    pub(crate) settings: Settings,
    pub(crate) audit: audit::AuditWriter,
    /// Sends the one-time codes of account registration; `None` when no SMS
    /// transport is configured (registration is then unavailable).
    pub(crate) sms: Option<std::sync::Arc<dyn chotomoni_sms::SmsSender>>,
    /// Sends marketing email; `None` when no mail transport is configured.
    pub(crate) mail: Option<std::sync::Arc<dyn chotomoni_mail::Mailer>>,
    /// The shop's public base URL (`https://shop.example`), for links in
    /// messages sent outside a request (unsubscribe links) and for checking
    /// webhook signatures; `None` when not configured.
    pub(crate) public_url: Option<String>,
    pub(crate) session_cache: std::sync::Arc<session_cache::SessionCache>,
    pub(crate) proofs: proofs::ProofStore,
    /// Password checks running now (Argon2 is slow and memory-hungry on
    /// purpose, so a burst must not queue without bound).
    pub(crate) password_checks: std::sync::Arc<tokio::sync::Semaphore>,
    /// Customers' keys and the erasure journal, apart from the database.
    pub(crate) key_vault: Option<chotomoni_storage::key_vault::KeyVault>,
    /// The time every rule goes by (tests move it on).
    pub(crate) clock: clock::Clock,
    /// Wakes this server's idle workers when a job is queued here.
    pub(crate) job_signal: std::sync::Arc<tokio::sync::Notify>,
    /// The couriers parcels are booked with (none: booking is unavailable).
    pub(crate) couriers: std::sync::Arc<couriers::CourierSet>,
    /// Courier reports waiting to be applied by this server's writer.
    pub(crate) reports: std::sync::Arc<couriers::ReportQueue>,
    /// The payment gateways online orders are paid through (none: online
    /// payment is unavailable).
    pub(crate) gateways: std::sync::Arc<payments::GatewaySet>,
}

/// Where proof media lives.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    pub blobs: chotomoni_storage::blobs::BlobStore,
    /// Unfinished uploads (sealed); must be on the same disk as a local
    /// blob store for finished files to move instead of being copied.
    pub staging_dir: std::path::PathBuf,
    pub settings: proofs::ProofSettings,
    /// The key vault's store (see `chotomoni_storage::key_vault`); `None`
    /// leaves backups holding no keys and restores unable to read anyone.
    pub key_vault: Option<chotomoni_storage::blobs::BlobStore>,
}

impl Services {
    pub fn new(
        db: Db,
        keys: Keyring,
        settings: Settings,
        media: MediaConfig,
    ) -> Result<Services, ServiceError> {
        let proofs =
            proofs::ProofStore::new(media.blobs, media.staging_dir, media.settings, &keys)?;
        let audit = audit::AuditWriter::start(db.clone());
        let checks = settings.limits.password_checks.max(1) as usize;
        Ok(Services {
            password_checks: std::sync::Arc::new(tokio::sync::Semaphore::new(checks)),
            vault: vault::Vault::new(keys),
            db,
            settings,
            audit,
            sms: None,
            mail: None,
            public_url: None,
            session_cache: Default::default(),
            job_signal: Default::default(),
            clock: Default::default(),
            couriers: std::sync::Arc::new(couriers::CourierSet::new()),
            reports: Default::default(),
            gateways: std::sync::Arc::new(payments::GatewaySet::new()),
            proofs,
            key_vault: media
                .key_vault
                .map(chotomoni_storage::key_vault::KeyVault::new),
        })
    }

    /// The same services, sending SMS through `sms`.
    pub fn with_sms(mut self, sms: std::sync::Arc<dyn chotomoni_sms::SmsSender>) -> Services {
        self.sms = Some(sms);
        self
    }

    /// The same services, sending email through `mail`.
    pub fn with_mail(mut self, mail: std::sync::Arc<dyn chotomoni_mail::Mailer>) -> Services {
        self.mail = Some(mail);
        self
    }

    /// The same services, booking parcels with `couriers`.
    pub fn with_couriers(mut self, couriers: couriers::CourierSet) -> Services {
        self.couriers = std::sync::Arc::new(couriers);
        self
    }

    /// The same services, taking online payments through `gateways`.
    pub fn with_gateways(mut self, gateways: payments::GatewaySet) -> Services {
        self.gateways = std::sync::Arc::new(gateways);
        self
    }

    /// Another server of the same shop beside `other`: the same SMS and
    /// mail providers, couriers, gateways, and the same clock.
    pub fn serving_beside(mut self, other: &Services) -> Services {
        self.sms = other.sms.clone();
        self.mail = other.mail.clone();
        self.couriers = other.couriers.clone();
        self.gateways = other.gateways.clone();
        self.clock = other.clock.clone();
        self
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn vault(&self) -> &vault::Vault {
        &self.vault
    }

    pub fn audit(&self) -> &audit::AuditWriter {
        &self.audit
    }

    pub fn clock(&self) -> &clock::Clock {
        &self.clock
    }

    pub fn sms(&self) -> Option<&std::sync::Arc<dyn chotomoni_sms::SmsSender>> {
        self.sms.as_ref()
    }

    pub fn mail(&self) -> Option<&std::sync::Arc<dyn chotomoni_mail::Mailer>> {
        self.mail.as_ref()
    }

    /// Password checks running now: holding permits makes sign-ins busy
    /// (tests of the 503 that follows).
    pub fn password_checks(&self) -> &std::sync::Arc<tokio::sync::Semaphore> {
        &self.password_checks
    }

    /// Customers' keys and the erasure journal, apart from the database.
    pub fn key_vault(&self) -> Option<&chotomoni_storage::key_vault::KeyVault> {
        self.key_vault.as_ref()
    }

    pub fn public_url(&self) -> Option<&str> {
        self.public_url.as_deref()
    }

    /// The same services, knowing their public base URL (no trailing `/`).
    pub fn with_public_url(mut self, url: &str) -> Services {
        self.public_url = Some(url.trim().trim_end_matches('/').to_owned());
        self
    }
}

impl Services {
    /// Now, by this installation's clock (Unix ms).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// The system's time (Unix ms); rules go by [`Services::now_ms`].
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
