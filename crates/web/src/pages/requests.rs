//! Privacy requests on pages: the customer's own (account page), the
//! public form (identity confirmed by a one-time code), the status page
//! reached by its link, and the back-office queue.
use super::{Ctx, PageError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chotomoni_domain::staff::Permission;
use chotomoni_domain::{CustomerId, RequestKind};
use chotomoni_services::accounts;
use chotomoni_services::requests::{Logged, RequestView};
use chotomoni_services::{Actor, ServiceError};
use serde::Deserialize;
use serde_json::{json, Value as Json};

#[derive(Deserialize, Default)]
pub struct PublicForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    code: String,
}

pub async fn public_form(ctx: Ctx) -> Result<Response, PageError> {
    ctx.render(
        "privacy_request_form.html",
        json!({ "step": 1, "values": { "kind": "access" }, "errors": {} }),
    )
}

/// The message key for a form field's error.
fn field_error(e: &ServiceError) -> Option<Json> {
    let ServiceError::Invalid(f) = e else {
        return None;
    };
    let key = match (f.field.as_str(), f.message.as_str()) {
        ("code", accounts::CODE_WRONG) => "account-err-code-wrong",
        ("code", accounts::CODE_TOO_MANY_TODAY) => "account-err-code-day",
        ("code", accounts::CODE_TOO_MANY) => "account-err-code-too-many",
        ("code", _) => "account-err-code-expired",
        ("address", _) => "request-err-address",
        _ => "err-invalid",
    };
    Some(json!({ f.field.clone(): key }))
}

pub async fn public_submit(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<PublicForm>,
) -> Result<Response, PageError> {
    if ctx.caller.session.is_some() {
        ctx.check_csrf(&form.csrf)?;
    }
    let values = json!({ "kind": form.kind, "address": form.address.trim() });
    let Some(kind) = RequestKind::parse(&form.kind) else {
        return ctx.render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "privacy_request_form.html",
            json!({ "step": 1, "values": values, "errors": { "kind": "request-err-kind" } }),
        );
    };
    let step = if form.step == "2" { 2 } else { 1 };
    let result = if step == 1 {
        state
            .services
            .start_public_request(kind, &form.address, &ctx.caller.client)
            .await
            .map(|()| None)
    } else {
        state
            .services
            .confirm_public_request(kind, &form.address, &form.code)
            .await
            .map(Some)
    };
    match result {
        // The same page whether or not the address is a customer's.
        Ok(None) => ctx.render(
            "privacy_request_form.html",
            json!({ "step": 2, "values": values, "errors": {} }),
        ),
        Ok(Some(logged)) => Ok(to_status_page(&ctx, &logged)),
        Err(ServiceError::RateLimited { .. }) => ctx.render_status(
            StatusCode::TOO_MANY_REQUESTS,
            "privacy_request_form.html",
            json!({ "step": step, "values": values, "errors": {}, "error": "err-rate-limited" }),
        ),
        Err(e) => match field_error(&e) {
            Some(errors) => ctx.render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "privacy_request_form.html",
                json!({ "step": step, "values": values, "errors": errors }),
            ),
            None => Err(ctx.fail(e)),
        },
    }
}

fn request_json(r: &RequestView) -> Json {
    serde_json::to_value(r).unwrap_or_default()
}

/// The status page of one request, reached by the link given when it was
/// made. For an access request it is also where a requester without an
/// account gets the download link: the status link itself is the secret.
pub async fn status(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    render_status(&ctx, &state, &token, false).await
}

/// A new download link for the request's export (the old one stops working).
pub async fn status_new_link(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<super::CsrfForm>,
) -> Result<Response, PageError> {
    if ctx.caller.session.is_some() {
        ctx.check_csrf(&form.csrf)?;
    }
    render_status(&ctx, &state, &token, true).await
}

async fn render_status(
    ctx: &Ctx,
    state: &AppState,
    token: &str,
    new_link: bool,
) -> Result<Response, PageError> {
    let r = state
        .services
        .privacy_request_by_token(token)
        .await
        .map_err(|e| ctx.fail(e))?;
    // The link was handed only to the person the request is about: the page
    // acts, and the audit log records it, as them.
    let holder = Actor::Customer(CustomerId(r.customer_id));
    let base = format!("/privacy/requests/status/{token}");
    render_request(ctx, state, r, &holder, &base, new_link).await
}

/// One of the signed-in customer's own requests (from the account page).
pub async fn mine(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    own_request(&ctx, &state, id, false).await
}

/// A new download link for one of the signed-in customer's requests.
pub async fn mine_new_link(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<super::CsrfForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    own_request(&ctx, &state, id, true).await
}

