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
