//! The blob store: one test body, run against a local folder and against a
//! real S3-compatible server (moto's, which `./scripts/test` starts; its
//! address is `CHOTOMONI_TEST_S3`, default `http://127.0.0.1:5123`). Without
//! that server the S3 test fails; it never skips.

use chotomoni_storage::blobs::{BlobConfig, BlobError, BlobMeta, BlobStore};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

#[tokio::test]
async fn local_folder() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path().join("media");
    let store = BlobStore::open(&BlobConfig::Local { root: root.clone() }).expect("open");
    assert!(root.is_dir(), "the folder is created");
    exercise(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_compatible_server() {
    let store = BlobStore::open(&chotomoni_testkit::s3_bucket().await).expect("open");
    exercise(&store).await;
}

async fn exercise(store: &BlobStore) {
    // Refused keys, before any I/O.
    for bad in ["../etc/passwd", "/abs", "proofs/../x", "proofs/..", ""] {
        assert!(
            matches!(
                store.put(bad, &b"x"[..]).await,
                Err(BlobError::InvalidKey(_))
            ),
            "put {bad:?}"
        );
        assert!(
            matches!(store.get(bad).await, Err(BlobError::InvalidKey(_))),
            "get {bad:?}"
        );
        assert!(
            matches!(store.delete(bad).await, Err(BlobError::InvalidKey(_))),
            "delete {bad:?}"
        );
    }
    assert!(matches!(
        store.list("../x").await,
        Err(BlobError::InvalidKey(_))
    ));

    // Missing keys: a typed NotFound.
    let missing = "proofs/00/missing";
    assert!(matches!(store.get(missing).await, Err(BlobError::NotFound(k)) if k == missing));
    assert!(matches!(
        store.size(missing).await,
        Err(BlobError::NotFound(_))
    ));
    assert!(matches!(
        store.get_range(missing, 0..10).await,
        Err(BlobError::NotFound(_))
    ));
    assert_eq!(store.list("proofs").await.unwrap(), vec![]);

    // One request: 1 MiB of random bytes, read whole and by range.
    let mut small = vec![0u8; 1 << 20];
    rand::thread_rng().fill_bytes(&mut small);
    let one = "proofs/ab/cdef0123";
    store.put(one, small.clone()).await.expect("put");
    assert_eq!(store.get(one).await.expect("get").as_ref(), &small[..]);
    let part = store.get_range(one, 500_000..500_100).await.expect("range");
    assert_eq!(part.as_ref(), &small[500_000..500_100]);
    assert_eq!(store.size(one).await.expect("size"), 1 << 20);

    // Replacing keeps the newest.
    let replaced = "proofs/ab/replaced";
    store.put(replaced, &b"first"[..]).await.unwrap();
    store.put(replaced, &b"second"[..]).await.unwrap();
    assert_eq!(store.get(replaced).await.unwrap().as_ref(), b"second");

    // Multipart: ~12 MiB streamed from a generated reader.
    let big_len: u64 = 12 * 1024 * 1024 + 12_345;
    let big = "proofs/cd/streamed";
    let written = store
        .put_stream(big, Generated::new(big_len, 7))
        .await
        .expect("put_stream");
    assert_eq!(written, big_len);
    assert_eq!(store.size(big).await.expect("size"), big_len);
    let back = store.get(big).await.expect("get streamed");
    assert_eq!(back.len() as u64, big_len);
    assert_eq!(
        hex::encode(Sha256::digest(&back)),
        Generated::sha256(big_len, 7),
        "the streamed object reads back identical"
    );
    let mid = 6 * 1024 * 1024 - 50; // across the boundary of the first two parts
    let expected = Generated::bytes(big_len, 7);
    assert_eq!(
        store
            .get_range(big, mid..mid + 100)
            .await
            .expect("range")
            .as_ref(),
        &expected[mid as usize..mid as usize + 100]
    );
    drop(expected);

    // Listing by prefix (whole segments).
    store.put("other/x", &b"x"[..]).await.unwrap();
    store.put("proofsx/y", &b"y"[..]).await.unwrap();
    let meta = |key: &str, size: u64| BlobMeta {
        key: key.to_owned(),
        size,
    };
    assert_eq!(
        store.list("proofs").await.unwrap(),
        vec![meta(one, 1 << 20), meta(replaced, 6), meta(big, big_len),]
    );
    assert_eq!(
        store.list("proofs/ab/").await.unwrap(),
        vec![meta(one, 1 << 20), meta(replaced, 6)]
    );
    assert_eq!(store.list("").await.unwrap().len(), 5);
    assert_eq!(store.list("nothing/here").await.unwrap(), vec![]);

    // Delete, twice: both Ok, and the blob is gone.
    store.delete(one).await.expect("delete");
    store.delete(one).await.expect("delete again");
    store
        .delete(missing)
        .await
        .expect("delete a never-stored key");
    assert!(matches!(store.get(one).await, Err(BlobError::NotFound(_))));
    assert!(matches!(store.size(one).await, Err(BlobError::NotFound(_))));
    assert_eq!(
        store.list("proofs/ab").await.unwrap(),
        vec![meta(replaced, 6)]
    );
    for key in [replaced, big, "other/x", "proofsx/y"] {
        store.delete(key).await.unwrap();
    }
    assert_eq!(store.list("").await.unwrap(), vec![]);
}

/// A reader of `len` pseudo-random bytes (xorshift), handed out in uneven
/// pieces, so the object never sits whole in memory on the writing side.
struct Generated {
    left: u64,
    state: u64,
    turn: usize,
}

impl Generated {
    fn new(len: u64, seed: u64) -> Generated {
        Generated {
            left: len,
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            turn: 0,
        }
    }

    fn next_byte(&mut self) -> u8 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        (self.state >> 24) as u8
    }

    fn bytes(len: u64, seed: u64) -> Vec<u8> {
        let mut g = Generated::new(len, seed);
        (0..len).map(|_| g.next_byte()).collect()
    }

    fn sha256(len: u64, seed: u64) -> String {
        let mut g = Generated::new(len, seed);
        let mut hasher = Sha256::new();
        let mut chunk = Vec::with_capacity(65_536);
        let mut left = len;
        while left > 0 {
            chunk.clear();
            let n = left.min(65_536);
            chunk.extend((0..n).map(|_| g.next_byte()));
            hasher.update(&chunk);
            left -= n;
        }
        hex::encode(hasher.finalize())
    }
}

impl AsyncRead for Generated {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        const PIECES: [usize; 4] = [1, 4_093, 65_536, 100_003];
        let this = &mut *self;
        let piece = PIECES[this.turn % PIECES.len()];
        this.turn += 1;
        let n = (buf.remaining() as u64).min(this.left).min(piece as u64) as usize;
        for _ in 0..n {
            let b = this.next_byte();
            buf.put_slice(&[b]);
        }
        this.left -= n as u64;
        Poll::Ready(Ok(()))
    }
}
