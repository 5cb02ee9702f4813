//! `chotomoni backup` and `chotomoni restore`. A backup is a folder: every
//! table from one consistent snapshot (see `chotomoni_storage::backup`), a
//! manifest of the media store (keys and sizes; the media itself stays in
//! its store, encrypted), and `manifest.json`, written last, so a folder
//! without it is an unfinished backup. Customers' keys are not in it: they
//! are copied to the key vault, and erasure deletes them there. A restore
//! loads the tables into an empty database, takes the keys from the vault,
//! and re-applies every erasure the vault's journal holds before anything
//! can be served.
use anyhow::{bail, Context, Result};
use chotomoni_services::Services;
use chotomoni_storage::backup::{self, TableFile};
use chotomoni_storage::blobs::BlobStore;
use chotomoni_storage::key_vault::KeyVault;
use chotomoni_storage::Db;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: i64,
    pub engine: String,
    pub tables: Vec<TableFile>,
    pub left_out: Vec<(String, String)>,
    pub media_objects: u64,
    pub media_bytes: u64,
    pub media_manifest_sha256: String,
}

/// What a backup wrote.
pub struct Written {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub keys_added_to_vault: usize,
}

pub async fn backup(db: &Db, media: &BlobStore, vault: &KeyVault, out: &Path) -> Result<Written> {
    let created_at = chotomoni_services::now_ms();
    let stamp = chrono::DateTime::from_timestamp_millis(created_at)
        .map(|t| t.format("%Y%m%dT%H%M%S%.3fZ").to_string())
        .unwrap_or_else(|| created_at.to_string());
    let dir = out.join(format!("chotomoni-backup-{stamp}"));
    let tables_dir = dir.join("tables");
    std::fs::create_dir_all(&tables_dir).with_context(|| format!("creating {}", dir.display()))?;

    let mut keys = Vec::new();
    let tables = backup::dump(db, &tables_dir, |id, wrapped| keys.push((id, wrapped)))
        .await
        .context("copying the database")?;
    let keys_added_to_vault = sync_vault(vault, &keys).await?;

    let objects = media.list("").await.context("listing the media store")?;
    let media_path = dir.join("media.jsonl");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&media_path)?);
    let mut media_bytes = 0;
    for o in &objects {
        writeln!(w, "{}", serde_json::json!({ "key": o.key, "size": o.size }))?;
        media_bytes += o.size;
    }
    w.into_inner().map_err(|e| e.into_error())?.sync_all()?;

    let manifest = Manifest {
        format: FORMAT,
        created_at,
        engine: format!("{:?}", db.engine).to_lowercase(),
        tables,
        left_out: backup::LEFT_OUT
            .iter()
            .map(|(t, why)| ((*t).to_owned(), (*why).to_owned()))
            .collect(),
        media_objects: objects.len() as u64,
        media_bytes,
        media_manifest_sha256: backup::file_sha256(&media_path)?,
    };
    let tmp = dir.join("manifest.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&manifest)?)?;
    std::fs::rename(&tmp, dir.join("manifest.json"))?;
    Ok(Written {
        dir,
        manifest,
        keys_added_to_vault,
    })
}

/// Puts every live key in the vault, and removes from it keys the database
/// no longer has (an erasure whose vault step failed).
async fn sync_vault(vault: &KeyVault, keys: &[(i64, Vec<u8>)]) -> Result<usize> {
    let present = vault.key_ids().await.context("reading the key vault")?;
    let mut added = 0;
    for (id, wrapped) in keys {
        if present.binary_search(id).is_err() {
            vault
                .put_key(*id, wrapped)
                .await
                .context("writing the key vault")?;
            added += 1;
        }
    }
    let mut live: Vec<i64> = keys.iter().map(|(id, _)| *id).collect();
    live.sort_unstable();
    for id in present {
        if live.binary_search(&id).is_err() {
            vault
                .delete_key(id)
                .await
                .context("cleaning the key vault")?;
        }
    }
    Ok(added)
}

pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join("manifest.json");
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "{} is missing: this is not a finished backup",
            path.display()
        )
    })?;
    let manifest: Manifest = serde_json::from_slice(&bytes).context("reading manifest.json")?;
    if manifest.format != FORMAT {
        bail!(
            "backup format {} is not one this version reads ({FORMAT})",
            manifest.format
        );
    }
    for t in &manifest.tables {
        let file = dir.join("tables").join(format!("{}.jsonl", t.table));
        let sum =
            backup::file_sha256(&file).with_context(|| format!("reading {}", file.display()))?;
        if sum != t.sha256 {
            bail!(
                "{} does not match the manifest: the backup is damaged",
                file.display()
            );
        }
    }
    Ok(manifest)
}

/// Refuses a database that holds anything beyond the policy seeded at first start.
pub async fn check_empty(db: &Db) -> Result<()> {
    for table in ["customers", "orders", "staff", "proofs", "audit_log"] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&db.pool)
            .await?;
        if n > 0 {
            bail!("restore needs an empty database, and this one has rows in {table}; point database_url at a new database");
        }
    }
    // The first start seeds policy version 1; the backup brings its own.
    sqlx::query("DELETE FROM policy_versions")
        .execute(&db.pool)
        .await?;
    // The key's canary is written anew at the first start after the restore.
    sqlx::query("DELETE FROM installation")
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn load(db: &Db, dir: &Path, manifest: &Manifest) -> Result<()> {
    backup::load(db, &dir.join("tables"), &manifest.tables)
        .await
        .context("loading the tables")
}

/// What the restore found and did after loading.
pub struct Restored {
    pub keys_restored: usize,
    pub keys_missing: usize,
    pub erasures_reapplied: usize,
    pub media_missing: usize,
}

/// Keys from the vault, erasures re-applied, media checked.
pub async fn finish(
    services: &Services,
    dir: &Path,
    vault: &KeyVault,
    media: &BlobStore,
) -> Result<Restored> {
    let mut customers: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, erased_at FROM customers ORDER BY id")
            .fetch_all(&services.db().pool)
            .await?;
    customers.sort_unstable();
    let in_vault = vault.key_ids().await.context("reading the key vault")?;
    let mut keys_restored = 0;
    for id in &in_vault {
        if customers.binary_search_by_key(id, |c| c.0).is_err() {
            continue;
        }
        let Some(wrapped) = vault.key(*id).await.context("reading the key vault")? else {
            continue;
        };
        chotomoni_storage::customers::insert_key(
            &mut *services.db().conn().await?,
            *id,
            &wrapped,
            chotomoni_services::now_ms(),
        )
        .await?;
        keys_restored += 1;
    }
    let keys_missing = customers
        .iter()
        .filter(|(id, erased)| erased.is_none() && in_vault.binary_search(id).is_err())
        .count();
    services.rebuild_contact_indexes().await?;
    let erasures_reapplied = services.reapply_erasures().await?;
    let mut present: Vec<String> = media.list("").await?.into_iter().map(|m| m.key).collect();
    present.sort_unstable();
    let listed = std::fs::read_to_string(dir.join("media.jsonl"))?;
    let mut media_missing = 0;
    for line in listed.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let key = v["key"].as_str().unwrap_or_default();
        if present.binary_search_by(|p| p.as_str().cmp(key)).is_err() {
            media_missing += 1;
        }
    }
    Ok(Restored {
        keys_restored,
        keys_missing,
        erasures_reapplied,
        media_missing,
    })
}
