//! Receiving a piece of an upload (a tus PATCH). The body is copied into
//! blocks that pass through bounded channels to two threads, one sealing
//! them and one hashing and writing them, so memory stays the same whatever
//! the file size. The piece is durable (fsync) before the new offset is
//! recorded, and the offset and the sealed partial chunk are recorded in one
//! statement: a crash at any point leaves either the old state or the new one.
mod feed;
mod threads;

use super::open_proof_key;
use super::upload::UploadState;
use crate::error::Context as _;
use crate::error::{Result, ServiceError};
use crate::{Actor, Services};
use bytes::Bytes;
use chotomoni_crypto::proof_stream::{PayloadKey, ProofKey, CHUNK_SIZE, SEALED_CHUNK_SIZE};
use chotomoni_crypto::SealKey;
use chotomoni_domain::catalog::sealed;
use chotomoni_media::{sniff, MediaType, SNIFF_LEN};
use chotomoni_storage::uploads::{self, UploadRow};
use feed::Next;
use futures::Stream;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::mpsc;
use std::time::Duration;
use threads::{Job, JobError, Piece};
use zeroize::Zeroizing;

/// Plaintext handed from the request to the threads at once (four chunks).
/// The body's frames are copied into blocks as they arrive rather than
/// passed on: a frame kept waiting holds hyper's read buffer, which then
/// allocates another for every read, and with many uploads at once that
/// was most of the server's memory. Handing over 256 KiB at a time rather
/// than each frame also wakes the threads far less often.
const BLOCK: usize = 4 * CHUNK_SIZE;
/// The sealed bytes of one block.
const SEALED_BLOCK: usize = BLOCK / CHUNK_SIZE * SEALED_CHUNK_SIZE;
/// Bytes written between two flushes to the disk while a piece arrives.
/// Left to the fsync at the end, a large piece's writing to the disk only
/// began after its last byte arrived (a quarter of a second per GB here).
const SYNC_EVERY: usize = 64 * 1024 * 1024;

/// How long a running segment waits for the next block before it ends
/// and gives its thread back (see [`Services::receive`]).
const SEGMENT_IDLE: Duration = Duration::from_secs(1);

/// The threads receiving part of a body, and the blocks going to them.
struct Segment {
    blocks: tokio::sync::mpsc::Sender<Vec<u8>>,
    worker: tokio::task::JoinHandle<std::result::Result<Piece, JobError>>,
}

impl Segment {
    /// Lets the threads finish what they were given (durably) and end.
    async fn finish(self) -> Result<Piece> {
        drop(self.blocks);
        self.worker
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?
            .map_err(|e| match e {
                JobError::TooLong => ServiceError::TooLarge(
                    "the body goes past the Upload-Length declared at creation; nothing was stored"
                        .into(),
                ),
                JobError::Io(e) => ServiceError::Failed {
                    context: "writing an upload",
                    source: Box::new(e),
                },
            })
    }
}

/// A checksum the client sent with the piece (tus checksum extension).
#[derive(Debug, Clone)]
pub struct Checksum(pub [u8; 32]);

