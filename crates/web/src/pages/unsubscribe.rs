//! The unsubscribe link of marketing emails, `/unsubscribe/{token}`.
//!
//! `GET` shows a page, in Bangla and English at once (the person may read
//! either), with one button; it changes nothing, since mail scanners open
//! links. `POST` unsubscribes: it is both that button and RFC 8058's
//! one-click request, which a mail client sends with the body
//! `List-Unsubscribe=One-Click`, no cookies and no CSRF token, and which
//! expects a 2xx answer without a redirect. The token is the authority (it
//! carries a MAC under a key derived from the master key); a malformed or
//! forged one is 404. Unsubscribing twice changes nothing the second time.
use super::i18n::text;
use super::render;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chotomoni_domain::catalog::Lang;
use chotomoni_domain::ConsentPurpose;
use chotomoni_services::ServiceError;
use serde_json::{json, Value};

/// The page's state.
#[derive(Clone, Copy)]
enum Shown {
    /// The button.
    Ask,
    /// Done (or already done).
    Done,
    BadLink,
    Failed,
}

fn channel(purpose: ConsentPurpose) -> &'static str {
    match purpose {
        ConsentPurpose::MarketingSms => "sms",
        _ => "email",
    }
}

/// Both languages' words for the page, Bangla first.
fn words(shown: Shown, channel: &str) -> Value {
    let keys: &[(&str, String)] = &[
        ("title", format!("unsubscribe-title-{channel}")),
        (
            "message",
            match shown {
                Shown::Ask => format!("unsubscribe-intro-{channel}"),
                Shown::Done => format!("unsubscribe-done-{channel}"),
                Shown::BadLink => "unsubscribe-err-bad-link".into(),
                Shown::Failed => "err-generic".into(),
            },
        ),
        ("button", "unsubscribe-button".into()),
        ("privacy", "footer-privacy-policy".into()),
    ];
    let of = |lang: Lang| {
        let mut m = serde_json::Map::new();
        m.insert("lang".into(), json!(lang.code()));
        for (name, key) in keys {
            m.insert((*name).into(), json!(text(lang, key, None)));
        }
        Value::Object(m)
    };
    json!([of(Lang::Bn), of(Lang::En)])
}

fn page(status: StatusCode, shown: Shown, purpose: ConsentPurpose, token: &str) -> Response {
    let extra = json!({
        "words": words(shown, channel(purpose)),
        "ask": matches!(shown, Shown::Ask),
        "token": token,
    });
    render(json!({ "lang": "bn" }), status, "unsubscribe.html", extra).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the unsubscribe page did not render");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
}

fn failure(e: ServiceError, token: &str) -> Response {
    let email = ConsentPurpose::MarketingEmail;
    match e {
        ServiceError::NotFound(_) => page(StatusCode::NOT_FOUND, Shown::BadLink, email, ""),
        e => {
            tracing::error!(error = %e, "unsubscribe failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                Shown::Failed,
                email,
                token,
            )
        }
    }
}

/// The page with the button.
pub async fn ask(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.services.unsubscribe_link(&token).await {
        Ok(link) => page(StatusCode::OK, Shown::Ask, link.purpose, &token),
        Err(e) => failure(e, &token),
    }
}

/// The button, and RFC 8058's one-click POST (whatever its body's encoding).
pub async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
    _body: Bytes,
) -> Response {
    let link = match state.services.unsubscribe_link(&token).await {
        Ok(link) => link,
        Err(e) => return failure(e, &token),
    };
    match state.services.unsubscribe(&token).await {
        Ok(_) => page(StatusCode::OK, Shown::Done, link.purpose, &token),
        Err(e) => failure(e, &token),
    }
}
