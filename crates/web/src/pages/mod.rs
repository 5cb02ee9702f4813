//! Server-rendered pages, in Bangla (the default) and English. Browsing needs
//! no cookie; the cart and staff sign-in need the one session cookie.
mod account;
mod claims;
mod claims_guest;
mod claims_mine;
mod cookies;
mod couriers;
mod entry;
mod exports;
mod form;
mod fraud;
mod i18n;
mod jobs;
mod payments;
mod privacy;
mod proofs;
mod requests;
mod shop;
mod slip;
mod staff;
pub mod station;
mod unsubscribe;

use crate::caller::Caller;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chotomoni_domain::catalog::Lang;
use chotomoni_services::auth::Session;
use chotomoni_services::ServiceError;
use serde_json::{json, Value as Json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(shop::home))
        .route("/cart/add", post(shop::cart_add))
        .route("/checkout", get(shop::checkout_form).post(shop::checkout))
        .route("/orders/{number}/placed", get(shop::placed))
        .route("/track", get(shop::track_form).post(shop::track))
        .route("/track/pay", post(payments::track_pay))
        .route("/track/claim", post(claims_guest::sign_in))
        .route(
            "/account/register",
            get(account::register_form).post(account::register),
        )
        .route(
            "/account/sign-in",
            get(account::sign_in_form).post(account::sign_in),
        )
        .route("/account/sign-out", post(account::sign_out))
        .route("/account", get(account::orders))
        .route("/account/consents", post(account::consent))
        .route("/account/marketing/stop", post(account::stop_marketing))
        .route("/account/orders/{number}", get(account::order))
        .route("/account/orders/{number}/cancel", post(account::cancel))
        .route("/account/orders/{number}/claims", post(claims_mine::file))
        .route("/account/exports", post(exports::start))
        .route("/account/exports/{id}", get(exports::page))
        .route("/account/exports/{id}/link", post(exports::new_link))
        .route("/privacy", get(privacy::policy))
        .route("/privacy/v/{n}", get(privacy::version))
        .route("/privacy/diff", get(privacy::diff))
        .route("/privacy/accept", post(privacy::accept))
        .route(
            "/privacy/cookies",
            get(cookies::settings).post(cookies::choose),
        )
        .route(
            "/staff/policy",
            get(privacy::publish_form).post(privacy::publish),
        )
        .route("/privacy/data", get(privacy::data))
        .route(
            "/privacy/requests",
            get(requests::public_form).post(requests::public_submit),
        )
        .route("/privacy/requests/status/{token}", get(requests::status))
        .route(
            "/privacy/requests/status/{token}/export-link",
            post(requests::status_new_link),
        )
        .route(
            "/account/email/confirm",
            post(account::send_email_confirmation),
        )
        .route(
            "/account/email/confirm/{token}",
            get(account::email_link).post(account::confirm_email),
        )
        .route("/account/requests", post(requests::for_self))
        .route("/account/requests/{id}", get(requests::mine))
        .route(
            "/account/requests/{id}/export-link",
            post(requests::mine_new_link),
        )
        .route("/staff/claims", get(claims::queue))
        .route("/staff/claims/{id}", get(claims::detail))
        .route("/staff/claims/{id}/review", post(claims::review))
        .route("/staff/claims/{id}/decision", post(claims::decide))
        .route("/staff/claims/{id}/refund", post(claims::record_refund))
        .route("/staff/claims/{id}/packs", post(claims::make_pack))
        .route("/staff/claim-packs/{id}/revoke", post(claims::revoke_pack))
        .route("/staff/jobs", get(jobs::page))
        .route("/staff/jobs/{id}/retry", post(jobs::retry))
        .route("/staff/requests", get(requests::queue).post(requests::log))
        .route("/staff/requests/{id}", get(requests::detail))
        .route("/staff/requests/{id}/{action}", post(requests::act))
        .route(
            "/staff/sign-in",
            get(staff::sign_in_form).post(staff::sign_in),
        )
        .route("/staff/sign-out", post(staff::sign_out))
        .route("/staff/proofs/{id}/share", post(proofs::share))
        .route("/staff/share-links/{id}/revoke", post(proofs::revoke))
        .route("/share/{token}", get(proofs::shared))
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe::ask).post(unsubscribe::unsubscribe),
        )
        .route("/share/{token}/content", get(proofs::shared_content))
        .route("/share/{token}/receipt", get(proofs::shared_receipt))
        .route("/staff/orders", get(staff::orders))
        .route(
            "/staff/orders/new",
            get(entry::new_form).post(entry::new_order),
        )
        .route("/staff/orders/{number}", get(staff::order))
        .route("/staff/orders/{number}/status", post(staff::status))
        .route("/staff/orders/{number}/book", post(couriers::book))
        .route("/staff/couriers", get(couriers::page))
        .route("/staff/couriers/book-packed", post(couriers::book_packed))
        .route("/staff/couriers/payouts", post(couriers::payout))
        .route(
            "/staff/couriers/unknown/{id}/seen",
            post(couriers::unknown_seen),
        )
        .route(
            "/staff/orders/{number}/phone-check",
            post(fraud::phone_check),
        )
        .route("/staff/orders/{number}/slip", get(slip::one))
        .route("/staff/slips", get(slip::day))
        .route("/station", get(station::page))
        .route(
            "/payments/{gateway}/return/{tran_id}",
            get(payments::returned).post(payments::returned),
        )
        .route("/account/orders/{number}/pay", post(payments::pay))
        .route("/staff/payments", get(payments::staff_page))
        .route(
            "/staff/payments/{tran_id}/{action}",
            post(payments::staff_decide_held),
        )
}

