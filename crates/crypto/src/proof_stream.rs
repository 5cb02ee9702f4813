//! Proof files are age v1 files (age-encryption.org/v1) encrypted to a
//! per-proof X25519 key, so any age implementation can read them with that
//! key. Uploads arrive in pieces over many requests, across restarts and
//! servers, so the payload is written here chunk by chunk: the age header
//! comes from the `age` crate (which hands us the file key through
//! [`CapturingRecipient`]), and each 64 KiB chunk is sealed exactly as age's
//! STREAM construction does (ChaCha20-Poly1305, nonce = 11-byte big-endian
//! counter and a last-chunk flag). Reading goes back through the `age` crate,
//! which checks every chunk before returning a byte of it.

use crate::{CryptoError, SealKey};
use age::secrecy::ExposeSecret;
use age_core::format::{FileKey, Stanza};
use hkdf::Hkdf;
use sha2::Sha256;
use std::collections::HashSet;
use std::io::{Read, Write};
use std::sync::Mutex;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Plaintext bytes per age STREAM chunk.
pub const CHUNK_SIZE: usize = 64 * 1024;
/// Ciphertext bytes per full chunk (plaintext plus the Poly1305 tag).
pub const SEALED_CHUNK_SIZE: usize = CHUNK_SIZE + 16;
const AGE_NONCE_LEN: usize = 16;

/// The key of one proof file (an age X25519 identity). Stored only sealed
/// under the key of the order's customer.
pub struct ProofKey(age::x25519::Identity);

impl ProofKey {
    pub fn generate() -> ProofKey {
        ProofKey(age::x25519::Identity::generate())
    }

    /// The identity in age's text form (`AGE-SECRET-KEY-1…`), to be sealed.
    pub fn to_secret(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.to_string().expose_secret().to_owned())
    }

    pub fn parse(secret: &str) -> Result<ProofKey, CryptoError> {
        secret.parse().map(ProofKey).map_err(|_| CryptoError::Open)
    }

    /// Starts a new file: the age header (with the payload nonce after it),
    /// and the key its chunks are sealed with.
    pub fn begin(&self) -> (Vec<u8>, PayloadKey) {
        let recipient = CapturingRecipient {
            inner: self.0.to_public(),
            captured: Mutex::new(None),
        };
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .expect("one X25519 recipient is always valid");
        let mut header = Vec::with_capacity(256);
        // The writer is dropped unfinished on purpose: only the header and
        // nonce it writes at creation are wanted; the chunks are ours.
        drop(
            encryptor
                .wrap_output(&mut header)
                .expect("writing to memory cannot fail"),
        );
        let file_key = recipient
            .captured
            .lock()
            .expect("not poisoned")
            .take()
            .expect("age wrapped the file key");
        let nonce = &header[header.len() - AGE_NONCE_LEN..];
        (header.clone(), PayloadKey::derive(&file_key, nonce))
    }

    /// A whole small file (a poster frame, a cleaned photo) in one go.
    pub fn encrypt_all(&self, plain: &[u8]) -> Vec<u8> {
        let (mut out, key) = self.begin();
        let mut chunks = plain.chunks(CHUNK_SIZE).peekable();
        let mut index = 0;
        if chunks.peek().is_none() {
            key.seal_chunk(0, true, &[], &mut out);
        }
        while let Some(chunk) = chunks.next() {
            key.seal_chunk(index, chunks.peek().is_none(), chunk, &mut out);
            index += 1;
        }
        out
    }

    /// A reader of the plaintext; it fails (never returns unchecked bytes)
    /// on a changed, truncated or foreign file. Seekable when `input` is.
    pub fn open<R: Read>(&self, input: R) -> Result<age::stream::StreamReader<R>, CryptoError> {
        age::Decryptor::new(input)
            .and_then(|d| d.decrypt(std::iter::once(&self.0 as &dyn age::Identity)))
            .map_err(|_| CryptoError::Open)
    }
}

impl std::fmt::Debug for ProofKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProofKey(<secret>)")
    }
}

/// An X25519 recipient that also keeps the file key it wraps, so the payload
/// can be written by [`PayloadKey`] instead of age's one-shot writer.
struct CapturingRecipient {
    inner: age::x25519::Recipient,
    captured: Mutex<Option<Zeroizing<[u8; 16]>>>,
}

impl age::Recipient for CapturingRecipient {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), age::EncryptError> {
        *self.captured.lock().expect("not poisoned") =
            Some(Zeroizing::new(*file_key.expose_secret()));
        self.inner.wrap_file_key(file_key)
    }
}

/// The key age derives from the file key and nonce for the payload chunks.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PayloadKey([u8; 32]);

