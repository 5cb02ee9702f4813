//! Inspecting a stored proof after it was logged: duration, picture size,
//! sound, and a poster frame (also the thumbnail of a photo), stored
//! encrypted under the proof's key. A job queued with the proof runs it;
//! a recurring job queues proofs an error left uninspected.
use super::read::{plaintext, read_all};
use crate::error::Context as _;
use crate::error::Result;
use crate::jobs::Job;
use crate::Services;
use chotomoni_crypto::proof_stream::ProofKey;
use chotomoni_crypto::SealKey;
use chotomoni_domain::catalog::{sealed, SealContext};
use chotomoni_domain::JobKind;
use chotomoni_domain::ProofId;
use chotomoni_storage::blobs::BlobStore;
use chotomoni_storage::proofs::{self, Probed, ProofRow};
use tokio_util::io::StreamReader;

/// A stored proof whose key can be opened, to read its plaintext as often
/// as an inspection needs (ffprobe and ffmpeg each read it once).
pub(super) struct StoredMedia {
    pub row: ProofRow,
    sealed_key: Vec<u8>,
    key_context: SealContext,
    customer_key: SealKey,
}

impl StoredMedia {
    fn proof_key(&self) -> Result<ProofKey> {
        super::open_proof_key(&self.customer_key, &self.key_context, &self.sealed_key)
    }

    /// The whole plaintext, decrypted a piece at a time as it is read.
    pub async fn open(&self, blobs: &BlobStore) -> Result<super::read::PlainStream> {
        plaintext(
            blobs,
            &self.row.blob_key,
            self.row.stored_size as u64,
            self.proof_key()?,
            0..self.row.size as u64,
        )
        .await
    }
}

/// Poster frames are at most this wide.
const POSTER_WIDTH: u32 = 640;

impl Services {
    /// A stored proof's media, to be read through
    /// [`StoredMedia::open`]; `None` when the proof is gone or erased.
    pub(super) async fn stored_media(&self, id: ProofId) -> Result<Option<StoredMedia>> {
        let mut conn = self.db.conn().await?;
        let Some(row) = proofs::get(&mut conn, id.0).await? else {
            return Ok(None);
        };
        let Some(sealed_key) = row.proof_key_enc.clone() else {
            return Ok(None); // erased: nothing left to read
        };
        let customer_key = self.customer_key_of(&mut conn, row.customer_id).await?;
        Ok(Some(StoredMedia {
            key_context: sealed::PROOF_KEY.at(&row.blob_key),
            row,
            sealed_key,
            customer_key,
        }))
    }

    /// Waits for a turn to run ffprobe/ffmpeg.
    pub(super) async fn inspection_turn(&self) -> Result<tokio::sync::SemaphorePermit<'_>> {
        self.proofs
            .inspections
            .acquire()
            .await
            .map_err(|_| crate::error::ServiceError::Internal("inspections closed".into()))
    }

    /// Probes proof `id` and stores its poster; records why if it cannot.
    pub async fn inspect_proof(&self, id: ProofId) -> Result<()> {
        let store = &self.proofs;
        let Some(media) = self.stored_media(id).await? else {
            return Ok(());
        };
        let row = &media.row;
        let _turn = self.inspection_turn().await?;
        let mut probed = Probed::default();
        match store
            .tools
            .probe(StreamReader::new(media.open(&store.blobs).await?))
            .await
        {
            Ok(info) => {
                probed.duration_ms = info.duration_ms.map(|d| d as i64);
                probed.width = info.width.map(i64::from);
                probed.height = info.height.map(i64::from);
                probed.has_audio = Some(info.has_audio);
            }
            Err(e) => probed.error = Some(e.to_string()),
        }
        match store
            .tools
            .poster(
                StreamReader::new(media.open(&store.blobs).await?),
                POSTER_WIDTH,
            )
            .await
        {
            Ok(jpeg) => {
                let key = media.proof_key()?;
                let poster_key = row.blob_key.replace(".age", ".poster.age");
                store
                    .blobs
                    .put(&poster_key, key.encrypt_all(&jpeg))
                    .await
                    .context("storing a poster")?;
                probed.poster_key = Some(poster_key);
            }
            Err(e) if probed.error.is_none() => probed.error = Some(format!("poster: {e}")),
            Err(_) => {}
        }
        let mut conn = self.db.conn().await?;
        proofs::set_probed(&mut conn, id.0, &probed, self.now_ms()).await?;
        Ok(())
    }

    /// Queues an inspection of proofs an error left uninspected (one
    /// already queued or running is not queued twice); returns how many.
    pub async fn queue_pending_inspections(&self) -> Result<usize> {
        let mut conn = self.db.conn().await?;
        let mut queued = 0;
        for id in proofs::unprobed(&mut conn, 100).await? {
            if self
                .enqueue(&mut conn, Job::about(JobKind::ProofInspect, id))
                .await?
            {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// The poster frame of a proof, decrypted (JPEG).
    pub(crate) async fn poster_bytes(&self, row: &proofs::ProofRow) -> Result<Option<Vec<u8>>> {
        let (Some(poster_key), Some(sealed_key)) = (&row.poster_key, &row.proof_key_enc) else {
            return Ok(None);
        };
        let mut conn = self.db.conn().await?;
        let ckey = self.customer_key_of(&mut conn, row.customer_id).await?;
        drop(conn);
        let key = super::open_proof_key(&ckey, &sealed::PROOF_KEY.at(&row.blob_key), sealed_key)?;
        let size = self
            .proofs
            .blobs
            .size(poster_key)
            .await
            .context("reading a poster")?;
        // A poster's plaintext length is not recorded: read to the end.
        let stream = plaintext(
            &self.proofs.blobs,
            poster_key,
            size,
            key,
            0..super::read::TO_END,
        )
        .await?;
        read_all(stream).await.map(Some)
    }
}
