//! Who may see which proof, and what they see. Support and admin see every
//! proof; a customer sees the proofs of their own orders; anyone else's
//! proof does not exist for a customer (the same 404 as a missing one).
//! Packers and couriers record proof but do not browse it.
use super::read::{plaintext, PlainStream};
use crate::error::{Result, ServiceError};
use crate::orders::millis_to_rfc3339;
use crate::{Actor, Services};
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::staff::Permission;
use chotomoni_domain::AuditAction;
use chotomoni_domain::{CustomerId, OrderId, OrderNumber, ProofId};
use chotomoni_storage::orders;
use chotomoni_storage::proofs::{self, ProofRow};
use chotomoni_translog::{ProofLeaf, Receipt};
use serde::Serialize;
use std::ops::Range;
use utoipa::ToSchema;

/// A proof's description (never its bytes).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProofView {
    pub id: i64,
    /// The order number, e.g. CM-000123.
    pub order: String,
    pub kind: String,
    pub media_type: String,
    /// Bytes of the file as stored and logged.
    pub size: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// The device's clock when recording started.
    pub captured_at: Option<String>,
    /// The server's clock when the last byte arrived.
    pub received_at: String,
    /// Who uploaded it, as a reference (staff:7).
    pub uploader: String,
    pub duration_ms: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub has_audio: Option<bool>,
    pub has_poster: bool,
    /// Position in the transparency log.
    pub log_index: i64,
    /// False once the customer's data was erased: the file can no longer be read.
    pub readable: bool,
}

impl ProofView {
    pub(crate) fn of(row: &ProofRow) -> ProofView {
        ProofView {
            id: row.id,
            order: OrderNumber::from_id(OrderId(row.order_id)).to_string(),
            kind: row.kind.as_str().to_owned(),
            media_type: row.media_type.clone(),
            size: row.size as u64,
            sha256: row.sha256.clone(),
            captured_at: row.captured_at.map(millis_to_rfc3339),
            received_at: millis_to_rfc3339(row.received_at),
            uploader: row.uploader.clone(),
            duration_ms: row.duration_ms,
            width: row.width,
            height: row.height,
            has_audio: row.has_audio.map(|a| a != 0),
            has_poster: row.poster_key.is_some(),
            log_index: row.log_index,
            readable: row.proof_key_enc.is_some(),
        }
    }
}

/// `owner`: the customer whose own order it is (`None` for a guest order
/// not yet confirmed, which no customer sees as theirs).
fn may_see(actor: &Actor, owner: Option<i64>, missing: &'static str) -> Result<()> {
    match actor {
        Actor::Staff { .. } | Actor::System if actor.staff_may(Permission::ViewProofs) => Ok(()),
        Actor::Staff { .. } => Err(ServiceError::Forbidden),
        Actor::Customer(CustomerId(me)) if Some(*me) == owner => Ok(()),
        Actor::Customer(_) => Err(ServiceError::NotFound(missing)),
        Actor::Visitor | Actor::System => Err(ServiceError::Unauthenticated),
    }
}

impl Services {
    pub async fn proofs_of_order(
        &self,
        actor: &Actor,
        number: OrderNumber,
    ) -> Result<Vec<ProofView>> {
        let mut conn = self.db.conn().await?;
        let order = orders::get(&mut conn, number.id().0)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        may_see(actor, order.account_owner(), "order")?;
        let rows = proofs::for_order(&mut conn, order.id).await?;
        drop(conn);
        if matches!(actor, Actor::Staff { .. }) {
            self.audit
                .view(
                    actor,
                    AuditAction::ProofList,
                    format!("order:{number}"),
                    format!("proofs={}", rows.len()),
                )
                .await;
        }
        Ok(rows.iter().map(ProofView::of).collect())
    }

    pub async fn proof(&self, actor: &Actor, id: ProofId) -> Result<ProofView> {
        Ok(ProofView::of(&self.visible_proof(actor, id).await?))
    }

    /// Plaintext bytes `range` of the proof (already checked against its size).
    pub async fn proof_content(
        &self,
        actor: &Actor,
        id: ProofId,
        range: Range<u64>,
    ) -> Result<PlainStream> {
        let row = self.visible_proof(actor, id).await?;
        if matches!(actor, Actor::Staff { .. }) {
            self.audit
                .view(
                    actor,
                    AuditAction::ProofWatch,
                    format!("proof:{}", row.id),
                    format!("bytes={}-{}", range.start, range.end),
                )
                .await;
        }
        self.open_content(&row, range).await
    }

    pub async fn proof_poster(&self, actor: &Actor, id: ProofId) -> Result<Option<Vec<u8>>> {
        let row = self.visible_proof(actor, id).await?;
        self.poster_bytes(&row).await
    }

    /// The proof's receipt against the newest signed tree head.
    pub async fn proof_receipt(&self, actor: &Actor, id: ProofId) -> Result<Receipt> {
        let row = self.visible_proof(actor, id).await?;
        self.receipt_of(&row).await
    }

    pub(crate) async fn receipt_of(&self, row: &ProofRow) -> Result<Receipt> {
        let leaf = ProofLeaf::from_json(row.leaf.as_bytes()).map_err(|e| {
            ServiceError::Internal(format!("a stored log leaf does not parse: {e}"))
        })?;
        let mut conn = self.db.conn().await?;
        super::log::receipt(&mut conn, &self.proofs.log_key, leaf, row.log_index as u64).await
    }

    pub(crate) async fn open_content(
        &self,
        row: &ProofRow,
        range: Range<u64>,
    ) -> Result<PlainStream> {
        let sealed = row.proof_key_enc.as_deref().ok_or(ServiceError::Sealed)?;
        let mut conn = self.db.conn().await?;
        let ckey = self.customer_key_of(&mut conn, row.customer_id).await?;
        drop(conn);
        let key = super::open_proof_key(&ckey, &sealed::PROOF_KEY.at(&row.blob_key), sealed)?;
        plaintext(
            &self.proofs.blobs,
            &row.blob_key,
            row.stored_size as u64,
            key,
            range,
        )
        .await
    }

    async fn visible_proof(&self, actor: &Actor, id: ProofId) -> Result<ProofRow> {
        if let Actor::Visitor = actor {
            return Err(ServiceError::Unauthenticated);
        }
        let mut conn = self.db.conn().await?;
        let row = proofs::get(&mut conn, id.0)
            .await?
            .ok_or(ServiceError::NotFound("proof"))?;
        // A customer sees the proofs of their own orders only, not those of
        // a guest order placed with their number and not yet confirmed.
        let owner = match actor {
            Actor::Customer(_) => orders::get(&mut conn, row.order_id)
                .await?
                .and_then(|o| o.account_owner()),
            _ => Some(row.customer_id),
        };
        may_see(actor, owner, "proof")?;
        Ok(row)
    }

    /// The newest signed tree head of the proof log (a C2SP checkpoint).
    pub async fn log_head(&self) -> Result<Option<String>> {
        let mut conn = self.db.conn().await?;
        Ok(super::log::latest(&mut conn).await?.map(|h| h.signed_note))
    }

    pub async fn log_consistency(&self, from: u64, to: u64) -> Result<super::log::Consistency> {
        let mut conn = self.db.conn().await?;
        super::log::consistency(&mut conn, from, to).await
    }
}
