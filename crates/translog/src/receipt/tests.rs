use std::collections::HashMap;

use super::*;
use crate::checkpoint::sign;
use crate::keys::SigningKey;
use crate::leaf::tests::sample_leaf;
use crate::merkle::{append, inclusion_proof, leaf_hash, root, NodeId};

const ORIGIN: &str = "chotomoni.example/proofs";
const HELLO_INDEX: u64 = 6;
const TREE_SIZE: u64 = 11;

/// A log of `TREE_SIZE` entries whose entry `HELLO_INDEX` is the sample leaf
/// for the file "hello", built with this crate's own append and proofs.
fn logged(leaf: ProofLeaf, log_key: &SigningKey) -> Receipt {
    let mut nodes: HashMap<NodeId, Hash> = HashMap::new();
    let leaf_hash_at = |index: u64| {
        if index == HELLO_INDEX {
            leaf.hash()
        } else {
            leaf_hash(format!("other entry {index}").as_bytes())
        }
    };
    for index in 0..TREE_SIZE {
        let completed = append(index, leaf_hash_at(index), |id| nodes.get(&id).copied()).unwrap();
        nodes.extend(completed);
    }
    let get = |id| nodes.get(&id).copied();
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: TREE_SIZE,
        root: root(TREE_SIZE, get).unwrap(),
    };
    let proof = inclusion_proof(HELLO_INDEX, TREE_SIZE, get).unwrap();
    Receipt::new(
        leaf,
        HELLO_INDEX,
        TREE_SIZE,
        &proof,
        sign(&checkpoint, log_key).unwrap(),
        log_key.verifier_key(),
    )
}

fn log_key() -> SigningKey {
    SigningKey::from_seed(ORIGIN, [42; 32]).unwrap()
}

fn hello_receipt() -> Receipt {
    logged(sample_leaf(), &log_key())
}

#[test]
fn genuine_receipt_verifies() {
    let receipt = hello_receipt();
    let verified = verify_receipt(&b"hello"[..], &receipt, None).unwrap();
    assert!(!verified.key_pinned);
    assert_eq!(verified.checkpoint.size, TREE_SIZE);
    assert_eq!(verified.leaf_hash, sample_leaf().hash());

    let pinned = verify_receipt(&b"hello"[..], &receipt, Some(&log_key().verifier_key())).unwrap();
    assert!(pinned.key_pinned);
}

#[test]
fn receipt_survives_a_json_round_trip() {
    let receipt = hello_receipt();
    let json = serde_json::to_string(&receipt).unwrap();
    let parsed: Receipt = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed, receipt);
    verify_receipt(&b"hello"[..], &parsed, None).unwrap();
}

#[test]
fn large_file_is_hashed_across_many_reads() {
    let file: Vec<u8> = (0..3 * READ_BUFFER_SIZE + 17)
        .map(|i| (i % 251) as u8)
        .collect();
    let mut leaf = sample_leaf();
    leaf.size = file.len() as u64;
    leaf.sha256 = hex::encode(Sha256::digest(&file));
    let receipt = logged(leaf, &log_key());
    verify_receipt(file.as_slice(), &receipt, None).unwrap();
}

#[test]
fn one_changed_byte_is_reported_as_a_different_hash() {
    let error = verify_receipt(&b"hellp"[..], &hello_receipt(), None).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "the file differs from the one logged: its SHA-256 is {} but the receipt records {}",
            hex::encode(Sha256::digest(b"hellp")),
            sample_leaf().sha256
        )
    );
}

#[test]
fn size_differences_are_reported_in_bytes() {
    let receipt = hello_receipt();
    let shorter = verify_receipt(&b"hell"[..], &receipt, None).unwrap_err();
    assert_eq!(
        shorter.to_string(),
        "the file is 1 byte shorter than the logged one (4 bytes instead of 5)"
    );
    let longer = verify_receipt(&b"hello, world"[..], &receipt, None).unwrap_err();
    assert_eq!(
        longer.to_string(),
        "the file is 7 bytes longer than the logged one (12 bytes instead of 5)"
    );
}

