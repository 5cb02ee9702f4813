//! Customer accounts: registration with a one-time SMS code, sign-in and
//! sign-out, "my orders", one order, and cancelling while it is placed.
use super::{end_session, with_cookie, CsrfForm, Ctx, PageError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chotomoni_domain::{ConsentPurpose, OrderNumber, OrderStatus};
use chotomoni_services::accounts::{self, Registration};
use chotomoni_services::consents::ConsentChannel;
use chotomoni_services::orders::OrderQuery;
use chotomoni_services::{Actor, ServiceError};
use serde::Deserialize;
use serde_json::{json, Value as Json};

impl Ctx {
    /// The signed-in customer, or a redirect to the account sign-in page.
    pub(super) fn customer_actor(&self) -> Result<Actor, PageError> {
        match self.caller.actor() {
            a @ Actor::Customer(_) => Ok(a),
            _ => Err(self.redirect(format!("/account/sign-in?lang={}", self.lang.code()))),
        }
    }

    /// A form POST from a visitor may come without a session (sign-in,
    /// registration); with one, its token must match.
    fn csrf_if_session(&self, token: &str) -> Result<(), PageError> {
        if self.caller.session.is_some() {
            self.check_csrf(token)?;
        }
        Ok(())
    }
}

/// Redirects with the new session cookie, replacing any earlier session.
pub(super) async fn signed_in(
    ctx: &Ctx,
    state: &AppState,
    token: &str,
    to: String,
) -> Result<Response, PageError> {
    if let Some(old) = &ctx.caller.session {
        let _ = state.services.sign_out(old).await;
    }
    let max_age = i64::from(state.services.settings().session_days) * 86_400;
    let res = Redirect::to(&to).into_response();
    Ok(with_cookie(res, &ctx.caller.session_cookie(token, max_age)))
}

#[derive(Deserialize, Default)]
pub struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub async fn register_form(ctx: Ctx, State(state): State<AppState>) -> Result<Response, PageError> {
    if !state.services.registration_available() {
        return ctx.render_status(
            StatusCode::SERVICE_UNAVAILABLE,
            "account_register.html",
            json!({ "step": 0, "error": "account-sms-missing" }),
        );
    }
    ctx.render(
        "account_register.html",
        json!({ "step": 1, "values": {}, "errors": {} }),
    )
}

/// The message key for a registration field error.
pub(super) fn register_error(e: &ServiceError) -> Option<Json> {
    let ServiceError::Invalid(f) = e else {
        return None;
    };
    let (field, key) = match (f.field.as_str(), f.message.as_str()) {
        ("code", accounts::CODE_WRONG) => ("code", "account-err-code-wrong"),
        ("code", accounts::CODE_TOO_MANY_TODAY) => ("code", "account-err-code-day"),
        ("code", accounts::CODE_TOO_MANY) => ("code", "account-err-code-too-many"),
        ("code", _) => ("code", "account-err-code-expired"),
        ("phone", _) => ("phone", "err-field-phone"),
        ("name", _) => ("name", "err-field-name"),
        ("email", _) => ("email", "err-field-email"),
        ("password", _) => ("password", "account-err-password"),
        _ => ("form", "err-invalid"),
    };
    Some(json!({ field: key }))
}

pub async fn register(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<RegisterForm>,
) -> Result<Response, PageError> {
    ctx.csrf_if_session(&form.csrf)?;
    let values = json!({ "phone": form.phone, "name": form.name, "email": form.email });
    if !state.services.registration_available() {
        return ctx.render_status(
            StatusCode::SERVICE_UNAVAILABLE,
            "account_register.html",
            json!({ "step": 0, "error": "account-sms-missing" }),
        );
    }
    if form.step != "2" {
        return match state
            .services
            .start_registration(&form.phone, &ctx.caller.client)
            .await
        {
            // The same page whether or not the number is known.
            Ok(()) => ctx.render(
                "account_register.html",
                json!({ "step": 2, "values": { "phone": form.phone.trim() }, "errors": {}, "sent": true }),
            ),
            Err(ServiceError::RateLimited { .. }) => ctx.render_status(
                StatusCode::TOO_MANY_REQUESTS,
                "account_register.html",
                json!({ "step": 1, "values": values, "errors": {}, "error": "err-rate-limited" }),
            ),
            Err(e) => match register_error(&e) {
                Some(errors) => ctx.render_status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "account_register.html",
                    json!({ "step": 1, "values": values, "errors": errors }),
                ),
                None => Err(ctx.fail(e)),
            },
        };
    }
    let email = Some(form.email.as_str()).filter(|e| !e.trim().is_empty());
    let r = Registration {
        phone: &form.phone,
        code: &form.code,
        name: &form.name,
        email,
        password: &form.password,
    };
    match state
        .services
        .complete_registration(&r, ctx.lang, &ctx.caller.client)
        .await
    {
        Ok((token, _)) => {
            signed_in(
                &ctx,
                &state,
                &token,
                format!("/account?signed_in=1&lang={}", ctx.lang.code()),
            )
            .await
        }
        Err(ServiceError::Conflict(_)) => ctx.render_status(
            StatusCode::CONFLICT,
            "account_register.html",
            json!({ "step": 2, "values": values, "errors": {}, "error": "account-err-already" }),
        ),
        Err(e) => match register_error(&e) {
            Some(errors) => ctx.render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "account_register.html",
                json!({ "step": 2, "values": values, "errors": errors }),
            ),
            None => Err(ctx.fail(e)),
        },
    }
}

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    #[serde(default)]
    nocookie: Option<String>,
}

