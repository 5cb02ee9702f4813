//! Claim packs: one ZIP per claim for a marketplace or courier that must be
//! convinced. Support asks for one ([`Services::make_claim_pack`]); a job
//! builds it ([`build`]); it is shared through a link that expires and can
//! be revoked, like a proof's share link. Making and opening a pack are in
//! the audit log and in the disclosure log.
mod build;
mod summary;

use crate::error::{Result, ServiceError};
use crate::jobs::Job;
use crate::orders::millis_to_rfc3339;
use crate::proofs::read::{plaintext, PlainStream, TO_END};
use crate::{audit, Actor, Services};
use chotomoni_domain::catalog::{self, sealed, Purpose, Recipient};
use chotomoni_domain::staff::Permission;
use chotomoni_domain::{AuditAction, ExcerptStart, FieldError, JobKind, PackStatus, SharePurpose};
use chotomoni_storage::claim_packs::{self as rows, NewPack, PackRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// More videos than an order ever has proofs of.
const MAX_EXCERPTS: usize = 50;

/// What support asks for.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackRequest {
    /// Who the pack is for: a courier's or a marketplace's claim desk.
    pub purpose: SharePurpose,
    /// Put the delivery name, phone and address in the summary. Off
    /// unless the recipient needs them.
    #[serde(default)]
    pub include_contact: bool,
    /// Where each video's excerpt starts; a video not listed starts at 0.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub excerpts: Vec<ExcerptStart>,
}

/// A pack as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PackView {
    pub id: i64,
    pub claim: i64,
    pub purpose: SharePurpose,
    pub include_contact: bool,
    pub excerpts: Vec<ExcerptStart>,
    pub status: PackStatus,
    /// Why building failed.
    pub error: Option<String>,
    /// Bytes of the ZIP, once ready.
    pub size: Option<i64>,
    pub created_at: String,
    pub ready_at: Option<String>,
    pub expires_at: String,
    pub revoked: bool,
    /// The secret part of the link the recipient opens: `/share/packs/{token}`.
    pub token: String,
}

/// Fields every pack discloses: the proofs and what the claim is about.
const PACK_FIELDS: &[&str] = &[
    "proofs.blob_key",
    "proofs.captured_at",
    "proofs.received_at",
    "claims.kind",
    "order_items.name",
];
/// And these when staff include the delivery contact.
const CONTACT_FIELDS: &[&str] = &[
    "customers.name_enc",
    "customers.phone_enc",
    "orders.address_enc",
];

fn recipient(purpose: SharePurpose) -> Recipient {
    match purpose {
        SharePurpose::CourierClaim => Recipient::Courier,
        SharePurpose::MarketplaceClaim => Recipient::ServiceProvider,
    }
}

fn disclosed_fields(include_contact: bool) -> Vec<&'static str> {
    let mut fields = PACK_FIELDS.to_vec();
    if include_contact {
        fields.extend_from_slice(CONTACT_FIELDS);
    }
    fields
}