/// Who is asking, in which language, on which page.
pub struct Ctx {
    pub lang: Lang,
    pub caller: Caller,
    pub path: String,
    /// The host the browser asked for (shown in share links staff copy).
    pub host: String,
    /// For a signed-in customer who has not seen the current policy version:
    /// (the version they accepted, the current one).
    pub policy_notice: Option<(i64, i64)>,
    /// The visitor's recorded cookie choice; `None`: not asked yet.
    pub cookie_choice: Option<chotomoni_services::consents::CookieChoice>,
    /// The language asked for in this URL (`?lang=`).
    pub url_lang: Option<Lang>,
    /// The language remembered in the functional `cm_lang` cookie.
    pub lang_cookie: Option<Lang>,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let caller = Caller::from_request_parts(parts, state)
            .await
            .map_err(|e| PageError::new(Lang::Bn, e.status, "err-generic"))?;
        let url_lang =
            serde_urlencoded::from_str::<Vec<(String, String)>>(parts.uri.query().unwrap_or(""))
                .ok()
                .and_then(|q| q.into_iter().find(|(k, _)| k == "lang"))
                .and_then(|(_, v)| Lang::parse(&v));
        if let (Some(l), Some(s)) = (url_lang, &caller.session) {
            if s.lang != l {
                if let Err(e) = state.services.set_session_lang(s, l).await {
                    tracing::warn!(error = %e, "could not remember the language");
                }
            }
        }
        let cookie_choice =
            cookies::remembered(crate::caller::cookie(parts, cookies::CHOICE_COOKIE));
        // The language cookie counts only while functional cookies are allowed.
        let lang_cookie =
            cookies::lang_of_cookie(crate::caller::cookie(parts, cookies::LANG_COOKIE))
                .filter(|_| cookie_choice.is_some_and(|c| c.functional));
        let lang = url_lang
            .or_else(|| caller.session.as_ref().map(|s| s.lang))
            .or(lang_cookie)
            .unwrap_or(Lang::Bn);
        let policy_notice = match caller.actor() {
            chotomoni_services::Actor::Customer(id) => {
                state.services.policy_notice(id).await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "could not check for a policy change notice");
                    None
                })
            }
            _ => None,
        };
        Ok(Ctx {
            lang,
            caller,
            path: parts.uri.path().to_owned(),
            host: parts
                .headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost")
                .to_owned(),
            policy_notice,
            cookie_choice,
            url_lang,
            lang_cookie,
        })
    }
}

