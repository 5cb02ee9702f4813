//! Keys for personal data. Every customer has their own data key; their
//! personal fields are sealed under it, and the key itself is stored only
//! wrapped by the master key. Destroying the wrapped key makes every copy of
//! their sealed fields unreadable (crypto-shredding). Lookups by phone or
//! email use keyed blind indexes, which reveal nothing without the master key.

pub mod proof_stream;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chotomoni_domain::catalog::SealContext;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("sealed value is malformed or was made with another key")]
    Open,
    #[error("master key must be 32 bytes given as 64 hex characters")]
    MasterKeyFormat,
}

/// The installation's root key. Everything else is derived from it or wrapped by it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        MasterKey(k)
    }

    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let bytes = hex::decode(text.trim()).map_err(|_| CryptoError::MasterKeyFormat)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::MasterKeyFormat)?;
        Ok(MasterKey(arr))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A sub-key for one purpose, so no two uses share key material.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        mac.update(b"chotomoni/v1/");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub fn keyring(&self) -> Keyring {
        Keyring {
            wrap: SealKey(self.derive("wrap")),
            index: self.derive("blind-index"),
            log_seed: self.derive("transparency-log-ed25519"),
            links: self.derive("share-links"),
            unsubscribe: self.derive("unsubscribe-links"),
            jobs: SealKey(self.derive("job-payloads")),
        }
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<secret>)")
    }
}

/// A symmetric key that seals values with XChaCha20-Poly1305.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SealKey([u8; 32]);

impl SealKey {
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        SealKey(k)
    }

    /// Seals `plain`, bound to `context` (a catalog column's value in one
    /// row, for example `customers.phone:42`) so a sealed value moved to
    /// another row or column will not open.
    pub fn seal(&self, context: &SealContext, plain: &[u8]) -> Vec<u8> {
        self.seal_bound(context.as_bytes(), plain)
    }

    pub fn open(&self, context: &SealContext, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.open_bound(context.as_bytes(), sealed)
    }

    pub fn seal_str(&self, context: &SealContext, plain: &str) -> Vec<u8> {
        self.seal(context, plain.as_bytes())
    }

    pub fn open_string(&self, context: &SealContext, sealed: &[u8]) -> Result<String, CryptoError> {
        String::from_utf8(self.open(context, sealed)?).map_err(|_| CryptoError::Open)
    }

    /// The keyring's own uses (wrapped person keys, job payloads), bound to
    /// contexts of their own that no catalog column shares.
    fn seal_bound(&self, context: &[u8], plain: &[u8]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: context,
                },
            )
            .expect("encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    fn open_bound(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(CryptoError::Open);
        }
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        cipher
            .decrypt(
                XNonce::from_slice(&sealed[1..1 + NONCE_LEN]),
                Payload {
                    msg: &sealed[1 + NONCE_LEN..],
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Open)
    }
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(<secret>)")
    }
}

/// The keys a running server needs, derived from the master key.
#[derive(Clone)]
pub struct Keyring {
    wrap: SealKey,
    index: [u8; 32],
    log_seed: [u8; 32],
    links: [u8; 32],
    unsubscribe: [u8; 32],
    jobs: SealKey,
}

impl Keyring {
    /// A new data key for a person, and its wrapped form for storage.
    pub fn new_person_key(&self, person: &str) -> (SealKey, Vec<u8>) {
        let key = SealKey::generate();
        let wrapped = self
            .wrap
            .seal_bound(format!("person-key:{person}").as_bytes(), &key.0);
        (key, wrapped)
    }

    pub fn unwrap_person_key(&self, person: &str, wrapped: &[u8]) -> Result<SealKey, CryptoError> {
        let mut raw = self
            .wrap
            .open_bound(format!("person-key:{person}").as_bytes(), wrapped)?;
        let key: [u8; 32] = raw.as_slice().try_into().map_err(|_| CryptoError::Open)?;
        raw.zeroize();
        Ok(SealKey(key))
    }

