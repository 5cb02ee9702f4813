//! Proof verifiers: RFC 9162 sections 2.1.3.2 (inclusion) and 2.1.4.2
//! (consistency). They need no storage, only the proof and the roots.

use thiserror::Error;

use super::{consistency_spans, empty_root, inclusion_spans, node_hash, Hash};

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("a tree of {new_size} leaves cannot extend a larger one of {old_size}")]
    SizesOutOfOrder { old_size: u64, new_size: u64 },
    #[error(
        "the proof has {actual} hashes but a proof for these tree sizes has exactly {expected}"
    )]
    WrongProofLength { expected: usize, actual: usize },
    #[error(
        "the proof leads to root {} but the expected root is {}",
        hex::encode(.computed), hex::encode(.expected)
    )]
    RootMismatch { computed: Hash, expected: Hash },
    #[error(
        "the proof leads to old root {} but the expected old root is {}",
        hex::encode(.computed), hex::encode(.expected)
    )]
    OldRootMismatch { computed: Hash, expected: Hash },
}

/// Shifts `first` and `second` right together while `keep_going(first)`: the
/// RFC 9162 verifiers' way of climbing past levels that have no proof hash.
fn shift_while(first: &mut u64, second: &mut u64, keep_going: impl Fn(u64) -> bool) {
    while keep_going(*first) {
        *first >>= 1;
        *second >>= 1;
    }
}

fn check_proof_length(expected: usize, proof: &[Hash]) -> Result<(), VerifyError> {
    if proof.len() == expected {
        Ok(())
    } else {
        Err(VerifyError::WrongProofLength {
            expected,
            actual: proof.len(),
        })
    }
}

fn check_root(computed: Hash, expected: &Hash) -> Result<(), VerifyError> {
    if computed == *expected {
        Ok(())
    } else {
        Err(VerifyError::RootMismatch {
            computed,
            expected: *expected,
        })
    }
}

/// Checks that `proof` shows the leaf with hash `leaf_hash` at `index` in the
/// tree of `size` leaves whose root is `root` (RFC 9162 section 2.1.3.2).
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    if index >= size {
        return Err(VerifyError::IndexOutOfRange { index, size });
    }
    // The length check up front gives a clearer error than the algorithm's
    // own "sn is not 0" check, which it makes unreachable.
    check_proof_length(inclusion_spans(index, size).len(), proof)?;
    let (mut position, mut last) = (index, size - 1);
    let mut hash = *leaf_hash;
    for sibling in proof {
        if position & 1 == 1 || position == last {
            hash = node_hash(sibling, &hash);
            shift_while(&mut position, &mut last, |p| p & 1 == 0 && p != 0);
        } else {
            hash = node_hash(&hash, sibling);
        }
        position >>= 1;
        last >>= 1;
    }
    debug_assert_eq!(
        last, 0,
        "proof length check let a wrong-length proof through"
    );
    check_root(hash, root)
}

/// Checks that `proof` shows the tree of `new_size` leaves with root
/// `new_root` extends the one of `old_size` leaves with root `old_root`
/// (RFC 9162 section 2.1.4.2). An empty old tree must have the empty root.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), VerifyError> {
    if old_size > new_size {
        return Err(VerifyError::SizesOutOfOrder { old_size, new_size });
    }
    let expected_length = consistency_spans(old_size, new_size).len();
    check_proof_length(expected_length, proof)?;
    if old_size == 0 {
        return check_old_root(empty_root(), old_root);
    }
    if old_size == new_size {
        return check_root(*old_root, new_root);
    }
    // When the old tree is a perfect left subtree, its root is the proof's
    // implicit first hash.
    let implicit_first = old_size.is_power_of_two().then_some(old_root);
    let mut path = implicit_first.into_iter().chain(proof);
    // Cannot fail after the length check: a non-power-of-two old size always
    // needs at least one proof hash.
    let first = path.next().ok_or(VerifyError::WrongProofLength {
        expected: expected_length,
        actual: 0,
    })?;
    let (mut position, mut last) = (old_size - 1, new_size - 1);
    shift_while(&mut position, &mut last, |p| p & 1 == 1);
    let (mut old_hash, mut new_hash) = (*first, *first);
    for sibling in path {
        if position & 1 == 1 || position == last {
            old_hash = node_hash(sibling, &old_hash);
            new_hash = node_hash(sibling, &new_hash);
            shift_while(&mut position, &mut last, |p| p & 1 == 0 && p != 0);
        } else {
            new_hash = node_hash(&new_hash, sibling);
        }
        position >>= 1;
        last >>= 1;
    }
    debug_assert_eq!(
        last, 0,
        "proof length check let a wrong-length proof through"
    );
    check_old_root(old_hash, old_root)?;
    check_root(new_hash, new_root)
}

fn check_old_root(computed: Hash, expected: &Hash) -> Result<(), VerifyError> {
    if computed == *expected {
        Ok(())
    } else {
        Err(VerifyError::OldRootMismatch {
            computed,
            expected: *expected,
        })
    }
}
