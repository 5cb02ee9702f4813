//! SSLCommerz's `verify_sign` over a notice, computed as its official
//! libraries do (`SslCommerzNotification::SSLCOMMERZ_hash_varify` in PHP,
//! `hash_validate_ipn` in Python): the fields named in `verify_key`, plus
//! `store_passwd` = md5 hex of the store password, sorted by name, written
//! `k=v&k=v` without URL-encoding, md5 hex.
use md5::{Digest, Md5};
use std::collections::BTreeMap;

fn md5_hex(text: &str) -> String {
    format!("{:x}", Md5::digest(text.as_bytes()))
}

/// The signature SSLCommerz would put on `pairs` for `store_password`, or
/// `None` when the pairs carry no `verify_key`.
///
/// A name in `verify_key` missing from the pairs is left out, as the PHP
/// library does (`isset`); the first of repeated names counts. Trailing
/// `&` are trimmed as the libraries' `rtrim`/`strip` do, even when they end
/// the last value: the signature follows their text, not a cleaner one.
pub fn verify_sign(pairs: &[(String, String)], store_password: &str) -> Option<String> {
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let keys = value("verify_key")?;
    let mut signed: BTreeMap<&str, String> = keys
        .split(',')
        .filter_map(|k| value(k).map(|v| (k, v.to_owned())))
        .collect();
    signed.insert("store_passwd", md5_hex(store_password));
    let mut text = String::new();
    for (k, v) in &signed {
        text.push_str(k);
        text.push('=');
        text.push_str(v);
        text.push('&');
    }
    Some(md5_hex(text.trim_end_matches('&')))
}

/// What a notice must sign: the shop acts on these before it asks
/// SSLCommerz, so a notice whose `verify_key` leaves them out is not taken
/// (the libraries sign whatever `verify_key` names, which its sender picks).
const MUST_SIGN: &[&str] = &["tran_id", "status"];

/// Whether `pairs` carry a `verify_sign` that `store_password` gives, over
/// at least [`MUST_SIGN`].
pub fn signature_holds(pairs: &[(String, String)], store_password: &str) -> bool {
    let covers = pairs
        .iter()
        .find(|(k, _)| k == "verify_key")
        .is_some_and(|(_, keys)| MUST_SIGN.iter().all(|m| keys.split(',').any(|k| k == *m)));
    if !covers {
        return false;
    }
    let posted = pairs
        .iter()
        .find(|(k, _)| k == "verify_sign")
        .map(|(_, v)| v.to_ascii_lowercase());
    match (posted, verify_sign(pairs, store_password)) {
        (Some(posted), Some(expected)) => {
            // Equal length hex; a constant-time compare costs nothing here.
            posted.len() == expected.len()
                && posted
                    .bytes()
                    .zip(expected.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::stand_in::VERIFY_KEY;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The sample IPN of SSLCommerz-Python's README, copied as it stands.
    fn readme_sample() -> Vec<(String, String)> {
        pairs(&[
            ("tran_id", "5E121A0D01F92"),
            ("val_id", "200105225826116qFnATY9sHIwo"),
            ("amount", "10.00"),
            ("card_type", "VISA-Dutch Bangla"),
            ("store_amount", "9.75"),
            ("card_no", "418117XXXXXX6675"),
            ("bank_tran_id", "200105225825DBgSoRGLvczhFjj"),
            ("status", "VALID"),
            ("tran_date", "2020-01-05 22:58:21"),
            ("currency", "BDT"),
            ("card_issuer", "TRUST BANK, LTD."),
            ("card_brand", "VISA"),
            ("card_issuer_country", "Bangladesh"),
            ("card_issuer_country_code", "BD"),
            ("store_id", "test_testemi"),
            ("verify_sign", "d42fab70ae0bcbda5280e7baffef60b0"),
            ("verify_key", VERIFY_KEY),
            (
                "verify_sign_sha2",
                "02c0417ff467c109006382d56eedccecd68382e47245266e7b47abbb3d43976e",
            ),
            ("currency_type", "BDT"),
            ("currency_amount", "10.00"),
            ("currency_rate", "1.0000"),
            ("base_fair", "0.00"),
            ("value_a", ""),
            ("value_b", ""),
            ("value_c", ""),
            ("value_d", ""),
            ("risk_level", "0"),
            ("risk_title", "Safe"),
        ])
    }

    #[test]
    fn the_readme_sample_ipn_verifies() {
        let sample = readme_sample();
        assert_eq!(
            verify_sign(&sample, "test_testemi@ssl").as_deref(),
            Some("d42fab70ae0bcbda5280e7baffef60b0")
        );
        assert!(signature_holds(&sample, "test_testemi@ssl"));
        assert!(!signature_holds(&sample, "qwerty"));
        let mut tampered = sample.clone();
        tampered[2].1 = "1000.00".into();
        assert!(!signature_holds(&tampered, "test_testemi@ssl"));
        // A sender who leaves status out of verify_key is not taken at its word.
        let mut narrow = pairs(&[("tran_id", "5E121A0D01F92"), ("status", "VALID")]);
        narrow.push(("verify_key".into(), "tran_id".into()));
        let narrow_sign = verify_sign(&narrow, "test_testemi@ssl").unwrap();
        narrow.push(("verify_sign".into(), narrow_sign));
        assert!(!signature_holds(&narrow, "test_testemi@ssl"));
    }
}
