//! Twilio's webhooks: the `X-Twilio-Signature` check of an incoming request,
//! the opt-out keywords of an incoming SMS, and TwiML answers.
//!
//! The signature is computed as Twilio documents it: the full URL Twilio
//! requested (scheme, host, path and query exactly as configured in Twilio),
//! followed by every POST parameter's name and value with no delimiters,
//! sorted by name (byte order), is signed with HMAC-SHA1 keyed by the
//! account's Auth Token, and sent base64-encoded.
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The header Twilio signs its requests with.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

fn mac_over(auth_token: &str, url: &str, params: &[(String, String)]) -> Hmac<Sha1> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(&b.1)));
    let mut mac =
        <Hmac<Sha1> as Mac>::new_from_slice(auth_token.as_bytes()).expect("any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The `X-Twilio-Signature` of a form POST to `url` with `params`.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(mac_over(auth_token, url, params).finalize().into_bytes())
}

/// Whether `given` is the right signature (compared in constant time).
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], given: &str) -> bool {
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(given.trim()) else {
        return false;
    };
    !auth_token.is_empty() && mac_over(auth_token, url, params).verify_slice(&raw).is_ok()
}

/// Twilio's standard opt-out keywords, and the Bangla "বন্ধ" ("stop").
pub const OPT_OUT_KEYWORDS: &[&str] = &[
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "বন্ধ",
];

/// Is this SMS body an opt-out? The whole body, trimmed, in any case.
pub fn is_opt_out(body: &str) -> bool {
    let word = body.trim().to_uppercase();
    OPT_OUT_KEYWORDS.contains(&word.as_str())
}

/// A TwiML answer sending `text` back to the sender.
pub fn twiml_message(text: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{}</Message></Response>",
        xml_escape(text)
    )
}

/// A TwiML answer that does nothing.
pub fn twiml_empty() -> String {
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>".to_owned()
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// A real inbound SMS as Twilio signed it, kept as a test of Twilio's
    /// own Ruby helper library (spec/util/request_validator_spec.rb).
    #[test]
    fn a_request_twilio_signed_verifies() {
        let token = "2bd9e9638872de601313dc77410d3b23";
        let url = "http://twiliotests.heroku.com/validate/sms";
        let params = owned(&[
            ("ToState", "CA"),
            ("FromState", "CA"),
            ("AccountSid", "ACba8bc05eacf94afdae398e642c9cc32d"),
            ("SmsMessageSid", "SM2003cbd5e6a3701999aa3e5f20ff2787"),
            ("Body", "Orly"),
            ("From", "+14159354345"),
            ("FromCity", "SAN FRANCISCO"),
            ("SmsStatus", "received"),
            ("FromZip", "94107"),
            ("FromCountry", "US"),
            ("To", "+14158141819"),
            ("ToCity", "SAN FRANCISCO"),
            ("ToZip", "94105"),
            ("ToCountry", "US"),
            ("ApiVersion", "2010-04-01"),
            ("SmsSid", "SM2003cbd5e6a3701999aa3e5f20ff2787"),
        ]);
        assert_eq!(
            signature(token, url, &params),
            "mxeiv65lEe0b8L6LdVw2jgJi8yw="
        );
        assert!(verify(token, url, &params, "mxeiv65lEe0b8L6LdVw2jgJi8yw="));
    }

    /// The worked example of Twilio's webhook security documentation.
    #[test]
    fn the_documented_example() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let params = owned(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675310"),
            ("Digits", "1234"),
            ("From", "+14158675310"),
            ("To", "+18005551212"),
        ]);
        assert_eq!(
            signature("12345", url, &params),
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        );
    }

    #[test]
    fn anything_changed_fails() {
        let url = "https://shop.example/webhooks/sms/twilio";
        let params = owned(&[("Body", "STOP"), ("From", "+8801712345678")]);
        let good = signature("token", url, &params);
        assert!(verify("token", url, &params, &good));
        assert!(!verify("other", url, &params, &good));
        assert!(!verify(
            "token",
            "http://shop.example/webhooks/sms/twilio",
            &params,
            &good
        ));
        let mut changed = params.clone();
        changed[1].1 = "+8801812345678".into();
        assert!(!verify("token", url, &changed, &good));
        let mut added = params.clone();
        added.push(("Extra".into(), String::new()));
        assert!(
            !verify("token", url, &added, &good),
            "an empty parameter still counts"
        );
        assert!(!verify("token", url, &params, ""));
        assert!(!verify("token", url, &params, "not base64!"));
        assert!(!verify("", url, &params, &signature("", url, &params)));
        // Order of the form does not matter; the names are sorted.
        let reversed: Vec<_> = params.iter().rev().cloned().collect();
        assert!(verify("token", url, &reversed, &good));
    }

    #[test]
    fn opt_out_keywords() {
        for body in [
            "STOP",
            " stop\n",
            "Stop",
            "stopall",
            "UNSUBSCRIBE",
            "cancel",
            "End",
            "quit",
            " বন্ধ ",
        ] {
            assert!(is_opt_out(body), "{body:?}");
        }
        for body in ["", "STOP please", "stopp", "START", "hello", "বন্ধ করুন"] {
            assert!(!is_opt_out(body), "{body:?}");
        }
    }

    #[test]
    fn twiml_is_escaped() {
        assert_eq!(
            twiml_message("a < b & \"c\""),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>a &lt; b &amp; &quot;c&quot;</Message></Response>"
        );
        assert!(twiml_empty().ends_with("<Response/>"));
    }
}
