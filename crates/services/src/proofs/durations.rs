//! Correcting the durations stored before browsers' live-written
//! recordings were measured from their own fragments: ffprobe, reading
//! them through a pipe, gave only what it had analysed (5 s of a 9.5 s
//! fragmented MP4 from the station). A one-time job, queued by a
//! migration, reads every stored video again, a batch a run.
use super::inspect::StoredMedia;
use crate::error::Result;
use crate::jobs::Job;
use crate::{Actor, Services};
use chotomoni_domain::{JobKind, ProofId};
use chotomoni_storage::proofs;
use tokio_util::io::StreamReader;

/// Videos read again per run; each run queues the next batch, so a server
/// that stops mid-way leaves at most one batch to be read again.
const BATCH: i64 = 20;

impl Services {
    /// Reads the duration of the stored videos after proof `after` (one
    /// batch) from their bytes, corrects those that differ, each with an
    /// audit entry, and queues the next batch. A batch run again changes
    /// nothing. Returns how many were corrected.
    pub async fn correct_durations(&self, after: i64) -> Result<usize> {
        let mut conn = self.db.conn().await?;
        let ids = proofs::readable_videos_after(&mut conn, after, BATCH).await?;
        drop(conn);
        let mut corrected = 0;
        for id in &ids {
            if self.correct_duration(ProofId(*id)).await? {
                corrected += 1;
            }
        }
        if let (Some(last), true) = (ids.last(), ids.len() as i64 == BATCH) {
            let mut conn = self.db.conn().await?;
            self.enqueue(&mut conn, Job::about(JobKind::CorrectDurations, *last))
                .await?;
        }
        Ok(corrected)
    }

    async fn correct_duration(&self, id: ProofId) -> Result<bool> {
        let Some(media) = self.stored_media(id).await? else {
            return Ok(false);
        };
        let Some(measured) = self.measured_duration(&media).await? else {
            return Ok(false);
        };
        if media.row.duration_ms == Some(measured) {
            return Ok(false);
        }
        let mut tx = self.db.begin().await?;
        let corrected = proofs::correct_duration(&mut tx, id.0, measured).await?;
        if corrected {
            let was = media
                .row
                .duration_ms
                .map_or("none".to_owned(), |ms| format!("{ms} ms"));
            crate::audit::change(
                &mut tx,
                &Actor::System,
                chotomoni_domain::AuditAction::ProofDurationCorrected,
                &format!("proof:{}", id.0),
                &format!("{was} -> {measured} ms"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(corrected)
    }

    /// The duration the video's bytes show now; `None` when they cannot
    /// be probed (the stored duration then stays as it is).
    async fn measured_duration(&self, media: &StoredMedia) -> Result<Option<i64>> {
        let _turn = self.inspection_turn().await?;
        let stream = media.open(&self.proofs.blobs).await?;
        match self.proofs.tools.probe(StreamReader::new(stream)).await {
            Ok(info) => Ok(info.duration_ms.and_then(|ms| i64::try_from(ms).ok())),
            Err(error) => {
                tracing::warn!(proof = media.row.id, %error, "a stored video could not be probed again");
                Ok(None)
            }
        }
    }
}
