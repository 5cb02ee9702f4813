//! Checks against RFC 6962's recursive definitions, implemented naively on
//! in-memory leaves, for every tree size up to 70 and every index and old size.

use super::*;

/// Largest power of two strictly below `n`, computed the slow obvious way so
/// the reference shares no code with the implementation.
fn naive_split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]), RFC 6962 section 2.1.
fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = naive_split(n);
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]), RFC 6962 section 2.1.1.
fn naive_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    if leaves.len() <= 1 {
        return vec![];
    }
    let k = naive_split(leaves.len());
    let (mut path, sibling) = if m < k {
        (naive_path(m, &leaves[..k]), naive_root(&leaves[k..]))
    } else {
        (naive_path(m - k, &leaves[k..]), naive_root(&leaves[..k]))
    };
    path.push(sibling);
    path
}

/// SUBPROOF(m, D[n], b), RFC 6962 section 2.1.2.
fn naive_subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if b { vec![] } else { vec![naive_root(leaves)] };
    }
    let k = naive_split(n);
    let (mut proof, sibling) = if m <= k {
        (naive_subproof(m, &leaves[..k], b), naive_root(&leaves[k..]))
    } else {
        (
            naive_subproof(m - k, &leaves[k..], false),
            naive_root(&leaves[..k]),
        )
    };
    proof.push(sibling);
    proof
}

/// PROOF(m, D[n]); empty for m = 0 and m = n.
fn naive_consistency(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    if m == 0 || m == leaves.len() {
        return vec![];
    }
    naive_subproof(m, leaves, true)
}

#[test]
fn matches_naive_rfc_definitions_for_every_size_up_to_70() {
    let leaves: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let store = Store::with_leaves(&leaves);
    for size in 1..=leaves.len() {
        let n = size as u64;
        let tree = &leaves[..size];
        let tree_root = naive_root(tree);
        assert_eq!(root(n, store.get()).unwrap(), tree_root, "root({size})");
        assert_eq!(store.take_reads(), sorted(nodes_needed_for_root(n)));

        for (index, leaf) in tree.iter().enumerate() {
            let i = index as u64;
            let proof = inclusion_proof(i, n, store.get()).unwrap();
            assert_eq!(proof, naive_path(index, tree), "PATH({index}, {size})");
            assert_eq!(
                store.take_reads(),
                sorted(nodes_needed_for_inclusion_proof(i, n).unwrap())
            );
            check_inclusion_and_tampering(leaf, i, n, &proof, &tree_root);
        }

        for old_size in 0..=size {
            let old = old_size as u64;
            let proof = consistency_proof(old, n, store.get()).unwrap();
            assert_eq!(
                proof,
                naive_consistency(old_size, tree),
                "PROOF({old_size}, {size})"
            );
            assert_eq!(
                store.take_reads(),
                sorted(nodes_needed_for_consistency_proof(old, n).unwrap())
            );
            let old_root = naive_root(&leaves[..old_size]);
            check_consistency_and_tampering(old, n, &old_root, &tree_root, &proof);
        }
    }
}

fn flip_last_bit_of(proof: &[Hash], position: usize) -> Vec<Hash> {
    let mut flipped = proof.to_vec();
    flipped[position][31] ^= 1;
    flipped
}

fn check_inclusion_and_tampering(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) {
    verify_inclusion(leaf, index, size, proof, root).unwrap();
    for position in 0..proof.len() {
        let flipped = flip_last_bit_of(proof, position);
        assert!(verify_inclusion(leaf, index, size, &flipped, root).is_err());
    }
    // Within one tree a different index is a different path from the root, so
    // the same hashes can never verify for it.
    for other in [index.wrapping_sub(1), index + 1] {
        if other < size {
            assert!(verify_inclusion(leaf, other, size, proof, root).is_err());
        }
    }
    assert!(verify_inclusion(leaf, index, size * 2, proof, root).is_err());
    assert!(verify_inclusion(leaf, index, size, proof, &leaf_hash(b"other")).is_err());
}

fn check_consistency_and_tampering(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) {
    verify_consistency(old, new, old_root, new_root, proof).unwrap();
    for position in 0..proof.len() {
        let flipped = flip_last_bit_of(proof, position);
        assert!(verify_consistency(old, new, old_root, new_root, &flipped).is_err());
    }
    if old_root != new_root {
        assert!(verify_consistency(old, new, new_root, old_root, proof).is_err());
    }
    // Every tree is consistent with the empty one, whatever the new size.
    if old > 0 {
        assert!(verify_consistency(old, new * 2, old_root, new_root, proof).is_err());
    }
}
