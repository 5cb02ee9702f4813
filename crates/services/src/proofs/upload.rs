//! Creating, inspecting, cancelling and expiring resumable uploads (the tus
//! creation, termination and expiration extensions). The bytes themselves
//! arrive through [`super::append`].
use super::ProofStore;
use crate::error::Context as _;
use crate::error::{Result, ServiceError};
use crate::{Actor, Services};
use chotomoni_crypto::proof_stream::ProofKey;
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::staff::Permission;
use chotomoni_domain::{CustomerId, FieldError, OrderNumber, ProofId, ProofKind};
use chotomoni_storage::uploads::{self, UploadRow};
use chotomoni_storage::{orders, Conn};
use rand::RngCore;
use std::io::Write;

/// What a client declares when it starts an upload.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub order: OrderNumber,
    pub kind: ProofKind,
    pub length: u64,
    /// The device's clock when the capture started (Unix ms).
    pub captured_at: Option<i64>,
    pub file_name: Option<String>,
    /// Evidence (kind `claim`) of this claim; without it, evidence goes to
    /// the claim open on the order, if there is one.
    pub claim: Option<i64>,
}

/// Where an upload stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadState {
    pub id: String,
    pub offset: u64,
    pub length: u64,
    pub expires_at: i64,
    /// Set once the last byte arrived and the proof was logged.
    pub proof: Option<ProofId>,
}

impl UploadState {
    pub(crate) fn of(row: &UploadRow) -> UploadState {
        UploadState {
            id: row.id.clone(),
            offset: row.upload_offset as u64,
            length: row.length as u64,
            expires_at: row.expires_at,
            proof: None,
        }
    }
}

impl Services {
    pub async fn create_upload(&self, actor: &Actor, new: NewUpload) -> Result<UploadState> {
        let store = &self.proofs;
        may_upload(actor, new.kind)?;
        if new.length == 0 {
            return Err(FieldError::new("Upload-Length", "must be at least 1 byte").into());
        }
        if new.length > store.settings.max_upload_bytes {
            return Err(ServiceError::TooLarge(format!(
                "the file is {} bytes; the largest accepted is {} bytes",
                new.length, store.settings.max_upload_bytes
            )));
        }
        if let Some(name) = &new.file_name {
            chotomoni_domain::error::optional_text("metadata.filename", name, 200)?;
        }
        let mut conn = self.db.conn().await?;
        let order = orders::get(&mut conn, new.order.id().0)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        if let Actor::Customer(CustomerId(me)) = actor {
            if Some(*me) != order.account_owner() {
                return Err(ServiceError::NotFound("order"));
            }
        }
        let claim = evidence_claim(&mut conn, order.id, &new).await?;
        self.check_upload_quota(&mut conn, actor, &new).await?;
        let ckey = self.customer_key_of(&mut conn, order.customer_id).await?;
        let id = new_upload_id();
        let proof_key = ProofKey::generate();
        let (header, payload) = proof_key.begin();
        let now = self.now_ms();
        let row = UploadRow {
            id: id.clone(),
            order_id: order.id,
            customer_id: order.customer_id,
            kind: new.kind,
            uploader: actor.audit_ref(),
            length: new.length as i64,
            upload_offset: 0,
            media_type: None,
            file_name_enc: new
                .file_name
                .as_deref()
                .map(|n| ckey.seal_str(&sealed::UPLOAD_FILE_NAME.at(&id), n)),
            captured_at: new.captured_at,
            header: header.clone(),
            proof_key_enc: ckey.seal_str(&sealed::UPLOAD_PROOF_KEY.at(&id), &proof_key.to_secret()),
            payload_key_enc: ckey.seal(&sealed::UPLOAD_PAYLOAD_KEY.at(&id), payload.as_bytes()),
            tail_enc: None,
            created_at: now,
            expires_at: now + i64::from(store.settings.upload_expiry_hours) * 3_600_000,
        };
        write_staging_header(store, &id, &header).await?;
        if let Err(e) = insert_upload(&self.db, &row, claim).await {
            let _ = tokio::fs::remove_file(store.staging_path(&id)).await;
            return Err(e);
        }
        Ok(UploadState::of(&row))
    }

    /// Refuses an upload that would take the uploader past their quotas.
    async fn check_upload_quota(
        &self,
        conn: &mut Conn,
        actor: &Actor,
        new: &NewUpload,
    ) -> Result<()> {
        let quotas = &self.proofs.settings.quotas;
        let uploader = actor.audit_ref();
        let now = self.now_ms();
        let (count, bytes) = uploads::unfinished_of(conn, &uploader, now).await?;
        if count >= i64::from(quotas.unfinished_uploads) {
            return Err(ServiceError::QuotaExceeded {
                code: "too_many_unfinished_uploads",
                message: format!(
                    "you have {count} unfinished uploads (at most {}); finish or cancel one first",
                    quotas.unfinished_uploads
                ),
                retry_after_secs: None,
            });
        }
        if bytes as u64 + new.length > quotas.unfinished_bytes {
            return Err(ServiceError::QuotaExceeded {
                code: "unfinished_upload_bytes",
                message: format!(
                    "your unfinished uploads already declare {bytes} bytes; with this one they would pass {} bytes; finish or cancel one first",
                    quotas.unfinished_bytes
                ),
                retry_after_secs: None,
            });
        }
        if new.kind == ProofKind::Claim && matches!(actor, Actor::Customer(_)) {
            let started =
                uploads::claims_since(conn, &uploader, now - crate::quota::DAY_MS).await?;
            crate::quota::per_day(
                "claim_uploads_per_day",
                "claim uploads",
                &started,
                quotas.claims_per_day,
                now,
            )?;
        }
        Ok(())
    }

