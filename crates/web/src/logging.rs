//! Logging that cannot leak personal data: every formatted line passes
//! through `mask` before it is written, whatever code emitted it. Phone
//! numbers and email addresses are masked wherever they appear (URLs and
//! query strings included); the values of fields named like personal data
//! are replaced whole. Secrets that travel in paths or headers (share,
//! status, export download and unsubscribe links, bearer tokens, the
//! session cookie) are masked the same way.
use regex::Regex;
use std::io::{self, Write};
use std::sync::OnceLock;
use tracing_subscriber::fmt::MakeWriter;

struct Patterns {
    link_secret: Regex,
    credential: Regex,
    phone: Regex,
    bangla_digits: Regex,
    email: Regex,
    field: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        link_secret: Regex::new(r"(/(?:share|privacy/requests/status|privacy/exports/download|unsubscribe)/)[A-Za-z0-9_\-]+").expect("valid"),
        credential: Regex::new(r#"(?i)\b(bearer\s+|cm_session=|token[=:]\s*"?)[A-Za-z0-9_\-.~+/]{8,}=*"#).expect("valid"),
        phone: Regex::new(r"(?:(?:\+|%2B)?880[\s\-]?|\b0)1[3-9](?:[\s\-]?\d){8}\b").expect("valid"),
        bangla_digits: Regex::new(r"[০-৯][০-৯\s\-]{8,}[০-৯]").expect("valid"),
        email: Regex::new(r"[A-Za-z0-9._+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+").expect("valid"),
        field: Regex::new(r#"\b(name|phone|email|address|recipient|line|area|district|instructions|delivery_instructions|password)=("(?:[^"\\]|\\.)*"|[^\s&]+)"#).expect("valid"),
    })
}

pub fn mask(line: &str) -> String {
    let p = patterns();
    let line = p.link_secret.replace_all(line, "$1[secret]");
    let line = p.credential.replace_all(&line, "$1[secret]");
    let line = p.field.replace_all(&line, "$1=[masked]");
    let line = p.email.replace_all(&line, "[email]");
    let line = p.phone.replace_all(&line, "[phone]");
    p.bangla_digits.replace_all(&line, "[phone]").into_owned()
}

/// Wraps a writer so that everything written to it is masked first.
#[derive(Clone)]
pub struct Masking<M>(pub M);

pub struct MaskingWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> Write for MaskingWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let text = String::from_utf8_lossy(&self.buf);
            self.inner.write_all(mask(&text).as_bytes())?;
            self.buf.clear();
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for MaskingWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Masking<M> {
    type Writer = MaskingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskingWriter {
            inner: self.0.make_writer(),
            buf: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks_phones_emails_and_personal_fields() {
        let line = r#"GET /track?phone=01712345678&n=CM-000042 email=rahima@example.com name="Rahima Begum" at=1764000000000"#;
        let out = mask(line);
        assert!(
            !out.contains("01712345678") && !out.contains("rahima@") && !out.contains("Rahima"),
            "{out}"
        );
        assert!(
            out.contains("CM-000042") && out.contains("1764000000000"),
            "{out}"
        );
        for p in [
            "+8801712345678",
            "%2B8801712345678",
            "017-1234-5678",
            "০১৭১২৩৪৫৬৭৮",
            "rahima%40example.com",
        ] {
            assert!(!mask(&format!("x {p} y")).contains(p), "{p}");
        }
    }

    #[test]
    fn masks_the_secrets_of_links_and_credentials() {
        let secret = "Zx9_k-3LqPw8RtY2vBn5Mc7Hd4Jf6Gs1Ae0Ui";
        for line in [
            format!("GET /share/{secret} 200"),
            format!("GET /share/{secret}/content"),
            format!("uri=/privacy/requests/status/{secret}?lang=en"),
            format!("uri=/privacy/exports/download/{secret}"),
            format!("POST /unsubscribe/{secret}"),
            format!("headers={{\"authorization\": \"Bearer {secret}\"}}"),
            format!("cookie: cm_session={secret}; cm_cookies=1.0.0"),
            format!("token={secret}"),
        ] {
            let out = mask(&line);
            assert!(!out.contains(secret), "{line} -> {out}");
            assert!(out.contains("[secret]"), "{out}");
        }
        // What identifies the request, not a secret, stays readable.
        let out = mask("GET /staff/orders/CM-000042 order=CM-000042 export=17");
        assert!(
            out.contains("/staff/orders/CM-000042") && out.contains("export=17"),
            "{out}"
        );
    }
}
