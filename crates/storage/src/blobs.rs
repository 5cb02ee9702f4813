//! Media blobs (proof photos and the like) in an object store: a local folder
//! by default, or any S3-compatible store by configuration. Keys are plain
//! strings such as `proofs/ab/cdef…`; a key that could escape the store
//! (`..`, a leading `/`) is refused before any I/O.

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Size of each part of a multipart upload (S3's minimum part size is 5 MiB).
pub const PART_SIZE: usize = 5 * 1024 * 1024;
/// Parts of one multipart upload in flight at once; with [`PART_SIZE`] this
/// bounds the memory one streamed upload holds.
pub const PARTS_IN_FLIGHT: usize = 2;
/// Size of the reads from the source of a streamed upload.
const READ_SIZE: usize = 64 * 1024;

/// Where blobs live.
#[derive(Clone, PartialEq, Eq)]
pub enum BlobConfig {
    /// A folder on the local disk (created if missing).
    Local { root: PathBuf },
    /// An S3-compatible bucket. With an `endpoint` (MinIO, Garage, a
    /// non-AWS provider) requests are path-style (`endpoint/bucket/key`).
    S3 {
        endpoint: Option<String>,
        bucket: String,
        region: String,
        access_key_id: String,
        secret_access_key: String,
        allow_http: bool,
    },
}

impl fmt::Debug for BlobConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobConfig::Local { root } => f.debug_struct("Local").field("root", root).finish(),
            BlobConfig::S3 {
                endpoint,
                bucket,
                region,
                access_key_id,
                secret_access_key: _,
                allow_http,
            } => f
                .debug_struct("S3")
                .field("endpoint", endpoint)
                .field("bucket", bucket)
                .field("region", region)
                .field("access_key_id", access_key_id)
                .field("secret_access_key", &"<redacted>")
                .field("allow_http", allow_http)
                .finish(),
        }
    }
}

#[derive(Debug, Error)]
pub enum BlobError {
    #[error("invalid blob key {0:?}: keys are relative paths without `..`, `.` or empty segments")]
    InvalidKey(String),
    #[error("blob not found: {0}")]
    NotFound(String),
    #[error("blob store configuration: {0}")]
    Config(String),
    #[error("blob source could not be read: {0}")]
    Read(#[from] std::io::Error),
    #[error("blob store error: {0}")]
    Store(#[source] object_store::Error),
}

pub type BlobResult<T> = std::result::Result<T, BlobError>;

/// A listed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    pub key: String,
    pub size: u64,
}

/// The blob store: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    /// What is shown by `Debug`: never a credential.
    description: String,
    /// The folder of a local store, so a finished file on the same disk is
    /// moved into place instead of copied.
    local_root: Option<PathBuf>,
}

impl fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobStore")
            .field("store", &self.description)
            .finish()
    }
}

