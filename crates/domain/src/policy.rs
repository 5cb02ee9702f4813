//! The published privacy policy. Version 1 is the text the shop published
//! (Bangla, then English); it is compiled in so a fresh install can show it.

use crate::order::string_enum;
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

string_enum! {
    /// Where a customer accepted a version.
    Acceptance {
        Registration = "registration",
        Notice = "notice",
        Checkout = "checkout",
    }
}

pub const V1: &str = include_str!("../../../policy/privacy-policy.txt");

/// Where the English half of version 1 begins.
const ENGLISH_START: &str = "Chotomoni is committed to protecting your privacy.";

/// Version 1 in one language.
pub fn v1(lang: crate::catalog::Lang) -> &'static str {
    let split = V1.find(ENGLISH_START).unwrap_or(V1.len());
    match lang {
        crate::catalog::Lang::Bn => V1[..split].trim(),
        crate::catalog::Lang::En => V1[split..].trim(),
    }
}

/// The most a policy text may hold, in characters (the published one has ~6,000).
pub const MAX_CHARS: usize = 100_000;

/// A new version as an admin submits it: both languages are required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDraft {
    pub bn: String,
    pub en: String,
}

impl PolicyDraft {
    pub fn parse(bn: &str, en: &str) -> Result<PolicyDraft, crate::FieldError> {
        let text = |field: &str, value: &str| -> Result<String, crate::FieldError> {
            // The limit is on what was sent (the API's maxLength), padding included.
            let too_long = value.chars().count() > MAX_CHARS;
            let value = value.replace("\r\n", "\n");
            let trimmed = value.trim();
            if trimmed.is_empty() {
                return Err(crate::FieldError::new(
                    field,
                    "is required: every version is published in Bangla and English",
                ));
            }
            if too_long {
                return Err(crate::FieldError::new(
                    field,
                    format!("is longer than {MAX_CHARS} characters"),
                ));
            }
            Ok(trimmed.to_owned())
        };
        Ok(PolicyDraft {
            bn: text("bn", bn)?,
            en: text("en", en)?,
        })
    }
}

/// One line of a diff between two versions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "op", content = "text", rename_all = "snake_case")]
pub enum DiffLine {
    Same(String),
    Removed(String),
    Added(String),
}

/// Line-by-line differences from `old` to `new` (longest common
/// subsequence of their non-empty lines), for a reader comparing versions.
pub fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let b: Vec<&str> = new
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::with_capacity(a.len().max(b.len())));
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(DiffLine::Same(a[i].to_owned()));
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // Removals before additions: the old line, then what replaced it.
            out.push(DiffLine::Removed(a[i].to_owned()));
            i += 1;
        } else {
            out.push(DiffLine::Added(b[j].to_owned()));
            j += 1;
        }
    }
    out
}

/// A policy text as blocks for display: headings, paragraphs and bullet lists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum Block {
    Heading(String),
    Paragraph(String),
    List(Vec<String>),
}

pub fn blocks(text: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(item) = line.strip_prefix("- ") {
            match out.last_mut() {
                Some(Block::List(items)) => items.push(item.to_owned()),
                _ => out.push(Block::List(vec![item.to_owned()])),
            }
        } else if is_heading(line) {
            out.push(Block::Heading(line.to_owned()));
        } else {
            match out.last_mut() {
                // The published text wraps sentences across lines; join them.
                Some(Block::Paragraph(p)) if !ends_sentence(p) => {
                    p.push(' ');
                    p.push_str(line);
                }
                _ => out.push(Block::Paragraph(line.to_owned())),
            }
        }
    }
    out
}

fn ends_sentence(p: &str) -> bool {
    p.ends_with(['.', '।', ':', '!', '?'])
}

/// Short lines without sentence punctuation are section titles.
fn is_heading(line: &str) -> bool {
    line.chars().count() <= 40 && !line.ends_with(['.', '।', ':', ',', '—']) && !line.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Lang;

    #[test]
    fn drafts_need_both_languages() {
        assert_eq!(PolicyDraft::parse("  ", "text").unwrap_err().field, "bn");
        assert_eq!(PolicyDraft::parse("লেখা", "").unwrap_err().field, "en");
        let d = PolicyDraft::parse(" লেখা\r\nআরও ", "Text").unwrap();
        assert_eq!(d.bn, "লেখা\nআরও");
        assert_eq!(
            PolicyDraft::parse("x", &"y".repeat(MAX_CHARS + 1))
                .unwrap_err()
                .field,
            "en"
        );
        // The API's maxLength counts what was sent, so padding that trimming
        // would drop still makes a text too long.
        let padded = format!("{} ", "y".repeat(MAX_CHARS));
        assert_eq!(PolicyDraft::parse(&padded, "x").unwrap_err().field, "bn");
        assert!(PolicyDraft::parse(&"y".repeat(MAX_CHARS), "x").is_ok());
    }

    #[test]
    fn diffs_show_what_changed_line_by_line() {
        let old = "Title\nWe keep A.\nWe share B.\n\nEnd";
        let new = "Title\nWe keep A and C.\nWe share B.\nEnd\nNew rule";
        assert_eq!(
            diff(old, new),
            vec![
                DiffLine::Same("Title".into()),
                DiffLine::Removed("We keep A.".into()),
                DiffLine::Added("We keep A and C.".into()),
                DiffLine::Same("We share B.".into()),
                DiffLine::Same("End".into()),
                DiffLine::Added("New rule".into()),
            ]
        );
        assert!(diff(V1, V1).iter().all(|l| matches!(l, DiffLine::Same(_))));
    }

    #[test]
    fn both_languages_are_there_and_split() {
        assert!(v1(Lang::Bn).starts_with("ছোটমনি"));
        assert!(!v1(Lang::Bn).contains("Information we collect"));
        assert!(v1(Lang::En).starts_with("Chotomoni is committed"));
        assert!(v1(Lang::En).ends_with("Terms & Conditions."));
    }

    #[test]
    fn blocks_find_headings_and_lists() {
        let b = blocks(v1(Lang::En));
        assert!(b.contains(&Block::Heading("Information we collect".into())));
        assert!(b.contains(&Block::Heading("Your rights".into())));
        let lists: Vec<&Vec<String>> = b
            .iter()
            .filter_map(|x| {
                if let Block::List(l) = x {
                    Some(l)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(lists[0].len(), 5, "five kinds of data collected");
        assert!(b.iter().any(|x| matches!(x, Block::Paragraph(p) if p.contains("(to scan barcodes and take photos or short videos)"))));
    }
}
