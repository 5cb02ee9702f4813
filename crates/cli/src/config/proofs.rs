//! The `[proofs]` table: how many days each kind of proof is kept after its
//! order was delivered, returned or cancelled (claim evidence follows its
//! claim instead, see `[claims] appeal_days`).
use anyhow::{bail, Result};
use chotomoni_domain::catalog::ProofDays;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProofsFile {
    pub packing_days: Option<u32>,
    pub delivery_days: Option<u32>,
    pub return_days: Option<u32>,
}

/// `claim_window_days`: a proof must outlive the time a customer may
/// still claim, or the claim would find nothing to settle it with.
pub fn proof_days(file: Option<ProofsFile>, claim_window_days: u32) -> Result<ProofDays> {
    let f = file.unwrap_or_default();
    let d = ProofDays::default();
    let days = ProofDays {
        packing: f.packing_days.unwrap_or(d.packing),
        delivery: f.delivery_days.unwrap_or(d.delivery),
        returned: f.return_days.unwrap_or(d.returned),
    };
    for (name, v) in [
        ("proofs.packing_days", days.packing),
        ("proofs.delivery_days", days.delivery),
        ("proofs.return_days", days.returned),
    ] {
        if !(claim_window_days..=3650).contains(&v) {
            bail!(
                "{name} must be between claims.window_days ({claim_window_days}) and 3650: \
                 a claim must find the proof it is settled with"
            );
        }
    }
    Ok(days)
}
