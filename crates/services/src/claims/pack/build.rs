//! Building a claim pack in the background, as an access export is built:
//! on a blocking thread the ZIP is written as a stream through an age
//! writer under the pack's own key, so no original, excerpt or summary is
//! ever on disk in clear. Excerpts are cut by ffmpeg reading the decrypted
//! original through a loopback server (see `chotomoni_media`), one at a
//! time, each at most 30 MB in memory.
use super::summary::{self, Listed};
use crate::error::Context as _;
use crate::error::{Result, ServiceError};
use crate::privacy_export::archive::{self, add_bytes, extension, ExportZip, SealedWriter};
use crate::privacy_export::build::create_private;
use crate::proofs::read::plaintext;
use crate::{audit, Actor, Services};
use chotomoni_crypto::proof_stream::ProofKey;
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::claim_pack::MAX_EXCERPT_BYTES;
use chotomoni_domain::{AuditAction, ExcerptStart, PackStatus};
use chotomoni_media::{ExcerptSpec, RangeReader, RangeSource};
use chotomoni_storage::blobs::BlobStore;
use chotomoni_storage::claim_packs as rows;
use chotomoni_storage::proofs::ProofRow;
use chotomoni_translog::{PackedFile, Receipt};
use futures::StreamExt;
use std::future::Future;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use tokio::runtime::Handle;
use zeroize::Zeroizing;

/// Dhaka is six hours ahead of UTC all year; excerpts show its clock.
const DHAKA_OFFSET_S: i64 = 6 * 3600;

/// One proof going into the pack.
struct Packed {
    row: ProofRow,
    /// The proof's key as text, opened again for each reading.
    secret: Zeroizing<String>,
    receipt: Receipt,
    /// `originals/…`, the name its receipt and the verifier use.
    path: String,
    excerpt: Option<ExcerptStart>,
    /// `excerpts/…`, when it has one.
    excerpt_path: Option<String>,
}

/// A proof's plaintext from any offset, for ffmpeg's seeks.
struct ProofSource {
    blobs: BlobStore,
    blob_key: String,
    stored_size: u64,
    size: u64,
    secret: Zeroizing<String>,
}

impl RangeSource for ProofSource {
    fn size(&self) -> u64 {
        self.size
    }

    fn open_at(
        &self,
        offset: u64,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<RangeReader>> + Send + '_>> {
        Box::pin(async move {
            let key = ProofKey::parse(&self.secret).map_err(std::io::Error::other)?;
            let stream = plaintext(
                &self.blobs,
                &self.blob_key,
                self.stored_size,
                key,
                offset..self.size,
            )
            .await
            .map_err(std::io::Error::other)?;
            Ok(Box::pin(tokio_util::io::StreamReader::new(stream)) as RangeReader)
        })
    }
}

/// The proof's key again from its text, for one more reading.
fn reopen(secret: &str) -> Result<ProofKey> {
    ProofKey::parse(secret).map_err(|_| ServiceError::Sealed)
}

impl Services {
    fn pack_staging_path(&self, id: i64) -> PathBuf {
        self.proofs.staging_dir.join(format!("claim-pack-{id}.age"))
    }

    /// Builds pack `id`, run by its job. A failure is recorded on the pack
    /// for staff (who make another); the job ends either way.
    pub(crate) async fn build_claim_pack(&self, id: i64) {
        let started = std::time::Instant::now();
        let Err(e) = self.try_build_claim_pack(id).await else {
            tracing::info!(
                pack = id,
                ms = started.elapsed().as_millis() as u64,
                "claim pack ready"
            );
            return;
        };
        tracing::error!(pack = id, error = %e, "building a claim pack failed");
        let _ = tokio::fs::remove_file(self.pack_staging_path(id)).await;
        let reason = match &e {
            ServiceError::Tampered(_) => "a stored file failed its integrity check",
            ServiceError::Sealed => "stored personal data could not be opened",
            ServiceError::NotFound(_) => "the claim or its customer no longer exists",
            _ => "an error on our side (see the server log)",
        };
        let recorded = async {
            let mut tx = self.db.begin().await?;
            if rows::set_failed(&mut tx, id, reason).await? {
                audit::change(
                    &mut tx,
                    &Actor::System,
                    AuditAction::ClaimPackFailed,
                    &format!("pack:{id}"),
                    reason,
                )
                .await?;
            }
            tx.commit().await?;
            Ok::<_, ServiceError>(())
        };
        if let Err(e) = recorded.await {
            tracing::error!(pack = id, error = %e, "recording a failed claim pack failed");
        }
    }

