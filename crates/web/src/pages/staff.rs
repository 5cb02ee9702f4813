//! The back office: sign-in, order list, detail, status changes, order entry.
use super::{end_session, with_cookie, CsrfForm, Ctx, PageError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chotomoni_domain::staff::Permission;
use chotomoni_domain::{OrderNumber, OrderStatus};
use chotomoni_services::orders::OrderQuery;
use chotomoni_services::{Actor, ServiceError};
use serde::Deserialize;
use serde_json::json;

impl Ctx {
    /// The signed-in staff member, or a redirect to the sign-in page.
    pub fn staff_actor(&self) -> Result<Actor, PageError> {
        match self.caller.actor() {
            a @ Actor::Staff { .. } => Ok(a),
            _ => Err(self.redirect(format!("/staff/sign-in?lang={}", self.lang.code()))),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    #[serde(default)]
    nocookie: Option<String>,
    /// Where to go after signing in: a path on this site, else ignored.
    #[serde(default)]
    next: String,
}

pub async fn sign_in_form(ctx: Ctx, Query(q): Query<SignInQuery>) -> Result<Response, PageError> {
    ctx.render(
        "staff_sign_in.html",
        json!({ "nocookie": q.nocookie.is_some(), "next": super::station::local_path(&q.next) }),
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

pub async fn sign_in(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    if ctx.caller.session.is_some() {
        ctx.check_csrf(&form.csrf)?;
    }
    let (token, _) = match state
        .services
        .staff_sign_in(&form.username, &form.password, &ctx.caller.client)
        .await
    {
        Ok(ok) => ok,
        Err(e @ (ServiceError::BadCredentials | ServiceError::RateLimited { .. })) => {
            let key = if matches!(e, ServiceError::BadCredentials) {
                "err-bad-credentials"
            } else {
                "err-rate-limited"
            };
            return ctx.render_status(
                ctx.fail(e).status,
                "staff_sign_in.html",
                json!({ "error": key, "username": form.username, "next": super::station::local_path(&form.next) }),
            );
        }
        Err(e) => return Err(ctx.fail(e)),
    };
    if let Some(old) = &ctx.caller.session {
        let _ = state.services.sign_out(old).await;
    }
    let max_age = i64::from(state.services.settings().session_days) * 86_400;
    let to = match super::station::local_path(&form.next) {
        Some(next) => super::station::after_sign_in(next, ctx.lang),
        None => format!("/staff/orders?signed_in=1&lang={}", ctx.lang.code()),
    };
    let res = Redirect::to(&to).into_response();
    Ok(with_cookie(
        res,
        &ctx.caller.session_cookie(&token, max_age),
    ))
}

pub async fn sign_out(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    end_session(&ctx, &state, &form.csrf, "/staff/sign-in").await
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    signed_in: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    lang: Option<String>,
}

pub async fn orders(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    ctx.cookie_came_back(q.signed_in.is_some(), "/staff/sign-in")?;
    let actor = ctx.staff_actor()?;
    let nonempty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let query = OrderQuery {
        status: nonempty(&q.status),
        phone: nonempty(&q.phone),
        from: nonempty(&q.from),
        to: nonempty(&q.to),
        before: q.before,
        limit: Some(50),
    };
    let filters = json!({ "status": q.status, "from": q.from, "to": q.to, "phone": q.phone });
    let statuses: Vec<&str> = OrderStatus::ALL.iter().map(|s| s.as_str()).collect();
    match state.services.list_orders(&actor, &query).await {
        Ok(page) => {
            let next = page.next_before.map(|b| {
                serde_urlencoded::to_string([
                    ("status", q.status.as_str()),
                    ("from", q.from.as_str()),
                    ("to", q.to.as_str()),
                    ("phone", q.phone.as_str()),
                    ("before", &b.to_string()),
                ])
                .unwrap_or_default()
            });
            ctx.render(
                "staff_orders.html",
                json!({ "orders": page.orders, "next": next, "filters": filters,
                        "statuses": statuses,
                        "may_enter": actor.staff_may(Permission::EnterOrders),
                        "may_administer": actor.staff_may(Permission::Administer),
                        "may_book": actor.staff_may(Permission::BookParcels) }),
            )
        }
        Err(ServiceError::Invalid(_) | ServiceError::Forbidden) => ctx.render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "staff_orders.html",
            json!({ "orders": [], "filters": filters, "statuses": statuses,
                        "filter_error": true }),
        ),
        Err(e) => Err(ctx.fail(e)),
    }
}

pub async fn order(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    let number = ctx.order_number(&number)?;
    render_order(&ctx, &state, number, None).await
}

/// The order's page; `booking_error` says why booking its parcel was refused.
pub(super) async fn render_order(
    ctx: &Ctx,
    state: &AppState,
    number: OrderNumber,
    booking_error: Option<String>,
) -> Result<Response, PageError> {
    let actor = ctx.staff_actor()?;
    let view = state
        .services
        .order(&actor, number)
        .await
        .map_err(|e| ctx.fail(e))?;
    let proofs = super::proofs::of_order(ctx, state, number).await?;
    let courier =
        super::couriers::order_panel(state, &actor, number, view.address.district.as_deref())
            .await
            .map_err(|e| ctx.fail(e))?;
    let payments = state
        .services
        .order_payments(&actor, number)
        .await
        .map_err(|e| ctx.fail(e))?;
    let status = if booking_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    ctx.render_status(
        status,
        "staff_order.html",
        json!({
            "order": view,
            "proofs": proofs,
            "courier": courier,
            "payments": payments,
            "booking_error": booking_error,
            "back": format!("/staff/orders/{number}"),
            "origin": origin_of(ctx),
        }),
    )
}

#[derive(Deserialize)]
pub struct StatusForm {
    to: String,
    #[serde(default)]
    csrf: String,
}

pub async fn status(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(number): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    let number = ctx.order_number(&number)?;
    let to = OrderStatus::parse(&form.to)
        .ok_or_else(|| ctx.error(StatusCode::UNPROCESSABLE_ENTITY, "err-invalid"))?;
    state
        .services
        .change_status(&actor, number, to)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to(&format!("/staff/orders/{number}")).into_response())
}

/// This server's address as the browser used it, for share links staff copy.
pub(super) fn origin_of(ctx: &Ctx) -> String {
    let scheme = if ctx.caller.tls { "https" } else { "http" };
    format!("{scheme}://{}", ctx.host)
}
