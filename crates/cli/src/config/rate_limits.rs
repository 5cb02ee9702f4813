//! The `[rate_limits]` table and its `CHOTOMONI_RATE_LIMIT_*` variables,
//! and `trusted_proxies`.
use anyhow::{Context, Result};
use chotomoni_services::rate_limit::RateLimits;
use chotomoni_web::proxies::TrustedProxies;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    pub window_minutes: Option<u32>,
    pub sign_in_per_account_address: Option<u32>,
    pub sign_in_per_address: Option<u32>,
    pub sign_in_backoff_after: Option<u32>,
    pub codes_per_target: Option<u32>,
    pub codes_per_address: Option<u32>,
    pub code_wrong_tries_per_day: Option<u32>,
    pub track_per_address: Option<u32>,
    pub track_per_order: Option<u32>,
    pub password_checks: Option<u32>,
    pub guest_orders_per_address: Option<u32>,
    pub guest_orders_per_phone_per_day: Option<u32>,
    pub visitor_sessions_per_address: Option<u32>,
}

pub fn rate_limits(
    file: Option<LimitsFile>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<RateLimits> {
    let f = file.unwrap_or_default();
    let mut l = RateLimits::default();
    let fields: [(&str, Option<u32>, &mut u32); 13] = [
        ("WINDOW_MINUTES", f.window_minutes, &mut l.window_minutes),
        (
            "SIGN_IN_PER_ACCOUNT_ADDRESS",
            f.sign_in_per_account_address,
            &mut l.sign_in_per_account_address,
        ),
        (
            "SIGN_IN_PER_ADDRESS",
            f.sign_in_per_address,
            &mut l.sign_in_per_address,
        ),
        (
            "SIGN_IN_BACKOFF_AFTER",
            f.sign_in_backoff_after,
            &mut l.sign_in_backoff_after,
        ),
        (
            "CODES_PER_TARGET",
            f.codes_per_target,
            &mut l.codes_per_target,
        ),
        (
            "CODES_PER_ADDRESS",
            f.codes_per_address,
            &mut l.codes_per_address,
        ),
        (
            "CODE_WRONG_TRIES_PER_DAY",
            f.code_wrong_tries_per_day,
            &mut l.code_wrong_tries_per_day,
        ),
        (
            "TRACK_PER_ADDRESS",
            f.track_per_address,
            &mut l.track_per_address,
        ),
        ("TRACK_PER_ORDER", f.track_per_order, &mut l.track_per_order),
        ("PASSWORD_CHECKS", f.password_checks, &mut l.password_checks),
        (
            "GUEST_ORDERS_PER_ADDRESS",
            f.guest_orders_per_address,
            &mut l.guest_orders_per_address,
        ),
        (
            "GUEST_ORDERS_PER_PHONE_PER_DAY",
            f.guest_orders_per_phone_per_day,
            &mut l.guest_orders_per_phone_per_day,
        ),
        (
            "VISITOR_SESSIONS_PER_ADDRESS",
            f.visitor_sessions_per_address,
            &mut l.visitor_sessions_per_address,
        ),
    ];
    for (suffix, from_file, field) in fields {
        let name = format!("CHOTOMONI_RATE_LIMIT_{suffix}");
        let from_env = env(&name)
            .map(|v| {
                v.parse::<u32>()
                    .with_context(|| format!("{name} must be a whole number"))
            })
            .transpose()?;
        if let Some(v) = from_env.or(from_file) {
            *field = v;
        }
    }
    anyhow::ensure!(
        l.window_minutes > 0 && l.password_checks > 0,
        "rate_limits: window_minutes and password_checks must be at least 1"
    );
    Ok(l)
}

/// `CHOTOMONI_TRUSTED_PROXIES` (comma-separated) or `trusted_proxies`;
/// loopback when neither is set.
pub fn trusted_proxies(
    file: Option<Vec<String>>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<TrustedProxies> {
    let list = match env("CHOTOMONI_TRUSTED_PROXIES") {
        Some(v) => Some(
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        None => file,
    };
    match list {
        Some(list) => {
            TrustedProxies::parse(&list).map_err(|e| anyhow::anyhow!("trusted_proxies: {e}"))
        }
        None => Ok(TrustedProxies::default()),
    }
}