impl BlobStore {
    /// Opens the store the configuration names. A local folder is created;
    /// an S3 bucket must already exist (nothing is requested here).
    pub fn open(config: &BlobConfig) -> BlobResult<BlobStore> {
        match config {
            BlobConfig::Local { root } => {
                std::fs::create_dir_all(root).map_err(|e| {
                    BlobError::Config(format!("cannot create {}: {e}", root.display()))
                })?;
                let store = LocalFileSystem::new_with_prefix(root)
                    .map_err(|e| BlobError::Config(e.to_string()))?
                    .with_automatic_cleanup(true);
                Ok(BlobStore {
                    inner: Arc::new(store),
                    description: format!("local folder {}", root.display()),
                    local_root: Some(root.clone()),
                })
            }
            BlobConfig::S3 {
                endpoint,
                bucket,
                region,
                access_key_id,
                secret_access_key,
                allow_http,
            } => {
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key)
                    .with_allow_http(*allow_http);
                if let Some(endpoint) = endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_virtual_hosted_style_request(false);
                }
                let store = builder
                    .build()
                    .map_err(|e| BlobError::Config(e.to_string()))?;
                let description = match endpoint {
                    Some(endpoint) => format!("S3 bucket {bucket} at {endpoint}"),
                    None => format!("S3 bucket {bucket} in {region}"),
                };
                Ok(BlobStore {
                    inner: Arc::new(store),
                    description,
                    local_root: None,
                })
            }
        }
    }

    /// Stores `bytes` under `key` in one request, replacing what was there.
    pub async fn put(&self, key: &str, bytes: impl Into<Bytes>) -> BlobResult<()> {
        let path = parse_key(key)?;
        self.inner
            .put(&path, PutPayload::from_bytes(bytes.into()))
            .await
            .map_err(|e| store_error(key, e))?;
        Ok(())
    }

    /// Streams `reader` to `key` as a multipart upload, holding at most about
    /// `(PARTS_IN_FLIGHT + 2) * PART_SIZE` bytes at once. Returns the size
    /// written. On any failure the upload is aborted and nothing is stored.
    pub async fn put_stream<R>(&self, key: &str, mut reader: R) -> BlobResult<u64>
    where
        R: AsyncRead + Unpin + Send,
    {
        let path = parse_key(key)?;
        let upload = self
            .inner
            .put_multipart(&path)
            .await
            .map_err(|e| store_error(key, e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buf = vec![0u8; READ_SIZE];
        let mut total = 0u64;
        loop {
            let n = match reader.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(BlobError::Read(e));
                }
            };
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(store_error(key, e));
            }
            writer.write(&buf[..n]);
            total += n as u64;
        }
        writer.finish().await.map_err(|e| store_error(key, e))?;
        Ok(total)
    }

    /// Stores the finished file at `path` under `key` and removes the file.
    /// A local store on the same disk takes it with a rename (made durable
    /// with fsync of the folder); otherwise it is streamed.
    pub async fn put_file(&self, key: &str, path: &std::path::Path) -> BlobResult<u64> {
        if let Some(target) = self.local_file(key)? {
            let source = path.to_owned();
            let moved = tokio::task::spawn_blocking(move || move_durably(&source, &target))
                .await
                .map_err(|e| BlobError::Read(std::io::Error::other(e)))?;
            match moved {
                Ok(size) => return Ok(size),
                // Another file system (EXDEV): fall back to copying.
                Err(e) if e.raw_os_error() == Some(18) => {}
                Err(e) => return Err(BlobError::Read(e)),
            }
        }
        let file = tokio::fs::File::open(path).await.map_err(BlobError::Read)?;
        let size = self.put_stream(key, file).await?;
        tokio::fs::remove_file(path)
            .await
            .map_err(BlobError::Read)?;
        Ok(size)
    }

    /// The whole blob.
    pub async fn get(&self, key: &str) -> BlobResult<Bytes> {
        let path = parse_key(key)?;
        let result = self
            .inner
            .get(&path)
            .await
            .map_err(|e| store_error(key, e))?;
        result.bytes().await.map_err(|e| store_error(key, e))
    }

    /// Bytes `range` of the blob.
    pub async fn get_range(&self, key: &str, range: Range<u64>) -> BlobResult<Bytes> {
        let path = parse_key(key)?;
        self.inner
            .get_range(&path, range)
            .await
            .map_err(|e| store_error(key, e))
    }

    /// [`BlobStore::get_range`] for a caller on a blocking thread (a
    /// decryptor pulling its input). A local store reads the file right
    /// here: its `object_store` reads take a blocking thread of their own,
    /// and a pool full of readers each waiting for a second thread never
    /// frees one (many downloads at once stalled every request that needs
    /// the pool). A remote store is asked through `runtime`; its reads are
    /// network waits, not blocking threads.
    pub fn get_range_blocking(
        &self,
        key: &str,
        range: Range<u64>,
        runtime: &tokio::runtime::Handle,
    ) -> BlobResult<Bytes> {
        let Some(path) = self.local_file(key)? else {
            return runtime.block_on(self.get_range(key, range));
        };
        use std::os::unix::fs::FileExt;
        let file = std::fs::File::open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => BlobError::NotFound(key.to_owned()),
            _ => BlobError::Read(e),
        })?;
        let size = file.metadata()?.len();
        let end = range.end.min(size);
        let mut buf = vec![0; end.saturating_sub(range.start) as usize];
        file.read_exact_at(&mut buf, range.start)?;
        Ok(Bytes::from(buf))
    }

    /// Where a local store keeps the blob `key`; `None` for a remote one.
    fn local_file(&self, key: &str) -> BlobResult<Option<PathBuf>> {
        let object_path = parse_key(key)?;
        Ok(self
            .local_root
            .as_ref()
            .map(|root| root.join(object_path.as_ref())))
    }

    /// The blob's size in bytes (a HEAD request).
    pub async fn size(&self, key: &str) -> BlobResult<u64> {
        let path = parse_key(key)?;
        let meta = self
            .inner
            .head(&path)
            .await
            .map_err(|e| store_error(key, e))?;
        Ok(meta.size)
    }

    /// Deletes the blob; deleting a missing blob is not an error.
    pub async fn delete(&self, key: &str) -> BlobResult<()> {
        let path = parse_key(key)?;
        match self.inner.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(key, e)),
        }
    }

    /// Every blob under `prefix` (whole path segments: `proofs/ab` lists
    /// `proofs/ab/…`, not `proofs/abc…`), sorted by key. An empty prefix
    /// lists everything.
    pub async fn list(&self, prefix: &str) -> BlobResult<Vec<BlobMeta>> {
        let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
        let path = if prefix.is_empty() {
            None
        } else {
            Some(parse_key(prefix)?)
        };
        let mut listed: Vec<BlobMeta> = self
            .inner
            .list(path.as_ref())
            .map_ok(|meta| BlobMeta {
                key: meta.location.to_string(),
                size: meta.size,
            })
            .try_collect()
            .await
            .map_err(|e| store_error(prefix, e))?;
        listed.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(listed)
    }
}