impl Services {
    /// Appends `body` at `offset`. With a checksum, a piece that does not
    /// match (or did not arrive whole) is not kept; without one, whatever
    /// arrived before a disconnect is kept, as tus expects.
    pub async fn append_upload<S, E>(
        &self,
        actor: &Actor,
        id: &str,
        offset: u64,
        checksum: Option<Checksum>,
        body: S,
    ) -> Result<UploadState>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        let _turn = self.proofs.locks.lock(id).await;
        let (row, keys) = {
            let mut conn = self.db.conn().await?;
            let row = self.upload_row(&mut conn, actor, id).await?;
            if offset != row.upload_offset as u64 {
                return Err(ServiceError::Conflict(format!(
                    "Upload-Offset is {offset}, but the upload has {} bytes",
                    row.upload_offset
                )));
            }
            let ckey = self.customer_key_of(&mut conn, row.customer_id).await?;
            let keys = UploadKeys::open(&ckey, &row)?;
            (row, keys)
        };
        let hasher = self.running_hash(&row, &keys).await?;
        let piece = self
            .receive(&row, &keys, hasher, checksum.is_some(), body)
            .await?;
        if let Some(expected) = &checksum {
            let sent: Option<[u8; 32]> = piece.checksum.clone().map(|c| c.finalize().into());
            if piece.interrupted || sent != Some(expected.0) {
                self.roll_back(&row).await?;
                return Err(ServiceError::ChecksumMismatch);
            }
        }
        let new_offset = offset + piece.received;
        let media = self.check_media(&row, &piece, new_offset).await?;
        let tail_enc = (!piece.tail.is_empty()).then(|| {
            keys.payload
                .tail_key()
                .seal(&sealed::UPLOAD_TAIL.at(&row.id), &piece.tail)
        });
        let advanced = {
            let mut conn = self.db.conn().await?;
            uploads::advance(
                &mut conn,
                &row.id,
                offset as i64,
                new_offset as i64,
                media.map(MediaType::mime),
                tail_enc.as_deref(),
            )
            .await?
        };
        if !advanced {
            self.roll_back(&row).await?;
            return Err(ServiceError::Conflict(
                "another request moved this upload on; ask for its offset again".into(),
            ));
        }
        let mut state = UploadState::of(&row);
        state.offset = new_offset;
        if new_offset == row.length as u64 {
            let media = media.or_else(|| row.media_type.as_deref().and_then(media_of_mime));
            let media = media.ok_or_else(|| {
                ServiceError::Internal("a finished upload has no media type".into())
            })?;
            let sha256: [u8; 32] = piece.hasher.finalize().into();
            state.proof = Some(self.finish_upload(&row, &keys.proof, media, sha256).await?);
        } else {
            self.proofs
                .hashes
                .lock()
                .expect("not poisoned")
                .insert(row.id.clone(), (new_offset, piece.hasher));
        }
        Ok(state)
    }

    /// The SHA-256 of the bytes received so far: from memory when this
    /// server took the previous piece, else by reading back the staging file.
    async fn running_hash(&self, row: &UploadRow, keys: &UploadKeys) -> Result<Sha256> {
        let offset = row.upload_offset as u64;
        let cached = self
            .proofs
            .hashes
            .lock()
            .expect("not poisoned")
            .remove(&row.id);
        if let Some((at, hasher)) = cached {
            if at == offset {
                return Ok(hasher);
            }
        }
        let path = self.proofs.staging_path(&row.id);
        let sealed_bytes = offset - keys.tail.len() as u64;
        let proof = ProofKey::parse(&keys.proof.to_secret()).map_err(|_| ServiceError::Sealed)?;
        let tail = keys.tail.clone();
        blocking(move || {
            let mut hasher = Sha256::new();
            let file = std::fs::File::open(&path)?;
            let mut plain = proof.open(std::io::BufReader::new(file)).map_err(|_| {
                std::io::Error::other("the staging file does not open with its key")
            })?;
            std::io::copy(&mut (&mut plain).take(sealed_bytes), &mut hasher)?;
            hasher.update(&tail[..]);
            Ok(hasher)
        })
        .await
    }

    /// Streams the body into the staging file; returns what arrived.
    ///
    /// The threads run in segments: one starts when a block is full and
    /// ends (its piece made durable, its thread given back) once no further
    /// block comes within [`SEGMENT_IDLE`]. A fast body is one segment, as
    /// before; a trickling one holds no thread while it trickles.
    async fn receive<S, E>(
        &self,
        row: &UploadRow,
        keys: &UploadKeys,
        hasher: Sha256,
        with_checksum: bool,
        body: S,
    ) -> Result<Piece>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        let mut got = Piece {
            received: 0,
            hasher,
            checksum: with_checksum.then(Sha256::new),
            head: vec![],
            tail: keys.tail.clone(),
            interrupted: false,
        };
        // Emptied blocks come back from the hashing thread to be filled
        // again, so an upload holds at most four blocks and two sealed
        // buffers whatever its size.
        let (emptied, spare) = mpsc::channel::<Vec<u8>>();
        let mut feed = feed::Feed::new(body, self.proofs.settings.body_idle_timeout, &row.id);
        let mut segment: Option<Segment> = None;
        loop {
            let wait = segment.as_ref().map(|_| SEGMENT_IDLE);
            match feed.next(wait, spare.try_recv().ok()).await {
                Next::Full(block) => {
                    let running = segment
                        .get_or_insert_with(|| self.start_segment(row, keys, &mut got, &emptied));
                    // A closed channel means the worker stopped on an
                    // error, which joining it reports.
                    if running.blocks.send(block).await.is_err() {
                        got.merge(segment.take().expect("running").finish().await?);
                        break;
                    }
                }
                Next::Quiet => {
                    if let Some(done) = segment.take() {
                        got.merge(done.finish().await?);
                    }
                }
                Next::Ended { rest, interrupted } => {
                    if !rest.is_empty() {
                        let running = segment.get_or_insert_with(|| {
                            self.start_segment(row, keys, &mut got, &emptied)
                        });
                        let _ = running.blocks.send(rest).await;
                    }
                    if let Some(done) = segment.take() {
                        got.merge(done.finish().await?);
                    }
                    got.interrupted = interrupted;
                    break;
                }
            }
        }
        Ok(got)
    }

    /// Starts the threads for the bytes after what `got` holds so far.
    fn start_segment(
        &self,
        row: &UploadRow,
        keys: &UploadKeys,
        got: &mut Piece,
        emptied: &mpsc::Sender<Vec<u8>>,
    ) -> Segment {
        let offset = row.upload_offset as u64 + got.received;
        let (blocks, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(1);
        let job = Job {
            path: self.proofs.staging_path(&row.id),
            sealed_len: sealed_len(row.header.len(), offset),
            payload: keys.payload.clone(),
            length: row.length as u64,
            offset,
            tail: got.tail.to_vec(),
            hasher: std::mem::take(&mut got.hasher),
            checksum: got.checksum.take(),
            emptied: emptied.clone(),
            sealed_buffers: [
                Vec::with_capacity(SEALED_BLOCK),
                Vec::with_capacity(SEALED_BLOCK),
            ],
        };
        Segment {
            blocks,
            worker: tokio::task::spawn_blocking(move || job.run(rx)),
        }
    }

    /// Cuts the staging file back to what the database says was received.
    async fn roll_back(&self, row: &UploadRow) -> Result<()> {
        let path = self.proofs.staging_path(&row.id);
        let len = sealed_len(row.header.len(), row.upload_offset as u64);
        blocking(move || {
            let file = std::fs::OpenOptions::new().write(true).open(&path)?;
            file.set_len(len)?;
            file.sync_all()
        })
        .await
    }

    /// Sniffs the file type once its first bytes are in; anything that is
    /// not a photo or video we accept ends the upload with 415.
    async fn check_media(
        &self,
        row: &UploadRow,
        piece: &Piece,
        new_offset: u64,
    ) -> Result<Option<MediaType>> {
        if row.media_type.is_some()
            || (piece.head.len() < SNIFF_LEN && new_offset < row.length as u64)
        {
            return Ok(None);
        }
        match sniff(&piece.head) {
            Some(media) => Ok(Some(media)),
            None => {
                let mut conn = self.db.conn().await?;
                self.discard_upload(&mut conn, &row.id).await?;
                Err(ServiceError::UnsupportedMedia(
                    "the file is not a photo (JPEG, PNG, WebP) or video (MP4, MOV, WebM); the upload was cancelled".into(),
                ))
            }
        }
    }
}

