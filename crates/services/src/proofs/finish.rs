//! Turning a complete upload into a proof: photos are cleaned of location
//! and device metadata first (the policy does not collect location), the
//! file moves into the blob store, and the proof row, its log leaf and the
//! new signed tree head are written in one transaction.
use crate::error::Context as _;
use crate::error::{Result, ServiceError};
use crate::jobs::Job;
use crate::orders::millis_to_rfc3339;
use crate::Services;
use chotomoni_crypto::proof_stream::ProofKey;
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::AuditAction;
use chotomoni_domain::{JobKind, OrderId, OrderNumber, ProofId};
use chotomoni_media::{strip_location, MediaType};
use chotomoni_storage::proofs::{self, ProofRow};
use chotomoni_storage::uploads::{self, UploadRow};
use chotomoni_translog::ProofLeaf;
use sha2::{Digest, Sha256};
use std::io::Read;

/// What is stored and logged: the cleaned photo, or the video as received.
struct Stored {
    size: u64,
    sha256: [u8; 32],
}

impl Services {
    pub(crate) async fn finish_upload(
        &self,
        row: &UploadRow,
        proof_key: &ProofKey,
        media: MediaType,
        received_sha256: [u8; 32],
    ) -> Result<ProofId> {
        let store = &self.proofs;
        let blob_key = format!("proofs/{}/{}.age", row.order_id, row.id);
        let staged = store.staging_path(&row.id);
        let stored = if media.is_photo() {
            self.store_clean_photo(row, proof_key, media, &blob_key)
                .await?
        } else {
            store
                .blobs
                .put_file(&blob_key, &staged)
                .await
                .context("storing a proof")?;
            Stored {
                size: row.length as u64,
                sha256: received_sha256,
            }
        };
        match self.record_proof(row, media, &blob_key, &stored).await {
            Ok(id) => Ok(id),
            Err(e) => {
                let _ = store.blobs.delete(&blob_key).await;
                Err(e)
            }
        }
    }

    async fn store_clean_photo(
        &self,
        row: &UploadRow,
        proof_key: &ProofKey,
        media: MediaType,
        blob_key: &str,
    ) -> Result<Stored> {
        let store = &self.proofs;
        if row.length as u64 > store.settings.max_photo_bytes {
            let mut conn = self.db.conn().await?;
            self.discard_upload(&mut conn, &row.id).await?;
            return Err(ServiceError::TooLarge(format!(
                "a photo may be at most {} bytes",
                store.settings.max_photo_bytes
            )));
        }
        let staged = store.staging_path(&row.id);
        let key = ProofKey::parse(&proof_key.to_secret()).map_err(|_| ServiceError::Sealed)?;
        let cleaned = tokio::task::spawn_blocking(move || -> Result<Vec<u8>> {
            let file =
                std::fs::File::open(&staged).map_err(|e| ServiceError::Internal(e.to_string()))?;
            let mut plain = zeroize::Zeroizing::new(Vec::new());
            key.open(std::io::BufReader::new(file))
                .map_err(|_| ServiceError::Sealed)?
                .read_to_end(&mut plain)
                .context("reading back an upload")?;
            strip_location(&plain, media).map_err(|e| {
                ServiceError::UnsupportedMedia(format!("the photo cannot be read: {e}"))
            })
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))??;
        let stored = Stored {
            size: cleaned.len() as u64,
            sha256: Sha256::digest(&cleaned).into(),
        };
        store
            .blobs
            .put(blob_key, proof_key.encrypt_all(&cleaned))
            .await
            .context("storing a proof")?;
        let _ = tokio::fs::remove_file(store.staging_path(&row.id)).await;
        Ok(stored)
    }

    async fn record_proof(
        &self,
        row: &UploadRow,
        media: MediaType,
        blob_key: &str,
        stored: &Stored,
    ) -> Result<ProofId> {
        let store = &self.proofs;
        let number = OrderNumber::from_id(OrderId(row.order_id));
        let received_at = self.now_ms();
        let leaf = ProofLeaf {
            v: chotomoni_translog::leaf::LEAF_VERSION,
            sha256: hex::encode(stored.sha256),
            size: stored.size,
            media_type: media.mime().into(),
            order: number.to_string(),
            kind: row.kind.as_str().to_owned(),
            captured_at: row.captured_at.map(millis_to_rfc3339),
            received_at: millis_to_rfc3339(received_at),
            uploader: row.uploader.clone(),
        };
        let blob_size = store
            .blobs
            .size(blob_key)
            .await
            .context("storing a proof")?;
        let mut tx = self.db.begin().await?;
        let ckey = self.customer_key_of(&mut tx, row.customer_id).await?;
        let proof_key = super::open_proof_key(
            &ckey,
            &sealed::UPLOAD_PROOF_KEY.at(&row.id),
            &row.proof_key_enc,
        )?;
        let file_name = row
            .file_name_enc
            .as_deref()
            .map(|s| {
                ckey.open_string(&sealed::UPLOAD_FILE_NAME.at(&row.id), s)
                    .map_err(|_| ServiceError::Sealed)
            })
            .transpose()?;
        let index = super::log::append(&mut tx, self.db.engine, &store.log_key, &leaf).await?;
        let id = proofs::insert(
            &mut tx,
            &ProofRow {
                id: 0,
                order_id: row.order_id,
                customer_id: row.customer_id,
                kind: row.kind,
                media_type: leaf.media_type.clone(),
                size: stored.size as i64,
                sha256: leaf.sha256.clone(),
                blob_key: blob_key.to_owned(),
                stored_size: blob_size as i64,
                poster_key: None,
                proof_key_enc: Some(
                    ckey.seal_str(&sealed::PROOF_KEY.at(blob_key), &proof_key.to_secret()),
                ),
                file_name_enc: file_name
                    .map(|n| ckey.seal_str(&sealed::PROOF_FILE_NAME.at(blob_key), &n)),
                uploader: row.uploader.clone(),
                captured_at: row.captured_at,
                received_at,
                duration_ms: None,
                width: None,
                height: None,
                has_audio: None,
                probed_at: None,
                probe_error: None,
                log_index: index as i64,
                leaf: String::from_utf8(leaf.canonical_bytes()).expect("JSON is UTF-8"),
            },
        )
        .await?;
        chotomoni_storage::claims::carry_to_proof(&mut tx, &row.id, id).await?;
        proofs::set_upload_id(&mut tx, id, &row.id).await?;
        uploads::delete(&mut tx, &row.id).await?;
        // The uploader is the actor: the request that finished the file was theirs.
        chotomoni_storage::audit::append(
            &mut tx,
            received_at,
            &row.uploader,
            AuditAction::ProofAdd,
            &format!("order:{number}"),
            &format!(
                "proof={id} kind={} sha256={}",
                row.kind.as_str(),
                leaf.sha256
            ),
        )
        .await?;
        // Inspected in the background, by whichever server claims it.
        self.enqueue(&mut tx, Job::about(JobKind::ProofInspect, id))
            .await?;
        tx.commit().await?;
        store.hashes.lock().expect("not poisoned").remove(&row.id);
        Ok(ProofId(id))
    }
}