    /// Seals what a background job must carry past the person's own key
    /// (the contact an erasure's last message goes to), under a sub-key of
    /// the installation's: no person's key opens it, and it is bound to the job.
    pub fn seal_for_job(&self, job: &str, plain: &[u8]) -> Vec<u8> {
        self.jobs.seal_bound(format!("job:{job}").as_bytes(), plain)
    }

    pub fn open_for_job(&self, job: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.jobs
            .open_bound(format!("job:{job}").as_bytes(), sealed)
    }

    /// The seed of the Ed25519 key that signs the proof log's tree heads:
    /// derived, so the published key stays the same across restarts and
    /// servers without another secret to keep.
    pub fn log_seed(&self) -> [u8; 32] {
        self.log_seed
    }

    /// A MAC over a share link's token body: links cannot be forged or
    /// altered without the master key.
    pub fn link_mac(&self, body: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.links).expect("any key length");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// A MAC over a marketing unsubscribe token's body (customer and
    /// channel): links in marketing emails cannot be forged or pointed at
    /// someone else without the master key. Its own sub-key, so no share
    /// link MAC is ever a valid unsubscribe MAC.
    pub fn unsubscribe_mac(&self, body: &[u8]) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.unsubscribe).expect("any key length");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// Keyed fingerprint of a normalised value (`phone`, `+8801712345678`).
    /// Equal inputs give equal indexes; without the master key it says nothing.
    pub fn blind_index(&self, kind: &str, normalised: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index).expect("any key length");
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        mac.finalize().into_bytes()[..16].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_context() {
        use chotomoni_domain::catalog::sealed::{CUSTOMER_NAME, CUSTOMER_PHONE};
        let k = SealKey::generate();
        let sealed = k.seal_str(&CUSTOMER_NAME.at(1), "Rahima Begum");
        assert_eq!(
            k.open_string(&CUSTOMER_NAME.at(1), &sealed).unwrap(),
            "Rahima Begum"
        );
        assert_eq!(
            k.open(&CUSTOMER_NAME.at(2), &sealed),
            Err(CryptoError::Open)
        );
        assert_eq!(
            k.open(&CUSTOMER_PHONE.at(1), &sealed),
            Err(CryptoError::Open)
        );
        assert_eq!(
            SealKey::generate().open(&CUSTOMER_NAME.at(1), &sealed),
            Err(CryptoError::Open)
        );
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(
            k.open(&CUSTOMER_NAME.at(1), &tampered),
            Err(CryptoError::Open)
        );
        assert!(!sealed.windows(6).any(|w| w == b"Rahima"));
    }

    #[test]
    fn person_keys_wrap_and_unwrap() {
        let ring = MasterKey::generate().keyring();
        let (key, wrapped) = ring.new_person_key("7");
        let context = chotomoni_domain::catalog::sealed::CUSTOMER_NAME.at(7);
        let sealed = key.seal_str(&context, "hello");
        let again = ring.unwrap_person_key("7", &wrapped).unwrap();
        assert_eq!(again.open_string(&context, &sealed).unwrap(), "hello");
        assert!(ring.unwrap_person_key("8", &wrapped).is_err());
        assert!(MasterKey::generate()
            .keyring()
            .unwrap_person_key("7", &wrapped)
            .is_err());
    }

    #[test]
    fn blind_indexes_are_stable_and_keyed() {
        let master = MasterKey::generate();
        let a = master.keyring().blind_index("phone", "+8801712345678");
        assert_eq!(a, master.keyring().blind_index("phone", "+8801712345678"));
        assert_ne!(a, master.keyring().blind_index("email", "+8801712345678"));
        assert_ne!(
            a,
            MasterKey::generate()
                .keyring()
                .blind_index("phone", "+8801712345678")
        );
    }

    #[test]
    fn master_key_hex() {
        let m = MasterKey::generate();
        assert_eq!(
            MasterKey::from_hex(&m.to_hex()).unwrap().to_hex(),
            m.to_hex()
        );
        assert!(MasterKey::from_hex("abcd").is_err());
        assert_eq!(format!("{m:?}"), "MasterKey(<secret>)");
    }
}