impl PayloadKey {
    fn derive(file_key: &[u8; 16], nonce: &[u8]) -> PayloadKey {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(Some(nonce), file_key)
            .expand(b"payload", &mut key)
            .expect("32 bytes is a valid HKDF length");
        PayloadKey(key)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<PayloadKey, CryptoError> {
        bytes
            .try_into()
            .map(PayloadKey)
            .map_err(|_| CryptoError::Open)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Appends chunk number `index` to `out`, sealed; `last` marks the final
    /// chunk, which age requires to be flagged (and only it).
    pub fn seal_chunk(&self, index: u64, last: bool, plain: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(plain);
        let tag = self.seal_in_place(index, last, &mut out[start..]);
        out.extend_from_slice(&tag);
    }

    /// Encrypts chunk number `index` where it lies and returns its tag.
    /// ring's ChaCha20-Poly1305 (the same cipher age specifies) seals about
    /// twice as fast as the RustCrypto one on this hardware, and sealing is
    /// the largest share of a proof upload's CPU time; `age` still reads it.
    fn seal_in_place(&self, index: u64, last: bool, chunk: &mut [u8]) -> [u8; 16] {
        use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305};
        assert!(chunk.len() <= CHUNK_SIZE, "a chunk holds at most 64 KiB");
        let key =
            LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &self.0).expect("a 32-byte key"));
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(chunk_nonce(index, last)),
                Aad::empty(),
                chunk,
            )
            .expect("a chunk is far below ChaCha20's limit");
        tag.as_ref().try_into().expect("a 16-byte tag")
    }

    /// The key an unfinished upload's last partial chunk is kept under
    /// between requests. It is not the payload key: sealing a growing partial
    /// chunk under the payload key would reuse that chunk's nonce.
    pub fn tail_key(&self) -> SealKey {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(None, &self.0)
            .expand(b"chotomoni upload tail", &mut key)
            .expect("32 bytes is a valid HKDF length");
        SealKey(key)
    }
}

fn chunk_nonce(index: u64, last: bool) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[3..11].copy_from_slice(&index.to_be_bytes());
    nonce[11] = u8::from(last);
    nonce
}

/// Writes sealed chunks to `out` as plaintext arrives: the piece of an
/// upload one request carries. Full chunks are sealed at once; the partial
/// chunk at the end stays in [`ChunkWriter::tail`] until more arrives or
/// the file is complete.
pub struct ChunkWriter<'k, W: Write> {
    key: &'k PayloadKey,
    out: W,
    next_index: u64,
    last_index: u64,
    tail: Zeroizing<Vec<u8>>,
}

impl<'k, W: Write> ChunkWriter<'k, W> {
    /// Continues a file of `total` plaintext bytes of which `offset` have
    /// been received: `offset / CHUNK_SIZE` chunks are already sealed and
    /// `tail` holds the rest.
    pub fn resume(key: &'k PayloadKey, out: W, total: u64, offset: u64, tail: Vec<u8>) -> Self {
        debug_assert_eq!(tail.len() as u64, offset % CHUNK_SIZE as u64);
        let last_index = total.saturating_sub(1) / CHUNK_SIZE as u64;
        let mut tail = tail;
        // Room for a whole chunk at once: growing would leave copies of the
        // plaintext behind that the zeroizing wrapper never sees.
        tail.reserve_exact(CHUNK_SIZE - tail.len());
        ChunkWriter {
            key,
            out,
            next_index: offset / CHUNK_SIZE as u64,
            last_index,
            tail: Zeroizing::new(tail),
        }
    }

    pub fn write(&mut self, mut data: &[u8]) -> std::io::Result<()> {
        while !data.is_empty() {
            let take = (CHUNK_SIZE - self.tail.len()).min(data.len());
            self.tail.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.tail.len() == CHUNK_SIZE {
                self.flush_chunk()?;
            }
        }
        Ok(())
    }

    /// Seals the final, partial chunk: call once every byte has arrived.
    pub fn finish(mut self) -> std::io::Result<W> {
        if !self.tail.is_empty() || self.next_index == 0 {
            self.flush_chunk()?;
        }
        Ok(self.out)
    }

    /// Seals the chunk in [`ChunkWriter::tail`] where it lies: its plaintext
    /// is not needed once sealed, and not copying it again matters at the
    /// hundreds of MB/s an upload arrives at. After an error the writer must
    /// be dropped, as the tail may then hold ciphertext.
    fn flush_chunk(&mut self) -> std::io::Result<()> {
        let last = self.next_index == self.last_index;
        let tag = self
            .key
            .seal_in_place(self.next_index, last, &mut self.tail);
        self.out.write_all(&self.tail)?;
        self.out.write_all(&tag)?;
        self.tail.clear();
        self.next_index += 1;
        Ok(())
    }

