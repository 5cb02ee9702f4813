//! Ed25519 keys for C2SP signed notes, in the text forms used by
//! golang.org/x/mod/sumdb/note.

use std::fmt;
use std::str::FromStr;

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Signature type byte for Ed25519 in the signed-note registry; it is mixed
/// into the key ID so one key used with two algorithms gets two IDs.
const ED25519_TYPE: u8 = 0x01;

/// Why a key name or verifier key string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    #[error("key name {0:?} is invalid: it must be non-empty and contain no spaces, control characters or '+'")]
    InvalidName(String),
    #[error("the verifier key is malformed: {0}")]
    MalformedVerifierKey(&'static str),
}

/// Key names appear in signature lines and verifier key strings, which use
/// spaces and '+' as separators.
pub(crate) fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '+')
}

fn check_key_name(name: &str) -> Result<(), KeyError> {
    if is_valid_key_name(name) {
        Ok(())
    } else {
        Err(KeyError::InvalidName(name.to_owned()))
    }
}

/// `SHA-256(name || "\n" || 0x01 || public key)[:4]`, big-endian.
fn key_id(name: &str, public_key: &VerifyingKey) -> u32 {
    let digest = Sha256::new()
        .chain_update(name)
        .chain_update(b"\n")
        .chain_update([ED25519_TYPE])
        .chain_update(public_key.as_bytes())
        .finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A named Ed25519 key that signs notes (tree heads).
#[derive(Clone)]
pub struct SigningKey {
    name: String,
    key: ed25519_dalek::SigningKey,
}

impl SigningKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate(name: &str) -> Result<SigningKey, KeyError> {
        let mut seed = [0u8; 32];
        OsRng.fill_bytes(&mut seed);
        SigningKey::from_seed(name, seed)
    }

    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<SigningKey, KeyError> {
        check_key_name(name)?;
        Ok(SigningKey {
            name: name.to_owned(),
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
        })
    }

    /// The 32-byte secret seed, for storing the key.
    pub fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn verifier(&self) -> VerifierKey {
        VerifierKey::new(&self.name, self.key.verifying_key())
    }

    /// `<name>+<key id hex>+<base64(0x01 || public key)>`, the form to publish.
    pub fn verifier_key(&self) -> String {
        self.verifier().to_string()
    }

    pub(crate) fn key_id(&self) -> u32 {
        key_id(&self.name, &self.key.verifying_key())
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl fmt::Debug for SigningKey {
    /// Names the key without revealing the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.verifier().label())
    }
}

/// A named Ed25519 public key that checks note signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl VerifierKey {
    fn new(name: &str, key: VerifyingKey) -> VerifierKey {
        VerifierKey {
            name: name.to_owned(),
            id: key_id(name, &key),
            key,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// `<name>+<key id hex>`: enough to tell keys apart in messages.
    pub fn label(&self) -> String {
        format!("{}+{:08x}", self.name, self.id)
    }

    /// Strict verification, so a signature has exactly one valid encoding.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::from_slice(signature)
            .is_ok_and(|signature| self.key.verify_strict(message, &signature).is_ok())
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut encoded = vec![ED25519_TYPE];
        encoded.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{}", self.label(), BASE64.encode(encoded))
    }
}

impl FromStr for VerifierKey {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<VerifierKey, KeyError> {
        let malformed = KeyError::MalformedVerifierKey;
        // The base64 part may itself contain '+', so split at most twice.
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_base64)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("expected <name>+<8 hex digits>+<base64 key>"));
        };
        check_key_name(name)?;
        if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed("the key ID is not 8 hex digits"));
        }
        let id = u32::from_str_radix(id_hex, 16)
            .map_err(|_| malformed("the key ID is not 8 hex digits"))?;
        let decoded = BASE64
            .decode(key_base64)
            .map_err(|_| malformed("the public key is not valid base64"))?;
        let Some((&ED25519_TYPE, public_key)) = decoded.split_first() else {
            return Err(malformed("only Ed25519 keys (type 0x01) are supported"));
        };
        let public_key: &[u8; 32] = public_key
            .try_into()
            .map_err(|_| malformed("the Ed25519 public key is not 32 bytes"))?;
        let key = VerifyingKey::from_bytes(public_key)
            .map_err(|_| malformed("the bytes are not a valid Ed25519 public key"))?;
        let verifier = VerifierKey::new(name, key);
        if verifier.id != id {
            return Err(malformed(
                "the key ID does not match the name and public key",
            ));
        }
        Ok(verifier)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// From golang.org/x/mod/sumdb/note's note_test.go: the private key
    /// `PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz`
    /// and its published verifier key.
    pub(crate) const PETER_SEED_BASE64: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    pub(crate) const PETER_VERIFIER_KEY: &str =
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

    pub(crate) fn peter() -> SigningKey {
        let decoded = BASE64.decode(PETER_SEED_BASE64).unwrap();
        assert_eq!(decoded[0], ED25519_TYPE);
        SigningKey::from_seed("PeterNeumann", decoded[1..].try_into().unwrap()).unwrap()
    }

    #[test]
    fn verifier_key_and_key_id_match_go_sumdb_note() {
        let key = peter();
        assert_eq!(key.verifier_key(), PETER_VERIFIER_KEY);
        assert_eq!(key.key_id(), 0xc74f20a3);
        let parsed: VerifierKey = PETER_VERIFIER_KEY.parse().unwrap();
        assert_eq!(parsed, key.verifier());
        assert_eq!(parsed.label(), "PeterNeumann+c74f20a3");
    }

    /// Go's TestNewVerifier: every proper substring and every single-byte
    /// change of a valid key must be rejected.
    #[test]
    fn mangled_verifier_keys_are_rejected() {
        let bytes = PETER_VERIFIER_KEY.as_bytes();
        for start in 0..bytes.len() {
            for end in start + 1..=bytes.len() {
                if (start, end) != (0, bytes.len()) {
                    let part = &PETER_VERIFIER_KEY[start..end];
                    assert!(part.parse::<VerifierKey>().is_err(), "{part:?} accepted");
                }
            }
        }
        for position in 0..bytes.len() {
            let mut mangled = bytes.to_vec();
            mangled[position] += 1;
            let mangled = String::from_utf8(mangled).unwrap();
            assert!(
                mangled.parse::<VerifierKey>().is_err(),
                "{mangled:?} accepted"
            );
        }
        // Go's wrong-length and unknown-algorithm keys, with adjusted key IDs.
        for bad in [
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        ] {
            assert!(bad.parse::<VerifierKey>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn seed_round_trips_and_names_are_checked() {
        let key = SigningKey::generate("log.example/a").unwrap();
        let again = SigningKey::from_seed("log.example/a", key.seed()).unwrap();
        assert_eq!(again.verifier_key(), key.verifier_key());
        assert_ne!(
            SigningKey::generate("log.example/a").unwrap().seed(),
            key.seed()
        );
        for bad in ["", "a b", "a+b", "a\nb"] {
            assert_eq!(
                SigningKey::from_seed(bad, [7; 32]).unwrap_err(),
                KeyError::InvalidName(bad.to_owned())
            );
        }
        assert!(!format!("{key:?}").contains(&hex::encode(key.seed())));
    }
}
