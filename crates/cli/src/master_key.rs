//! The master key: from the environment or its file, refused when other
//! users may read the file, made on the first run of an empty database only.
use crate::config::Config;
use anyhow::{Context, Result};
use chotomoni_crypto::MasterKey;

/// The master key from CHOTOMONI_MASTER_KEY, else its file, made (0600) on
/// the first run. A database that already holds data (`populated`) never
/// gets a new key: one made now could read nobody, so a missing file is an
/// error that says where the key should be.
pub fn load(config: &Config, populated: bool) -> Result<MasterKey> {
    if let Some(hex) = &config.master_key_hex {
        return MasterKey::from_hex(hex).context("CHOTOMONI_MASTER_KEY");
    }
    let path = &config.master_key_file;
    if path.exists() {
        refuse_loose_permissions(path)?;
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return MasterKey::from_hex(&text)
            .with_context(|| format!("master key in {}", path.display()));
    }
    if populated {
        anyhow::bail!(
            "the master key file {} is missing, and this database already holds data made with a \
             master key; put the key back there (or set CHOTOMONI_MASTER_KEY) and start again. \
             A new key would read no one's data",
            path.display()
        );
    }
    let key = MasterKey::generate();
    write_private(path, &key.to_hex())?;
    tracing::warn!(path = %path.display(), "generated a new master key; back it up separately from the database");
    Ok(key)
}

/// Whoever can read the master key can read every customer: a key file
/// that other users may read (or write) is refused, not used.
fn refuse_loose_permissions(path: &std::path::Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("reading {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "the master key file {} can be read or changed by other users (mode {:o}); \
                 make it private with `chmod 600 {}` and start again",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
    Ok(())
}

pub fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}