async fn own_request(
    ctx: &Ctx,
    state: &AppState,
    id: i64,
    new_link: bool,
) -> Result<Response, PageError> {
    let actor = ctx.customer_actor()?;
    let r = state
        .services
        .privacy_request(&actor, id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let base = format!("/account/requests/{id}");
    render_request(ctx, state, r, &actor, &base, new_link).await
}

/// The requester's view of a request, with its access export's progress
/// or download link; `base` is this page's own path.
async fn render_request(
    ctx: &Ctx,
    state: &AppState,
    r: RequestView,
    holder: &Actor,
    base: &str,
    new_link: bool,
) -> Result<Response, PageError> {
    let services = &state.services;
    let export = match r.export_id {
        Some(id) if new_link => Some(services.new_export_link(holder, id).await),
        Some(id) => Some(services.export_status(holder, id).await),
        None => None,
    }
    .transpose()
    .map_err(|e| ctx.fail(e))?;
    ctx.render(
        "privacy_request_status.html",
        json!({ "r": request_json(&r), "staff": false, "export": export, "base": base }),
    )
}

#[derive(Deserialize)]
pub struct SelfForm {
    #[serde(default)]
    csrf: String,
    kind: String,
}

/// The signed-in customer asks for themselves (account page).
pub async fn for_self(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<SelfForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.customer_actor()?;
    let kind = RequestKind::parse(&form.kind)
        .ok_or_else(|| ctx.error(StatusCode::UNPROCESSABLE_ENTITY, "request-err-kind"))?;
    let logged = state
        .services
        .request_for_self(&actor, kind)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(to_status_page(&ctx, &logged))
}

/// The requester's way on from a request just made: its status page, whose
/// link they keep (it is handed out only now).
fn to_status_page(ctx: &Ctx, logged: &Logged) -> Response {
    let path = logged
        .request
        .status_path
        .as_deref()
        .unwrap_or("/privacy/requests");
    Redirect::to(&format!("{path}?lang={}", ctx.lang.code())).into_response()
}

/// The back-office queue.
pub async fn queue(ctx: Ctx, State(state): State<AppState>) -> Result<Response, PageError> {
    let actor = ctx.staff_actor()?;
    if !actor.staff_may(Permission::HandlePrivacyRequests) {
        return Err(ctx.error(StatusCode::FORBIDDEN, "err-forbidden"));
    }
    let all = state
        .services
        .privacy_request_queue(&actor)
        .await
        .map_err(|e| ctx.fail(e))?;
    let list: Vec<Json> = all.iter().map(request_json).collect();
    ctx.render(
        "staff_requests.html",
        json!({ "requests": list, "values": {}, "errors": {} }),
    )
}

pub async fn detail(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let actor = ctx.staff_actor()?;
    let r = state
        .services
        .privacy_request(&actor, id)
        .await
        .map_err(|e| ctx.fail(e))?;
    ctx.render(
        "privacy_request_status.html",
        json!({ "r": request_json(&r), "staff": true }),
    )
}

#[derive(Deserialize)]
pub struct LogForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
}

/// Support logs a request that came by email, on the customer's behalf.
pub async fn log(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<LogForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    let values = json!({ "kind": form.kind, "phone": form.phone, "email": form.email });
    let rerender = |errors: Json| -> Result<Response, PageError> {
        ctx.render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "staff_requests.html",
            json!({ "requests": [], "values": values, "errors": errors }),
        )
    };
    let Some(kind) = RequestKind::parse(&form.kind) else {
        return rerender(json!({ "kind": "request-err-kind" }));
    };
    let email = Some(form.email.as_str()).filter(|e| !e.trim().is_empty());
    match state
        .services
        .log_request(&actor, kind, &form.phone, email)
        .await
    {
        Ok(logged) => {
            Ok(Redirect::to(&format!("/staff/requests/{}", logged.request.id)).into_response())
        }
        Err(ServiceError::Invalid(f)) => {
            let key = format!("err-field-{}", f.field);
            rerender(json!({ f.field: key }))
        }
        Err(ServiceError::NotFound(_)) => rerender(json!({ "phone": "request-err-no-customer" })),
        Err(e) => Err(ctx.fail(e)),
    }
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// Verify, carry out or reject, from the request's page.
pub async fn act(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    let services = &state.services;
    let done = match action.as_str() {
        "verify" => services.verify_request(&actor, id).await,
        "complete" => services.complete_request(&actor, id).await,
        "reject" => services.reject_request(&actor, id, &form.reason).await,
        _ => return Err(ctx.error(StatusCode::NOT_FOUND, "err-not-found")),
    };
    done.map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to(&format!("/staff/requests/{id}")).into_response())
}
