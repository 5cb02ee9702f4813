//! RFC 6962 (section 2.1) Merkle tree hashing over storage that keeps only
//! *perfect* subtrees.
//!
//! Storage holds the hash of every complete, aligned subtree of 2^level leaves
//! and never rewrites one. The RFC's other subtrees all lie on the right edge
//! of some tree; they are rebuilt here from the perfect subtrees they consist
//! of, so every operation reads O(log n) stored hashes.
//!
//! Each reading operation has a `nodes_needed_for_*` twin that names exactly
//! the stored nodes it will read, so storage can fetch them in one query and
//! hand them over through the `get` closure. The proof verifiers, which need
//! no storage, live in the `verify` submodule and are re-exported here.

use sha2::{Digest, Sha256};
use thiserror::Error;

mod verify;
pub use verify::{verify_consistency, verify_inclusion, VerifyError};

/// A SHA-256 digest: leaf hashes, interior node hashes and tree roots.
pub type Hash = [u8; 32];

/// Domain separation prefixes from RFC 6962 section 2.1: without them a leaf
/// could be passed off as an interior node (second-preimage attack).
const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// `SHA-256(0x00 || data)`: the hash of one log entry.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new()
        .chain_update([LEAF_PREFIX])
        .chain_update(data)
        .finalize()
        .into()
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([NODE_PREFIX])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// A stored perfect subtree: it covers leaves
/// `[index << level, (index + 1) << level)`; level 0 holds the leaf hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

impl NodeId {
    fn parent(self) -> NodeId {
        NodeId {
            level: self.level + 1,
            index: self.index >> 1,
        }
    }
}

/// Why a tree operation could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TreeError {
    #[error(
        "the stored tree is missing node (level {}, index {}); storage does not hold the tree it claims to",
        .0.level, .0.index
    )]
    MissingNode(NodeId),
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("cannot prove that a tree of {new_size} leaves extends a larger one of {old_size}")]
    SizesOutOfOrder { old_size: u64, new_size: u64 },
    #[error("the log is full: it cannot hold more than 2^64 - 1 leaves")]
    TreeFull,
}

/// Leaves `[start, end)`: a subtree that appears in the RFC's recursive
/// definitions. Such a span always starts at a multiple of its largest perfect
/// piece, which is what lets it be rebuilt from stored nodes.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u64,
    end: u64,
}

