//! The `[couriers]` table: which couriers are enabled, their credentials
//! and base URLs, the default courier (by district), and how long a parcel
//! may go without news before it is asked about. Every value may also come
//! from a `CHOTOMONI_<COURIER>_<KEY>` variable, which wins. A courier is
//! enabled when its credentials are all given; one half-configured is an
//! error naming what is missing. Secrets are never printed: the adapters'
//! configs redact them in `Debug`, and no message here repeats a value.
use anyhow::{bail, Result};
use chotomoni_courier_pathao::PathaoConfig;
use chotomoni_courier_redx::RedxConfig;
use chotomoni_courier_steadfast::SteadfastConfig;
use chotomoni_domain::CourierName;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CouriersFile {
    pub default: Option<String>,
    pub by_district: Option<BTreeMap<String, String>>,
    pub silent_after_hours: Option<u32>,
    pub parcel_grams: Option<u32>,
    pub timeout_secs: Option<u64>,
    pub steadfast: Option<BTreeMap<String, toml::Value>>,
    pub pathao: Option<BTreeMap<String, toml::Value>>,
    pub redx: Option<BTreeMap<String, toml::Value>>,
}

/// The couriers as configured.
#[derive(Debug, Clone, Default)]
pub struct Couriers {
    pub steadfast: Option<SteadfastConfig>,
    pub pathao: Option<PathaoConfig>,
    pub redx: Option<RedxConfig>,
    pub default: Option<CourierName>,
    pub by_district: Vec<(String, CourierName)>,
    pub silent_after_hours: u32,
    pub parcel_grams: u32,
}

/// One provider's settings (a courier's, a gateway's): the environment
/// (`CHOTOMONI_<PROVIDER>_<KEY>`) over its TOML table `[<group>.<provider>]`.
pub(super) struct Section<'a> {
    pub group: &'static str,
    pub courier: &'static str,
    pub table: BTreeMap<String, toml::Value>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

impl Section<'_> {
    pub fn get(&self, key: &str) -> Option<String> {
        let var = format!(
            "CHOTOMONI_{}_{}",
            self.courier.to_uppercase(),
            key.to_uppercase()
        );
        (self.env)(&var)
            .or_else(|| match self.table.get(key)? {
                toml::Value::String(s) => Some(s.clone()),
                toml::Value::Integer(i) => Some(i.to_string()),
                _ => None,
            })
            .filter(|v| !v.trim().is_empty())
    }

    pub fn known(&self, keys: &[&str]) -> Result<()> {
        if let Some(other) = self.table.keys().find(|k| !keys.contains(&k.as_str())) {
            bail!(
                "{}.{}.{other} is not a setting; the settings are: {}",
                self.group,
                self.courier,
                keys.join(", ")
            );
        }
        Ok(())
    }

    /// The values of `keys`, all present, or none of them (the courier is
    /// off); some without the others is an error naming the missing ones.
    pub fn all(&self, keys: &[&str]) -> Result<Option<Vec<String>>> {
        let values: Vec<Option<String>> = keys.iter().map(|k| self.get(k)).collect();
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        let missing: Vec<String> = keys
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| {
                format!(
                    "{}.{}.{k} (or CHOTOMONI_{}_{})",
                    self.group,
                    self.courier,
                    self.courier.to_uppercase(),
                    k.to_uppercase()
                )
            })
            .collect();
        if !missing.is_empty() {
            bail!(
                "{} is partly configured: also set {}",
                self.courier,
                missing.join(", ")
            );
        }
        Ok(Some(values.into_iter().flatten().collect()))
    }

    pub fn number(&self, key: &str) -> Result<Option<u64>> {
        self.get(key)
            .map(|v| {
                v.trim().parse().map_err(|_| {
                    anyhow::anyhow!(
                        "{}.{}.{key} must be a whole number",
                        self.group,
                        self.courier
                    )
                })
            })
            .transpose()
    }

    pub fn base_url(&self, default: &str) -> Result<String> {
        let url = self.get("base_url").unwrap_or_else(|| default.to_owned());
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            bail!(
                "{}.{}.base_url must be an http or https URL",
                self.group,
                self.courier
            );
        }
        Ok(url.trim_end_matches('/').to_owned())
    }
}

fn courier_name(key: &str, value: &str) -> Result<CourierName> {
    CourierName::parse(value.trim())
        .ok_or_else(|| anyhow::anyhow!("{key} must be steadfast, pathao or redx"))
}

