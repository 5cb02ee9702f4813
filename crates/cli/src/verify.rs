//! `chotomoni verify FILE RECEIPT [--key KEY]`: offline proof that a file is
//! exactly the one the proof log recorded, and when. Needs no server, no
//! database and no configuration.
use anyhow::{Context, Result};
use chotomoni_translog::{verify_receipt, Receipt};
use std::path::Path;

/// Checks the file against the receipt; prints what was established.
/// Returns whether the file verified.
pub fn run(file: &Path, receipt: &Path, key: Option<&str>) -> Result<bool> {
    let text = std::fs::read_to_string(receipt)
        .with_context(|| format!("reading the receipt {}", receipt.display()))?;
    let receipt: Receipt = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a proof receipt", receipt.display()))?;
    let pinned = key.map(read_key).transpose()?;
    let opened =
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let reader = std::io::BufReader::with_capacity(1 << 20, opened);
    match verify_receipt(reader, &receipt, pinned.as_deref()) {
        Ok(verified) => {
            let leaf = &receipt.leaf;
            println!("OK: {} is exactly the file logged as entry {} of the proof log {:?} (tree size {}).", file.display(), receipt.leaf_index, verified.checkpoint.origin, verified.checkpoint.size);
            println!("  SHA-256      {}", leaf.sha256);
            println!("  size         {} bytes, {}", leaf.size, leaf.media_type);
            println!("  order        {} ({} proof)", leaf.order, leaf.kind);
            println!(
                "  captured at  {} (device clock)",
                leaf.captured_at.as_deref().unwrap_or("not given")
            );
            println!("  received at  {} (server clock)", leaf.received_at);
            println!("  uploaded by  {}", leaf.uploader);
            if !verified.key_pinned {
                println!("Note: the log's key was taken from the receipt itself. Pass --key with the key published at /.well-known/chotomoni-log-key to check who signed it.");
            }
            Ok(true)
        }
        Err(e) => {
            println!("FAILED: {e}");
            Ok(false)
        }
    }
}

/// A key given as the key text itself, or as a file holding it.
fn read_key(key: &str) -> Result<String> {
    let path = Path::new(key);
    if path.is_file() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading the key file {key}"))?;
        return Ok(text.trim().to_owned());
    }
    Ok(key.trim().to_owned())
}
