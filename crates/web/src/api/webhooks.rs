//! Webhooks from outside services. `POST /webhooks/sms/twilio` is Twilio's
//! inbound-message webhook: each request must carry the `X-Twilio-Signature`
//! Twilio computes over the webhook's public URL and every POST parameter
//! (keyed by the account's Auth Token); anything else is refused with 403
//! and changes nothing. An opt-out keyword (STOP and Twilio's other
//! standard keywords, or "বন্ধ") suppresses the sender's number for
//! marketing SMS and is answered with a bilingual confirmation in TwiML;
//! any other message gets an empty TwiML answer. The number is never logged.
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chotomoni_services::marketing::SMS_STOP_CONFIRMATION;
use chotomoni_sms::webhook;

/// The Twilio Auth Token webhooks are checked with. `Debug` hides it.
#[derive(Clone)]
pub struct TwilioAuthToken(String);

impl TwilioAuthToken {
    pub fn new(token: impl Into<String>) -> TwilioAuthToken {
        TwilioAuthToken(token.into())
    }
}

impl std::fmt::Debug for TwilioAuthToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TwilioAuthToken(***)")
    }
}

/// The URL Twilio requested, as it signed it: the configured public URL
/// and this request's path and query; without one, this request's host
/// (and, behind a trusted proxy, its scheme).
fn signed_url(state: &AppState, headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or_else(|| uri.path());
    format!("{}{path}", site_url(state, headers))
}

/// This shop's address as outside services reach it: the configured public
/// URL; without one, this request's host (and, behind a trusted proxy, its
/// scheme). No trailing `/`.
pub(crate) fn site_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(base) = &state.services.public_url() {
        return base.to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let forwarded_https = state.config.trust_forwarded
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let scheme = if forwarded_https || state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

fn twiml(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Twilio's inbound-message webhook (SMS opt-out by STOP).
#[utoipa::path(
    post,
    path = "/webhooks/sms/twilio",
    tag = "webhooks",
    request_body(
        content = String,
        content_type = "application/x-www-form-urlencoded",
        description = "Twilio's inbound-message parameters (From, To, Body, MessageSid, …), signed in the X-Twilio-Signature header"
    ),
    params(("X-Twilio-Signature" = String, Header, description = "base64 HMAC-SHA1 of the webhook URL and the sorted parameters, keyed by the Auth Token")),
    responses(
        (status = 200, description = "TwiML: a confirmation for an opt-out keyword, else an empty <Response/>", content_type = "text/xml"),
        (status = 403, description = "Missing or wrong signature, or no Auth Token configured; nothing changed", body = crate::error::ErrorBody),
        (status = 400, description = "Not a form body", body = crate::error::ErrorBody)
    )
)]
pub async fn twilio_inbound(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let Some(token) = &state.config.twilio_auth_token else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "webhook_not_configured",
            "SMS webhooks are not accepted: no Twilio Auth Token is configured",
        ));
    };
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_form",
            "the body must be form-encoded (application/x-www-form-urlencoded)",
        )
    })?;
    let given = headers
        .get(webhook::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let url = signed_url(&state, &headers, &uri);
    if !webhook::verify(&token.0, &url, &params, given) {
        tracing::warn!("refused an SMS webhook without a valid X-Twilio-Signature");
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_signature",
            "the X-Twilio-Signature header is missing or does not match this request",
        ));
    }
    let field = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    if !webhook::is_opt_out(field("Body")) {
        return Ok(twiml(webhook::twiml_empty()));
    }
    state.services.sms_stop(field("From")).await?;
    Ok(twiml(webhook::twiml_message(SMS_STOP_CONFIRMATION)))
}
