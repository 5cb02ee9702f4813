//! Files handed to a browser to save: a ZIP of someone's data. Each is an
//! attachment that no cache keeps, no browser sniffs into a page, and no
//! link on it tells another site where it came from.
use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::Response;

/// A streamed private file saved as `file_name` (ASCII).
pub fn attachment(
    body: Body,
    content_type: &'static str,
    size: Option<u64>,
    file_name: &str,
) -> Response {
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(size) = size {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    }
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}
