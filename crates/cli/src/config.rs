//! Configuration, layered: built-in defaults, then a TOML file, then
//! `CHOTOMONI_*` environment variables (and `DATABASE_URL`), then flags.
use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

mod claims;
pub mod couriers;
mod fraud;
mod jobs;
pub mod payments;
mod proofs;
mod rate_limits;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub master_key_file: Option<PathBuf>,
    pub technical_retention_days: Option<u32>,
    pub session_days: Option<u32>,
    pub secure_cookies: Option<bool>,
    pub trust_forwarded: Option<bool>,
    pub max_connections: Option<u32>,
    pub log: Option<String>,
    pub sms_provider: Option<String>,
    pub sms_base_url: Option<String>,
    pub sms_account_sid: Option<String>,
    pub sms_from: Option<String>,
    pub public_url: Option<String>,
    pub mail_transport: Option<String>,
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub media_dir: Option<PathBuf>,
    pub upload_dir: Option<PathBuf>,
    pub max_upload_bytes: Option<u64>,
    pub upload_expiry_hours: Option<u32>,
    pub s3_bucket: Option<String>,
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    pub s3_access_key_id: Option<String>,
    pub s3_allow_http: Option<bool>,
    pub station_video_width: Option<u32>,
    pub station_video_height: Option<u32>,
    pub station_video_bits_per_second: Option<u32>,
    pub key_vault_dir: Option<PathBuf>,
    pub key_vault_s3_bucket: Option<String>,
    pub erasure_review_days: Option<u32>,
    pub export_link_days: Option<u32>,
    /// Addresses or networks of the proxies whose `X-Forwarded-*` count.
    pub trusted_proxies: Option<Vec<String>>,
    pub rate_limits: Option<rate_limits::LimitsFile>,
    pub jobs: Option<jobs::JobsFile>,
    pub claims: Option<claims::ClaimsFile>,
    pub fraud: Option<fraud::FraudFile>,
    pub proofs: Option<proofs::ProofsFile>,
    pub couriers: Option<couriers::CouriersFile>,
    pub payments: Option<payments::PaymentsFile>,
    // Read by `limits`.
    pub header_read_timeout_secs: Option<u64>,
    pub send_idle_timeout_secs: Option<u64>,
    pub upload_idle_timeout_secs: Option<u64>,
    pub max_unfinished_uploads: Option<u32>,
    pub max_unfinished_upload_bytes: Option<u64>,
    pub claim_uploads_per_day: Option<u32>,
    pub exports_per_day: Option<u32>,
    pub exports_running: Option<u32>,
    pub inspections_at_once: Option<usize>,
}