/// The RFC's split point `k`: the largest power of two strictly below `n`
/// (`n >= 2`).
fn split_point(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The stored perfect subtrees that make up `span`, left to right, largest
/// first.
fn perfect_subtrees(span: Span) -> Vec<NodeId> {
    let mut pieces = Vec::new();
    let mut start = span.start;
    while start < span.end {
        let level = 63 - (span.end - start).leading_zeros();
        debug_assert_eq!(start % (1 << level), 0, "span is not aligned");
        pieces.push(NodeId {
            level: level as u8,
            index: start >> level,
        });
        start += 1 << level;
    }
    pieces
}

fn fetch(get: &impl Fn(NodeId) -> Option<Hash>, node: NodeId) -> Result<Hash, TreeError> {
    get(node).ok_or(TreeError::MissingNode(node))
}

/// MTH of a non-empty span. Folding from the right reproduces the RFC's
/// recursion: `MTH = node_hash(perfect left part, MTH(rest))`.
fn span_hash(span: Span, get: &impl Fn(NodeId) -> Option<Hash>) -> Result<Hash, TreeError> {
    let pieces = perfect_subtrees(span);
    let (last, rest) = pieces
        .split_last()
        .expect("span_hash is only called on non-empty spans");
    let mut hash = fetch(get, *last)?;
    for piece in rest.iter().rev() {
        hash = node_hash(&fetch(get, *piece)?, &hash);
    }
    Ok(hash)
}

fn nodes_for_spans(spans: &[Span]) -> Vec<NodeId> {
    spans
        .iter()
        .flat_map(|span| perfect_subtrees(*span))
        .collect()
}

fn hashes_for_spans(
    spans: &[Span],
    get: &impl Fn(NodeId) -> Option<Hash>,
) -> Result<Vec<Hash>, TreeError> {
    spans.iter().map(|span| span_hash(*span, get)).collect()
}

/// The subtrees whose hashes form the audit path `PATH(index, D[size])` of
/// RFC 6962 section 2.1.1, in proof order (from the leaf up).
fn inclusion_spans(index: u64, size: u64) -> Vec<Span> {
    let mut spans = Vec::new();
    let (mut start, mut end) = (0, size);
    while end - start > 1 {
        let middle = start + split_point(end - start);
        if index < middle {
            spans.push(Span { start: middle, end });
            end = middle;
        } else {
            spans.push(Span { start, end: middle });
            start = middle;
        }
    }
    spans.reverse();
    spans
}

/// The subtrees whose hashes form `PROOF(old_size, D[new_size])` of RFC 6962
/// section 2.1.2 (SUBPROOF with b = true), in proof order.
fn consistency_spans(old_size: u64, new_size: u64) -> Vec<Span> {
    let mut spans = Vec::new();
    if old_size == 0 || old_size == new_size {
        return spans;
    }
    let (mut start, mut end) = (0, new_size);
    let old_end = old_size;
    // `old_is_whole_left_part` is the RFC's `b`: while it holds, the verifier
    // already knows this subtree's hash (it is the old root), so the proof
    // omits it.
    let mut old_is_whole_left_part = true;
    loop {
        if old_end == end {
            if !old_is_whole_left_part {
                spans.push(Span { start, end });
            }
            break;
        }
        let middle = start + split_point(end - start);
        if old_end <= middle {
            spans.push(Span { start: middle, end });
            end = middle;
        } else {
            spans.push(Span { start, end: middle });
            start = middle;
            old_is_whole_left_part = false;
        }
    }
    spans.reverse();
    spans
}

/// The stored nodes [`root`] reads for a tree of `size` leaves.
pub fn nodes_needed_for_root(size: u64) -> Vec<NodeId> {
    perfect_subtrees(Span {
        start: 0,
        end: size,
    })
}

/// The Merkle tree hash `MTH(D[size])`.
pub fn root(size: u64, get: impl Fn(NodeId) -> Option<Hash>) -> Result<Hash, TreeError> {
    if size == 0 {
        return Ok(empty_root());
    }
    span_hash(
        Span {
            start: 0,
            end: size,
        },
        &get,
    )
}

fn check_index(index: u64, size: u64) -> Result<(), TreeError> {
    if index < size {
        Ok(())
    } else {
        Err(TreeError::IndexOutOfRange { index, size })
    }
}

fn check_sizes(old_size: u64, new_size: u64) -> Result<(), TreeError> {
    if old_size <= new_size {
        Ok(())
    } else {
        Err(TreeError::SizesOutOfOrder { old_size, new_size })
    }
}

/// The stored nodes [`inclusion_proof`] reads.
pub fn nodes_needed_for_inclusion_proof(index: u64, size: u64) -> Result<Vec<NodeId>, TreeError> {
    check_index(index, size)?;
    Ok(nodes_for_spans(&inclusion_spans(index, size)))
}

/// The audit path for leaf `index` in the tree of `size` leaves
/// (RFC 6962 PATH, RFC 9162 section 2.1.3.1).
pub fn inclusion_proof(
    index: u64,
    size: u64,
    get: impl Fn(NodeId) -> Option<Hash>,
) -> Result<Vec<Hash>, TreeError> {
    check_index(index, size)?;
    hashes_for_spans(&inclusion_spans(index, size), &get)
}

/// The stored nodes [`consistency_proof`] reads.
pub fn nodes_needed_for_consistency_proof(
    old_size: u64,
    new_size: u64,
) -> Result<Vec<NodeId>, TreeError> {
    check_sizes(old_size, new_size)?;
    Ok(nodes_for_spans(&consistency_spans(old_size, new_size)))
}

/// The proof that the tree of `new_size` leaves extends the one of `old_size`
/// (RFC 6962 PROOF / SUBPROOF, RFC 9162 section 2.1.4.1). Empty when
/// `old_size` is 0 or equals `new_size`.
pub fn consistency_proof(
    old_size: u64,
    new_size: u64,
    get: impl Fn(NodeId) -> Option<Hash>,
) -> Result<Vec<Hash>, TreeError> {
    check_sizes(old_size, new_size)?;
    hashes_for_spans(&consistency_spans(old_size, new_size), &get)
}

/// The stored nodes [`append`] reads: the left siblings of the subtrees that
/// the new leaf completes.
pub fn nodes_needed_for_append(size_before: u64) -> Result<Vec<NodeId>, TreeError> {
    if size_before == u64::MAX {
        return Err(TreeError::TreeFull);
    }
    let mut siblings = Vec::new();
    let mut node = NodeId {
        level: 0,
        index: size_before,
    };
    // A right child completes its parent; a left child has to wait.
    while node.index & 1 == 1 {
        siblings.push(NodeId {
            index: node.index - 1,
            ..node
        });
        node = node.parent();
    }
    Ok(siblings)
}

/// Appends leaf number `size_before` (whose [`leaf_hash`] is `leaf`) and
/// returns the nodes that become complete, bottom up, for the caller to store:
/// the level 0 node, then every parent the new leaf completes.
pub fn append(
    size_before: u64,
    leaf: Hash,
    get: impl Fn(NodeId) -> Option<Hash>,
) -> Result<Vec<(NodeId, Hash)>, TreeError> {
    let mut node = NodeId {
        level: 0,
        index: size_before,
    };
    let mut hash = leaf;
    let mut completed = vec![(node, hash)];
    for sibling in nodes_needed_for_append(size_before)? {
        hash = node_hash(&fetch(&get, sibling)?, &hash);
        node = node.parent();
        completed.push((node, hash));
    }
    Ok(completed)
}

#[cfg(test)]
mod tests;