impl Services {
    /// Starts a pack for claim `id` (staff who handle claims).
    pub async fn make_claim_pack(
        &self,
        actor: &Actor,
        id: i64,
        req: &PackRequest,
    ) -> Result<PackView> {
        let Some(staff) = actor
            .staff_id()
            .filter(|_| actor.staff_may(Permission::HandleClaims))
        else {
            return Err(if actor.staff_id().is_some() {
                ServiceError::Forbidden
            } else {
                ServiceError::NotFound("claim")
            });
        };
        let mut conn = self.db.conn().await?;
        let claim = self.claim_for(&mut conn, actor, id).await?;
        let proofs = chotomoni_storage::proofs::for_order(&mut conn, claim.order_id).await?;
        drop(conn);
        let to = recipient(req.purpose);
        for field in disclosed_fields(req.include_contact) {
            let (table, column) = field.split_once('.').expect("table.column");
            if !catalog::field(table, column).is_some_and(|f| f.shared_with.contains(&to)) {
                return Err(FieldError::new(
                    "include_contact",
                    format!(
                        "the data catalog does not allow sending {field} to a {}",
                        to.as_str()
                    ),
                )
                .into());
            }
        }
        if req.excerpts.len() > MAX_EXCERPTS {
            return Err(
                FieldError::new("excerpts", format!("at most {MAX_EXCERPTS} excerpts")).into(),
            );
        }
        let mut excerpts = Vec::new();
        for (i, start) in req.excerpts.iter().enumerate() {
            let proof = proofs
                .iter()
                .find(|p| p.id == start.proof.0)
                .ok_or_else(|| {
                    FieldError::new(
                        format!("excerpts[{i}].proof"),
                        format!("proof {} is not a proof of this claim's order", start.proof),
                    )
                })?;
            if excerpts
                .iter()
                .any(|e: &ExcerptStart| e.proof == start.proof)
            {
                return Err(FieldError::new(
                    format!("excerpts[{i}].proof"),
                    "each video has one excerpt",
                )
                .into());
            }
            let duration = proof
                .media_type
                .starts_with("video/")
                .then_some(proof.duration_ms)
                .flatten()
                .map(|d| d.max(0) as u64);
            start.check(duration, &format!("excerpts[{i}].start_ms"))?;
            excerpts.push(*start);
        }
        for p in proofs.iter().filter(|p| p.media_type.starts_with("video/")) {
            if p.duration_ms.is_some_and(|d| d > 0) && !excerpts.iter().any(|e| e.proof.0 == p.id) {
                excerpts.push(ExcerptStart {
                    proof: chotomoni_domain::ProofId(p.id),
                    start_ms: 0,
                });
            }
        }
        let now = self.now_ms();
        let expires_at = now + i64::from(self.proofs.settings.share_link_days) * 86_400_000;
        let mut tx = self.db.begin().await?;
        let pack = rows::insert(
            &mut tx,
            &NewPack {
                claim_id: claim.id,
                customer_id: claim.customer_id,
                purpose: req.purpose,
                include_contact: req.include_contact,
                excerpts: &excerpts,
                created_by: staff,
                at: now,
                expires_at,
            },
        )
        .await?;
        // Handing the recipient a pack is the disclosure.
        crate::disclosures::disclose(
            &mut tx,
            claim.customer_id,
            Some(claim.order_id),
            to,
            &disclosed_fields(req.include_contact),
            Purpose::Fulfilment,
        )
        .await?;
        audit::change(
            &mut tx,
            actor,
            AuditAction::ClaimPackMake,
            &format!("claim:{}", claim.id),
            &format!(
                "pack={pack} purpose={} contact={} proofs={}",
                req.purpose.as_str(),
                req.include_contact,
                proofs.len()
            ),
        )
        .await?;
        self.enqueue(&mut tx, Job::about(JobKind::ClaimPackBuild, pack))
            .await?;
        let row = rows::get(&mut tx, pack)
            .await?
            .ok_or(ServiceError::NotFound("claim pack"))?;
        tx.commit().await?;
        Ok(self.pack_view(&row))
    }

    /// A claim's packs, newest first.
    pub async fn claim_packs(&self, actor: &Actor, id: i64) -> Result<Vec<PackView>> {
        self.staff_handling_claims(actor)?;
        let mut conn = self.db.conn().await?;
        let claim = self.claim_for(&mut conn, actor, id).await?;
        Ok(rows::for_claim(&mut conn, claim.id)
            .await?
            .iter()
            .map(|r| self.pack_view(r))
            .collect())
    }