#[derive(Clone)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub master_key_file: PathBuf,
    /// Hex master key from the environment; never printed.
    pub master_key_hex: Option<String>,
    pub technical_retention_days: u32,
    pub session_days: u32,
    pub secure_cookies: bool,
    pub trust_forwarded: bool,
    pub max_connections: u32,
    pub log: String,
    /// `twilio` or `file`; none: no SMS (registration unavailable, except
    /// `serve --demo`, which uses the file outbox).
    pub sms_provider: Option<String>,
    pub sms_base_url: String,
    pub sms_account_sid: Option<String>,
    /// Sender number, alphanumeric sender ID or Messaging Service SID (`MG…`).
    pub sms_from: Option<String>,
    /// From CHOTOMONI_SMS_AUTH_TOKEN only; never printed.
    pub sms_auth_token: Option<String>,
    /// The shop's public base URL (`https://shop.example`), for links in
    /// messages (unsubscribe) and for checking Twilio's webhook signatures.
    pub public_url: Option<String>,
    /// `smtp` or `outbox`; none: no email is sent.
    pub mail_transport: Option<String>,
    /// `smtps://user@host` or `smtp://user@host:587?tls=required`, without
    /// the password.
    pub smtp_url: Option<String>,
    /// `Chotomoni <shop@example.com>`.
    pub mail_from: Option<String>,
    /// From CHOTOMONI_SMTP_PASSWORD only; never printed.
    pub smtp_password: Option<String>,
    /// Proof media: a local folder unless an S3 bucket is configured.
    pub media_dir: PathBuf,
    /// Unfinished uploads (sealed); keep it on the media folder's disk.
    pub upload_dir: PathBuf,
    pub max_upload_bytes: u64,
    pub upload_expiry_hours: u32,
    pub s3_bucket: Option<String>,
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<String>,
    /// From CHOTOMONI_S3_SECRET_ACCESS_KEY only; never printed.
    pub s3_secret_access_key: Option<String>,
    pub s3_allow_http: bool,
    /// What the packing station records at (default 1280×720, 1 Mbit/s).
    pub station_video_width: u32,
    pub station_video_height: u32,
    pub station_video_bits_per_second: u32,
    /// Customers' keys and the erasure journal, never in a backup: a local
    /// folder, or a bucket (same S3 endpoint and credentials as media)
    /// without object versioning.
    pub key_vault_dir: PathBuf,
    pub key_vault_s3_bucket: Option<String>,
    pub erasure_review_days: u32,
    /// Days an access export's download link works.
    pub export_link_days: u32,
    /// With `trust_forwarded`: only connections from these may say who the
    /// client is (default: loopback).
    pub trusted_proxies: chotomoni_web::proxies::TrustedProxies,
    pub rate_limits: chotomoni_services::rate_limit::RateLimits,
    pub limits: crate::limits::Limits,
    pub jobs: chotomoni_services::jobs::JobSettings,
    pub claims: chotomoni_domain::ClaimRules,
    pub fraud: chotomoni_domain::FraudThresholds,
    pub proof_days: chotomoni_domain::catalog::ProofDays,
    /// Enabled couriers with their credentials (redacted in `Debug`).
    pub couriers: couriers::Couriers,
    /// Enabled payment gateways with their credentials (redacted in `Debug`).
    pub payments: payments::Payments,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database", &redact_url(&self.database_url))
            .field(
                "master_key",
                &if self.master_key_hex.is_some() {
                    "from environment"
                } else {
                    "from file"
                },
            )
            .field(
                "media",
                &match &self.s3_bucket {
                    Some(b) => format!("S3 bucket {b}"),
                    None => self.media_dir.display().to_string(),
                },
            )
            .field("sms_provider", &self.sms_provider)
            .field("sms_base_url", &self.sms_base_url)
            .field(
                "sms_auth_token",
                &if self.sms_auth_token.is_some() {
                    "from environment"
                } else {
                    "unset"
                },
            )
            .field("public_url", &self.public_url)
            .field("mail_transport", &self.mail_transport)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field(
                "smtp_password",
                &if self.smtp_password.is_some() {
                    "from environment"
                } else {
                    "unset"
                },
            )
            .finish_non_exhaustive()
    }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..s], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

impl Config {
    /// Where the key vault is kept.
    pub fn key_vault_config(&self) -> Result<chotomoni_storage::blobs::BlobConfig> {
        use chotomoni_storage::blobs::BlobConfig;
        match (&self.key_vault_s3_bucket, self.blob_config()?) {
            (Some(bucket), BlobConfig::S3 { endpoint, region, access_key_id, secret_access_key, allow_http, .. }) => {
                Ok(BlobConfig::S3 { endpoint, bucket: bucket.clone(), region, access_key_id, secret_access_key, allow_http })
            }
            (Some(_), BlobConfig::Local { .. }) => anyhow::bail!(
                "key_vault_s3_bucket is set but media is not on S3: set s3_bucket and its credentials too"
            ),
            (None, _) => Ok(BlobConfig::Local { root: self.key_vault_dir.clone() }),
        }
    }

    /// Where proof media is stored.
    pub fn blob_config(&self) -> Result<chotomoni_storage::blobs::BlobConfig> {
        use chotomoni_storage::blobs::BlobConfig;
        let Some(bucket) = &self.s3_bucket else {
            return Ok(BlobConfig::Local {
                root: self.media_dir.clone(),
            });
        };
        let (Some(access_key_id), Some(secret_access_key)) =
            (&self.s3_access_key_id, &self.s3_secret_access_key)
        else {
            anyhow::bail!(
                "s3_bucket is set: also set s3_access_key_id and the environment variable CHOTOMONI_S3_SECRET_ACCESS_KEY"
            );
        };
        Ok(BlobConfig::S3 {
            endpoint: self.s3_endpoint.clone(),
            bucket: bucket.clone(),
            region: self.s3_region.clone(),
            access_key_id: access_key_id.clone(),
            secret_access_key: secret_access_key.clone(),
            allow_http: self.s3_allow_http,
        })
    }
}

