//! Proof of packing and delivery: resumable uploads ([`upload`], [`append`]),
//! finishing a proof into the blob store and the transparency log
//! ([`finish`], [`log`]), inspecting media ([`inspect`]), reading it back
//! ([`read`], [`view`]) and sharing one proof ([`share`]).
//!
//! Each proof file is an age file under its own key; that key is sealed
//! under the key of the order's customer, so destroying the customer's key
//! makes every copy of their proofs unreadable.
pub mod append;
pub mod durations;
pub mod finish;
pub mod inspect;
pub mod log;
pub mod read;
pub mod retention;
pub mod share;
pub mod upload;
pub mod view;

use crate::error::Context as _;
use crate::error::{Result, ServiceError};
use crate::Services;
use chotomoni_crypto::proof_stream::ProofKey;
use chotomoni_crypto::{Keyring, SealKey};
use chotomoni_media::FfmpegTools;
use chotomoni_storage::blobs::BlobStore;
use chotomoni_translog::SigningKey;
use sha2::Sha256;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct ProofSettings {
    /// Largest proof file accepted (tus `Tus-Max-Size`).
    pub max_upload_bytes: u64,
    /// Largest photo: photos are cleaned of metadata in memory.
    pub max_photo_bytes: u64,
    /// Hours an unfinished upload is kept.
    pub upload_expiry_hours: u32,
    /// Days a share link works unless revoked.
    pub share_link_days: u32,
    /// The transparency log's name (the checkpoint origin and key name).
    pub log_origin: String,
    /// An upload body that sends nothing for this long is ended, keeping
    /// what arrived (tus lets the client ask for the offset and go on).
    pub body_idle_timeout: std::time::Duration,
    /// What one uploader (a staff member or a customer) may hold unfinished.
    pub quotas: UploadQuotas,
    /// ffprobe/ffmpeg runs at once on this server; more wait their turn.
    pub inspections_at_once: usize,
}

/// Limits on what one uploader may start, so that no one account can fill
/// the staging disk or the blob store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadQuotas {
    /// Unfinished (unexpired) uploads per uploader.
    pub unfinished_uploads: u32,
    /// Declared bytes of all unfinished uploads per uploader.
    pub unfinished_bytes: u64,
    /// Claim uploads a customer may start per 24 hours (finished and
    /// unfinished; a cancelled one is gone with its bytes and not counted).
    pub claims_per_day: u32,
}

impl Default for UploadQuotas {
    fn default() -> Self {
        UploadQuotas {
            unfinished_uploads: 20,
            unfinished_bytes: 8 * 1024 * 1024 * 1024,
            claims_per_day: 10,
        }
    }
}

impl Default for ProofSettings {
    fn default() -> Self {
        ProofSettings {
            max_upload_bytes: 2 * 1024 * 1024 * 1024,
            max_photo_bytes: 50 * 1024 * 1024,
            upload_expiry_hours: 24,
            share_link_days: 14,
            log_origin: "chotomoni-proof-log".into(),
            body_idle_timeout: std::time::Duration::from_secs(60),
            quotas: UploadQuotas::default(),
            inspections_at_once: 2,
        }
    }
}

/// Where proofs live and the state shared by the requests that make them.
#[derive(Clone)]
pub struct ProofStore {
    pub blobs: BlobStore,
    /// Unfinished uploads, as sealed age chunks; on the server's disk.
    pub staging_dir: PathBuf,
    pub settings: ProofSettings,
    pub tools: Arc<FfmpegTools>,
    /// Turns to run ffprobe/ffmpeg: each run is a process and a blocking
    /// pipe feeder, so finishing many uploads at once must not start as many.
    pub(crate) inspections: Arc<tokio::sync::Semaphore>,
    pub(crate) log_key: Arc<SigningKey>,
    pub(crate) locks: Arc<UploadLocks>,
    /// The running SHA-256 of uploads this server is receiving, by id and
    /// offset; rebuilt from the staging file when missing (after a restart,
    /// or when another server took the previous piece).
    pub(crate) hashes: Arc<Mutex<HashMap<String, (u64, Sha256)>>>,
}

impl ProofStore {
    pub fn new(
        blobs: BlobStore,
        staging_dir: PathBuf,
        settings: ProofSettings,
        keys: &Keyring,
    ) -> Result<ProofStore> {
        std::fs::create_dir_all(&staging_dir).map_err(|e| {
            ServiceError::Internal(format!("cannot create {}: {e}", staging_dir.display()))
        })?;
        let log_key = SigningKey::from_seed(&settings.log_origin, keys.log_seed())
            .context("proof log key")?;
        let inspections = Arc::new(tokio::sync::Semaphore::new(
            settings.inspections_at_once.max(1),
        ));
        Ok(ProofStore {
            blobs,
            staging_dir,
            settings,
            tools: Arc::new(FfmpegTools::default()),
            inspections,
            log_key: Arc::new(log_key),
            locks: Default::default(),
            hashes: Default::default(),
        })
    }

    /// The log's public key in the signed-note form (`name+hash+key`).
    pub fn log_verifier_key(&self) -> String {
        self.log_key.verifier_key()
    }

    pub(crate) fn staging_path(&self, upload_id: &str) -> PathBuf {
        self.staging_dir.join(format!("{upload_id}.age"))
    }
}

/// One lock per upload id, so two requests for the same upload on this
/// server take turns (the database's compare-and-set covers other servers).
#[derive(Default)]
pub(crate) struct UploadLocks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl UploadLocks {
    pub(crate) async fn lock(&self, id: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut map = self.0.lock().expect("not poisoned");
            map.retain(|_, l| Arc::strong_count(l) > 1);
            map.entry(id.to_owned()).or_default().clone()
        };
        lock.lock_owned().await
    }
}

impl Services {
    pub fn proofs(&self) -> &ProofStore {
        &self.proofs
    }

    /// The key of the customer an order belongs to.
    pub(crate) async fn customer_key_of(
        &self,
        conn: &mut chotomoni_storage::Conn,
        customer_id: i64,
    ) -> Result<SealKey> {
        let wrapped = chotomoni_storage::customers::wrapped_key(conn, customer_id).await?;
        self.vault.customer_key(customer_id, wrapped.as_deref())
    }
}

/// Opens a proof key sealed under a customer's key in `context`.
pub(crate) fn open_proof_key(
    ckey: &SealKey,
    context: &chotomoni_domain::catalog::SealContext,
    sealed: &[u8],
) -> Result<ProofKey> {
    let secret = zeroize::Zeroizing::new(
        ckey.open_string(context, sealed)
            .map_err(|_| ServiceError::Sealed)?,
    );
    ProofKey::parse(&secret).map_err(|_| ServiceError::Sealed)
}
