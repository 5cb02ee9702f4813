//! Proof retention per kind: what outlived its period is deleted (row,
//! sealed key, blob and poster; the log leaf, a hash that names no one,
//! stays so the log still verifies), and staff see what the store holds.
use crate::error::{Result, ServiceError};
use crate::{audit, Actor, Services};
use chotomoni_domain::staff::Permission;
use chotomoni_storage::erasure as erasure_rows;
use chotomoni_storage::proofs::{self as rows, ExpiryCutoffs};
use serde::Serialize;
use utoipa::ToSchema;

const DAY_MS: i64 = 86_400_000;
/// Proofs deleted per transaction, so one run never holds the database long.
const BATCH: i64 = 100;

/// Proofs of one kind received in one month, and the bytes they take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StorageUse {
    /// `YYYY-MM` (UTC) the proofs were received in.
    #[schema(example = "2026-12")]
    pub month: String,
    /// `packing`, `delivery`, `return` or `claim`.
    pub kind: String,
    pub proofs: i64,
    /// Encrypted bytes in the media store (posters not counted).
    pub bytes: i64,
}

impl Services {
    /// Deletes every proof past its kind's period that no hold keeps.
    /// Run by the recurring `proofs.expire` job; returns how many went.
    pub async fn expire_proofs(&self) -> Result<usize> {
        let now = self.now_ms();
        let days = self.settings.proof_days;
        let before = |d: u32| now - i64::from(d) * DAY_MS;
        let cutoffs = ExpiryCutoffs {
            packing: before(days.packing),
            delivery: before(days.delivery),
            returned: before(days.returned),
        };
        let mut total = 0;
        loop {
            // Chosen inside the transaction that deletes them, so a hold
            // placed a moment ago is seen.
            let mut tx = self.db.begin().await?;
            let expired = rows::expired(&mut tx, now, cutoffs, BATCH).await?;
            if expired.is_empty() {
                break;
            }
            forget_proofs(
                &mut tx,
                &expired,
                chotomoni_domain::AuditAction::ProofExpire,
            )
            .await?;
            tx.commit().await?;
            // After the commit: a store that fails leaves an unreadable
            // blob (its key is gone with the row), never a row without media.
            for p in &expired {
                self.delete_proof_media(p).await;
            }
            total += expired.len();
            if expired.len() < BATCH as usize {
                break;
            }
        }
        Ok(total)
    }

    /// Proofs and bytes per kind and month, newest month first.
    pub async fn proof_storage(&self, actor: &Actor) -> Result<Vec<StorageUse>> {
        if !actor.staff_may(Permission::ViewProofs) {
            return Err(ServiceError::Forbidden);
        }
        let mut conn = self.db.conn().await?;
        let days = rows::daily_use(&mut conn).await?;
        Ok(by_month(days))
    }
}

/// Deletes proof rows (their sealed keys with them) and the stand-in keys
/// that no longer seal anything, in one audit line naming the ids. The
/// caller deletes the media once its transaction has committed.
pub(crate) async fn forget_proofs(
    tx: &mut chotomoni_storage::Conn,
    proofs: &[erasure_rows::ErasedProof],
    action: chotomoni_domain::AuditAction,
) -> Result<()> {
    let ids: Vec<i64> = proofs.iter().map(|p| p.id).collect();
    erasure_rows::delete_proofs(tx, &ids).await?;
    erasure_rows::drop_unused_placeholder_keys(tx).await?;
    let listed: Vec<String> = ids.iter().map(i64::to_string).collect();
    audit::change(
        tx,
        &Actor::System,
        action,
        "proofs",
        &format!("proofs={} ids={}", ids.len(), listed.join(",")),
    )
    .await?;
    Ok(())
}

/// Folds per-day rows into months.
fn by_month(days: Vec<rows::DailyUse>) -> Vec<StorageUse> {
    let mut months: std::collections::BTreeMap<(String, String), (i64, i64)> = Default::default();
    for d in days {
        let month = chrono::DateTime::from_timestamp(d.day * 86_400, 0)
            .map(|t| t.format("%Y-%m").to_string())
            .unwrap_or_default();
        let e = months.entry((month, d.kind)).or_default();
        e.0 += d.proofs;
        e.1 += d.bytes;
    }
    let mut out: Vec<StorageUse> = months
        .into_iter()
        .map(|((month, kind), (proofs, bytes))| StorageUse {
            month,
            kind,
            proofs,
            bytes,
        })
        .collect();
    out.sort_by(|a, b| b.month.cmp(&a.month).then_with(|| a.kind.cmp(&b.kind)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_fold_into_months() {
        let day = |kind: &str, ymd: (i32, u32, u32), proofs, bytes| rows::DailyUse {
            kind: kind.into(),
            day: chrono::NaiveDate::from_ymd_opt(ymd.0, ymd.1, ymd.2)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp()
                / 86_400,
            proofs,
            bytes,
        };
        let months = by_month(vec![
            day("packing", (2026, 11, 30), 2, 200),
            day("packing", (2026, 12, 1), 1, 50),
            day("claim", (2026, 12, 5), 1, 10),
            day("packing", (2026, 12, 31), 3, 300),
        ]);
        let got: Vec<_> = months
            .iter()
            .map(|m| (m.month.as_str(), m.kind.as_str(), m.proofs, m.bytes))
            .collect();
        assert_eq!(
            got,
            [
                ("2026-12", "claim", 1, 10),
                ("2026-12", "packing", 4, 350),
                ("2026-11", "packing", 2, 200),
            ]
        );
    }
}