/// Values given on the command line, which win over everything.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
}

pub fn load(
    file: Option<&Path>,
    flags: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config> {
    let file_path = file
        .map(Path::to_path_buf)
        .or_else(|| env("CHOTOMONI_CONFIG").map(PathBuf::from));
    let f: FileConfig = match &file_path {
        Some(p) => toml::from_str(
            &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )
        .with_context(|| format!("parsing {}", p.display()))?,
        None => FileConfig::default(),
    };
    let limits = crate::limits::load(&f, env)?;
    let claims = claims::claims(f.claims.clone())?;
    let big = |name: &str| -> Result<Option<u64>> {
        env(name)
            .map(|v| {
                v.parse()
                    .with_context(|| format!("{name} must be a whole number"))
            })
            .transpose()
    };
    let num = |name: &str| -> Result<Option<u32>> {
        env(name)
            .map(|v| {
                v.parse()
                    .with_context(|| format!("{name} must be a whole number"))
            })
            .transpose()
    };
    let flag = |name: &str| -> Result<Option<bool>> {
        env(name)
            .map(|v| match v.as_str() {
                "1" | "true" | "yes" => Ok(true),
                "0" | "false" | "no" => Ok(false),
                _ => anyhow::bail!("{name} must be true or false"),
            })
            .transpose()
    };
    let data_dir = flags
        .data_dir
        .clone()
        .or_else(|| env("CHOTOMONI_DATA_DIR").map(PathBuf::from))
        .or(f.data_dir)
        .unwrap_or_else(|| PathBuf::from("./chotomoni-data"));
    let database_url = env("DATABASE_URL")
        .or_else(|| env("CHOTOMONI_DATABASE_URL"))
        .or(f.database_url)
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("chotomoni.db").display()));
    Ok(Config {
        listen: flags
            .listen
            .clone()
            .or_else(|| env("CHOTOMONI_LISTEN"))
            .or(f.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into()),
        master_key_file: env("CHOTOMONI_MASTER_KEY_FILE")
            .map(PathBuf::from)
            .or(f.master_key_file)
            .unwrap_or_else(|| data_dir.join("master.key")),
        master_key_hex: env("CHOTOMONI_MASTER_KEY"),
        technical_retention_days: num("CHOTOMONI_TECHNICAL_RETENTION_DAYS")?
            .or(f.technical_retention_days)
            .unwrap_or(90),
        session_days: session_days(num("CHOTOMONI_SESSION_DAYS")?.or(f.session_days))?,
        secure_cookies: flag("CHOTOMONI_SECURE_COOKIES")?
            .or(f.secure_cookies)
            .unwrap_or(false),
        trust_forwarded: flag("CHOTOMONI_TRUST_FORWARDED")?
            .or(f.trust_forwarded)
            .unwrap_or(false),
        max_connections: num("CHOTOMONI_MAX_CONNECTIONS")?
            .or(f.max_connections)
            .unwrap_or(16),
        log: env("CHOTOMONI_LOG")
            .or(f.log)
            .unwrap_or_else(|| "info".into()),
        sms_provider: env("CHOTOMONI_SMS_PROVIDER")
            .or(f.sms_provider)
            .filter(|v| !v.trim().is_empty()),
        sms_base_url: env("CHOTOMONI_SMS_BASE_URL")
            .or(f.sms_base_url)
            .unwrap_or_else(|| "https://api.twilio.com".into()),
        sms_account_sid: env("CHOTOMONI_SMS_ACCOUNT_SID").or(f.sms_account_sid),
        sms_from: env("CHOTOMONI_SMS_FROM").or(f.sms_from),
        sms_auth_token: env("CHOTOMONI_SMS_AUTH_TOKEN"),
        public_url: env("CHOTOMONI_PUBLIC_URL")
            .or(f.public_url)
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty()),
        mail_transport: env("CHOTOMONI_MAIL_TRANSPORT")
            .or(f.mail_transport)
            .filter(|v| !v.trim().is_empty()),
        smtp_url: env("CHOTOMONI_SMTP_URL").or(f.smtp_url),
        mail_from: env("CHOTOMONI_MAIL_FROM").or(f.mail_from),
        smtp_password: env("CHOTOMONI_SMTP_PASSWORD"),
        media_dir: env("CHOTOMONI_MEDIA_DIR")
            .map(PathBuf::from)
            .or(f.media_dir)
            .unwrap_or_else(|| data_dir.join("media")),
        upload_dir: env("CHOTOMONI_UPLOAD_DIR")
            .map(PathBuf::from)
            .or(f.upload_dir)
            .unwrap_or_else(|| data_dir.join("uploads")),
        max_upload_bytes: big("CHOTOMONI_MAX_UPLOAD_BYTES")?
            .or(f.max_upload_bytes)
            .unwrap_or(2 * 1024 * 1024 * 1024),
        upload_expiry_hours: num("CHOTOMONI_UPLOAD_EXPIRY_HOURS")?
            .or(f.upload_expiry_hours)
            .unwrap_or(24),
        s3_bucket: env("CHOTOMONI_S3_BUCKET")
            .or(f.s3_bucket)
            .filter(|b| !b.is_empty()),
        s3_endpoint: env("CHOTOMONI_S3_ENDPOINT").or(f.s3_endpoint),
        s3_region: env("CHOTOMONI_S3_REGION")
            .or(f.s3_region)
            .unwrap_or_else(|| "us-east-1".into()),
        s3_access_key_id: env("CHOTOMONI_S3_ACCESS_KEY_ID").or(f.s3_access_key_id),
        s3_secret_access_key: env("CHOTOMONI_S3_SECRET_ACCESS_KEY"),
        s3_allow_http: flag("CHOTOMONI_S3_ALLOW_HTTP")?
            .or(f.s3_allow_http)
            .unwrap_or(false),
        station_video_width: num("CHOTOMONI_STATION_VIDEO_WIDTH")?
            .or(f.station_video_width)
            .unwrap_or(1280),
        station_video_height: num("CHOTOMONI_STATION_VIDEO_HEIGHT")?
            .or(f.station_video_height)
            .unwrap_or(720),
        station_video_bits_per_second: num("CHOTOMONI_STATION_VIDEO_BITS_PER_SECOND")?
            .or(f.station_video_bits_per_second)
            .unwrap_or(1_000_000),
        key_vault_dir: env("CHOTOMONI_KEY_VAULT_DIR")
            .map(PathBuf::from)
            .or(f.key_vault_dir)
            .unwrap_or_else(|| data_dir.join("key-vault")),
        key_vault_s3_bucket: env("CHOTOMONI_KEY_VAULT_S3_BUCKET")
            .or(f.key_vault_s3_bucket)
            .filter(|b| !b.is_empty()),
        erasure_review_days: num("CHOTOMONI_ERASURE_REVIEW_DAYS")?
            .or(f.erasure_review_days)
            .unwrap_or(7),
        export_link_days: num("CHOTOMONI_EXPORT_LINK_DAYS")?
            .or(f.export_link_days)
            .unwrap_or(7),
        trusted_proxies: rate_limits::trusted_proxies(f.trusted_proxies, env)?,
        rate_limits: rate_limits::rate_limits(f.rate_limits, env)?,
        jobs: jobs::jobs(f.jobs.clone(), env)?,
        fraud: fraud::fraud(f.fraud.clone(), env)?,
        proof_days: proofs::proof_days(f.proofs.clone(), claims.window_days)?,
        couriers: couriers::couriers(f.couriers.clone(), env)?,
        payments: payments::payments(f.payments.clone(), env)?,
        claims,
        limits,
        database_url,
        data_dir,
    })
}

/// A sign-in lasts at most as long as the privacy page says sessions are
/// kept (the catalog's period for them); the sweep deletes it then anyway.
fn session_days(days: Option<u32>) -> Result<u32> {
    let most = chotomoni_domain::catalog::kept_days("sessions").unwrap_or(u32::MAX);
    match days.unwrap_or(14) {
        0 => anyhow::bail!("session_days must be at least 1"),
        d if d > most => anyhow::bail!(
            "session_days must be at most {most}: the privacy policy's data page says sessions are kept {most} days"
        ),
        d => Ok(d),
    }
}

#[cfg(test)]
mod tests;
