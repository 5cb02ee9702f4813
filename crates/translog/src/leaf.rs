//! What one log entry says about a proof file. It carries no personal data:
//! the file is named only by its hash, people only by a reference.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::merkle::{leaf_hash, Hash};

/// The only entry format version so far.
pub const LEAF_VERSION: u8 = 1;

/// The reasons a proof file is logged.
pub const PROOF_KINDS: [&str; 4] = ["packing", "delivery", "return", "claim"];

/// Why a log entry was rejected.
#[derive(Debug, Error)]
pub enum LeafError {
    #[error("the log entry is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the log entry has format version {0}, which this software does not understand")]
    UnsupportedVersion(u8),
    #[error("the log entry's sha256 {0:?} is not 64 lowercase hex digits")]
    MalformedSha256(String),
    #[error("the log entry's kind {0:?} is not one of packing, delivery, return or claim")]
    UnknownKind(String),
}

/// One log entry.
///
/// The fields are declared in sorted order on purpose: serde writes struct
/// fields in declaration order, which is what makes [`ProofLeaf::canonical_bytes`]
/// sorted and stable. Do not reorder them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofLeaf {
    /// When the device says it captured the file (RFC 3339 UTC), if it said.
    pub captured_at: Option<String>,
    /// One of [`PROOF_KINDS`].
    pub kind: String,
    pub media_type: String,
    /// The order reference, e.g. "CM-000123".
    pub order: String,
    /// When the server received the file (RFC 3339 UTC).
    pub received_at: String,
    /// Lowercase hex SHA-256 of the plaintext file.
    pub sha256: String,
    /// Size of the plaintext file in bytes.
    pub size: u64,
    /// Who uploaded it, as a reference such as "staff:12" or "customer:7".
    pub uploader: String,
    /// Always [`LEAF_VERSION`].
    pub v: u8,
}

impl ProofLeaf {
    /// Compact JSON with keys in sorted order: the exact bytes that are
    /// hashed into the log, so the same entry always hashes the same.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("serializing strings and integers cannot fail")
    }

    /// The Merkle leaf hash of this entry.
    pub fn hash(&self) -> Hash {
        leaf_hash(&self.canonical_bytes())
    }

    /// Parses an entry, rejecting unknown fields and invalid values.
    pub fn from_json(json: &[u8]) -> Result<ProofLeaf, LeafError> {
        let leaf: ProofLeaf = serde_json::from_slice(json)?;
        leaf.validate()?;
        Ok(leaf)
    }

    /// Checks the values a verifier relies on.
    pub fn validate(&self) -> Result<(), LeafError> {
        if self.v != LEAF_VERSION {
            return Err(LeafError::UnsupportedVersion(self.v));
        }
        let is_lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if self.sha256.len() != 64 || !self.sha256.bytes().all(is_lower_hex) {
            return Err(LeafError::MalformedSha256(self.sha256.clone()));
        }
        if !PROOF_KINDS.contains(&self.kind.as_str()) {
            return Err(LeafError::UnknownKind(self.kind.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A leaf for the 5-byte file "hello".
    pub(crate) fn sample_leaf() -> ProofLeaf {
        ProofLeaf {
            v: 1,
            sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824".into(),
            size: 5,
            media_type: "image/jpeg".into(),
            order: "CM-000123".into(),
            kind: "packing".into(),
            captured_at: Some("2025-03-01T09:30:00Z".into()),
            received_at: "2025-03-01T09:31:07Z".into(),
            uploader: "staff:12".into(),
        }
    }

    const SAMPLE_CANONICAL_JSON: &str = concat!(
        r#"{"captured_at":"2025-03-01T09:30:00Z","kind":"packing","media_type":"image/jpeg","#,
        r#""order":"CM-000123","received_at":"2025-03-01T09:31:07Z","#,
        r#""sha256":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824","#,
        r#""size":5,"uploader":"staff:12","v":1}"#
    );

    #[test]
    fn canonical_bytes_are_sorted_compact_json() {
        assert_eq!(
            String::from_utf8(sample_leaf().canonical_bytes()).unwrap(),
            SAMPLE_CANONICAL_JSON
        );
        let mut without_capture_time = sample_leaf();
        without_capture_time.captured_at = None;
        assert!(String::from_utf8(without_capture_time.canonical_bytes())
            .unwrap()
            .starts_with(r#"{"captured_at":null,"kind""#));
    }

    /// Expected value computed independently:
    /// `python3 -c 'import hashlib,json; print(hashlib.sha256(b"\0" + json.dumps(leaf, sort_keys=True, separators=(",", ":")).encode()).hexdigest())'`
    #[test]
    fn leaf_hash_known_answer() {
        assert_eq!(
            hex::encode(sample_leaf().hash()),
            "92ec8167751f2b48c15fa2c6c6fb10446aa6d42a23fc6d772c7d815f1373ee43"
        );
    }

    #[test]
    fn parsing_round_trips_and_is_strict() {
        let parsed = ProofLeaf::from_json(SAMPLE_CANONICAL_JSON.as_bytes()).unwrap();
        assert_eq!(parsed, sample_leaf());

        let with_extra = SAMPLE_CANONICAL_JSON.replace(r#""v":1"#, r#""v":1,"name":"Rahim""#);
        assert!(matches!(
            ProofLeaf::from_json(with_extra.as_bytes()),
            Err(LeafError::Json(_))
        ));
        let version_2 = SAMPLE_CANONICAL_JSON.replace(r#""v":1"#, r#""v":2"#);
        assert!(matches!(
            ProofLeaf::from_json(version_2.as_bytes()),
            Err(LeafError::UnsupportedVersion(2))
        ));
        let upper_hex = SAMPLE_CANONICAL_JSON.replace("2cf24dba", "2CF24DBA");
        assert!(matches!(
            ProofLeaf::from_json(upper_hex.as_bytes()),
            Err(LeafError::MalformedSha256(_))
        ));
        let bad_kind = SAMPLE_CANONICAL_JSON.replace("packing", "selfie");
        assert!(matches!(
            ProofLeaf::from_json(bad_kind.as_bytes()),
            Err(LeafError::UnknownKind(_))
        ));
    }
}
