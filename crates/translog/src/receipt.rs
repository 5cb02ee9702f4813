//! Receipts: everything needed to show, offline, that a file was logged.

use std::io::{self, Read};

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::checkpoint::{self, Checkpoint, CheckpointError};
use crate::leaf::{LeafError, ProofLeaf};
use crate::merkle::{verify_inclusion, Hash, VerifyError};

/// Files are hashed in pieces of this size so a large video never has to be
/// held in memory.
const READ_BUFFER_SIZE: usize = 64 * 1024;

/// Proof that `leaf` is entry `leaf_index` of the log as of the signed tree
/// head `checkpoint`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub leaf: ProofLeaf,
    pub leaf_index: u64,
    pub tree_size: u64,
    /// Base64 (standard) hashes of the audit path, from the leaf up.
    pub inclusion_proof: Vec<String>,
    /// The signed note of the tree head.
    pub checkpoint: String,
    /// The log's verifier key string, as published.
    pub log_key: String,
}

impl Receipt {
    pub fn new(
        leaf: ProofLeaf,
        leaf_index: u64,
        tree_size: u64,
        inclusion_proof: &[Hash],
        checkpoint: String,
        log_key: String,
    ) -> Receipt {
        Receipt {
            leaf,
            leaf_index,
            tree_size,
            inclusion_proof: inclusion_proof.iter().map(|h| BASE64.encode(h)).collect(),
            checkpoint,
            log_key,
        }
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signed tree head that includes the file's entry.
    pub checkpoint: Checkpoint,
    pub leaf_hash: Hash,
    /// Whether the signature was checked against a key the verifier already
    /// trusted, rather than the key the receipt itself names. Without a
    /// pinned key a forger could simply sign with a key of their own.
    pub key_pinned: bool,
}

/// Why a receipt does not prove what it claims, worded for support staff.
#[derive(Debug, Error)]
pub enum ReceiptError {
    #[error("the receipt's log entry is invalid: {0}")]
    Leaf(#[from] LeafError),
    #[error(transparent)]
    TreeHead(#[from] CheckpointError),
    #[error("the receipt is for a log of {receipt} entries but the signed tree head is for {tree_head} entries")]
    TreeSizeMismatch { receipt: u64, tree_head: u64 },
    #[error("hash number {number} of the inclusion proof is not a base64 SHA-256 hash")]
    MalformedProofHash { number: usize },
    #[error("the inclusion proof does not lead to the signed tree head: {0}")]
    InclusionProof(#[from] VerifyError),
    #[error("the file could not be read: {0}")]
    Read(#[from] io::Error),
    #[error("{}", describe_size_difference(*.actual, *.logged))]
    FileSizeDiffers { actual: u64, logged: u64 },
    #[error("the file differs from the one logged: its SHA-256 is {actual} but the receipt records {logged}")]
    FileHashDiffers { actual: String, logged: String },
}

fn describe_size_difference(actual: u64, logged: u64) -> String {
    let (difference, comparison) = if actual > logged {
        (actual - logged, "longer")
    } else {
        (logged - actual, "shorter")
    };
    let unit = if difference == 1 { "byte" } else { "bytes" };
    format!(
        "the file is {difference} {unit} {comparison} than the logged one ({actual} bytes instead of {logged})"
    )
}

/// Checks that `file` is the file `receipt` describes and that the log
/// vouches for it. The signature is checked with `pinned_key` when given,
/// otherwise with the key the receipt names.
///
/// The cheap checks on the receipt come first, so a broken receipt is
/// reported without reading a possibly large file.
pub fn verify_receipt(
    file: impl Read,
    receipt: &Receipt,
    pinned_key: Option<&str>,
) -> Result<Verified, ReceiptError> {
    let verified = verify_inclusion_of(receipt, pinned_key)?;
    check_file(file, &receipt.leaf)?;
    Ok(verified)
}

/// The receipt's own checks, without the file: its leaf is well formed, its
/// tree head is signed (by `pinned_key` when given), and its inclusion proof
/// leads from the leaf to that head's root. What a server that holds the
/// file's logged hash can check for every proof without reading its bytes.
pub fn verify_inclusion_of(
    receipt: &Receipt,
    pinned_key: Option<&str>,
) -> Result<Verified, ReceiptError> {
    receipt.leaf.validate()?;
    let checkpoint = checkpoint::open(&receipt.checkpoint, pinned_key.unwrap_or(&receipt.log_key))?;
    if receipt.tree_size != checkpoint.size {
        return Err(ReceiptError::TreeSizeMismatch {
            receipt: receipt.tree_size,
            tree_head: checkpoint.size,
        });
    }
    let proof = decode_proof(&receipt.inclusion_proof)?;
    let leaf_hash = receipt.leaf.hash();
    verify_inclusion(
        &leaf_hash,
        receipt.leaf_index,
        receipt.tree_size,
        &proof,
        &checkpoint.root,
    )?;
    Ok(Verified {
        checkpoint,
        leaf_hash,
        key_pinned: pinned_key.is_some(),
    })
}

fn decode_proof(encoded: &[String]) -> Result<Vec<Hash>, ReceiptError> {
    (1..)
        .zip(encoded)
        .map(|(number, hash)| {
            BASE64
                .decode(hash)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or(ReceiptError::MalformedProofHash { number })
        })
        .collect()
}

fn check_file(file: impl Read, leaf: &ProofLeaf) -> Result<(), ReceiptError> {
    let (size, digest) = hash_file(file)?;
    if size != leaf.size {
        return Err(ReceiptError::FileSizeDiffers {
            actual: size,
            logged: leaf.size,
        });
    }
    let digest = hex::encode(digest);
    if digest != leaf.sha256 {
        return Err(ReceiptError::FileHashDiffers {
            actual: digest,
            logged: leaf.sha256.clone(),
        });
    }
    Ok(())
}

/// Streams `file` through SHA-256, returning its length and digest.
fn hash_file(mut file: impl Read) -> io::Result<(u64, Hash)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; READ_BUFFER_SIZE];
    let mut size = 0u64;
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return Ok((size, hasher.finalize().into())),
            Ok(read) => {
                hasher.update(&buffer[..read]);
                size += read as u64;
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests;