    /// Stops before the end of the file: returns the output and the partial
    /// chunk, which the caller keeps (sealed) until more bytes arrive.
    pub fn pause(self) -> (W, Zeroizing<Vec<u8>>) {
        (self.out, self.tail)
    }

    /// The output, to add to it between writes (as `BufWriter::get_mut`).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// The received bytes not yet sealed into a full chunk.
    pub fn tail(&self) -> &[u8] {
        &self.tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom};

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    fn decrypt(key: &ProofKey, file: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut plain = vec![];
        key.open(file)
            .expect("header opens")
            .read_to_end(&mut plain)?;
        Ok(plain)
    }

    /// Writes `plain` in pieces of the given sizes, persisting and resuming
    /// the tail between pieces as an upload does between requests.
    fn write_in_pieces(key: &ProofKey, plain: &[u8], pieces: &[usize]) -> Vec<u8> {
        let (mut file, payload) = key.begin();
        let (mut offset, mut tail) = (0usize, vec![]);
        for &n in pieces {
            let mut w =
                ChunkWriter::resume(&payload, &mut file, plain.len() as u64, offset as u64, tail);
            w.write(&plain[offset..offset + n]).unwrap();
            offset += n;
            tail = w.tail().to_vec();
            if offset == plain.len() {
                w.finish().unwrap();
            }
        }
        file
    }

    #[test]
    fn files_written_in_pieces_are_standard_age_files() {
        let key = ProofKey::generate();
        for (len, pieces) in [
            (1, vec![1]),
            (CHUNK_SIZE, vec![CHUNK_SIZE]),
            (CHUNK_SIZE, vec![10, CHUNK_SIZE - 10]),
            (
                3 * CHUNK_SIZE + 5,
                vec![CHUNK_SIZE + 7, 1, 2 * CHUNK_SIZE - 3],
            ),
            (2 * CHUNK_SIZE, vec![CHUNK_SIZE - 1, 1, CHUNK_SIZE]),
        ] {
            let plain = sample(len);
            let file = write_in_pieces(&key, &plain, &pieces);
            assert_eq!(
                decrypt(&key, &file).unwrap(),
                plain,
                "length {len}, pieces {pieces:?}"
            );
        }
    }

    #[test]
    fn whole_files_round_trip_and_seek() {
        let key = ProofKey::generate();
        let plain = sample(5 * CHUNK_SIZE + 123);
        let file = key.encrypt_all(&plain);
        assert_eq!(decrypt(&key, &file).unwrap(), plain);
        let mut reader = key.open(std::io::Cursor::new(&file)).unwrap();
        reader
            .seek(SeekFrom::Start(3 * CHUNK_SIZE as u64 + 17))
            .unwrap();
        let mut buf = [0u8; 100];
        reader.read_exact(&mut buf).unwrap();
        assert_eq!(&buf[..], &plain[3 * CHUNK_SIZE + 17..3 * CHUNK_SIZE + 117]);
        assert_eq!(
            decrypt(&key, &key.encrypt_all(&[])).unwrap(),
            Vec::<u8>::new()
        );
    }

    #[test]
    fn a_changed_byte_or_a_missing_chunk_is_an_error_not_data() {
        let key = ProofKey::generate();
        let plain = sample(2 * CHUNK_SIZE + 9);
        let file = key.encrypt_all(&plain);
        let mut changed = file.clone();
        let at = changed.len() - 20;
        changed[at] ^= 1;
        assert!(decrypt(&key, &changed).is_err());
        let truncated = &file[..file.len() - (plain.len() - 2 * CHUNK_SIZE) - 16];
        assert!(
            decrypt(&key, truncated).is_err(),
            "a file cut at a chunk boundary must not pass"
        );
        assert!(
            ProofKey::generate().open(&file[..]).is_err(),
            "another key does not open it"
        );
    }

    #[test]
    fn keys_survive_their_text_form() {
        let key = ProofKey::generate();
        let again = ProofKey::parse(&key.to_secret()).unwrap();
        assert_eq!(
            decrypt(&again, &key.encrypt_all(b"proof")).unwrap(),
            b"proof"
        );
        let (_, payload) = key.begin();
        let copy = PayloadKey::from_bytes(payload.as_bytes()).unwrap();
        let context = chotomoni_domain::catalog::sealed::UPLOAD_TAIL.at("x");
        let sealed = payload.tail_key().seal(&context, b"abc");
        assert_eq!(copy.tail_key().open(&context, &sealed).unwrap(), b"abc");
        assert!(ProofKey::parse("not a key").is_err());
    }
}
