//! The limits that keep slow or greedy clients from holding the server for
//! everyone: connection timeouts, the upload body's idle timeout, upload and
//! export quotas, and how many media inspections run at once. Layered like
//! the rest of the configuration (default, TOML key, `CHOTOMONI_*`).
use crate::config::FileConfig;
use anyhow::{Context, Result};
use chotomoni_services::proofs::UploadQuotas;
use chotomoni_services::ExportQuotas;
use chotomoni_web::serve::ConnectionTimeouts;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub connections: ConnectionTimeouts,
    pub upload_idle: Duration,
    pub uploads: UploadQuotas,
    pub exports: ExportQuotas,
    pub inspections_at_once: usize,
}

/// `name` from the environment, else the file's value, else `default`.
fn whole<T>(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
    file: Option<T>,
    default: T,
) -> Result<T>
where
    T: std::str::FromStr,
{
    match env(name) {
        Some(v) => v
            .trim()
            .parse()
            .ok()
            .with_context(|| format!("{name} must be a whole number")),
        None => Ok(file.unwrap_or(default)),
    }
}

fn secs(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
    file: Option<u64>,
    default: Duration,
) -> Result<Duration> {
    let n = whole(env, name, file, default.as_secs())?;
    anyhow::ensure!(n > 0, "{name} must be at least 1 second");
    Ok(Duration::from_secs(n))
}

pub fn load(f: &FileConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Limits> {
    let timeouts = ConnectionTimeouts::default();
    let uploads = UploadQuotas::default();
    let exports = ExportQuotas::default();
    let proofs = chotomoni_services::proofs::ProofSettings::default();
    Ok(Limits {
        connections: ConnectionTimeouts {
            header_read: secs(
                env,
                "CHOTOMONI_HEADER_READ_TIMEOUT_SECS",
                f.header_read_timeout_secs,
                timeouts.header_read,
            )?,
            send_idle: secs(
                env,
                "CHOTOMONI_SEND_IDLE_TIMEOUT_SECS",
                f.send_idle_timeout_secs,
                timeouts.send_idle,
            )?,
        },
        upload_idle: secs(
            env,
            "CHOTOMONI_UPLOAD_IDLE_TIMEOUT_SECS",
            f.upload_idle_timeout_secs,
            proofs.body_idle_timeout,
        )?,
        uploads: UploadQuotas {
            unfinished_uploads: whole(
                env,
                "CHOTOMONI_MAX_UNFINISHED_UPLOADS",
                f.max_unfinished_uploads,
                uploads.unfinished_uploads,
            )?,
            unfinished_bytes: whole(
                env,
                "CHOTOMONI_MAX_UNFINISHED_UPLOAD_BYTES",
                f.max_unfinished_upload_bytes,
                uploads.unfinished_bytes,
            )?,
            claims_per_day: whole(
                env,
                "CHOTOMONI_CLAIM_UPLOADS_PER_DAY",
                f.claim_uploads_per_day,
                uploads.claims_per_day,
            )?,
        },
        exports: ExportQuotas {
            per_day: whole(
                env,
                "CHOTOMONI_EXPORTS_PER_DAY",
                f.exports_per_day,
                exports.per_day,
            )?,
            running: whole(
                env,
                "CHOTOMONI_EXPORTS_RUNNING",
                f.exports_running,
                exports.running,
            )?,
        },
        inspections_at_once: whole(
            env,
            "CHOTOMONI_INSPECTIONS_AT_ONCE",
            f.inspections_at_once,
            proofs.inspections_at_once,
        )?
        .max(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_suit_slow_networks_and_layers_apply() {
        let none = |_: &str| None;
        let d = load(&FileConfig::default(), &none).unwrap();
        assert_eq!(d.connections.header_read, Duration::from_secs(30));
        assert_eq!(d.upload_idle, Duration::from_secs(60));
        assert_eq!((d.uploads.unfinished_uploads, d.exports.per_day), (20, 3));
        let file: FileConfig = toml::from_str(
            "upload_idle_timeout_secs = 45\nexports_per_day = 5\nclaim_uploads_per_day = 4\n",
        )
        .unwrap();
        let env = |k: &str| (k == "CHOTOMONI_EXPORTS_PER_DAY").then(|| "9".to_string());
        let l = load(&file, &env).unwrap();
        assert_eq!(l.upload_idle, Duration::from_secs(45));
        assert_eq!((l.exports.per_day, l.uploads.claims_per_day), (9, 4));
        let zero = |k: &str| (k == "CHOTOMONI_SEND_IDLE_TIMEOUT_SECS").then(|| "0".to_string());
        assert!(load(&file, &zero).is_err());
    }
}
