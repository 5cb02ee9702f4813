//! Cookie choice. Without a recorded choice only strictly necessary cookies
//! are used and a banner asks, with "necessary only" as the default answer.
//! The choice is recorded (`Services::record_cookie_choice`) and remembered
//! in the strictly necessary `cm_cookies` cookie; the footer of every page
//! links here to change it. The one optional cookie the server itself sets
//! is functional: `cm_lang`, the chosen language for visitors who are not
//! signed in, and only when functional cookies are allowed.
use super::{with_cookie, Ctx, PageError};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chotomoni_domain::catalog::Lang;
use chotomoni_services::consents::CookieChoice;
use serde::Deserialize;
use serde_json::json;

pub const CHOICE_COOKIE: &str = "cm_cookies";
pub const LANG_COOKIE: &str = "cm_lang";
const CHOICE_DAYS: i64 = 180;

/// The choice remembered in `cm_cookies` (`<id>.<functional><analytics>`).
pub fn remembered(value: Option<&str>) -> Option<CookieChoice> {
    let (id, flags) = value?.split_once('.')?;
    if id.len() != 24 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match flags.as_bytes() {
        [f, a] if b"01".contains(f) && b"01".contains(a) => Some(CookieChoice {
            functional: *f == b'1',
            analytics: *a == b'1',
        }),
        _ => None,
    }
}

pub async fn settings(ctx: Ctx) -> Result<Response, PageError> {
    let choice = ctx.cookie_choice.unwrap_or_default();
    ctx.render(
        "cookies.html",
        json!({ "functional": choice.functional, "analytics": choice.analytics, "chosen": ctx.cookie_choice.is_some() }),
    )
}

#[derive(Deserialize)]
pub struct ChoiceForm {
    #[serde(default)]
    functional: Option<String>,
    #[serde(default)]
    analytics: Option<String>,
    #[serde(default)]
    back: String,
}

pub async fn choose(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ChoiceForm>,
) -> Result<Response, PageError> {
    // No session is needed to choose, so no CSRF token: a request from
    // another site is refused by its Origin instead.
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let host = origin.split("://").nth(1).unwrap_or("");
        if host != ctx.host {
            return Err(ctx.error(StatusCode::FORBIDDEN, "err-csrf"));
        }
    }
    let choice = CookieChoice {
        functional: form.functional.as_deref() == Some("1"),
        analytics: form.analytics.as_deref() == Some("1"),
    };
    let id = state
        .services
        .record_cookie_choice(&ctx.caller.actor(), choice)
        .await
        .map_err(|e| ctx.fail(e))?;
    let secure = if ctx.caller.tls { "; Secure" } else { "" };
    let mut value = format!(
        "{CHOICE_COOKIE}={id}.{}{}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        u8::from(choice.functional),
        u8::from(choice.analytics),
        CHOICE_DAYS * 86_400
    );
    // The same check as a sign-in's `next`: `/\\host` is another site too.
    let back = super::station::local_path(&form.back).unwrap_or("/");
    let mut res = Redirect::to(back).into_response();
    res = with_cookie(res, &value);
    if !choice.functional {
        // Withdrawing functional cookies removes the one that was set.
        value = format!("{LANG_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax{secure}");
        res.headers_mut()
            .append(header::SET_COOKIE, value.parse().expect("ASCII"));
    }
    Ok(res)
}

/// The functional language cookie, when allowed and the visitor switched
/// language without a session to remember it in.
pub fn language_cookie(ctx: &Ctx) -> Option<String> {
    let allowed = ctx.cookie_choice.is_some_and(|c| c.functional);
    let switched = ctx.url_lang?;
    (allowed && ctx.caller.session.is_none() && ctx.lang_cookie != Some(switched)).then(|| {
        let secure = if ctx.caller.tls { "; Secure" } else { "" };
        format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
            switched.code()
        )
    })
}

pub fn lang_of_cookie(value: Option<&str>) -> Option<Lang> {
    value.and_then(Lang::parse)
}
