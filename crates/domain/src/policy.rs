//! The published privacy policy. Version 1 is the text the shop published
//! (Bangla, then English); it is compiled in so a fresh install can show it.

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