    /// Ends a pack's link at once.
    pub async fn revoke_claim_pack(&self, actor: &Actor, pack: i64) -> Result<()> {
        let staff = self.staff_handling_claims(actor)?;
        let mut tx = self.db.begin().await?;
        if !rows::revoke(&mut tx, pack, staff, self.now_ms()).await? {
            return Err(ServiceError::NotFound("live claim pack"));
        }
        audit::change(
            &mut tx,
            actor,
            AuditAction::ClaimPackRevoke,
            &format!("pack:{pack}"),
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The pack's ZIP for staff who handle claims.
    pub async fn claim_pack_content(
        &self,
        actor: &Actor,
        pack: i64,
    ) -> Result<(PackView, PlainStream)> {
        self.staff_handling_claims(actor)?;
        let mut conn = self.db.conn().await?;
        let row = rows::get(&mut conn, pack)
            .await?
            .ok_or(ServiceError::NotFound("claim pack"))?;
        drop(conn);
        let stream = self.open_pack(&row).await?;
        self.audit
            .view(
                actor,
                AuditAction::ClaimPackDownload,
                format!("pack:{pack}"),
                format!("claim={}", row.claim_id),
            )
            .await;
        Ok((self.pack_view(&row), stream))
    }

    /// The pack a live link opens, for its recipient. Anything else
    /// (forged, expired, revoked, not built) is simply not found. Each
    /// opening is a disclosure to the recipient the pack was made for.
    pub async fn shared_claim_pack(&self, token: &str) -> Result<(PackView, PlainStream)> {
        let not_found = || ServiceError::NotFound("claim pack");
        let (id, tag) = crate::proofs::share::parse_token(token).ok_or_else(not_found)?;
        let mut conn = self.db.conn().await?;
        let row = rows::get(&mut conn, id).await?.ok_or_else(not_found)?;
        if !crate::proofs::share::tag_matches(&tag, &self.pack_mac(&row))
            || row.revoked_at.is_some()
            || row.expires_at <= self.now_ms()
            || row.status != PackStatus::Ready
        {
            return Err(not_found());
        }
        let order = chotomoni_storage::claims::get(&mut conn, row.claim_id)
            .await?
            .map(|c| c.order_id);
        drop(conn);
        let stream = self.open_pack(&row).await?;
        let mut tx = self.db.begin().await?;
        crate::disclosures::disclose(
            &mut tx,
            row.customer_id,
            order,
            recipient(row.purpose),
            &disclosed_fields(row.include_contact),
            Purpose::Fulfilment,
        )
        .await?;
        audit::change(
            &mut tx,
            &Actor::System,
            AuditAction::ClaimPackSharedOpen,
            &format!("pack:{id}"),
            &format!("claim={} purpose={}", row.claim_id, row.purpose.as_str()),
        )
        .await?;
        tx.commit().await?;
        Ok((self.pack_view(&row), stream))
    }

    async fn open_pack(&self, row: &PackRow) -> Result<PlainStream> {
        let (Some(blob_key), Some(sealed_key), PackStatus::Ready) =
            (&row.blob_key, &row.file_key_enc, row.status)
        else {
            return Err(ServiceError::Conflict("the claim pack is not ready".into()));
        };
        let mut conn = self.db.conn().await?;
        let ckey = self.customer_key_of(&mut conn, row.customer_id).await?;
        drop(conn);
        let key =
            crate::proofs::open_proof_key(&ckey, &sealed::PACK_FILE_KEY.at(blob_key), sealed_key)?;
        plaintext(
            &self.proofs.blobs,
            blob_key,
            row.stored_size.unwrap_or(0) as u64,
            key,
            0..TO_END,
        )
        .await
    }

    fn staff_handling_claims(&self, actor: &Actor) -> Result<i64> {
        match actor.staff_id() {
            Some(id) if actor.staff_may(Permission::HandleClaims) => Ok(id),
            Some(_) => Err(ServiceError::Forbidden),
            None => Err(ServiceError::Unauthenticated),
        }
    }

    fn pack_mac(&self, row: &PackRow) -> [u8; 32] {
        let body = format!("claim-pack:{}:{}:{}", row.id, row.claim_id, row.expires_at);
        self.vault.keyring().link_mac(body.as_bytes())
    }

    fn pack_view(&self, row: &PackRow) -> PackView {
        PackView {
            id: row.id,
            claim: row.claim_id,
            purpose: row.purpose,
            include_contact: row.include_contact,
            excerpts: row.excerpts.clone(),
            status: row.status,
            error: row.error.clone(),
            size: row.size,
            created_at: millis_to_rfc3339(row.created_at),
            ready_at: row.ready_at.map(millis_to_rfc3339),
            expires_at: millis_to_rfc3339(row.expires_at),
            revoked: row.revoked_at.is_some(),
            token: crate::proofs::share::token(row.id, &self.pack_mac(row)),
        }
    }

    /// Deletes packs whose link has run out: file, then row.
    pub(crate) async fn sweep_expired_packs(&self) -> Result<usize> {
        let mut conn = self.db.conn().await?;
        let expired = rows::expired(&mut conn, self.now_ms(), 100).await?;
        drop(conn);
        for row in &expired {
            if let Some(key) = &row.blob_key {
                self.proofs
                    .blobs
                    .delete(key)
                    .await
                    .map_err(|e| ServiceError::Failed {
                        context: "deleting an expired claim pack",
                        source: Box::new(e),
                    })?;
            }
            let mut tx = self.db.begin().await?;
            rows::delete(&mut tx, row.id).await?;
            audit::change(
                &mut tx,
                &Actor::System,
                AuditAction::ClaimPackExpire,
                &format!("pack:{}", row.id),
                "",
            )
            .await?;
            tx.commit().await?;
        }
        Ok(expired.len())
    }
}
