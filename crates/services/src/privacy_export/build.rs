//! Building an export in the background: gather the data (a fixed number of
//! queries), then, on a blocking thread, stream every proof's plaintext into
//! the ZIP (never more than a few pieces in memory), add the receipts, the
//! JSON and the page, and seal it all into an age file that moves into the
//! blob store. Progress is written to the `exports` row as it goes.
use super::archive::{self, add_bytes, extension, ExportZip, SealedWriter};
use super::collect::{Collected, ExportData};
use super::html;
use crate::error::Context as _;
use crate::error::{Result, ServiceError};
use crate::proofs::read::{plaintext, read_all, TO_END};
use crate::{audit, Actor, Services};
use chotomoni_crypto::proof_stream::ProofKey;
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::{AuditAction, ExportStage};
use chotomoni_storage::exports as repo;
use chotomoni_storage::proofs::ProofRow;
use futures::StreamExt;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use tokio::runtime::Handle;

/// One proof to copy: its row, its opened key (if it still opens), and its
/// receipt as served at `/api/v1/proofs/{id}/receipt`.
struct ProofJob {
    row: ProofRow,
    key: Option<ProofKey>,
    receipt: Option<Vec<u8>>,
}

const README: &str = "ছোটমনি: আপনার তথ্যের কপি\n\
=========================\n\
index.html  — পড়ার জন্য পাতা (ব্রাউজারে খুলুন), বাংলা ও ইংরেজিতে\n\
data.json   — একই তথ্য, যন্ত্রে পড়ার উপযোগী (JSON)\n\
proofs/     — আপনার অর্ডারের প্রুফ ছবি ও ভিডিও, প্রতিটির রসিদ (.receipt.json)\n\
\n\
Chotomoni: a copy of your data\n\
==============================\n\
index.html  — the page to read (open it in a browser), in Bangla and English\n\
data.json   — the same data for programs (JSON)\n\
proofs/     — the proof photos and videos of your orders, each with its receipt (.receipt.json)\n\
\n\
chotomoni verify proofs/FILE proofs/FILE.receipt.json --key KEY\n\
checks that a proof file is exactly the one logged (KEY: /.well-known/chotomoni-log-key).\n";

impl Services {
    pub(crate) fn export_staging_path(&self, id: i64) -> PathBuf {
        self.proofs.staging_dir.join(format!("export-{id}.age"))
    }

    async fn export_progress(&self, id: i64, progress: i64, stage: ExportStage) -> Result<()> {
        let mut conn = self.db.conn().await?;
        repo::set_progress(&mut conn, id, progress, stage, self.now_ms()).await?;
        Ok(())
    }

    /// Builds export `id`, run by its job. A failure is recorded on the
    /// export (the person sees it; a privacy request starts a new one), so
    /// the job itself ends either way. Run again after a crash, it starts over.
    pub(crate) async fn build_export(&self, id: i64) {
        let started = std::time::Instant::now();
        let Err(e) = self.try_build_export(id).await else {
            tracing::info!(
                export = id,
                ms = started.elapsed().as_millis() as u64,
                "access export ready"
            );
            return;
        };
        tracing::error!(export = id, error = %e, "building an access export failed");
        let _ = tokio::fs::remove_file(self.export_staging_path(id)).await;
        let reason = match &e {
            ServiceError::Tampered(_) => "a stored file failed its integrity check",
            ServiceError::Sealed => "stored personal data could not be opened",
            ServiceError::NotFound(_) => "the customer no longer exists",
            _ => "an error on our side (see the server log)",
        };
        let recorded = async {
            let mut tx = self.db.begin().await?;
            let row = repo::get(&mut tx, id).await?;
            if repo::set_failed(&mut tx, id, reason, self.now_ms()).await? {
                let target = row.map_or("-".into(), |r| format!("customer:{}", r.customer_id));
                audit::change(
                    &mut tx,
                    &Actor::System,
                    AuditAction::ExportFailed,
                    &target,
                    &format!("export={id}"),
                )
                .await?;
            }
            tx.commit().await?;
            Ok::<_, ServiceError>(())
        };
        if let Err(e) = recorded.await {
            tracing::error!(export = id, error = %e, "recording a failed export failed");
        }
    }