pub(crate) fn media_of_mime(mime: &str) -> Option<MediaType> {
    use MediaType::*;
    [Jpeg, Png, Webp, Heic, Mp4, QuickTime, Webm]
        .into_iter()
        .find(|m| m.mime() == mime)
}

/// Length of the staging file holding `offset` received bytes: the header
/// and every full chunk (the partial one is kept in the database).
fn sealed_len(header_len: usize, offset: u64) -> u64 {
    header_len as u64 + offset / CHUNK_SIZE as u64 * SEALED_CHUNK_SIZE as u64
}

/// An upload's keys and partial chunk, opened with its customer's key.
pub(crate) struct UploadKeys {
    pub(crate) proof: ProofKey,
    payload: PayloadKey,
    tail: Zeroizing<Vec<u8>>,
}

impl UploadKeys {
    fn open(ckey: &SealKey, row: &UploadRow) -> Result<UploadKeys> {
        let proof = open_proof_key(
            ckey,
            &sealed::UPLOAD_PROOF_KEY.at(&row.id),
            &row.proof_key_enc,
        )?;
        let raw = Zeroizing::new(
            ckey.open(
                &sealed::UPLOAD_PAYLOAD_KEY.at(&row.id),
                &row.payload_key_enc,
            )
            .map_err(|_| ServiceError::Sealed)?,
        );
        let payload = PayloadKey::from_bytes(&raw).map_err(|_| ServiceError::Sealed)?;
        let tail = match &row.tail_enc {
            Some(sealed) => payload
                .tail_key()
                .open(&sealed::UPLOAD_TAIL.at(&row.id), sealed)
                .map_err(|_| ServiceError::Sealed)?,
            None => vec![],
        };
        if tail.len() as u64 != row.upload_offset as u64 % CHUNK_SIZE as u64 {
            return Err(ServiceError::Internal(
                "an upload's partial chunk does not match its offset".into(),
            ));
        }
        Ok(UploadKeys {
            proof,
            payload,
            tail: Zeroizing::new(tail),
        })
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?
        .context("upload staging")
}
