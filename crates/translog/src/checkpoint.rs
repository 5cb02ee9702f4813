//! Signed tree heads: C2SP tlog-checkpoint bodies inside C2SP signed notes.
//!
//! ```text
//! <origin>
//! <tree size>
//! <base64 root hash>
//!
//! — <key name> <base64(key ID || Ed25519 signature)>
//! ```

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use thiserror::Error;

use crate::keys::{is_valid_key_name, KeyError, SigningKey, VerifierKey};
use crate::merkle::Hash;

/// Starts every signature line: an em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The spec asks verifiers to bound the number of signatures and to accept at
/// least 16; golang.org/x/mod/sumdb/note allows 100, which leaves room for
/// many witness cosignatures.
const MAX_SIGNATURES: usize = 100;

/// Why a tree head could not be produced or accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckpointError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("the signed tree head is not in the signed-note format: {0}")]
    MalformedNote(&'static str),
    #[error("the signed tree head's text is not a valid checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    #[error("the tree head is not signed by the key {key}; it is signed only by {signers}")]
    UnknownKey { key: String, signers: String },
    #[error("the tree head's signature does not match the key {key}")]
    BadSignature { key: String },
    #[error("note text must be non-empty, end with a newline and contain no control characters other than newlines")]
    InvalidNoteText,
    #[error("checkpoint origin {0:?} is invalid: it must be non-empty and contain no control characters")]
    InvalidOrigin(String),
}

/// A tree head: the log's identity, its size and its Merkle root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note text `"<origin>\n<size>\n<base64 root>\n"`.
    pub fn body(&self) -> Result<String, CheckpointError> {
        if self.origin.is_empty() || self.origin.chars().any(char::is_control) {
            return Err(CheckpointError::InvalidOrigin(self.origin.clone()));
        }
        Ok(format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        ))
    }

    /// Parses a checkpoint body. Extension lines are rejected: this log never
    /// writes them, and accepting them would let signed text go unexamined.
    pub fn parse_body(text: &str) -> Result<Checkpoint, CheckpointError> {
        let malformed = CheckpointError::MalformedCheckpoint;
        let lines = text
            .strip_suffix('\n')
            .ok_or(malformed("it does not end with a newline"))?;
        let lines: Vec<&str> = lines.split('\n').collect();
        let [origin, size, root] = lines[..] else {
            return Err(malformed(
                "it must have exactly three lines: origin, tree size, root hash",
            ));
        };
        if origin.is_empty() {
            return Err(malformed("the origin line is empty"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size: parse_tree_size(size).ok_or(malformed(
                "the tree size is not a decimal number without leading zeros",
            ))?,
            root: BASE64
                .decode(root)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or(malformed(
                    "the root hash is not 32 bytes of standard base64",
                ))?,
        })
    }
}

/// `u64::from_str` alone would also accept "+5" and "007".
fn parse_tree_size(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// The full signed note for `checkpoint`.
pub fn sign(checkpoint: &Checkpoint, key: &SigningKey) -> Result<String, CheckpointError> {
    sign_note(&checkpoint.body()?, key)
}

/// Checks `signed_note` against `verifier_key` (a verifier key string) and
/// returns the tree head it vouches for.
pub fn open(signed_note: &str, verifier_key: &str) -> Result<Checkpoint, CheckpointError> {
    open_with_key(signed_note, &verifier_key.parse()?)
}

/// [`open`] with an already parsed key.
pub fn open_with_key(signed_note: &str, key: &VerifierKey) -> Result<Checkpoint, CheckpointError> {
    Checkpoint::parse_body(open_note(signed_note, key)?)
}

/// Signed notes may contain no ASCII control characters except newline.
fn has_forbidden_control(text: &str) -> bool {
    text.chars().any(|c| c < ' ' && c != '\n')
}

/// Signs arbitrary note text (C2SP signed-note) with `key`.
pub fn sign_note(text: &str, key: &SigningKey) -> Result<String, CheckpointError> {
    if !text.ends_with('\n') || has_forbidden_control(text) {
        return Err(CheckpointError::InvalidNoteText);
    }
    let mut signature = key.key_id().to_be_bytes().to_vec();
    signature.extend_from_slice(&key.sign(text.as_bytes()));
    Ok(format!(
        "{text}\n{SIGNATURE_PREFIX}{} {}\n",
        key.name(),
        BASE64.encode(signature)
    ))
}

/// One parsed signature line.
struct NoteSignature<'a> {
    key_name: &'a str,
    key_id: u32,
    signature: Vec<u8>,
}

/// Checks a signed note and returns its text. Signatures by other keys (for
/// example witness cosignatures) are ignored, as the spec requires; every
/// signature by `key` must verify, and there must be at least one.
pub fn open_note<'a>(note: &'a str, key: &VerifierKey) -> Result<&'a str, CheckpointError> {
    let malformed = CheckpointError::MalformedNote;
    if has_forbidden_control(note) {
        return Err(malformed("it contains control characters"));
    }
    // The text may itself contain blank lines; the last one separates it
    // from the signatures.
    let separator = note.rfind("\n\n").ok_or(malformed(
        "there is no blank line between the text and the signatures",
    ))?;
    let (text, signature_block) = (&note[..=separator], &note[separator + 2..]);
    let signatures = parse_signatures(signature_block)?;

    let mut verified_any = false;
    for signature in signatures
        .iter()
        .filter(|s| s.key_name == key.name() && s.key_id == key.key_id())
    {
        if !key.verifies(text.as_bytes(), &signature.signature) {
            return Err(CheckpointError::BadSignature { key: key.label() });
        }
        verified_any = true;
    }
    if !verified_any {
        let signers: Vec<String> = signatures
            .iter()
            .map(|s| format!("{}+{:08x}", s.key_name, s.key_id))
            .collect();
        return Err(CheckpointError::UnknownKey {
            key: key.label(),
            signers: signers.join(", "),
        });
    }
    Ok(text)
}

fn parse_signatures(block: &str) -> Result<Vec<NoteSignature<'_>>, CheckpointError> {
    let malformed = CheckpointError::MalformedNote;
    if block.is_empty() {
        return Err(malformed("there are no signatures"));
    }
    let lines = block.strip_suffix('\n').ok_or(malformed(
        "the last signature line does not end with a newline",
    ))?;
    let lines: Vec<&str> = lines.split('\n').collect();
    if lines.len() > MAX_SIGNATURES {
        return Err(malformed("it has too many signatures"));
    }
    lines.into_iter().map(parse_signature_line).collect()
}

fn parse_signature_line(line: &str) -> Result<NoteSignature<'_>, CheckpointError> {
    let malformed = CheckpointError::MalformedNote;
    let (key_name, signature_base64) = line
        .strip_prefix(SIGNATURE_PREFIX)
        .and_then(|rest| rest.split_once(' '))
        .ok_or(malformed(
            "a signature line is not \"— <key name> <signature>\"",
        ))?;
    if !is_valid_key_name(key_name) {
        return Err(malformed("a signature line has an invalid key name"));
    }
    let decoded = BASE64
        .decode(signature_base64)
        .map_err(|_| malformed("a signature is not valid base64"))?;
    match decoded.split_first_chunk::<4>() {
        Some((key_id, signature)) if !signature.is_empty() => Ok(NoteSignature {
            key_name,
            key_id: u32::from_be_bytes(*key_id),
            signature: signature.to_vec(),
        }),
        _ => Err(malformed("a signature is too short")),
    }
}

#[cfg(test)]
mod tests;