    async fn try_build_export(&self, id: i64) -> Result<()> {
        let mut conn = self.db.conn().await?;
        let row = repo::get(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("export"))?;
        if row.status != chotomoni_domain::StoredExportStatus::Building {
            // Finished by an earlier run whose server stopped before its job ended.
            return Ok(());
        }
        repo::set_progress(&mut conn, id, 2, ExportStage::Collecting, self.now_ms()).await?;
        let customer = chotomoni_storage::customers::get(&mut conn, row.customer_id)
            .await?
            .ok_or(ServiceError::NotFound("customer"))?;
        let ckey = self.customer_key_of(&mut conn, customer.id).await?;
        let Collected { data, proof_rows } = self
            .collect_export(&mut conn, &customer, &ckey, id, row.request_id)
            .await?;
        drop(conn);
        self.export_progress(id, 8, ExportStage::CopyingProofs)
            .await?;
        let mut jobs = Vec::with_capacity(proof_rows.len());
        for row in proof_rows {
            let key = row.proof_key_enc.as_deref().and_then(|sealed| {
                crate::proofs::open_proof_key(&ckey, &sealed::PROOF_KEY.at(&row.blob_key), sealed)
                    .ok()
            });
            let receipt = match self.receipt_of(&row).await {
                Ok(r) => Some(
                    serde_json::to_vec(&r).map_err(|e| ServiceError::Internal(e.to_string()))?,
                ),
                Err(e) => {
                    tracing::warn!(proof = row.id, error = %e, "no receipt for a proof in an export");
                    None
                }
            };
            jobs.push(ProofJob { row, key, receipt });
        }
        let blob_key = format!("exports/{}/{id}.age", customer.id);
        let file_key = ProofKey::generate();
        let sealed_key = ckey.seal_str(
            &sealed::EXPORT_FILE_KEY.at(&blob_key),
            &file_key.to_secret(),
        );
        let staging = self.export_staging_path(id);
        let services = self.clone();
        let handle = Handle::current();
        let path = staging.clone();
        let size = tokio::task::spawn_blocking(move || {
            services.write_export(&handle, id, &path, &file_key, data, jobs)
        })
        .await
        .context("the export writer stopped")??;
        self.export_progress(id, 97, ExportStage::Storing).await?;
        let stored_size = self
            .proofs
            .blobs
            .put_file(&blob_key, &staging)
            .await
            .context("storing an export")?;
        let now = self.now_ms();
        let expires_at = now + i64::from(self.settings.export_link_days) * 86_400_000;
        let mut tx = self.db.begin().await?;
        let ready = repo::set_ready(
            &mut tx,
            id,
            &repo::Ready {
                blob_key: &blob_key,
                file_key_enc: &sealed_key,
                size: size as i64,
                stored_size: stored_size as i64,
                at: now,
                expires_at,
            },
        )
        .await?;
        if !ready {
            drop(tx);
            let _ = self.proofs.blobs.delete(&blob_key).await;
            return Err(ServiceError::Conflict(
                "the export was no longer being built".into(),
            ));
        }
        audit::change(
            &mut tx,
            &Actor::System,
            AuditAction::ExportReady,
            &format!("customer:{}", customer.id),
            &format!("export={id} bytes={size}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes the sealed ZIP to `path` (blocking); returns its plaintext size.
    fn write_export(
        &self,
        rt: &Handle,
        id: i64,
        path: &std::path::Path,
        file_key: &ProofKey,
        mut data: ExportData,
        jobs: Vec<ProofJob>,
    ) -> Result<u64> {
        let io = |e: std::io::Error| ServiceError::Failed {
            context: "writing an export",
            source: Box::new(e),
        };
        let file = create_private(path).map_err(io)?;
        let out = BufWriter::with_capacity(256 * 1024, file);
        let mut zip: ExportZip<_> =
            zip::ZipWriter::new_stream(SealedWriter::new(file_key, out).map_err(io)?);
        let total: u64 = jobs
            .iter()
            .map(|j| j.row.size.max(0) as u64)
            .sum::<u64>()
            .max(1);
        let mut copied = 0u64;
        let mut shown = 8;
        for (job, entry) in jobs.into_iter().zip(data.proofs.iter_mut()) {
            let row = &job.row;
            let at = row.received_at;
            if let Some(receipt) = &job.receipt {
                let name = format!("proofs/{}.receipt.json", row.id);
                add_bytes(&mut zip, &name, receipt, true, at).map_err(io)?;
                entry.receipt = Some(name);
            }
            let Some(key) = job.key else {
                entry.note = Some(
                    "The file can no longer be opened, so it is not included. / ফাইলটি আর খোলা যায় না, তাই এতে নেই।"
                        .into(),
                );
                continue;
            };
            let size = row.size.max(0) as u64;
            // The poster is under the same key; `key` goes to the reader.
            let poster_key = row
                .poster_key
                .as_ref()
                .and_then(|_| ProofKey::parse(&key.to_secret()).ok());
            let name = format!("proofs/{}.{}", row.id, extension(&row.media_type));
            match rt.block_on(plaintext(
                &self.proofs.blobs,
                &row.blob_key,
                row.stored_size as u64,
                key,
                0..size,
            )) {
                Err(e) => {
                    tracing::error!(proof = row.id, error = %e, "a proof could not be opened for an export");
                    entry.note = Some(NOT_COPIED.into());
                }
                Ok(mut stream) => {
                    zip.start_file(&name, archive::options(false, size, at))
                        .map_err(|e| io(archive::to_io(e)))?;
                    let mut written = 0u64;
                    let mut broken = false;
                    while let Some(piece) = rt.block_on(stream.next()) {
                        match piece {
                            Ok(bytes) => {
                                zip.write_all(&bytes).map_err(io)?;
                                written += bytes.len() as u64;
                                let now = 8 + ((copied + written) * 82 / total) as i64;
                                if now > shown {
                                    shown = now;
                                    rt.block_on(self.export_progress(
                                        id,
                                        now,
                                        ExportStage::CopyingProofs,
                                    ))?;
                                }
                            }
                            Err(e) => {
                                tracing::error!(proof = row.id, error = %e, "a proof failed its check while being exported");
                                broken = true;
                                break;
                            }
                        }
                    }
                    entry.file = Some(name);
                    if broken || written != size {
                        entry.note = Some(INCOMPLETE.into());
                    }
                    copied += size;
                }
            }
            if let (Some(poster), Some(key)) = (&row.poster_key, poster_key) {
                match rt.block_on(self.read_poster(poster, key)) {
                    Ok(jpeg) => {
                        let name = format!("proofs/{}.poster.jpg", row.id);
                        add_bytes(&mut zip, &name, &jpeg, false, at).map_err(io)?;
                        entry.poster = Some(name);
                    }
                    Err(e) => {
                        tracing::warn!(proof = row.id, error = %e, "a poster was left out of an export")
                    }
                }
            }
        }
        rt.block_on(self.export_progress(id, 92, ExportStage::WritingDocuments))?;
        let now = self.now_ms();
        let json =
            serde_json::to_vec_pretty(&data).map_err(|e| ServiceError::Internal(e.to_string()))?;
        add_bytes(&mut zip, "data.json", &json, true, now).map_err(io)?;
        add_bytes(
            &mut zip,
            "index.html",
            html::render(&data).as_bytes(),
            true,
            now,
        )
        .map_err(io)?;
        add_bytes(&mut zip, "README.txt", README.as_bytes(), true, now).map_err(io)?;
        let sealed = zip
            .finish()
            .map_err(|e| io(archive::to_io(e)))?
            .into_inner();
        let (out, plain_len, _) = sealed.finish().map_err(io)?;
        let file = out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        Ok(plain_len)
    }

    pub(crate) async fn read_poster(&self, poster_key: &str, key: ProofKey) -> Result<Vec<u8>> {
        let size = self
            .proofs
            .blobs
            .size(poster_key)
            .await
            .context("reading a poster")?;
        read_all(plaintext(&self.proofs.blobs, poster_key, size, key, 0..TO_END).await?).await
    }
}

const NOT_COPIED: &str = "The stored file failed its integrity check, so it is not included; please tell support. / সংরক্ষিত ফাইলটি অখণ্ডতা যাচাইয়ে ব্যর্থ হয়েছে, তাই এতে নেই; অনুগ্রহ করে সাপোর্টকে জানান।";
const INCOMPLETE: &str = "The stored file failed its integrity check while being copied, so the copy here is incomplete; please tell support. / কপি করার সময় সংরক্ষিত ফাইলটি অখণ্ডতা যাচাইয়ে ব্যর্থ হয়েছে, তাই এখানের কপি অসম্পূর্ণ; অনুগ্রহ করে সাপোর্টকে জানান।";

/// Creates the staging file readable by this user only (it holds only
/// ciphertext, but there is no reason for anyone else to read it).
pub(crate) fn create_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}
