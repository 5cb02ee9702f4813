//! The key vault: a live copy of every customer's wrapped key and the
//! erasure journal, kept apart from the database and never put in a backup.
//! A backup holds sealed personal fields but no key; a restore takes the
//! keys from here. Erasure deletes the person's key here and in the
//! database, so every backup made before it can no longer be read for that
//! person, whatever happens to the backup (crypto-shredding). The vault must
//! not keep old versions of what it deletes: a local folder, or a bucket
//! without object versioning.
use crate::blobs::{BlobError, BlobResult, BlobStore};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug)]
pub struct KeyVault {
    store: BlobStore,
}

/// One entry of the erasure journal; holds no personal data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErasureEntry {
    pub customer_id: i64,
    pub erased_at: i64,
}

fn key_path(customer_id: i64) -> String {
    format!("keys/{customer_id}")
}

fn erasure_path(customer_id: i64) -> String {
    format!("erasures/{customer_id}.json")
}

fn id_after(prefix: &str, key: &str) -> Option<i64> {
    key.strip_prefix(prefix)?
        .trim_end_matches(".json")
        .parse()
        .ok()
}

impl KeyVault {
    pub fn new(store: BlobStore) -> KeyVault {
        KeyVault { store }
    }

    pub async fn put_key(&self, customer_id: i64, wrapped: &[u8]) -> BlobResult<()> {
        self.store
            .put(&key_path(customer_id), wrapped.to_vec())
            .await
    }

    pub async fn key(&self, customer_id: i64) -> BlobResult<Option<Vec<u8>>> {
        match self.store.get(&key_path(customer_id)).await {
            Ok(bytes) => Ok(Some(bytes.to_vec())),
            Err(BlobError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn delete_key(&self, customer_id: i64) -> BlobResult<()> {
        match self.store.delete(&key_path(customer_id)).await {
            Ok(()) | Err(BlobError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The customer ids that have a key here.
    pub async fn key_ids(&self) -> BlobResult<Vec<i64>> {
        let mut ids: Vec<i64> = self
            .store
            .list("keys/")
            .await?
            .iter()
            .filter_map(|m| id_after("keys/", &m.key))
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    pub async fn record_erasure(&self, entry: &ErasureEntry) -> BlobResult<()> {
        let json = serde_json::to_vec(entry).expect("plain struct serialises");
        self.store.put(&erasure_path(entry.customer_id), json).await
    }

    /// Every erasure recorded here, oldest first.
    pub async fn erasures(&self) -> BlobResult<Vec<ErasureEntry>> {
        let mut out = Vec::new();
        for meta in self.store.list("erasures/").await? {
            let bytes = self.store.get(&meta.key).await?;
            match serde_json::from_slice::<ErasureEntry>(&bytes) {
                Ok(e) => out.push(e),
                Err(e) => {
                    return Err(BlobError::Config(format!(
                        "key vault entry {} is unreadable: {e}",
                        meta.key
                    )))
                }
            }
        }
        out.sort_by_key(|e| (e.erased_at, e.customer_id));
        Ok(out)
    }
}
