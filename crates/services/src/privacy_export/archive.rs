//! Writing the export's ZIP straight into an encrypted file. The ZIP is
//! written as a stream (sizes and checksums in data descriptors, no seeking
//! back), and the stream goes through [`SealedWriter`], which makes a
//! standard age file under the export's own key chunk by chunk: neither the
//! ZIP nor any proof in it is ever on disk or wholly in memory in clear.
use chotomoni_crypto::proof_stream::{PayloadKey, ProofKey, CHUNK_SIZE, SEALED_CHUNK_SIZE};
use std::io::{self, Write};
use zeroize::Zeroizing;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// An age file (X25519 recipient, ChaCha20-Poly1305 STREAM) written as the
/// plaintext arrives, without knowing its length in advance: a full chunk is
/// sealed only once more bytes follow it, so the last one can be flagged.
pub struct SealedWriter<W: Write> {
    key: PayloadKey,
    out: W,
    chunk: Zeroizing<Vec<u8>>,
    sealed: Zeroizing<Vec<u8>>,
    index: u64,
    plain_len: u64,
    stored_len: u64,
}

impl<W: Write> SealedWriter<W> {
    /// Starts the file: writes the age header for `key`.
    pub fn new(key: &ProofKey, mut out: W) -> io::Result<SealedWriter<W>> {
        let (header, payload) = key.begin();
        out.write_all(&header)?;
        Ok(SealedWriter {
            key: payload,
            out,
            chunk: Zeroizing::new(Vec::with_capacity(CHUNK_SIZE)),
            sealed: Zeroizing::new(Vec::with_capacity(SEALED_CHUNK_SIZE)),
            index: 0,
            plain_len: 0,
            stored_len: header.len() as u64,
        })
    }

    fn seal(&mut self, last: bool) -> io::Result<()> {
        self.sealed.clear();
        self.key
            .seal_chunk(self.index, last, &self.chunk, &mut self.sealed);
        self.out.write_all(&self.sealed)?;
        self.stored_len += self.sealed.len() as u64;
        self.chunk.clear();
        self.index += 1;
        Ok(())
    }

    /// Seals the last chunk; returns the output, the plaintext length and
    /// the stored (encrypted) length.
    pub fn finish(mut self) -> io::Result<(W, u64, u64)> {
        self.seal(true)?;
        self.out.flush()?;
        Ok((self.out, self.plain_len, self.stored_len))
    }
}

impl<W: Write> Write for SealedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut data = buf;
        while !data.is_empty() {
            if self.chunk.len() == CHUNK_SIZE {
                // More follows, so this full chunk is not the last one.
                self.seal(false)?;
            }
            let take = (CHUNK_SIZE - self.chunk.len()).min(data.len());
            self.chunk.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        self.plain_len += buf.len() as u64;
        Ok(buf.len())
    }

    /// Flushes what is sealed; the open chunk waits (sealing it early would
    /// make it a short chunk in the middle of the file).
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

pub type ExportZip<W> = ZipWriter<zip::write::StreamWriter<SealedWriter<W>>>;

/// The extension a proof file gets in the ZIP, from its media type.
pub fn extension(media_type: &str) -> &'static str {
    match media_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/heic" => "heic",
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "video/webm" => "webm",
        _ => "bin",
    }
}

fn timestamp(ms: i64) -> zip::DateTime {
    use chrono::{Datelike, Timelike};
    let offset = chrono::FixedOffset::east_opt(6 * 3600).expect("valid offset");
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&offset))
        .and_then(|t| {
            zip::DateTime::from_date_and_time(
                t.year().clamp(1980, 2107) as u16,
                t.month() as u8,
                t.day() as u8,
                t.hour() as u8,
                t.minute() as u8,
                t.second() as u8,
            )
            .ok()
        })
        .unwrap_or_default()
}

/// Options for an entry: documents are deflated; photos and videos, which
/// are compressed already, are stored as they are.
pub fn options(compress: bool, size_hint: u64, at_ms: i64) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(if compress {
            CompressionMethod::Deflated
        } else {
            CompressionMethod::Stored
        })
        .last_modified_time(timestamp(at_ms))
        .unix_permissions(0o644)
        .large_file(size_hint >= u32::MAX as u64 / 2)
}

pub fn to_io(e: zip::result::ZipError) -> io::Error {
    io::Error::other(e)
}

/// Adds a whole small entry.
pub fn add_bytes<W: Write>(
    zip: &mut ExportZip<W>,
    name: &str,
    bytes: &[u8],
    compress: bool,
    at_ms: i64,
) -> io::Result<()> {
    zip.start_file(name, options(compress, bytes.len() as u64, at_ms))
        .map_err(to_io)?;
    zip.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sealed(plain: &[u8], pieces: usize) -> (ProofKey, Vec<u8>, u64) {
        let key = ProofKey::generate();
        let mut w = SealedWriter::new(&key, Vec::new()).unwrap();
        for part in plain.chunks(pieces.max(1)) {
            w.write_all(part).unwrap();
        }
        let (out, plain_len, stored) = w.finish().unwrap();
        assert_eq!(plain_len, plain.len() as u64);
        assert_eq!(stored, out.len() as u64);
        (key, out, stored)
    }

    #[test]
    fn sealed_files_of_any_length_are_standard_age_files() {
        for len in [
            0,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            3 * CHUNK_SIZE,
        ] {
            for piece in [1000, CHUNK_SIZE, 7 * CHUNK_SIZE] {
                let plain: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
                let (key, file, _) = sealed(&plain, piece);
                let mut back = vec![];
                key.open(&file[..]).unwrap().read_to_end(&mut back).unwrap();
                assert!(back == plain, "length {len}, pieces of {piece}");
                assert!(
                    len < 16 || !file.windows(16).any(|w| w == &plain[..16]),
                    "no plaintext in the file"
                );
            }
        }
    }

    #[test]
    fn a_streamed_zip_through_the_sealed_writer_reads_back() {
        let key = ProofKey::generate();
        let w = SealedWriter::new(&key, Vec::new()).unwrap();
        let mut zip = ZipWriter::new_stream(w);
        add_bytes(&mut zip, "data.json", b"{\"a\":1}", true, 0).unwrap();
        let video: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        zip.start_file("proofs/1.mp4", options(false, video.len() as u64, 0))
            .unwrap();
        for part in video.chunks(10_000) {
            zip.write_all(part).unwrap();
        }
        let (out, _, _) = zip.finish().unwrap().into_inner().finish().unwrap();
        let mut plain = vec![];
        key.open(&out[..]).unwrap().read_to_end(&mut plain).unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(plain)).unwrap();
        let mut back = vec![];
        archive
            .by_name("proofs/1.mp4")
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert!(back == video);
        let mut json = String::new();
        archive
            .by_name("data.json")
            .unwrap()
            .read_to_string(&mut json)
            .unwrap();
        assert_eq!(json, "{\"a\":1}");
    }
}
