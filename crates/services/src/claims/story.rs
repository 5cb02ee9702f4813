//! A claim's whole story for the desk: the order, every proof of it with
//! its receipt checked against the log's newest signed tree head, and one
//! timeline from the order to the decision.
use super::ClaimView;
use crate::error::{Result, ServiceError};
use crate::orders::OrderView;
use crate::proofs::view::ProofView;
use crate::{Actor, Services};
use chotomoni_domain::staff::Permission;
use chotomoni_domain::OrderNumber;
use serde::Serialize;
use utoipa::ToSchema;

/// One proof and whether the log vouches for it now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckedProof {
    #[serde(flatten)]
    pub proof: ProofView,
    /// Its receipt's inclusion proof leads to the newest signed tree head,
    /// signed with this server's log key.
    pub verified: bool,
    /// Why not, when not verified.
    pub problem: Option<String>,
}

/// One moment of the story, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Moment {
    pub at: String,
    /// `status` (the order moved to `detail`), `proof` (a proof of kind
    /// `detail` arrived), `filed` or `decided` (the claim).
    pub what: String,
    pub detail: Option<String>,
    /// `staff:7`, `customer:3`, or absent for the system.
    pub by: Option<String>,
    /// The proof, for `proof`.
    pub proof: Option<i64>,
    /// The device's clock when a proof was recorded.
    pub captured_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimStory {
    pub claim: ClaimView,
    pub order: OrderView,
    pub proofs: Vec<CheckedProof>,
    pub timeline: Vec<Moment>,
}

impl Services {
    /// The desk's view of one claim (staff who handle claims).
    pub async fn claim_story(&self, actor: &Actor, id: i64) -> Result<ClaimStory> {
        if !actor.staff_may(Permission::HandleClaims) {
            return Err(ServiceError::Forbidden);
        }
        let claim = self.claim(actor, id).await?;
        let number = OrderNumber::parse(&claim.order)
            .map_err(|_| ServiceError::Internal(format!("claim {id} names no order")))?;
        let order = self.order(actor, number).await?;
        let mut conn = self.db.conn().await?;
        let rows = chotomoni_storage::proofs::for_order(&mut conn, number.id().0).await?;
        drop(conn);
        let key = self.proofs.log_key.verifier_key();
        let mut proofs = Vec::with_capacity(rows.len());
        for row in &rows {
            let checked = match self.receipt_of(row).await {
                Ok(receipt) => chotomoni_translog::verify_inclusion_of(&receipt, Some(&key))
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            proofs.push(CheckedProof {
                proof: ProofView::of(row),
                verified: checked.is_ok(),
                problem: checked.err(),
            });
        }
        let timeline = timeline(&claim, &order, &proofs);
        Ok(ClaimStory {
            claim,
            order,
            proofs,
            timeline,
        })
    }
}

fn timeline(claim: &ClaimView, order: &OrderView, proofs: &[CheckedProof]) -> Vec<Moment> {
    let moment = |at: &str, what: &str, detail: Option<String>, by: Option<String>| Moment {
        at: at.to_owned(),
        what: what.to_owned(),
        detail,
        by,
        proof: None,
        captured_at: None,
    };
    let mut all: Vec<Moment> = order
        .history
        .iter()
        .map(|e| moment(&e.at, "status", Some(e.to.clone()), e.by.clone()))
        .collect();
    all.extend(proofs.iter().map(|p| Moment {
        proof: Some(p.proof.id),
        captured_at: p.proof.captured_at.clone(),
        ..moment(
            &p.proof.received_at,
            "proof",
            Some(p.proof.kind.clone()),
            Some(p.proof.uploader.clone()),
        )
    }));
    all.push(moment(
        &claim.filed_at,
        "filed",
        Some(claim.kind.as_str().to_owned()),
        None,
    ));
    if let Some(at) = &claim.decided_at {
        let decision = claim.decision.map(|d| d.as_str().to_owned());
        all.push(moment(at, "decided", decision, None));
    }
    // RFC 3339 times in UTC, all written alike: their text sorts as time does.
    all.sort_by(|a, b| a.at.cmp(&b.at));
    all
}
