//! The `[claims]` table: how long after delivery a claim may be filed,
//! the desk's due times, and the appeal period a decided claim keeps its
//! order's proof for.
use anyhow::{bail, Result};
use chotomoni_domain::ClaimRules;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ClaimsFile {
    pub window_days: Option<u32>,
    pub first_response_hours: Option<u32>,
    pub decision_days: Option<u32>,
    pub appeal_days: Option<u32>,
}

pub fn claims(file: Option<ClaimsFile>) -> Result<ClaimRules> {
    let f = file.unwrap_or_default();
    let d = ClaimRules::default();
    let rules = ClaimRules {
        window_days: f.window_days.unwrap_or(d.window_days),
        first_response_hours: f.first_response_hours.unwrap_or(d.first_response_hours),
        decision_days: f.decision_days.unwrap_or(d.decision_days),
        appeal_days: f.appeal_days.unwrap_or(d.appeal_days),
    };
    for (name, v, most) in [
        ("claims.window_days", rules.window_days, 365),
        (
            "claims.first_response_hours",
            rules.first_response_hours,
            24 * 30,
        ),
        ("claims.decision_days", rules.decision_days, 365),
        ("claims.appeal_days", rules.appeal_days, 3650),
    ] {
        if v == 0 || v > most {
            bail!("{name} must be between 1 and {most}");
        }
    }
    Ok(rules)
}
