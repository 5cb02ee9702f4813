//! Receiving a piece of an upload (a tus PATCH). The body is copied into
//! blocks that pass through bounded channels to two threads, one sealing
//! them and one hashing and writing them, so memory stays the same whatever
//! the file size. The piece is durable (fsync) before the new offset is
//! recorded, and the offset and the sealed partial chunk are recorded in one
//! statement: a crash at any point leaves either the old state or the new one.
use super::open_proof_key;
use super::upload::{ctx, UploadState};
use crate::error::{Result, ServiceError};
use crate::{Actor, Services};
use bytes::Bytes;
use chotomoni_crypto::proof_stream::{
    ChunkWriter, PayloadKey, ProofKey, CHUNK_SIZE, SEALED_CHUNK_SIZE,
};
use chotomoni_crypto::SealKey;
use chotomoni_media::{sniff, MediaType, SNIFF_LEN};
use chotomoni_storage::uploads::{self, UploadRow};
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::mpsc;
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
            if piece.interrupted || piece.checksum != Some(expected.0) {
                self.roll_back(&row).await?;
                return Err(ServiceError::ChecksumMismatch);
            }
        }
        let new_offset = offset + piece.received;
        let media = self.check_media(&row, &piece, new_offset).await?;
        let tail_enc = (!piece.tail.is_empty()).then(|| {
            keys.payload
                .tail_key()
                .seal(&ctx("tail", &row.id), &piece.tail)
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
    async fn receive<S, E>(
        &self,
        row: &UploadRow,
        keys: &UploadKeys,
        hasher: Sha256,
        with_checksum: bool,
        mut body: S,
    ) -> Result<Piece>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        // One block waiting for the sealing thread; emptied blocks come back
        // from the hashing thread to be filled again, so an upload holds at
        // most four blocks and two sealed buffers, all allocated here.
        let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(1);
        let (emptied, spare) = mpsc::channel::<Vec<u8>>();
        let job = Job {
            path: self.proofs.staging_path(&row.id),
            sealed_len: sealed_len(row.header.len(), row.upload_offset as u64),
            payload: keys.payload.clone(),
            length: row.length as u64,
            offset: row.upload_offset as u64,
            tail: keys.tail.to_vec(),
            hasher,
            checksum: with_checksum.then(Sha256::new),
            emptied,
            sealed_buffers: [
                Vec::with_capacity(SEALED_BLOCK),
                Vec::with_capacity(SEALED_BLOCK),
            ],
        };
        let worker = tokio::task::spawn_blocking(move || job.run(rx));
        let mut interrupted = false;
        let mut block = Vec::with_capacity(BLOCK);
        'body: while let Some(frame) = body.next().await {
            match frame {
                Ok(bytes) => {
                    let mut data = &bytes[..];
                    while !data.is_empty() {
                        let take = (BLOCK - block.len()).min(data.len());
                        block.extend_from_slice(&data[..take]);
                        data = &data[take..];
                        if block.len() == BLOCK {
                            let next = spare
                                .try_recv()
                                .unwrap_or_else(|_| Vec::with_capacity(BLOCK));
                            // A closed channel means the worker stopped on
                            // an error, which joining it reports.
                            if tx.send(std::mem::replace(&mut block, next)).await.is_err() {
                                break 'body;
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::info!(upload = %row.id, error = %e, "upload body ended early; keeping what arrived");
                    interrupted = true;
                    break;
                }
            }
        }
        if !block.is_empty() {
            let _ = tx.send(block).await;
        }
        drop(tx);
        let mut piece = worker
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?
            .map_err(|e| match e {
                JobError::TooLong => ServiceError::TooLarge(
                    "the body goes past the Upload-Length declared at creation; nothing was stored"
                        .into(),
                ),
                JobError::Io(e) => ServiceError::Internal(format!("writing an upload: {e}")),
            })?;
        piece.interrupted = interrupted;
        Ok(piece)
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
        let proof = open_proof_key(ckey, &ctx("proof_key", &row.id), &row.proof_key_enc)?;
        let raw = Zeroizing::new(
            ckey.open(&ctx("payload_key", &row.id), &row.payload_key_enc)
                .map_err(|_| ServiceError::Sealed)?,
        );
        let payload = PayloadKey::from_bytes(&raw).map_err(|_| ServiceError::Sealed)?;
        let tail = match &row.tail_enc {
            Some(sealed) => payload
                .tail_key()
                .open(&ctx("tail", &row.id), sealed)
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

/// What one request delivered.
struct Piece {
    received: u64,
    hasher: Sha256,
    /// The SHA-256 of this piece alone, when the client sent one to compare.
    checksum: Option<[u8; 32]>,
    /// The file's first bytes (up to [`SNIFF_LEN`]), for sniffing.
    head: Vec<u8>,
    tail: Zeroizing<Vec<u8>>,
    interrupted: bool,
}

struct Job {
    path: PathBuf,
    sealed_len: u64,
    payload: PayloadKey,
    length: u64,
    offset: u64,
    tail: Vec<u8>,
    hasher: Sha256,
    checksum: Option<Sha256>,
    /// Where blocks go back to the request once hashed.
    emptied: mpsc::Sender<Vec<u8>>,
    /// One for the block being sealed, one for the block being written.
    sealed_buffers: [Vec<u8>; 2],
}

enum JobError {
    TooLong,
    Io(std::io::Error),
}

impl From<std::io::Error> for JobError {
    fn from(e: std::io::Error) -> Self {
        JobError::Io(e)
    }
}

/// What the sealing thread made of the blocks.
struct Sealed {
    received: u64,
    head: Vec<u8>,
    tail: Zeroizing<Vec<u8>>,
}

impl Job {
    /// Sealing costs about as much as hashing and writing (into the page
    /// cache) together, and one thread doing all three was slower than the
    /// disk. So this thread seals each block, and a scoped thread hashes it
    /// and writes its sealed bytes; handing over waits until that thread is
    /// free, which keeps the order and bounds memory. A third thread flushes
    /// what was written every [`SYNC_EVERY`] bytes, so the disk works while
    /// the rest arrives instead of after.
    fn run(
        self,
        blocks: tokio::sync::mpsc::Receiver<Vec<u8>>,
    ) -> std::result::Result<Piece, JobError> {
        let Job {
            path,
            sealed_len,
            payload,
            length,
            offset,
            tail,
            hasher,
            checksum,
            emptied,
            sealed_buffers: [first, second],
        } = self;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)?;
        // Bytes past what the database acknowledged are from a piece that
        // never completed (a crash, a rejected checksum): drop them.
        file.set_len(sealed_len)?;
        file.seek(SeekFrom::End(0))?;
        let (to_writer, sealed_blocks) = mpsc::sync_channel::<SealedBlock>(0);
        let (spare_tx, spare) = mpsc::channel::<Vec<u8>>();
        spare_tx.send(second).expect("the receiver is here");
        // At most one flush asked for while one runs.
        let (to_syncer, flushes) = mpsc::sync_channel::<()>(1);
        let (sealed, hashed, synced) = std::thread::scope(|scope| {
            let syncing = {
                let file = &file;
                scope.spawn(move || flushes.iter().try_for_each(|()| file.sync_data()))
            };
            let hashing = scope.spawn(|| {
                HashAndWrite {
                    file: &file,
                    hasher,
                    checksum,
                    to_syncer,
                    unsynced: 0,
                }
                .run(sealed_blocks, emptied, spare_tx)
            });
            let out = Sealing {
                blocks,
                to_writer,
                spare,
            };
            let sealed = out.run(first, &payload, length, offset, tail);
            // Sealing dropped its sender, so the other threads are ending.
            let hashed = hashing.join().expect("hashing and writing do not panic");
            let synced = syncing.join().expect("syncing does not panic");
            (sealed, hashed, synced)
        });
        // A failed write stops the sealing too; report the write's error.
        // A failed flush must be reported too: Linux reports a write-back
        // error to each open file once, so the fsync below would not.
        synced?;
        let (hasher, checksum) = hashed?;
        let sealed = sealed?;
        file.sync_data()?;
        Ok(Piece {
            received: sealed.received,
            hasher,
            checksum: checksum.map(|c| c.finalize().into()),
            head: sealed.head,
            tail: sealed.tail,
            interrupted: false,
        })
    }
}

/// A block of plaintext and the sealed bytes made of it (give or take the
/// chunk in progress).
struct SealedBlock {
    plain: Vec<u8>,
    sealed: Vec<u8>,
}

/// The sealing thread. Sealed bytes go into a buffer that is handed on
/// with each block; the buffer written before comes back through `spare`.
struct Sealing {
    blocks: tokio::sync::mpsc::Receiver<Vec<u8>>,
    to_writer: mpsc::SyncSender<SealedBlock>,
    spare: mpsc::Receiver<Vec<u8>>,
}

impl Sealing {
    fn run(
        mut self,
        out: Vec<u8>,
        payload: &PayloadKey,
        length: u64,
        offset: u64,
        tail: Vec<u8>,
    ) -> std::result::Result<Sealed, JobError> {
        let mut head = if offset < SNIFF_LEN as u64 {
            tail.clone()
        } else {
            vec![]
        };
        let mut writer = ChunkWriter::resume(payload, out, length, offset, tail);
        let mut received = 0u64;
        while let Some(plain) = self.blocks.blocking_recv() {
            if offset + received + plain.len() as u64 > length {
                return Err(JobError::TooLong);
            }
            if head.len() < SNIFF_LEN {
                let take = (SNIFF_LEN - head.len()).min(plain.len());
                head.extend_from_slice(&plain[..take]);
            }
            received += plain.len() as u64;
            writer.write(&plain)?;
            let next = self.spare.recv().map_err(|_| stopped())?;
            let sealed = std::mem::replace(writer.get_mut(), next);
            self.hand_on(plain, sealed)?;
        }
        let (sealed, tail) = if offset + received == length {
            (writer.finish()?, Zeroizing::new(vec![]))
        } else {
            writer.pause()
        };
        if !sealed.is_empty() {
            self.hand_on(vec![], sealed)?;
        }
        Ok(Sealed {
            received,
            head,
            tail,
        })
    }

    fn hand_on(&self, plain: Vec<u8>, sealed: Vec<u8>) -> std::io::Result<()> {
        self.to_writer
            .send(SealedBlock { plain, sealed })
            .map_err(|_| stopped())
    }
}

/// The hashing and writing thread stops early only on an error, which it
/// reports.
fn stopped() -> std::io::Error {
    std::io::Error::other("the upload's writing thread stopped")
}

/// The hashing and writing thread.
struct HashAndWrite<'f> {
    file: &'f std::fs::File,
    hasher: Sha256,
    checksum: Option<Sha256>,
    /// Asks the syncing thread to flush what was written so far.
    to_syncer: mpsc::SyncSender<()>,
    unsynced: usize,
}

impl HashAndWrite<'_> {
    fn run(
        mut self,
        blocks: mpsc::Receiver<SealedBlock>,
        emptied: mpsc::Sender<Vec<u8>>,
        spare: mpsc::Sender<Vec<u8>>,
    ) -> std::io::Result<(Sha256, Option<Sha256>)> {
        for SealedBlock {
            mut plain,
            mut sealed,
        } in blocks
        {
            self.hasher.update(&plain);
            if let Some(checksum) = &mut self.checksum {
                checksum.update(&plain);
            }
            self.file.write_all(&sealed)?;
            self.unsynced += sealed.len();
            if self.unsynced >= SYNC_EVERY {
                // Full: a flush is already waiting, and will cover this too.
                let _ = self.to_syncer.try_send(());
                self.unsynced = 0;
            }
            // The receivers are gone once the body or the sealing ended;
            // the buffers are then freed.
            plain.clear();
            let _ = emptied.send(plain);
            sealed.clear();
            let _ = spare.send(sealed);
        }
        Ok((self.hasher, self.checksum))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?
        .map_err(|e| ServiceError::Internal(format!("upload staging: {e}")))
}
