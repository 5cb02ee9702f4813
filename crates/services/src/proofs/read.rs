//! Reading a proof back: a seekable reader over the blob store (whole
//! blocks fetched with ranged GETs) under age's checking decryptor, run on a
//! blocking thread and handed out as a stream of plaintext pieces. A changed
//! or damaged blob ends the stream with an error: not one unchecked byte is
//! passed on.
use crate::error::{Result, ServiceError};
use bytes::Bytes;
use chotomoni_crypto::proof_stream::ProofKey;
use chotomoni_storage::blobs::BlobStore;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use tokio::runtime::Handle;

/// Bytes fetched from the store per request. Each reader holds one such
/// buffer, and every finished upload starts two (the inspection): at 1 MiB,
/// sixteen uploads finishing together took the server from about 105 to
/// 140–160 MB. From S3 this means four times the ranged GETs of 1 MiB.
const FETCH: u64 = 256 * 1024;
/// Plaintext bytes per piece handed to the caller.
const PIECE: usize = 64 * 1024;
/// Pieces waiting for a slow reader; bounds memory per reader.
const QUEUED: usize = 4;

/// A blob read as `Read + Seek`, for age's seekable decryptor.
struct BlobReader {
    blobs: BlobStore,
    key: String,
    size: u64,
    pos: u64,
    buffer: Bytes,
    buffer_start: u64,
    runtime: Handle,
}

impl Read for BlobReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.size {
            return Ok(0);
        }
        let end = self.buffer_start + self.buffer.len() as u64;
        if self.pos < self.buffer_start || self.pos >= end {
            let range = self.pos..(self.pos + FETCH).min(self.size);
            self.buffer = self
                .runtime
                .block_on(self.blobs.get_range(&self.key, range))
                .map_err(std::io::Error::other)?;
            self.buffer_start = self.pos;
            if self.buffer.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the stored proof is shorter than recorded",
                ));
            }
        }
        let from = (self.pos - self.buffer_start) as usize;
        let n = out.len().min(self.buffer.len() - from);
        out[..n].copy_from_slice(&self.buffer[from..from + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for BlobReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.pos)
    }
}

/// Plaintext pieces of a proof, ending with an error if the blob is damaged.
pub type PlainStream = futures::stream::BoxStream<'static, std::io::Result<Bytes>>;

/// A range end meaning "to the end of the file" (for posters, whose
/// plaintext length is not recorded).
pub const TO_END: u64 = u64::MAX;

/// Streams plaintext bytes `range` of the age blob at `key` (`stored_size`
/// bytes long). Fails before the first byte if the header does not open
/// with `proof_key`; later damage ends the stream with an error.
pub async fn plaintext(
    blobs: &BlobStore,
    key: &str,
    stored_size: u64,
    proof_key: ProofKey,
    range: Range<u64>,
) -> Result<PlainStream> {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(QUEUED);
    let (opened_tx, opened_rx) = tokio::sync::oneshot::channel::<Result<()>>();
    let source = BlobReader {
        blobs: blobs.clone(),
        key: key.to_owned(),
        size: stored_size,
        pos: 0,
        buffer: Bytes::new(),
        buffer_start: 0,
        runtime: Handle::current(),
    };
    tokio::task::spawn_blocking(move || {
        let mut reader = match proof_key.open(source) {
            Ok(r) => r,
            Err(_) => {
                let _ = opened_tx.send(Err(ServiceError::Tampered(
                    "the stored proof does not open with its key: it was changed or damaged".into(),
                )));
                return;
            }
        };
        if let Err(e) = reader.seek(SeekFrom::Start(range.start)) {
            let _ = opened_tx.send(Err(tampered(e)));
            return;
        }
        let _ = opened_tx.send(Ok(()));
        let mut left = range.end - range.start;
        while left > 0 {
            let mut buf = vec![0u8; PIECE.min(left as usize)];
            match reader.read(&mut buf) {
                Ok(0) if range.end == TO_END => return,
                Ok(0) => {
                    let _ = tx.blocking_send(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the stored proof ended early",
                    )));
                    return;
                }
                Ok(n) => {
                    buf.truncate(n);
                    left -= n as u64;
                    if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                        return; // the reader went away
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "a stored proof failed its check while being read");
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    opened_rx
        .await
        .map_err(|_| ServiceError::Internal("the proof reader stopped".into()))??;
    Ok(Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|piece| (piece, rx))
    })))
}

fn tampered(e: std::io::Error) -> ServiceError {
    ServiceError::Tampered(format!("the stored proof failed its integrity check: {e}"))
}

/// Reads a whole small plaintext (a poster) into memory.
pub async fn read_all(stream: PlainStream) -> Result<Vec<u8>> {
    use futures::TryStreamExt;
    let pieces: Vec<Bytes> = stream.try_collect().await.map_err(tampered)?;
    Ok(pieces.concat())
}