    async fn try_build_claim_pack(&self, id: i64) -> Result<()> {
        let mut conn = self.db.conn().await?;
        let row = rows::get(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("claim pack"))?;
        if row.status != PackStatus::Building {
            return Ok(()); // finished by an earlier run whose server stopped before its job ended
        }
        let story = self.claim_story(&Actor::System, row.claim_id).await?;
        let proof_rows = chotomoni_storage::proofs::for_order(
            &mut conn,
            chotomoni_domain::OrderNumber::parse(&story.order.number)
                .map_err(|_| {
                    ServiceError::Internal(format!("pack {id}: its claim names no order"))
                })?
                .id()
                .0,
        )
        .await?;
        let ckey = self.customer_key_of(&mut conn, row.customer_id).await?;
        drop(conn);
        let excerpts = &row.excerpts;
        let mut packed = Vec::with_capacity(proof_rows.len());
        for (n, proof) in (1..).zip(proof_rows) {
            let Some(sealed_key) = proof.proof_key_enc.as_deref() else {
                continue; // erased: nothing left to send
            };
            let key = crate::proofs::open_proof_key(
                &ckey,
                &sealed::PROOF_KEY.at(&proof.blob_key),
                sealed_key,
            )?;
            let receipt = self.receipt_of(&proof).await?;
            let stem = format!("{n}-{}-{}", proof.kind.as_str(), proof.id);
            let excerpt = excerpts.iter().find(|e| e.proof.0 == proof.id).copied();
            packed.push(Packed {
                path: format!("originals/{stem}.{}", extension(&proof.media_type)),
                excerpt_path: excerpt
                    .map(|e| format!("excerpts/{stem}-from-{}s.mp4", e.start_ms / 1000)),
                excerpt,
                secret: key.to_secret(),
                receipt,
                row: proof,
            });
        }
        let files: Vec<Listed<'_>> = packed
            .iter()
            .map(|p| Listed {
                path: &p.path,
                kind: p.row.kind.as_str(),
                captured_at: p.row.captured_at,
                received_at: p.row.received_at,
                sha256: &p.row.sha256,
                log_index: p.row.log_index,
                excerpt: p.excerpt_path.as_deref(),
            })
            .collect();
        let summary = summary::render(&story, &files, row.include_contact);
        drop(files);
        let blob_key = format!("claim-packs/{}/{id}.age", row.customer_id);
        let file_key = ProofKey::generate();
        let sealed_key = ckey.seal_str(&sealed::PACK_FILE_KEY.at(&blob_key), &file_key.to_secret());
        let staging = self.pack_staging_path(id);
        let (services, handle, path) = (self.clone(), Handle::current(), staging.clone());
        let order = story.order.number.clone();
        let size = tokio::task::spawn_blocking(move || {
            services.write_pack(&handle, &path, &file_key, &order, &packed, &summary)
        })
        .await
        .context("the claim pack writer stopped")??;
        let stored_size = self
            .proofs
            .blobs
            .put_file(&blob_key, &staging)
            .await
            .context("storing a claim pack")?;
        let _ = tokio::fs::remove_file(&staging).await;
        let mut tx = self.db.begin().await?;
        let ready = rows::Ready {
            blob_key: &blob_key,
            file_key_enc: &sealed_key,
            size: size as i64,
            stored_size: stored_size as i64,
            at: self.now_ms(),
        };
        if !rows::set_ready(&mut tx, id, &ready).await? {
            drop(tx);
            let _ = self.proofs.blobs.delete(&blob_key).await;
            return Err(ServiceError::Conflict(
                "the claim pack was no longer being built".into(),
            ));
        }
        audit::change(
            &mut tx,
            &Actor::System,
            AuditAction::ClaimPackReady,
            &format!("pack:{id}"),
            &format!("claim={} bytes={size}", row.claim_id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes the sealed ZIP to `path` (blocking); returns its plaintext size.
    fn write_pack(
        &self,
        rt: &Handle,
        path: &Path,
        file_key: &ProofKey,
        order: &str,
        packed: &[Packed],
        summary: &str,
    ) -> Result<u64> {
        let io = |e: std::io::Error| ServiceError::Failed {
            context: "writing a claim pack",
            source: Box::new(e),
        };
        let zip_error = |e| io(archive::to_io(e));
        let out = BufWriter::with_capacity(256 * 1024, create_private(path).map_err(io)?);
        let mut zip: ExportZip<_> =
            zip::ZipWriter::new_stream(SealedWriter::new(file_key, out).map_err(io)?);
        let now = self.now_ms();
        add_bytes(&mut zip, "summary.txt", summary.as_bytes(), true, now).map_err(io)?;
        for p in packed {
            let (row, at) = (&p.row, p.row.received_at);
            let size = row.size.max(0) as u64;
            let key = reopen(&p.secret)?;
            let mut stream = rt.block_on(plaintext(
                &self.proofs.blobs,
                &row.blob_key,
                row.stored_size as u64,
                key,
                0..size,
            ))?;
            zip.start_file(p.path.as_str(), archive::options(false, size, at))
                .map_err(zip_error)?;
            while let Some(piece) = rt.block_on(stream.next()) {
                // A damaged original fails the whole pack: a pack with a
                // file that does not match its receipt would prove nothing.
                zip.write_all(&piece.map_err(io)?).map_err(io)?;
            }
            let stem = p.path.trim_start_matches("originals/");
            let stem = stem.rsplit_once('.').map_or(stem, |(s, _)| s);
            let receipt = serde_json::to_vec_pretty(&p.receipt)
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            add_bytes(
                &mut zip,
                &format!("receipts/{stem}.receipt.json"),
                &receipt,
                true,
                at,
            )
            .map_err(io)?;
            if let (Some(start), Some(name)) = (p.excerpt, &p.excerpt_path) {
                let duration = row.duration_ms.unwrap_or(0).max(0) as u64;
                let spec = ExcerptSpec {
                    start_ms: start.start_ms,
                    length_ms: start.length_ms(duration),
                    max_bytes: MAX_EXCERPT_BYTES,
                    caption: order.to_owned(),
                    // The device's clock when it started recording, running with the
                    // video; with no capture time known there is no clock to draw
                    // (the time it reached us is not when it was filmed).
                    clock_origin: row
                        .captured_at
                        .map(|at| (at + start.start_ms as i64) / 1000 + DHAKA_OFFSET_S),
                    clock_zone: "+06".into(),
                };
                let source = Arc::new(ProofSource {
                    blobs: self.proofs.blobs.clone(),
                    blob_key: row.blob_key.clone(),
                    stored_size: row.stored_size as u64,
                    size,
                    secret: p.secret.clone(),
                });
                let video = rt
                    .block_on(self.proofs.tools.excerpt(source, &spec))
                    .map_err(|e| ServiceError::Failed {
                        context: "cutting an excerpt",
                        source: Box::new(e),
                    })?;
                add_bytes(&mut zip, name, &video, false, at).map_err(io)?;
            }
            if let Some(poster) = &row.poster_key {
                let key = reopen(&p.secret)?;
                match rt.block_on(self.read_poster(poster, key)) {
                    Ok(jpeg) => {
                        add_bytes(&mut zip, &format!("posters/{stem}.jpg"), &jpeg, false, at)
                            .map_err(io)?
                    }
                    Err(e) => {
                        tracing::warn!(proof = row.id, error = %e, "a poster was left out of a claim pack")
                    }
                }
            }
        }
        let log_key = self.proofs.log_verifier_key();
        add_bytes(
            &mut zip,
            "log-key.txt",
            format!("{log_key}\n").as_bytes(),
            true,
            now,
        )
        .map_err(io)?;
        // The offline verifier holds every receipt; the reviewer chooses
        // the files of originals/ in it.
        let listed: Vec<PackedFile> = packed
            .iter()
            .map(|p| PackedFile {
                path: p.path.clone(),
                receipt: p.receipt.clone(),
            })
            .collect();
        let page = chotomoni_translog::verify_page::render(&log_key, &listed);
        add_bytes(&mut zip, "verify.html", page.as_bytes(), true, now).map_err(io)?;
        let sealed = zip.finish().map_err(zip_error)?.into_inner();
        let (out, plain_len, _) = sealed.finish().map_err(io)?;
        let file = out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        Ok(plain_len)
    }
}