pub fn couriers(
    file: Option<CouriersFile>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Couriers> {
    let f = file.unwrap_or_default();
    let timeout = Duration::from_secs(f.timeout_secs.unwrap_or(20).clamp(1, 120));
    let section = |courier: &'static str, table: Option<BTreeMap<String, toml::Value>>| Section {
        group: "couriers",
        courier,
        table: table.unwrap_or_default(),
        env,
    };

    let s = section("steadfast", f.steadfast);
    s.known(&["api_key", "secret_key", "webhook_token", "base_url"])?;
    let steadfast = match s.all(&["api_key", "secret_key", "webhook_token"])? {
        Some(v) => Some(SteadfastConfig {
            base_url: s.base_url(chotomoni_courier_steadfast::BASE_URL)?,
            timeout,
            ..SteadfastConfig::new(&v[0], &v[1], &v[2])
        }),
        None => None,
    };

    let p = section("pathao", f.pathao);
    let pathao_keys = [
        "client_id",
        "client_secret",
        "username",
        "password",
        "store_id",
        "webhook_secret",
    ];
    p.known(&[&pathao_keys[..], &["base_url"]].concat())?;
    let pathao = match p.all(&pathao_keys)? {
        Some(v) => Some(PathaoConfig {
            base_url: p.base_url(chotomoni_courier_pathao::PRODUCTION_BASE_URL)?,
            client_id: v[0].clone(),
            client_secret: v[1].clone(),
            username: v[2].clone(),
            password: v[3].clone(),
            store_id: p.number("store_id")?.unwrap_or_default(),
            webhook_secret: v[5].clone(),
            timeout,
        }),
        None => None,
    };

    let r = section("redx", f.redx);
    r.known(&[
        "access_token",
        "webhook_token",
        "pickup_store_id",
        "base_url",
    ])?;
    let redx = match r.all(&["access_token", "webhook_token"])? {
        Some(v) => Some(RedxConfig {
            base_url: r.base_url(chotomoni_courier_redx::PRODUCTION_BASE_URL)?,
            access_token: v[0].clone(),
            pickup_store_id: r.number("pickup_store_id")?,
            webhook_token: v[1].clone(),
            timeout,
        }),
        None => None,
    };

    let enabled = |c: CourierName| match c {
        CourierName::Steadfast => steadfast.is_some(),
        CourierName::Pathao => pathao.is_some(),
        CourierName::Redx => redx.is_some(),
    };
    let default = env("CHOTOMONI_COURIER_DEFAULT")
        .or(f.default)
        .filter(|d| !d.trim().is_empty())
        .map(|d| courier_name("couriers.default", &d))
        .transpose()?;
    if let Some(d) = default.filter(|d| !enabled(*d)) {
        bail!("couriers.default is {d}, which is not configured");
    }
    let mut by_district = Vec::new();
    for (district, courier) in f.by_district.unwrap_or_default() {
        let key = format!("couriers.by_district.{district}");
        let c = courier_name(&key, &courier)?;
        if !enabled(c) {
            bail!("{key} is {c}, which is not configured");
        }
        by_district.push((district, c));
    }
    let silent_after_hours = f.silent_after_hours.unwrap_or(6);
    if !(1..=24 * 14).contains(&silent_after_hours) {
        bail!("couriers.silent_after_hours must be between 1 and 336");
    }
    let parcel_grams = f.parcel_grams.unwrap_or(500);
    if !(1..=50_000).contains(&parcel_grams) {
        bail!("couriers.parcel_grams must be between 1 and 50000");
    }
    Ok(Couriers {
        steadfast,
        pathao,
        redx,
        default,
        by_district,
        silent_after_hours,
        parcel_grams,
    })
}

impl Couriers {
    /// The enabled couriers' clients, for the services.
    pub fn set(&self) -> Result<chotomoni_services::couriers::CourierSet> {
        use std::sync::Arc;
        let mut set = chotomoni_services::couriers::CourierSet::new();
        if let Some(c) = &self.steadfast {
            let client = chotomoni_courier_steadfast::Steadfast::new(c.clone())
                .map_err(|e| anyhow::anyhow!("steadfast: {e}"))?;
            set = set.with(Arc::new(client));
        }
        if let Some(c) = &self.pathao {
            let client = chotomoni_courier_pathao::Pathao::new(c.clone())
                .map_err(|e| anyhow::anyhow!("pathao: {e}"))?;
            set = set.with(Arc::new(client));
        }
        if let Some(c) = &self.redx {
            let client = chotomoni_courier_redx::Redx::new(c.clone())
                .map_err(|e| anyhow::anyhow!("redx: {e}"))?;
            set = set.with(Arc::new(client));
        }
        set.default = self.default;
        set.by_district = self.by_district.clone();
        set.silent_after_ms = i64::from(self.silent_after_hours) * 3_600_000;
        set.parcel_grams = self.parcel_grams;
        Ok(set)
    }
}
