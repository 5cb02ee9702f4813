//! `/assets/…`: the packing station's script, styles, icon and manifest and
//! the vendored browser libraries, compiled into the binary so it needs no
//! files beside it. Each answer carries its type, `nosniff`, and an ETag
//! (SHA-256 of the bytes) with `Cache-Control: no-cache`, so browsers
//! revalidate every time and get 304 until the binary changes.
use crate::error::ApiError;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::OnceLock;

macro_rules! embed {
    ($($path:literal),+ $(,)?) => {
        &[$(($path, include_bytes!(concat!("../assets/", $path)) as &[u8])),+]
    };
}

/// Every file under `crates/web/assets/` (a test checks that none is missing).
static FILES: &[(&str, &[u8])] = embed!(
    "claims/evidence.js",
    "claims/unboxing.js",
    "station/i18n.js",
    "station/icon.svg",
    "station/manifest.webmanifest",
    "station/queue.js",
    "station/recorder.js",
    "station/scanner.js",
    "station/station.css",
    "station/station.js",
    "station/store.js",
    "station/sw.js",
    "station/ui.js",
    "vendor/VERSIONS",
    "vendor/tus-js-client.LICENSE",
    "vendor/tus.min.js",
    "vendor/zxing-library.LICENSE",
    "vendor/zxing.min.js",
);

/// The service worker may control `/station` although it lives under `/assets/`.
const SERVICE_WORKER: &str = "station/sw.js";

struct Asset {
    bytes: &'static [u8],
    content_type: &'static str,
    etag: HeaderValue,
}

fn assets() -> &'static HashMap<&'static str, Asset> {
    static ASSETS: OnceLock<HashMap<&'static str, Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        FILES
            .iter()
            .map(|&(path, bytes)| {
                let etag = format!("\"{}\"", hex::encode(Sha256::digest(bytes)));
                let asset = Asset {
                    bytes,
                    content_type: content_type(path),
                    etag: HeaderValue::from_str(&etag).expect("hex is ASCII"),
                };
                (path, asset)
            })
            .collect()
    })
}

/// The paths served, relative to `/assets/`.
pub fn names() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(path, _)| *path)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("webmanifest") => "application/manifest+json",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("png") => "image/png",
        _ => "text/plain; charset=utf-8",
    }
}

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/assets/{*path}", get(asset))
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = assets().get(path.as_str()) else {
        return ApiError::not_found("asset").into_response();
    };
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag.as_bytes() == asset.etag.as_bytes());
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut res = asset.bytes.into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        res
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, asset.etag.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if path == SERVICE_WORKER {
        h.insert(
            HeaderName::from_static("service-worker-allowed"),
            HeaderValue::from_static("/station"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_by_extension() {
        assert_eq!(
            content_type("station/sw.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("station/station.css"),
            "text/css; charset=utf-8"
        );
        assert_eq!(
            content_type("station/manifest.webmanifest"),
            "application/manifest+json"
        );
        assert_eq!(content_type("station/icon.svg"), "image/svg+xml");
        assert_eq!(content_type("vendor/VERSIONS"), "text/plain; charset=utf-8");
        assert_eq!(assets().len(), FILES.len(), "no path twice");
    }
}
