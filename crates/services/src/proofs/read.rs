//! Reading a proof back: a seekable reader over the blob store (whole
//! blocks fetched with ranged GETs) under age's checking decryptor, stepped
//! on a blocking thread one piece at a time as the consumer asks, and
//! handed out as a stream of plaintext pieces. A changed
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
/// Plaintext bytes per piece handed to the caller: one fetch's worth, so a
/// step on a blocking thread costs at most one ranged GET.
const PIECE: usize = FETCH as usize;

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
                .blobs
                .get_range_blocking(&self.key, range, &self.runtime)
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
///
/// Each piece is fetched and decrypted on a blocking thread only when the
/// consumer asks for it, and the thread is given back in between: a reader
/// that stops reading (a slow phone, a share link left open) holds the
/// decryptor's state and one piece of memory, never a thread. Holding one
/// thread per reader let a few hundred idle downloads exhaust the blocking
/// pool that sign-in's password hashing and every other read share.
pub async fn plaintext(
    blobs: &BlobStore,
    key: &str,
    stored_size: u64,
    proof_key: ProofKey,
    range: Range<u64>,
) -> Result<PlainStream> {
    let source = BlobReader {
        blobs: blobs.clone(),
        key: key.to_owned(),
        size: stored_size,
        pos: 0,
        buffer: Bytes::new(),
        buffer_start: 0,
        runtime: Handle::current(),
    };
    let reader = tokio::task::spawn_blocking(move || {
        let mut reader = proof_key.open(source).map_err(|_| {
            ServiceError::Tampered(
                "the stored proof does not open with its key: it was changed or damaged".into(),
            )
        })?;
        reader
            .seek(SeekFrom::Start(range.start))
            .map_err(tampered)?;
        Ok::<_, ServiceError>(reader)
    })
    .await
    .map_err(|_| ServiceError::Internal("the proof reader stopped".into()))??;
    let left = range.end - range.start;
    let to_end = range.end == TO_END;
    Ok(Box::pin(futures::stream::unfold(
        Some((reader, left)),
        move |state| async move {
            let (reader, left) = state?;
            if left == 0 {
                return None;
            }
            let step = tokio::task::spawn_blocking(move || next_piece(reader, left, to_end)).await;
            match step {
                Ok(Ok(None)) => None,
                Ok(Ok(Some((piece, reader)))) => {
                    let left = left - piece.len() as u64;
                    Some((Ok(piece), Some((reader, left))))
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "a stored proof failed its check while being read");
                    Some((Err(e), None))
                }
                Err(e) => Some((Err(std::io::Error::other(e)), None)),
            }
        },
    )))
}

/// Reads the next piece (at most [`PIECE`] bytes, and at most `left`);
/// `None` at the end of a [`TO_END`] range.
fn next_piece<R: Read>(
    mut reader: R,
    left: u64,
    to_end: bool,
) -> std::io::Result<Option<(Bytes, R)>> {
    let mut buf = vec![0u8; PIECE.min(usize::try_from(left).unwrap_or(usize::MAX))];
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    if filled == 0 {
        return if to_end {
            Ok(None)
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the stored proof ended early",
            ))
        };
    }
    buf.truncate(filled);
    Ok(Some((Bytes::from(buf), reader)))
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
