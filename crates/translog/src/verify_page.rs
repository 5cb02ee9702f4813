//! `verify.html`: the page in a claim pack that lets a marketplace reviewer
//! check, offline in a browser, that the pack's original files are the ones
//! the log vouches for.
//!
//! The page is one self-contained file, because it is opened from disk
//! (`file://`), where a page cannot load its neighbours, and because a
//! reviewer should be able to see that it fetches nothing. The pack's facts
//! travel inside it as JSON; the checks themselves run in the browser with
//! WebCrypto and repeat those of [`verify_receipt`](crate::verify_receipt).
//!
//! What browser tests may rely on: the inputs `#pick-files` (multiple) and
//! `#pick-folder` (a folder); one `.file` per packed file with `data-path` and
//! `data-state` (`unchecked`, `verified` or `failed`); and `#summary`, whose
//! `data-state` is `checking` while any check runs, then `verified` when every
//! file is, `failed` when any is, else `unchecked`.

use serde::Serialize;

use crate::receipt::Receipt;

/// The page, with [`DATA_PLACEHOLDER`] where the pack's JSON goes.
const TEMPLATE: &str = include_str!("verify.html");

/// Appears exactly once in the template, inside
/// `<script type="application/json" id="pack">`.
const DATA_PLACEHOLDER: &str = "__CHOTOMONI_PACK_JSON__";

/// One original file of a claim pack and the receipt that vouches for it.
#[derive(Debug, Clone, Serialize)]
pub struct PackedFile {
    /// Where the file is inside the ZIP, e.g. `originals/1-packing-12.mp4`.
    /// The page matches chosen files to it by the last component.
    pub path: String,
    pub receipt: Receipt,
}

/// What the page reads from its data block.
#[derive(Serialize)]
struct PackData<'a> {
    log_key: &'a str,
    files: &'a [PackedFile],
}

/// The complete `verify.html` for a pack whose files are `files`, checking
/// tree heads against `log_key` (the log's verifier key string) rather than
/// the key each receipt names, so a forged receipt cannot bring its own key.
pub fn render(log_key: &str, files: &[PackedFile]) -> String {
    let json = serde_json::to_string(&PackData { log_key, files })
        .expect("serializing strings and integers cannot fail");
    TEMPLATE.replacen(DATA_PLACEHOLDER, &escape_for_script(&json), 1)
}

/// Makes JSON safe as the text of a `<script>` element. The HTML parser ends
/// that text at `</script` and changes how it reads after `<!--`, whatever the
/// JSON means; `<` can only occur inside JSON strings, where `\u003c` reads
/// the same to `JSON.parse`. `>` and `&` go too, so no tag-like or
/// entity-like text is left for a reader (or a careless editor) to trip on.
fn escape_for_script(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::tests::sample_leaf;

    const LOG_KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const DATA_OPEN: &str = r#"<script type="application/json" id="pack">"#;

    fn packed(path: &str, order: &str) -> PackedFile {
        let mut leaf = sample_leaf();
        leaf.order = order.into();
        PackedFile {
            path: path.into(),
            receipt: Receipt {
                leaf,
                leaf_index: 6,
                tree_size: 11,
                inclusion_proof: vec!["AAAA".into(), "+/8=".into()],
                checkpoint: "log.example\n11\nroot=\n\n\u{2014} log.example c2ln\n".into(),
                log_key: LOG_KEY.into(),
            },
        }
    }

    /// The text of the data block, as the browser's HTML parser would end it.
    fn data_block(html: &str) -> &str {
        let start = html.find(DATA_OPEN).expect("the page has a data block") + DATA_OPEN.len();
        let end = html[start..]
            .to_ascii_lowercase()
            .find("</script")
            .expect("the data block is closed");
        &html[start..start + end]
    }

    #[test]
    fn template_has_one_placeholder_inside_the_data_block() {
        assert_eq!(TEMPLATE.matches(DATA_PLACEHOLDER).count(), 1);
        assert!(TEMPLATE.contains(&format!("{DATA_OPEN}{DATA_PLACEHOLDER}</script>")));
    }

    #[test]
    fn data_round_trips() {
        let files = [
            packed("originals/1-packing-12.mp4", "CM-000123"),
            packed("originals/2-delivery-12.jpg", "CM-000124"),
        ];
        let html = render(LOG_KEY, &files);
        assert!(!html.contains(DATA_PLACEHOLDER));
        let data: serde_json::Value = serde_json::from_str(data_block(&html)).unwrap();
        assert_eq!(data["log_key"], LOG_KEY);
        let rendered = data["files"].as_array().unwrap();
        assert_eq!(rendered.len(), files.len());
        for (rendered, file) in rendered.iter().zip(&files) {
            assert_eq!(rendered["path"], file.path.as_str());
            let receipt: Receipt = serde_json::from_value(rendered["receipt"].clone()).unwrap();
            assert_eq!(receipt, file.receipt);
        }
    }

    #[test]
    fn strings_cannot_break_out_of_the_data_block() {
        let hostile = "</script><script>alert(1)</script><!-- </SCRIPT > & \u{2028} \"q\" \\ ৳";
        let files = [packed(&format!("originals/{hostile}.mp4"), hostile)];
        let html = render(hostile, &files);
        let block = data_block(&html);
        let lower = block.to_ascii_lowercase();
        assert!(!lower.contains("</script") && !block.contains("<!--"));
        assert!(!block.contains(['<', '>', '&']));
        // The block runs to the page's own closing tag, so nothing after the
        // hostile strings was parsed as markup.
        assert!(html[html.find(block).unwrap() + block.len()..].starts_with("</script>"));
        let data: serde_json::Value = serde_json::from_str(block).unwrap();
        assert_eq!(data["log_key"], hostile);
        assert_eq!(data["files"][0]["receipt"]["leaf"]["order"], hostile);
        assert_eq!(
            data["files"][0]["path"],
            format!("originals/{hostile}.mp4").as_str()
        );
    }

    #[test]
    fn page_loads_nothing_from_anywhere() {
        let html = render(LOG_KEY, &[packed("originals/a.mp4", "CM-1")]);
        let lower = html.to_ascii_lowercase();
        for needle in [
            " src=", "<link", "url(", "@import", "http:", "https:", "fetch(", "import(",
        ] {
            assert!(!lower.contains(needle), "the page contains {needle:?}");
        }
        assert!(html.contains("default-src 'none'"));
    }
}