impl Ctx {
    /// Query suffix carrying the language in links when no session remembers it.
    fn lq(&self) -> &'static str {
        match (self.caller.session.is_some(), self.lang) {
            (false, Lang::En) => "?lang=en",
            _ => "",
        }
    }

    pub fn render(&self, name: &str, extra: Json) -> Result<Response, PageError> {
        self.render_status(StatusCode::OK, name, extra)
    }

    pub fn render_status(
        &self,
        status: StatusCode,
        name: &str,
        extra: Json,
    ) -> Result<Response, PageError> {
        let page = render(self.base(), status, name, extra).map_err(|e| {
            tracing::error!(error = %e, template = name, "page did not render");
            self.error(StatusCode::INTERNAL_SERVER_ERROR, "err-generic")
        })?;
        Ok(match cookies::language_cookie(self) {
            Some(cookie) => with_cookie(page, &cookie),
            None => page,
        })
    }

    fn base(&self) -> Json {
        let other = match self.lang {
            Lang::Bn => Lang::En,
            Lang::En => Lang::Bn,
        };
        json!({
            "lang": self.lang.code(),
            "lq": self.lq(),
            "switch_href": format!("{}?lang={}", self.path, other.code()),
            "switch_lang": other.code(),
            "csrf": self.caller.session.as_ref().map(|s| s.csrf_token.clone()),
            "staff": matches!(self.caller.actor(), chotomoni_services::Actor::Staff { .. }),
            "claims_desk": self.caller.actor().staff_may(chotomoni_domain::staff::Permission::HandleClaims),
            "customer": matches!(self.caller.actor(), chotomoni_services::Actor::Customer(_)),
            "policy_notice": self.policy_notice.map(|(from, to)| json!({"from": from, "to": to})),
            "here": self.path,
            "cookie_banner": self.cookie_choice.is_none(),
        })
    }

    pub fn error(&self, status: StatusCode, key: &'static str) -> PageError {
        PageError::new(self.lang, status, key)
    }

    pub fn redirect(&self, to: String) -> PageError {
        PageError {
            redirect: Some(to),
            ..PageError::new(self.lang, StatusCode::SEE_OTHER, "")
        }
    }

    /// A service failure as a page: the right status, never the internals.
    pub fn fail(&self, e: ServiceError) -> PageError {
        use ServiceError::*;
        let (status, key) = match &e {
            Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "err-invalid"),
            NotFound(_) => (StatusCode::NOT_FOUND, "err-not-found"),
            Conflict(_) => (StatusCode::CONFLICT, "err-conflict"),
            Unauthenticated => (StatusCode::UNAUTHORIZED, "err-unauthenticated"),
            BadCredentials => (StatusCode::UNAUTHORIZED, "err-bad-credentials"),
            Forbidden => (StatusCode::FORBIDDEN, "err-forbidden"),
            RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "err-rate-limited"),
            Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "err-busy"),
            QuotaExceeded { .. } => (StatusCode::TOO_MANY_REQUESTS, "err-quota"),
            Gateway { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "err-payment"),
            GatewayUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "err-payment"),
            TooLarge(_) | UnsupportedMedia(_) | ChecksumMismatch => {
                (StatusCode::UNPROCESSABLE_ENTITY, "err-invalid")
            }
            Sealed | WrongMasterKey | Storage(_) | Internal(_) | Failed { .. } | Tampered(_) => {
                tracing::error!(error = %chotomoni_services::error::chain(&e), "page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "err-generic")
            }
        };
        self.error(status, key)
    }

    /// After the redirect that follows a sign-in, no session means the
    /// browser refused the cookie: send them back to `sign_in` to say so.
    pub fn cookie_came_back(&self, signed_in: bool, sign_in: &str) -> Result<(), PageError> {
        if signed_in && self.caller.session.is_none() {
            return Err(self.redirect(format!("{sign_in}?nocookie=1&lang={}", self.lang.code())));
        }
        Ok(())
    }

    /// The order number from a URL; a malformed one is simply not found.
    pub fn order_number(&self, text: &str) -> Result<chotomoni_domain::OrderNumber, PageError> {
        chotomoni_domain::OrderNumber::parse(text)
            .map_err(|_| self.error(StatusCode::NOT_FOUND, "err-not-found"))
    }

    /// A form POST must come with the session cookie and its CSRF token.
    pub fn check_csrf(&self, token: &str) -> Result<&Session, PageError> {
        let Some(s) = self.caller.session.as_ref() else {
            return Err(self.error(StatusCode::BAD_REQUEST, "err-cookie-needed"));
        };
        if !same_token(&s.csrf_token, token) {
            return Err(self.error(StatusCode::FORBIDDEN, "err-csrf"));
        }
        Ok(s)
    }
}

/// A form that carries nothing but its CSRF token.
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// Ends the caller's session, clears its cookie and goes to `to`.
pub async fn end_session(
    ctx: &Ctx,
    state: &AppState,
    csrf: &str,
    to: &str,
) -> Result<Response, PageError> {
    let session = ctx.check_csrf(csrf)?;
    state
        .services
        .sign_out(session)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(with_cookie(
        Redirect::to(to).into_response(),
        &ctx.caller.session_cookie("", 0),
    ))
}

/// Adds a `Set-Cookie` header to a response.
pub fn with_cookie(mut res: Response, cookie: &str) -> Response {
    res.headers_mut()
        .insert(header::SET_COOKIE, cookie.parse().expect("cookie is ASCII"));
    res
}

/// Tells the browser (and scripts) when to try again after a 429.
pub fn with_retry_after(mut res: Response, secs: u64) -> Response {
    res.headers_mut()
        .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
    res
}

fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn render(
    mut base: Json,
    status: StatusCode,
    name: &str,
    extra: Json,
) -> Result<Response, minijinja::Error> {
    if let (Some(b), Json::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    let tpl = i18n::env().get_template(name)?;
    let html = tpl.render(minijinja::Value::from_serialize(&base))?;
    Ok((status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

/// A page that could not be shown, or a redirect.
#[derive(Debug)]
pub struct PageError {
    pub lang: Lang,
    pub status: StatusCode,
    pub key: &'static str,
    pub redirect: Option<String>,
}

impl PageError {
    pub fn new(lang: Lang, status: StatusCode, key: &'static str) -> Self {
        PageError {
            lang,
            status,
            key,
            redirect: None,
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let Some(to) = self.redirect {
            return Redirect::to(&to).into_response();
        }
        let base = json!({
            "lang": self.lang.code(),
            "lq": if self.lang == Lang::En { "?lang=en" } else { "" },
            "switch_href": "/",
            "switch_lang": if self.lang == Lang::En { "bn" } else { "en" },
        });
        render(
            base,
            self.status,
            "error.html",
            json!({ "message_key": self.key }),
        )
        .unwrap_or_else(|_| self.status.into_response())
    }
}
