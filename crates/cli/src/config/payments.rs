//! The `[payments]` table: the gateways online orders are paid through
//! (`[payments.sslcommerz]`, `[payments.bkash]`), their credentials and
//! base URLs, and how long a started payment may go without news before
//! it is asked about. Every value may also come from a
//! `CHOTOMONI_SSLCOMMERZ_<KEY>` or `CHOTOMONI_BKASH_<KEY>` variable, which
//! wins. A gateway is on when all its credentials are given; one
//! half-configured is an error naming what is missing. Secrets are never
//! printed: the adapters' configs redact them in `Debug`.
use super::couriers::Section;
use anyhow::{bail, Result};
use chotomoni_gateway_bkash::BkashConfig;
use chotomoni_gateway_sslcommerz::SslcommerzConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PaymentsFile {
    pub silent_after_minutes: Option<u32>,
    pub timeout_secs: Option<u64>,
    pub sslcommerz: Option<BTreeMap<String, toml::Value>>,
    pub bkash: Option<BTreeMap<String, toml::Value>>,
}

/// The gateways as configured.
#[derive(Debug, Clone, Default)]
pub struct Payments {
    pub sslcommerz: Option<SslcommerzConfig>,
    pub bkash: Option<BkashConfig>,
    pub silent_after_minutes: u32,
}

/// `sandbox` as a TOML boolean or a `true`/`false` text (environment).
fn sandbox(s: &Section<'_>) -> Result<bool> {
    let text = match s.table.get("sandbox") {
        Some(toml::Value::Boolean(b)) if s.get("sandbox").is_none() => return Ok(*b),
        _ => s.get("sandbox"),
    };
    match text.as_deref().map(str::trim) {
        None => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(_) => bail!("{}.{}.sandbox must be true or false", s.group, s.courier),
    }
}

pub fn payments(
    file: Option<PaymentsFile>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Payments> {
    let f = file.unwrap_or_default();
    let timeout = Duration::from_secs(f.timeout_secs.unwrap_or(30).clamp(1, 120));
    let section = |gateway: &'static str, table: Option<BTreeMap<String, toml::Value>>| Section {
        group: "payments",
        courier: gateway,
        table: table.unwrap_or_default(),
        env,
    };

    let s = section("sslcommerz", f.sslcommerz);
    s.known(&["store_id", "store_passwd", "sandbox", "base_url"])?;
    let sslcommerz = match s.all(&["store_id", "store_passwd"])? {
        Some(v) => {
            let default = if sandbox(&s)? {
                chotomoni_gateway_sslcommerz::SANDBOX_URL
            } else {
                chotomoni_gateway_sslcommerz::LIVE_URL
            };
            Some(SslcommerzConfig {
                base_url: s.base_url(default)?,
                timeout,
                ..SslcommerzConfig::live(&v[0], &v[1])
            })
        }
        None => None,
    };

    let b = section("bkash", f.bkash);
    let bkash_keys = ["app_key", "app_secret", "username", "password"];
    b.known(&[&bkash_keys[..], &["sandbox", "base_url"]].concat())?;
    let bkash = match b.all(&bkash_keys)? {
        Some(v) => {
            let default = if sandbox(&b)? {
                chotomoni_gateway_bkash::SANDBOX_BASE_URL
            } else {
                chotomoni_gateway_bkash::LIVE_BASE_URL
            };
            Some(BkashConfig {
                base_url: b.base_url(default)?,
                app_key: v[0].clone(),
                app_secret: v[1].clone(),
                username: v[2].clone(),
                password: v[3].clone(),
                timeout,
            })
        }
        None => None,
    };

    let silent_after_minutes = f.silent_after_minutes.unwrap_or(10);
    if !(1..=24 * 60).contains(&silent_after_minutes) {
        bail!("payments.silent_after_minutes must be between 1 and 1440");
    }
    Ok(Payments {
        sslcommerz,
        bkash,
        silent_after_minutes,
    })
}

impl Payments {
    /// The enabled gateways' clients, for the services.
    pub fn set(&self) -> Result<chotomoni_services::payments::GatewaySet> {
        use std::sync::Arc;
        let mut set = chotomoni_services::payments::GatewaySet::new();
        if let Some(c) = &self.sslcommerz {
            let client = chotomoni_gateway_sslcommerz::Sslcommerz::new(c.clone())
                .map_err(|e| anyhow::anyhow!("sslcommerz: {e}"))?;
            set = set.with(Arc::new(client));
        }
        if let Some(c) = &self.bkash {
            let client = chotomoni_gateway_bkash::Bkash::new(c.clone())
                .map_err(|e| anyhow::anyhow!("bkash: {e}"))?;
            set = set.with(Arc::new(client));
        }
        set.silent_after_ms = i64::from(self.silent_after_minutes) * 60_000;
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn gateways_come_from_the_file_and_environment_and_never_print_secrets() {
        let file: PaymentsFile = toml::from_str(
            "silent_after_minutes = 15\n\
             [sslcommerz]\nstore_id = \"shop-store\"\nsandbox = true\n\
             [bkash]\napp_key = \"bkash-app-key-value\"\nbase_url = \"https://bkash.example/checkout/\"\n",
        )
        .unwrap();
        let env: HashMap<&str, &str> = [
            ("CHOTOMONI_SSLCOMMERZ_STORE_PASSWD", "ssl-password-value"),
            ("CHOTOMONI_BKASH_APP_SECRET", "bkash-secret-value"),
            ("CHOTOMONI_BKASH_USERNAME", "bkash-user-value"),
            ("CHOTOMONI_BKASH_PASSWORD", "bkash-password-value"),
        ]
        .into();
        let get = |k: &str| env.get(k).map(|v| v.to_string());
        let p = payments(Some(file), &get).unwrap();
        let ssl = p.sslcommerz.as_ref().unwrap();
        assert_eq!(ssl.base_url, chotomoni_gateway_sslcommerz::SANDBOX_URL);
        assert_eq!(ssl.store_password, "ssl-password-value");
        let bkash = p.bkash.as_ref().unwrap();
        assert_eq!(bkash.base_url, "https://bkash.example/checkout");
        assert_eq!(p.silent_after_minutes, 15);
        let set = p.set().unwrap();
        assert_eq!(set.enabled().len(), 2);
        let printed = format!("{p:?}");
        for secret in [
            "ssl-password-value",
            "bkash-app-key-value",
            "bkash-secret-value",
            "bkash-user-value",
            "bkash-password-value",
        ] {
            assert!(!printed.contains(secret), "{secret} printed: {printed}");
        }

        // Half a gateway names what is missing, never a value.
        let half: HashMap<&str, &str> = [("CHOTOMONI_BKASH_APP_KEY", "bkash-app-key-value")].into();
        let get = |k: &str| half.get(k).map(|v| v.to_string());
        let err = payments(None, &get).unwrap_err().to_string();
        assert!(err.contains("payments.bkash.app_secret"), "{err}");
        assert!(err.contains("CHOTOMONI_BKASH_APP_SECRET"), "{err}");
        assert!(!err.contains("bkash-app-key-value"), "{err}");

        let unknown: PaymentsFile = toml::from_str("[sslcommerz]\nstore_pass = \"x\"\n").unwrap();
        let err = payments(Some(unknown), &|_| None).unwrap_err().to_string();
        assert!(err.contains("payments.sslcommerz.store_pass"), "{err}");
        assert!(payments(None, &|_| None)
            .unwrap()
            .set()
            .unwrap()
            .enabled()
            .is_empty());
    }
}
