//! Share links: one proof, shown to a courier or marketplace for a claim,
//! until the link expires or is revoked. The token names the link and
//! carries a MAC under a key derived from the master key, so links cannot
//! be guessed or altered; expiry and revocation are checked in the database.
use super::read::PlainStream;
use super::view::ProofView;
use crate::error::{Result, ServiceError};
use crate::{audit, Actor, Services};
use base64::Engine;
use chotomoni_domain::catalog::{Purpose, Recipient};
use chotomoni_domain::staff::Permission;
use chotomoni_domain::AuditAction;
use chotomoni_domain::{ProofId, SharePurpose};
use chotomoni_storage::proofs;
use chotomoni_storage::shares::{self, ShareRow};
use serde::Serialize;
use std::ops::Range;
use utoipa::ToSchema;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShareLink {
    pub id: i64,
    pub proof: i64,
    pub purpose: SharePurpose,
    /// The secret part of the link: `/share/{token}`.
    pub token: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked: bool,
}

impl Services {
    pub async fn create_share_link(
        &self,
        actor: &Actor,
        proof: ProofId,
        purpose: SharePurpose,
    ) -> Result<ShareLink> {
        let Some(staff) = actor
            .staff_id()
            .filter(|_| actor.staff_may(Permission::ViewProofs))
        else {
            return Err(ServiceError::Forbidden);
        };
        let view = self.proof(actor, proof).await?;
        let now = self.now_ms();
        let expires = now + i64::from(self.proofs.settings.share_link_days) * 86_400_000;
        let mut tx = self.db.begin().await?;
        let id = shares::insert(&mut tx, proof.0, staff, purpose, now, expires).await?;
        // Handing out the link is the disclosure: the recipient can open the
        // proof and its capture times from now on.
        let recipient = match purpose {
            SharePurpose::CourierClaim => Recipient::Courier,
            SharePurpose::MarketplaceClaim => Recipient::ServiceProvider,
        };
        let row = proofs::get(&mut tx, proof.0)
            .await?
            .ok_or(ServiceError::NotFound("proof"))?;
        crate::disclosures::disclose(
            &mut tx,
            row.customer_id,
            Some(row.order_id),
            recipient,
            &[
                "proofs.blob_key",
                "proofs.captured_at",
                "proofs.received_at",
            ],
            Purpose::Fulfilment,
        )
        .await?;
        audit::change(
            &mut tx,
            actor,
            AuditAction::ProofShare,
            &format!("proof:{}", proof.0),
            &format!(
                "link={id} purpose={} order={}",
                purpose.as_str(),
                view.order
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(self.link_of(&ShareRow {
            id,
            proof_id: proof.0,
            created_by: staff,
            purpose,
            created_at: now,
            expires_at: expires,
            revoked_at: None,
        }))
    }

    pub async fn share_links(&self, actor: &Actor, proof: ProofId) -> Result<Vec<ShareLink>> {
        if !actor.staff_may(Permission::ViewProofs) {
            return Err(ServiceError::Forbidden);
        }
        let mut conn = self.db.conn().await?;
        Ok(shares::for_proof(&mut conn, proof.0)
            .await?
            .iter()
            .map(|r| self.link_of(r))
            .collect())
    }

    pub async fn revoke_share_link(&self, actor: &Actor, link: i64) -> Result<()> {
        let Some(staff) = actor
            .staff_id()
            .filter(|_| actor.staff_may(Permission::ViewProofs))
        else {
            return Err(ServiceError::Forbidden);
        };
        let mut tx = self.db.begin().await?;
        if !shares::revoke(&mut tx, link, staff, self.now_ms()).await? {
            return Err(ServiceError::NotFound("live share link"));
        }
        audit::change(
            &mut tx,
            actor,
            AuditAction::ProofShareRevoke,
            &format!("link:{link}"),
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The proof a live link shows; anything else (forged, expired, revoked)
    /// is simply not found.
    pub async fn shared_proof(&self, token: &str) -> Result<ProofView> {
        let (link, row) = self.live_link(token).await?;
        self.audit
            .view(
                &Actor::System,
                AuditAction::ProofSharedView,
                format!("proof:{}", row.id),
                format!("link={}", link.id),
            )
            .await;
        Ok(ProofView::of(&row))
    }

    pub async fn shared_content(&self, token: &str, range: Range<u64>) -> Result<PlainStream> {
        let (_, row) = self.live_link(token).await?;
        self.open_content(&row, range).await
    }

    pub async fn shared_receipt(&self, token: &str) -> Result<chotomoni_translog::Receipt> {
        let (_, row) = self.live_link(token).await?;
        self.receipt_of(&row).await
    }

    async fn live_link(&self, token: &str) -> Result<(ShareRow, proofs::ProofRow)> {
        let not_found = || ServiceError::NotFound("shared proof");
        let (id, tag) = parse_token(token).ok_or_else(not_found)?;
        let mut conn = self.db.conn().await?;
        let link = shares::get(&mut conn, id).await?.ok_or_else(not_found)?;
        if !tag_matches(&tag, &self.link_mac(&link))
            || link.revoked_at.is_some()
            || link.expires_at <= self.now_ms()
        {
            return Err(not_found());
        }
        let row = proofs::get(&mut conn, link.proof_id)
            .await?
            .ok_or_else(not_found)?;
        Ok((link, row))
    }

    fn link_mac(&self, link: &ShareRow) -> [u8; 32] {
        let body = format!(
            "share-link:{}:{}:{}",
            link.id, link.proof_id, link.expires_at
        );
        self.vault.keyring().link_mac(body.as_bytes())
    }

    fn link_of(&self, row: &ShareRow) -> ShareLink {
        ShareLink {
            id: row.id,
            proof: row.proof_id,
            purpose: row.purpose,
            token: token(row.id, &self.link_mac(row)),
            created_at: crate::orders::millis_to_rfc3339(row.created_at),
            expires_at: crate::orders::millis_to_rfc3339(row.expires_at),
            revoked: row.revoked_at.is_some(),
        }
    }
}

/// A link's secret: its id and the first half of its MAC. Proof links and
/// claim-pack links are made alike, each MAC over its own kind of text.
pub(crate) fn token(id: i64, mac: &[u8; 32]) -> String {
    let mut raw = id.to_be_bytes().to_vec();
    raw.extend_from_slice(&mac[..16]);
    B64.encode(raw)
}

/// The id a token names and the MAC half it carries, if it is shaped as one.
pub(crate) fn parse_token(token: &str) -> Option<(i64, [u8; 16])> {
    let raw = B64.decode(token).ok()?;
    if raw.len() != 8 + 16 {
        return None;
    }
    let id = i64::from_be_bytes(raw[..8].try_into().ok()?);
    Some((id, raw[8..].try_into().ok()?))
}

/// Compared in constant time, so a guesser learns nothing from the timing.
pub(crate) fn tag_matches(tag: &[u8; 16], mac: &[u8; 32]) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(&tag[..], &mac[..16]))
}