/// Checks a key and turns it into an object-store path.
fn move_durably(source: &std::path::Path, target: &std::path::Path) -> std::io::Result<u64> {
    let folder = target.parent().expect("a key has a folder");
    std::fs::create_dir_all(folder)?;
    std::fs::rename(source, target)?;
    std::fs::File::open(folder)?.sync_all()?;
    Ok(std::fs::metadata(target)?.len())
}

fn parse_key(key: &str) -> BlobResult<ObjectPath> {
    let invalid = || BlobError::InvalidKey(key.to_owned());
    if key.is_empty()
        || key.starts_with('/')
        || key.ends_with('/')
        || key.contains("..")
        || key.contains('\\')
        || key.chars().any(char::is_control)
        || key
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(invalid());
    }
    let path = ObjectPath::parse(key).map_err(|_| invalid())?;
    if path.as_ref() != key {
        return Err(invalid());
    }
    Ok(path)
}

fn store_error(key: &str, e: object_store::Error) -> BlobError {
    match e {
        object_store::Error::NotFound { .. } => BlobError::NotFound(key.to_owned()),
        e => BlobError::Store(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for good in ["proofs/ab/cdef", "a", "a.b/c.d", "x/y-z_1.jpg"] {
            assert!(parse_key(good).is_ok(), "{good}");
        }
        for bad in [
            "", "/a", "a/", "..", "a..b", "../a", "a/../b", "a/..", "./a", "a//b", "a\\b", "a\nb",
        ] {
            assert!(
                matches!(parse_key(bad), Err(BlobError::InvalidKey(_))),
                "{bad:?}"
            );
        }
    }

    /// Reads from a blocking thread while it is the only one the runtime
    /// may have: a read that needed a second thread would wait for ever.
    #[test]
    fn a_local_read_on_a_blocking_thread_needs_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = BlobStore::open(&BlobConfig::Local {
                root: dir.path().to_owned(),
            })
            .unwrap();
            store.put("proofs/ab/c", &b"0123456789"[..]).await.unwrap();
            let handle = tokio::runtime::Handle::current();
            let reads = tokio::task::spawn_blocking(move || {
                (
                    store.get_range_blocking("proofs/ab/c", 2..6, &handle),
                    // Past the end: what is there (a file shorter than recorded).
                    store.get_range_blocking("proofs/ab/c", 8..20, &handle),
                    store.get_range_blocking("proofs/ab/none", 0..1, &handle),
                )
            });
            let (middle, tail, missing) =
                tokio::time::timeout(std::time::Duration::from_secs(10), reads)
                    .await
                    .expect("the read finishes on the one blocking thread")
                    .unwrap();
            assert_eq!(&middle.unwrap()[..], b"2345");
            assert_eq!(&tail.unwrap()[..], b"89");
            assert!(matches!(missing, Err(BlobError::NotFound(_))));
        });
    }

    #[test]
    fn debug_hides_the_secret() {
        let config = BlobConfig::S3 {
            endpoint: None,
            bucket: "b".into(),
            region: "r".into(),
            access_key_id: "AKID".into(),
            secret_access_key: "very-secret-value".into(),
            allow_http: false,
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("very-secret-value"), "{shown}");
        let store = BlobStore::open(&config).unwrap();
        let shown = format!("{store:?}");
        assert!(!shown.contains("very-secret-value"), "{shown}");
    }
}