#[test]
fn tampered_proof_hash_fails() {
    let mut receipt = hello_receipt();
    let mut hash = BASE64.decode(&receipt.inclusion_proof[1]).unwrap();
    hash[0] ^= 1;
    receipt.inclusion_proof[1] = BASE64.encode(hash);
    let error = verify_receipt(&b"hello"[..], &receipt, None).unwrap_err();
    assert!(matches!(
        error,
        ReceiptError::InclusionProof(VerifyError::RootMismatch { .. })
    ));
    assert!(error
        .to_string()
        .starts_with("the inclusion proof does not lead to the signed tree head"));
}

#[test]
fn altered_leaf_or_index_fails_the_inclusion_proof() {
    let mut other_uploader = hello_receipt();
    other_uploader.leaf.uploader = "staff:13".into();
    let mut other_index = hello_receipt();
    other_index.leaf_index = HELLO_INDEX + 1;
    for receipt in [other_uploader, other_index] {
        assert!(matches!(
            verify_receipt(&b"hello"[..], &receipt, None),
            Err(ReceiptError::InclusionProof(_))
        ));
    }
}

#[test]
fn malformed_proof_hash_is_named_by_position() {
    let mut receipt = hello_receipt();
    receipt.inclusion_proof[2] = "not base64!".into();
    let error = verify_receipt(&b"hello"[..], &receipt, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "hash number 3 of the inclusion proof is not a base64 SHA-256 hash"
    );
}

#[test]
fn tree_size_must_match_the_tree_head() {
    let mut receipt = hello_receipt();
    receipt.tree_size = TREE_SIZE + 1;
    assert!(matches!(
        verify_receipt(&b"hello"[..], &receipt, None),
        Err(ReceiptError::TreeSizeMismatch {
            receipt: 12,
            tree_head: 11
        })
    ));
}

#[test]
fn forged_log_is_caught_only_by_a_pinned_key() {
    let forger = SigningKey::from_seed(ORIGIN, [7; 32]).unwrap();
    let forged = logged(sample_leaf(), &forger);
    // Self-consistent: it names the forger's key, so it verifies unpinned...
    assert!(
        !verify_receipt(&b"hello"[..], &forged, None)
            .unwrap()
            .key_pinned
    );
    // ...which is why callers pin the published key.
    let error =
        verify_receipt(&b"hello"[..], &forged, Some(&log_key().verifier_key())).unwrap_err();
    assert!(matches!(
        error,
        ReceiptError::TreeHead(CheckpointError::UnknownKey { .. })
    ));
}

#[test]
fn tree_head_with_a_broken_signature_fails() {
    let mut receipt = hello_receipt();
    let signature_start = receipt.checkpoint.rfind(' ').unwrap() + 1;
    let mut signature = BASE64
        .decode(receipt.checkpoint[signature_start..].trim_end())
        .unwrap();
    signature[10] ^= 1;
    receipt.checkpoint = format!(
        "{}{}\n",
        &receipt.checkpoint[..signature_start],
        BASE64.encode(signature)
    );
    let error = verify_receipt(&b"hello"[..], &receipt, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "the tree head's signature does not match the key {}",
            log_key().verifier().label()
        )
    );
}

#[test]
fn unreadable_file_is_an_error() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
    }
    let error = verify_receipt(Broken, &hello_receipt(), None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the file could not be read: disk on fire"
    );
}

#[test]
fn invalid_leaf_is_rejected_before_anything_else() {
    let mut receipt = hello_receipt();
    receipt.leaf.v = 2;
    assert!(matches!(
        verify_receipt(&b"hello"[..], &receipt, None),
        Err(ReceiptError::Leaf(LeafError::UnsupportedVersion(2)))
    ));
}
