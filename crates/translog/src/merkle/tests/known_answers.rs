//! Known-answer tests: the RFC 6962 test tree published with
//! certificate-transparency-go, now transparency-dev/merkle
//! (testonly/constants.go and proof/verify_test.go).

use super::*;

const TEST_LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Roots for sizes 0..=8.
const TEST_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// Every perfect subtree of the 8-leaf tree, by level.
const TEST_NODES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

/// (leaf index, tree size, audit path). verify_test.go numbers leaves from 1;
/// converted here.
const TEST_INCLUSION_PROOFS: [(u64, u64, &[&str]); 4] = [
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (old size, new size, proof).
const TEST_CONSISTENCY_PROOFS: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn h(hex_digest: &str) -> Hash {
    hex::decode(hex_digest)
        .expect("test vector is hex")
        .try_into()
        .expect("test vector is 32 bytes")
}

fn hashes(hex_digests: &[&str]) -> Vec<Hash> {
    hex_digests.iter().map(|d| h(d)).collect()
}

fn test_tree() -> Store {
    let leaves: Vec<Hash> = TEST_LEAVES
        .iter()
        .map(|l| leaf_hash(&hex::decode(l).unwrap()))
        .collect();
    Store::with_leaves(&leaves)
}

#[test]
fn test_tree_roots_match_published_values() {
    let store = test_tree();
    for (size, expected) in (0u64..).zip(TEST_ROOTS) {
        assert_eq!(root(size, store.get()).unwrap(), h(expected), "size {size}");
    }
    assert_eq!(empty_root(), h(TEST_ROOTS[0]));
}

#[test]
fn appending_test_tree_stores_exactly_the_published_perfect_subtrees() {
    let expected: HashMap<NodeId, Hash> = (0u8..)
        .zip(TEST_NODES)
        .flat_map(|(level, row)| {
            (0u64..)
                .zip(row.iter())
                .map(move |(index, hex)| (NodeId { level, index }, h(hex)))
        })
        .collect();
    assert_eq!(test_tree().nodes, expected);
}

#[test]
fn test_tree_inclusion_proofs_match_published_values() {
    let store = test_tree();
    for (index, size, expected) in TEST_INCLUSION_PROOFS {
        let proof = inclusion_proof(index, size, store.get()).unwrap();
        assert_eq!(proof, hashes(expected), "index {index} size {size}");
        let leaf = store.nodes[&NodeId { level: 0, index }];
        verify_inclusion(&leaf, index, size, &proof, &h(TEST_ROOTS[size as usize])).unwrap();
    }
}

#[test]
fn test_tree_consistency_proofs_match_published_values() {
    let store = test_tree();
    for (old_size, new_size, expected) in TEST_CONSISTENCY_PROOFS {
        let proof = consistency_proof(old_size, new_size, store.get()).unwrap();
        assert_eq!(proof, hashes(expected), "{old_size} -> {new_size}");
        let old_root = h(TEST_ROOTS[old_size as usize]);
        let new_root = h(TEST_ROOTS[new_size as usize]);
        verify_consistency(old_size, new_size, &old_root, &new_root, &proof).unwrap();
    }
}

/// An inclusion claim as a verifier sees it.
#[derive(Clone)]
struct InclusionClaim {
    leaf: Hash,
    index: u64,
    size: u64,
    proof: Vec<Hash>,
    root: Hash,
}

impl InclusionClaim {
    fn verify(&self) -> Result<(), VerifyError> {
        verify_inclusion(&self.leaf, self.index, self.size, &self.proof, &self.root)
    }
}

/// A consistency claim as a verifier sees it.
#[derive(Clone)]
struct ConsistencyClaim {
    old_size: u64,
    new_size: u64,
    old_root: Hash,
    new_root: Hash,
    proof: Vec<Hash>,
}

impl ConsistencyClaim {
    fn verify(&self) -> Result<(), VerifyError> {
        verify_consistency(
            self.old_size,
            self.new_size,
            &self.old_root,
            &self.new_root,
            &self.proof,
        )
    }
}

/// Copies of `proof`, each with `bit` of one hash's first byte flipped.
fn with_each_hash_flipped(proof: &[Hash], bit: u8) -> Vec<Vec<Hash>> {
    (0..proof.len())
        .map(|position| {
            let mut flipped = proof.to_vec();
            flipped[position][0] ^= 1 << bit;
            flipped
        })
        .collect()
}

/// The corruptions verify_test.go applies to each known inclusion proof;
/// none may verify.
#[test]
fn corrupted_inclusion_proofs_are_rejected() {
    let some_hash = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    let store = test_tree();
    for (index, size, expected) in TEST_INCLUSION_PROOFS {
        let genuine = InclusionClaim {
            leaf: store.nodes[&NodeId { level: 0, index }],
            index,
            size,
            proof: hashes(expected),
            root: h(TEST_ROOTS[size as usize]),
        };
        genuine.verify().unwrap();
        let claim = |change: &dyn Fn(&mut InclusionClaim)| {
            let mut claim = genuine.clone();
            change(&mut claim);
            claim
        };
        let root = genuine.root;
        let mut corrupted = vec![
            ("index + 1", claim(&|c| c.index += 1)),
            ("index ^ 2", claim(&|c| c.index ^= 2)),
            ("index - 1", claim(&|c| c.index = c.index.wrapping_sub(1))),
            ("size * 2", claim(&|c| c.size *= 2)),
            ("size / 2", claim(&|c| c.size /= 2)),
            ("wrong leaf", claim(&|c| c.leaf = some_hash)),
            ("empty root", claim(&|c| c.root = empty_root())),
            ("other root", claim(&|c| c.root = some_hash)),
            ("trailing root", claim(&|c| c.proof.push(root))),
            ("leading root", claim(&|c| c.proof.insert(0, root))),
            (
                "removed hash",
                claim(&|c| {
                    c.proof.remove(0);
                }),
            ),
        ];
        for proof in with_each_hash_flipped(&genuine.proof, 3) {
            corrupted.push((
                "flipped bit",
                InclusionClaim {
                    proof,
                    ..genuine.clone()
                },
            ));
        }
        for (what, claim) in corrupted {
            assert!(
                claim.verify().is_err(),
                "{what} verified (index {index}, size {size})"
            );
        }
    }
}

/// The same for the known consistency proofs.
#[test]
fn corrupted_consistency_proofs_are_rejected() {
    for (old_size, new_size, expected) in TEST_CONSISTENCY_PROOFS {
        if old_size == new_size {
            continue;
        }
        let genuine = ConsistencyClaim {
            old_size,
            new_size,
            old_root: h(TEST_ROOTS[old_size as usize]),
            new_root: h(TEST_ROOTS[new_size as usize]),
            proof: hashes(expected),
        };
        genuine.verify().unwrap();
        let claim = |change: &dyn Fn(&mut ConsistencyClaim)| {
            let mut claim = genuine.clone();
            change(&mut claim);
            claim
        };
        let (first, new_root) = (genuine.proof[0], genuine.new_root);
        let mut corrupted = vec![
            ("old size - 1", claim(&|c| c.old_size -= 1)),
            ("old size + 1", claim(&|c| c.old_size += 1)),
            ("old size ^ 2", claim(&|c| c.old_size ^= 2)),
            ("new size * 2", claim(&|c| c.new_size *= 2)),
            ("new size / 2", claim(&|c| c.new_size /= 2)),
            (
                "swapped roots",
                claim(&|c| std::mem::swap(&mut c.old_root, &mut c.new_root)),
            ),
            ("empty proof", claim(&|c| c.proof.clear())),
            ("trailing root", claim(&|c| c.proof.push(new_root))),
            ("leading proof[0]", claim(&|c| c.proof.insert(0, first))),
            (
                "truncated",
                claim(&|c| {
                    c.proof.pop();
                }),
            ),
        ];
        for proof in with_each_hash_flipped(&genuine.proof, 4) {
            corrupted.push((
                "flipped bit",
                ConsistencyClaim {
                    proof,
                    ..genuine.clone()
                },
            ));
        }
        for (what, claim) in corrupted {
            assert!(
                claim.verify().is_err(),
                "{what} verified ({old_size} -> {new_size})"
            );
        }
    }
}

#[test]
fn trivial_consistency_cases() {
    let root = h(TEST_ROOTS[3]);
    let other = h(TEST_ROOTS[4]);
    verify_consistency(0, 0, &empty_root(), &empty_root(), &[]).unwrap();
    verify_consistency(0, 5, &empty_root(), &root, &[]).unwrap();
    verify_consistency(3, 3, &root, &root, &[]).unwrap();
    assert!(
        verify_consistency(0, 5, &root, &root, &[]).is_err(),
        "an empty old tree must have the empty root"
    );
    assert!(verify_consistency(3, 3, &root, &other, &[]).is_err());
    assert!(verify_consistency(3, 3, &root, &root, &[root]).is_err());
    assert_eq!(
        verify_consistency(4, 3, &root, &root, &[]),
        Err(VerifyError::SizesOutOfOrder {
            old_size: 4,
            new_size: 3
        })
    );
}

#[test]
fn missing_nodes_and_bad_arguments_are_errors_not_panics() {
    let empty = Store::default();
    assert_eq!(root(0, empty.get()), Ok(empty_root()));
    assert_eq!(
        root(3, empty.get()),
        Err(TreeError::MissingNode(NodeId { level: 0, index: 2 }))
    );
    assert!(matches!(
        inclusion_proof(1, 2, empty.get()),
        Err(TreeError::MissingNode(_))
    ));
    assert!(matches!(
        append(1, empty_root(), empty.get()),
        Err(TreeError::MissingNode(_))
    ));
    assert_eq!(
        inclusion_proof(5, 5, test_tree().get()),
        Err(TreeError::IndexOutOfRange { index: 5, size: 5 })
    );
    assert_eq!(
        consistency_proof(6, 5, test_tree().get()),
        Err(TreeError::SizesOutOfOrder {
            old_size: 6,
            new_size: 5
        })
    );
    assert_eq!(nodes_needed_for_append(u64::MAX), Err(TreeError::TreeFull));
    assert_eq!(
        verify_inclusion(&empty_root(), 0, 0, &[], &empty_root()),
        Err(VerifyError::IndexOutOfRange { index: 0, size: 0 })
    );
}

#[test]
fn operations_on_huge_trees_read_logarithmically_many_nodes() {
    let size = u64::MAX;
    assert_eq!(nodes_needed_for_root(size).len(), 64);
    assert_eq!(
        nodes_needed_for_inclusion_proof(size - 1, size)
            .unwrap()
            .len(),
        63
    );
    assert!(
        nodes_needed_for_consistency_proof(size / 3, size)
            .unwrap()
            .len()
            < 130
    );
    assert_eq!(nodes_needed_for_append(size - 1).unwrap().len(), 0);
    assert_eq!(nodes_needed_for_append((1 << 40) - 1).unwrap().len(), 40);
    assert_eq!(
        nodes_needed_for_root(7),
        vec![
            NodeId { level: 2, index: 0 },
            NodeId { level: 1, index: 2 },
            NodeId { level: 0, index: 6 },
        ]
    );
}
