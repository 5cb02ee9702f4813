//! The math and formats of Chotomoni's tamper-evident proof log.
//!
//! Pure code: no I/O, storage or clock. Storage hands in stored Merkle nodes
//! through closures; verification reads the file through `std::io::Read`.
//!
//! - [`merkle`]: RFC 6962 tree over perfect-subtree storage, proofs, verifiers.
//! - [`keys`], [`checkpoint`]: Ed25519 keys and C2SP signed tree heads.
//! - [`leaf`]: what a log entry says about a proof file.
//! - [`receipt`]: the receipt handed out, and its offline verification.
//! - [`verify_page`]: the same verification as a self-contained web page.

pub mod checkpoint;
pub mod keys;
pub mod leaf;
pub mod merkle;
pub mod receipt;
pub mod verify_page;

pub use checkpoint::{open, sign, Checkpoint, CheckpointError};
pub use keys::{KeyError, SigningKey, VerifierKey};
pub use leaf::{LeafError, ProofLeaf};
pub use merkle::{Hash, NodeId, TreeError, VerifyError};
pub use receipt::{verify_inclusion_of, verify_receipt, Receipt, ReceiptError, Verified};
pub use verify_page::PackedFile;
