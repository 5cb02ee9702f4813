//! What an erasure leaves outside the database: proof and export files,
//! staging files of unfinished uploads, the person's key in the key vault,
//! old pages in SQLite's write-ahead log, their messages in the development
//! outboxes. All of it is deleted: right after the erasure commits, and
//! again by a job queued in the erasure's own transaction, so a server that
//! stopped in between, or a store that was down, leaves nothing behind (and
//! the last message to the person, sent meanwhile, leaves the outbox too).
//! Every step may be repeated (deleting what is gone is no error).
use super::rows;
use crate::error::{Context, Result, ServiceError};
use crate::jobs::Job;
use crate::outboxes::SentTo;
use crate::Services;
use chotomoni_domain::JobKind;
use chotomoni_storage::jobs::JobRow;
use chotomoni_storage::key_vault::ErasureEntry;
use chotomoni_storage::Conn;
use serde::{Deserialize, Serialize};

/// What one erasure left outside the database, by reference only.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Leftovers {
    pub customer_id: i64,
    pub erased_at: i64,
    /// Object-store keys of proof media, posters and access exports.
    pub files: Vec<String>,
    /// Unfinished uploads whose staging files go.
    pub staging: Vec<String>,
}

/// The job looks again this long after the erasure, once the immediate
/// attempt has long finished.
const CHECK_AGAIN_MS: i64 = 10 * 60 * 1000;

impl Services {
    /// Queues the job; where an outbox keeps messages here, the person's
    /// number and address go with it sealed under the installation's key
    /// (theirs is destroyed), cleared once the job is done and after a day
    /// at the latest.
    pub(super) async fn queue_cleanup(
        &self,
        tx: &mut Conn,
        leftovers: &Leftovers,
        sent_to: &SentTo,
    ) -> Result<()> {
        let detail =
            serde_json::to_value(leftovers).context("describing an erasure's leftovers")?;
        let job = Job {
            detail: Some(detail),
            after_ms: CHECK_AGAIN_MS,
            ..Job::about(JobKind::ErasureCleanup, leftovers.customer_id)
        };
        let sealed = self.outboxes_kept().then(|| {
            let plain = serde_json::to_vec(sent_to).expect("a contact serialises");
            self.vault.keyring().seal_for_job(&job.key(), &plain)
        });
        self.enqueue(
            tx,
            Job {
                sealed: sealed.as_deref(),
                ..job
            },
        )
        .await?;
        Ok(())
    }

    /// The contact an erasure's job carries sealed; none once cleared.
    pub(crate) fn sealed_contact(&self, job: &JobRow) -> Result<SentTo> {
        let Some(sealed) = &job.sealed else {
            return Ok(SentTo::default());
        };
        let plain = self
            .vault
            .keyring()
            .open_for_job(&job.dedupe_key, sealed)
            .map_err(|_| ServiceError::Sealed)?;
        serde_json::from_slice(&plain).context("an erasure's contact that does not read")
    }

    /// Deletes what the erasure left; an error means something is still
    /// there, and the job tries again with backoff.
    pub(crate) async fn clean_up_after_erasure(
        &self,
        l: &Leftovers,
        sent_to: &SentTo,
    ) -> Result<()> {
        let mut left = None;
        for key in &l.files {
            if let Err(e) = self.proofs.blobs.delete(key).await {
                tracing::warn!(error = %e, "a file of an erased customer could not be deleted yet");
                left = Some(e);
            }
        }
        for id in &l.staging {
            match tokio::fs::remove_file(self.proofs.staging_path(id)).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    tracing::warn!(error = %e, "a staging file of an erased customer could not be deleted yet")
                }
                _ => {}
            }
        }
        match self.db.truncate_wal().await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("the write-ahead log stayed busy; the next sweep truncates it")
            }
            Err(e) => tracing::error!(error = %e, "the write-ahead log could not be truncated"),
        }
        // Before the key vault, whose error ends the attempt here.
        let forgotten = self.forget_in_outboxes(sent_to).await;
        self.finish_in_key_vault(l.customer_id, l.erased_at).await?;
        forgotten?;
        match left {
            Some(e) => Err(e).context("deleting the files of an erased customer"),
            None => Ok(()),
        }
    }

    /// The key vault's part: the key goes, the journal entry is written.
    pub(super) async fn finish_in_key_vault(&self, customer_id: i64, erased_at: i64) -> Result<()> {
        let Some(vault) = &self.key_vault else {
            return Ok(());
        };
        vault
            .delete_key(customer_id)
            .await
            .context("deleting an erased key from the key vault")?;
        let entry = ErasureEntry {
            customer_id,
            erased_at,
        };
        vault
            .record_erasure(&entry)
            .await
            .context("journalling an erasure in the key vault")
    }

    pub(crate) async fn delete_proof_media(&self, p: &rows::ErasedProof) {
        let keys = std::iter::once(p.blob_key.as_str()).chain(p.poster_key.as_deref());
        for key in keys {
            if let Err(e) = self.proofs.blobs.delete(key).await {
                // Unreadable already: its key is gone.
                tracing::warn!(error = %e, proof = p.id, "erased proof media could not be deleted");
            }
        }
    }
}
