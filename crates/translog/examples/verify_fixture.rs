//! Writes a small claim pack's originals and its `verify.html`, made by the
//! real log code, for the browser test of the page (e2e/tests/verify-page.test.mjs).
//!
//! ```sh
//! cargo run -q --example verify_fixture -p chotomoni-translog -- <out dir>
//! ```
//!
//! Writes `<out>/originals/*` and `<out>/verify.html`, and prints the pack's
//! paths as a JSON array.

use std::collections::HashMap;
use std::path::Path;
use std::{env, fs};

use chotomoni_translog::merkle::{append, inclusion_proof, leaf_hash, root};
use chotomoni_translog::verify_page::render;
use chotomoni_translog::{
    sign, Checkpoint, Hash, NodeId, PackedFile, ProofLeaf, Receipt, SigningKey,
};
use rand::RngCore;
use sha2::{Digest, Sha256};

const ORIGIN: &str = "chotomoni.example/proofs";
/// Odd, and not a power of two, so the proofs mix left and right siblings and
/// climb past levels with none.
const TREE_SIZE: u64 = 13;

/// One original file of the pack.
struct Original {
    path: &'static str,
    index: u64,
    size: usize,
    kind: &'static str,
    media_type: &'static str,
    /// Text that the page must carry through its JSON and show as text:
    /// markup, quotes, a backslash, control characters, a line separator that
    /// JavaScript once could not have in strings, Bangla and an emoji.
    order: &'static str,
    captured_at: Option<&'static str>,
}

const ORIGINALS: [Original; 3] = [
    Original {
        path: "originals/1-packing-CM-000123.mp4",
        index: 2,
        size: 1024 * 1024 + 7,
        kind: "packing",
        media_type: "video/mp4",
        order: "CM-000123",
        captured_at: Some("2026-11-30T09:30:00Z"),
    },
    Original {
        path: "originals/2-delivery-CM-000123.jpg",
        index: 7,
        size: 4096,
        kind: "delivery",
        media_type: "image/jpeg",
        order: "CM-000123",
        captured_at: None,
    },
    Original {
        path: "originals/3-claim-CM-000123.webm",
        index: 12,
        size: 333,
        kind: "claim",
        media_type: "video/webm",
        order: "CM-000123 </script><!-- \"x\" \\ \u{1}\t\u{7f}\u{2028} ৳ 😀",
        captured_at: Some("2026-12-02T18:05:09Z"),
    },
];

fn main() {
    let out = env::args().nth(1).expect("usage: verify_fixture <out dir>");
    let out = Path::new(&out);
    fs::create_dir_all(out.join("originals")).unwrap();

    let mut leaves: HashMap<u64, ProofLeaf> = HashMap::new();
    for original in &ORIGINALS {
        let mut bytes = vec![0u8; original.size];
        rand::thread_rng().fill_bytes(&mut bytes);
        fs::write(out.join(original.path), &bytes).unwrap();
        leaves.insert(
            original.index,
            ProofLeaf {
                captured_at: original.captured_at.map(Into::into),
                kind: original.kind.into(),
                media_type: original.media_type.into(),
                order: original.order.into(),
                received_at: "2026-12-02T18:06:00Z".into(),
                sha256: hex::encode(Sha256::digest(&bytes)),
                size: original.size as u64,
                uploader: "staff:12".into(),
                v: 1,
            },
        );
    }

    let mut nodes: HashMap<NodeId, Hash> = HashMap::new();
    for index in 0..TREE_SIZE {
        let hash = leaves.get(&index).map_or_else(
            || leaf_hash(format!("another proof {index}").as_bytes()),
            ProofLeaf::hash,
        );
        let completed = append(index, hash, |id| nodes.get(&id).copied()).unwrap();
        nodes.extend(completed);
    }
    let get = |id| nodes.get(&id).copied();

    let key = SigningKey::generate(ORIGIN).unwrap();
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: TREE_SIZE,
        root: root(TREE_SIZE, get).unwrap(),
    };
    let note = sign(&checkpoint, &key).unwrap();
    let files: Vec<PackedFile> = ORIGINALS
        .iter()
        .map(|original| PackedFile {
            path: original.path.into(),
            receipt: Receipt::new(
                leaves[&original.index].clone(),
                original.index,
                TREE_SIZE,
                &inclusion_proof(original.index, TREE_SIZE, get).unwrap(),
                note.clone(),
                key.verifier_key(),
            ),
        })
        .collect();
    for file in &files {
        chotomoni_translog::verify_receipt(
            &fs::read(out.join(&file.path)).unwrap()[..],
            &file.receipt,
            Some(&key.verifier_key()),
        )
        .expect("the fixture's own receipts verify");
    }
    fs::write(out.join("verify.html"), render(&key.verifier_key(), &files)).unwrap();
    let paths: Vec<&str> = ORIGINALS.iter().map(|o| o.path).collect();
    println!("{}", serde_json::to_string(&paths).unwrap());
}
