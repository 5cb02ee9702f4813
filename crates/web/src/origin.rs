//! Every request that changes something must come from our own pages,
//! signed in or not: a cross-site form could otherwise sign a victim in to
//! the attacker's account (login CSRF), start a registration or a privacy
//! request in their name, or spend their rate-limit allowance. Browsers say
//! where a request comes from (`Sec-Fetch-Site`, else `Origin`); a request
//! with a bearer token cannot be made cross-site by a browser.
use crate::error::ApiError;
use crate::pages::PageError;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chotomoni_domain::catalog::Lang;

/// Posted to by servers, not browsers: the SMS provider's and payment
/// gateways' webhooks and the RFC 8058 one-click unsubscribe, which a mail
/// provider sends for the recipient (its token is the proof); and the
/// customer's return from a payment gateway, which the gateway's page posts
/// (it changes a payment only once the gateway confirms it).
const FROM_SERVERS: &[&str] = &["/webhooks/", "/unsubscribe/", "/payments/"];

pub async fn same_origin_only(req: Request, next: Next) -> Response {
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "));
    if !changes || bearer || FROM_SERVERS.iter().any(|p| path.starts_with(p)) {
        return next.run(req).await;
    }
    if same_origin(req.headers()) {
        return next.run(req).await;
    }
    if path.starts_with("/api/") {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site",
            "cross-site request refused",
        )
        .into_response();
    }
    let lang = serde_urlencoded::from_str::<Vec<(String, String)>>(req.uri().query().unwrap_or(""))
        .ok()
        .and_then(|q| q.into_iter().find(|(k, _)| k == "lang"))
        .and_then(|(_, v)| Lang::parse(&v))
        .unwrap_or(Lang::Bn);
    PageError::new(lang, StatusCode::FORBIDDEN, "err-csrf").into_response()
}

/// Whether the browser says the request comes from this site. Clients that
/// are not browsers send neither header and are let through: they carry no
/// victim's cookies.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match (text(header::ORIGIN.as_str()), text(header::HOST.as_str())) {
        (Some(origin), Some(host)) => origin.split("://").nth(1) == Some(host),
        (None, _) => true,
        _ => false,
    }
}