pub async fn sign_in_form(ctx: Ctx, Query(q): Query<SignInQuery>) -> Result<Response, PageError> {
    ctx.render(
        "account_sign_in.html",
        json!({ "nocookie": q.nocookie.is_some(), "phone": "" }),
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

pub async fn sign_in(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    ctx.csrf_if_session(&form.csrf)?;
    match state
        .services
        .customer_sign_in(&form.phone, &form.password, &ctx.caller.client)
        .await
    {
        Ok((token, _)) => {
            signed_in(
                &ctx,
                &state,
                &token,
                format!("/account?signed_in=1&lang={}", ctx.lang.code()),
            )
            .await
        }
        Err(
            e @ (ServiceError::BadCredentials
            | ServiceError::RateLimited { .. }
            | ServiceError::Invalid(_)),
        ) => {
            let key = match e {
                ServiceError::RateLimited { .. } => "err-rate-limited",
                _ => "account-err-bad-credentials",
            };
            let status = match e {
                ServiceError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            ctx.render_status(
                status,
                "account_sign_in.html",
                json!({ "error": key, "phone": form.phone }),
            )
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

pub async fn sign_out(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    end_session(
        &ctx,
        &state,
        &form.csrf,
        &format!("/?lang={}", ctx.lang.code()),
    )
    .await
}

#[derive(Deserialize, Default)]
pub struct OrdersQuery {
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    signed_in: Option<String>,
    #[serde(default)]
    email_sent: Option<String>,
}

pub async fn orders(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(q): Query<OrdersQuery>,
) -> Result<Response, PageError> {
    ctx.cookie_came_back(q.signed_in.is_some(), "/account/sign-in")?;
    let actor = ctx.customer_actor()?;
    let query = OrderQuery {
        before: q.before,
        limit: Some(50),
        ..OrderQuery::default()
    };
    let page = state
        .services
        .list_orders(&actor, &query)
        .await
        .map_err(|e| ctx.fail(e))?;
    let Actor::Customer(me) = actor else {
        return Err(ctx.error(StatusCode::FORBIDDEN, "err-forbidden"));
    };
    let consents: Vec<_> = state
        .services
        .consents(me)
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter()
        .filter(|(p, _)| p.is_marketing())
        .map(|(p, granted)| json!({ "purpose": p.as_str(), "granted": granted }))
        .collect();
    let requests = state
        .services
        .my_privacy_requests(&actor)
        .await
        .map_err(|e| ctx.fail(e))?;
    let contact = state
        .services
        .my_contact(&actor)
        .await
        .map_err(|e| ctx.fail(e))?;
    ctx.render(
        "account_orders.html",
        json!({ "orders": page.orders, "next": page.next_before, "marketing": consents,
                "requests": requests, "contact": contact, "email_sent": q.email_sent.is_some(),
                "can_confirm_email": state.services.email_confirmation_available() }),
    )
}

pub async fn order(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    let number = ctx.order_number(&number)?;
    order_page(&ctx, &state, number, StatusCode::OK, Json::Null).await
}

/// The customer's order page; `claim_error` says why a claim was not filed.
pub(super) async fn order_page(
    ctx: &Ctx,
    state: &AppState,
    number: OrderNumber,
    status: StatusCode,
    claim_error: Json,
) -> Result<Response, PageError> {
    let actor = ctx.customer_actor()?;
    let view = state
        .services
        .order(&actor, number)
        .await
        .map_err(|e| ctx.fail(e))?;
    let may_cancel = view.next_statuses.contains(&OrderStatus::Cancelled);
    let proofs = super::proofs::of_order(ctx, state, number).await?;
    let claims = super::claims_mine::section(ctx, state, &actor, &view, number).await?;
    ctx.render_status(
        status,
        "account_order.html",
        json!({ "order": view, "may_cancel": may_cancel, "proofs": proofs,
                "claims": claims, "claim_error": claim_error,
                "gateways": state.services.payment_choice() }),
    )
}

pub async fn cancel(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(number): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.customer_actor()?;
    let number = ctx.order_number(&number)?;
    state
        .services
        .change_status(&actor, number, OrderStatus::Cancelled)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to(&format!("/account/orders/{number}")).into_response())
}

#[derive(Deserialize)]
pub struct ConsentForm {
    purpose: String,
    granted: String,
    #[serde(default)]
    csrf: String,
}

/// One marketing choice changed from the account page.
pub async fn consent(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<ConsentForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.customer_actor()?;
    let purpose = ConsentPurpose::parse(&form.purpose)
        .filter(|p| p.is_marketing())
        .ok_or_else(|| ctx.error(StatusCode::UNPROCESSABLE_ENTITY, "err-invalid"))?;
    state
        .services
        .set_consent(
            &actor,
            purpose,
            form.granted == "1",
            ConsentChannel::AccountPage,
        )
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to("/account#marketing").into_response())
}

/// Stops all marketing in one step.
pub async fn stop_marketing(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.customer_actor()?;
    state
        .services
        .opt_out_of_marketing(&actor, ConsentChannel::AccountPage)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to("/account#marketing").into_response())
}

/// Sends a link to the customer's email to prove it is theirs.
pub async fn send_email_confirmation(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.customer_actor()?;
    state
        .services
        .send_email_confirmation(&actor)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to("/account?email_sent=1#contact").into_response())
}

/// The link from the confirmation email. Opening it changes nothing (mail
/// scanners open links); its button confirms.
pub async fn email_link(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let valid = state.services.email_link_is_valid(&token).await;
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    ctx.render_status(
        status,
        "account_email.html",
        json!({ "state": if valid { "ask" } else { "bad" }, "token": token }),
    )
}

/// The link's button: the token is the authority, as for unsubscribing,
/// so it works whether or not the person is signed in on this browser.
pub async fn confirm_email(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if ctx.caller.session.is_some() {
        ctx.check_csrf(&form.csrf)?;
    }
    match state.services.confirm_email(&token).await {
        Ok(()) => ctx.render("account_email.html", json!({ "state": "done" })),
        Err(ServiceError::NotFound(_)) => ctx.render_status(
            StatusCode::NOT_FOUND,
            "account_email.html",
            json!({ "state": "bad" }),
        ),
        Err(e) => Err(ctx.fail(e)),
    }
}