    /// Where upload `id` stands, for its uploader. One that became a proof
    /// is complete (offset = length, with the proof) until the time an
    /// unfinished one would have expired: a client that never heard the
    /// answer to its last request learns it is done, and sends nothing again.
    pub async fn upload_state(&self, actor: &Actor, id: &str) -> Result<UploadState> {
        let mut conn = self.db.conn().await?;
        match self.upload_row(&mut conn, actor, id).await {
            Err(ServiceError::NotFound(_)) => {}
            found => return found.map(|row| UploadState::of(&row)),
        }
        let lifetime = i64::from(self.proofs.settings.upload_expiry_hours) * 3_600_000;
        match chotomoni_storage::proofs::by_upload(&mut conn, id).await? {
            Some((proof, uploader, size, received_at))
                if uploader == actor.audit_ref() && received_at + lifetime > self.now_ms() =>
            {
                Ok(UploadState {
                    id: id.to_owned(),
                    offset: size as u64,
                    length: size as u64,
                    expires_at: received_at + lifetime,
                    proof: Some(ProofId(proof)),
                })
            }
            _ => Err(ServiceError::NotFound("upload")),
        }
    }

    /// Cancels an upload: its row and its bytes are gone.
    pub async fn terminate_upload(&self, actor: &Actor, id: &str) -> Result<()> {
        let _turn = self.proofs.locks.lock(id).await;
        let mut conn = self.db.conn().await?;
        self.upload_row(&mut conn, actor, id).await?;
        self.discard_upload(&mut conn, id).await
    }

    /// Deletes uploads whose time ran out, with their staging files.
    pub async fn sweep_expired_uploads(&self) -> Result<u64> {
        let mut conn = self.db.conn().await?;
        let expired = uploads::expired(&mut conn, self.now_ms()).await?;
        for id in &expired {
            let _turn = self.proofs.locks.lock(id).await;
            self.discard_upload(&mut conn, id).await?;
        }
        Ok(expired.len() as u64)
    }

    pub(crate) async fn discard_upload(&self, conn: &mut Conn, id: &str) -> Result<()> {
        uploads::delete(conn, id).await?;
        self.proofs.hashes.lock().expect("not poisoned").remove(id);
        match tokio::fs::remove_file(self.proofs.staging_path(id)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ServiceError::Internal(format!(
                "removing an upload's staging file: {e}"
            ))),
        }
    }

    /// The upload, if it exists, has not expired and is the caller's own:
    /// anyone else's upload does not exist for them.
    pub(crate) async fn upload_row(
        &self,
        conn: &mut Conn,
        actor: &Actor,
        id: &str,
    ) -> Result<UploadRow> {
        let row = uploads::get(conn, id)
            .await?
            .ok_or(ServiceError::NotFound("upload"))?;
        if row.uploader != actor.audit_ref() || row.expires_at <= self.now_ms() {
            return Err(ServiceError::NotFound("upload"));
        }
        Ok(row)
    }
}

/// The upload's row, and its claim if it is evidence, together.
async fn insert_upload(
    db: &chotomoni_storage::Db,
    row: &UploadRow,
    claim: Option<i64>,
) -> Result<()> {
    let mut tx = db.begin().await?;
    uploads::insert(&mut tx, row).await?;
    if let Some(claim) = claim {
        chotomoni_storage::claims::attach_upload(&mut tx, &row.id, claim).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Which claim evidence is for: the one named, which must be on the same
/// order (else it does not exist for this upload) and still undecided
/// (409), or the one open on the order. Only evidence names a claim.
async fn evidence_claim(conn: &mut Conn, order_id: i64, new: &NewUpload) -> Result<Option<i64>> {
    use chotomoni_storage::claims;
    if new.kind != ProofKind::Claim {
        return match new.claim {
            Some(_) => Err(FieldError::new(
                "metadata.claim",
                "only evidence (kind `claim`) names a claim",
            )
            .into()),
            None => Ok(None),
        };
    }
    let Some(id) = new.claim else {
        return Ok(claims::open_on_order(conn, order_id).await?.map(|c| c.id));
    };
    let claim = claims::get(conn, id)
        .await?
        .filter(|c| c.order_id == order_id)
        .ok_or(ServiceError::NotFound("claim"))?;
    if claim.status.is_closed() {
        return Err(ServiceError::Conflict(
            "the claim was decided: it takes no more evidence".into(),
        ));
    }
    Ok(Some(claim.id))
}

/// Staff who record proof may upload any kind; a customer only a claim about
/// their own order.
fn may_upload(actor: &Actor, kind: ProofKind) -> Result<()> {
    match actor {
        Actor::Staff { .. } if actor.staff_may(Permission::UploadProof) => Ok(()),
        Actor::Staff { .. } => Err(ServiceError::Forbidden),
        Actor::Customer(_) if kind == ProofKind::Claim => Ok(()),
        Actor::Customer(_) => Err(ServiceError::Forbidden),
        Actor::Visitor => Err(ServiceError::Unauthenticated),
        Actor::System => Ok(()),
    }
}

fn new_upload_id() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn write_staging_header(store: &ProofStore, id: &str, header: &[u8]) -> Result<()> {
    let path = store.staging_path(id);
    let header = header.to_vec();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let mut file = std::fs::File::create_new(&path)?;
        file.write_all(&header)?;
        file.sync_all()
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?
    .context("creating an upload's staging file")
}
