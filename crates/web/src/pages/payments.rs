//! The pages a payment leads to: the customer's return from the gateway
//! (`/payments/{gateway}/return/{tran_id}`: SSLCommerz posts its form
//! there, bKash sends the browser with `paymentID` and `status`), which
//! shows paid, pending or failed once the gateway has been asked; and a
//! second try, by a signed-in customer from their order page or by anyone
//! from `/track` with the order's number and phone.
use super::{Ctx, PageError};
use crate::api::payments::NOTICE_MAX_BYTES;
use crate::api::webhooks::site_url;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chotomoni_domain::{GatewayName, OrderNumber, PaymentState};
use chotomoni_services::ServiceError;
use serde::Deserialize;
use serde_json::json;

/// What the page says of a payment's state.
fn shown(state: PaymentState) -> &'static str {
    match state {
        PaymentState::Paid => "paid",
        // Held payments are checked by staff: the customer waits.
        PaymentState::Started | PaymentState::Held => "pending",
        PaymentState::Failed | PaymentState::Cancelled => "failed",
    }
}

/// The customer back from the gateway. What they bring is checked with
/// the gateway before anything is recorded; the page shows the result.
pub async fn returned(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((gateway, tran_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, PageError> {
    let not_found = || ctx.error(StatusCode::NOT_FOUND, "err-not-found");
    let gateway = GatewayName::parse(&gateway).ok_or_else(not_found)?;
    if body.len() > NOTICE_MAX_BYTES {
        return Err(ctx.error(StatusCode::PAYLOAD_TOO_LARGE, "err-invalid"));
    }
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    pairs.extend(serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body).unwrap_or_default());
    let view = state
        .services
        .payment_return(gateway, &tran_id, &pairs)
        .await
        .map_err(|e| ctx.fail(e))?;
    let number = OrderNumber::parse(&view.order).map_err(|_| not_found())?;
    ctx.render(
        "payment_result.html",
        json!({ "shown": shown(view.status), "number": number.to_string(),
                "amount": view.amount, "gateway": gateway.label() }),
    )
}

#[derive(Deserialize)]
pub struct PayForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    gateway: String,
}

/// A signed-in customer pays an unpaid online order (again) from its page.
pub async fn pay(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
    Form(form): Form<PayForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.customer_actor()?;
    let number = ctx.order_number(&number)?;
    let gateway = chosen_gateway(&ctx, &form.gateway)?;
    to_gateway(&ctx, &state, &headers, &actor, number, gateway).await
}

fn chosen_gateway(ctx: &Ctx, text: &str) -> Result<GatewayName, PageError> {
    GatewayName::parse(text)
        .ok_or_else(|| ctx.error(StatusCode::UNPROCESSABLE_ENTITY, "err-invalid"))
}

/// Opens the payment session and sends the customer to the gateway's page.
async fn to_gateway(
    ctx: &Ctx,
    state: &AppState,
    headers: &HeaderMap,
    actor: &chotomoni_services::Actor,
    number: OrderNumber,
    gateway: GatewayName,
) -> Result<Response, PageError> {
    let started = state
        .services
        .start_payment(actor, number, gateway, &site_url(state, headers))
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to(&started.redirect_url).into_response())
}

#[derive(Deserialize)]
pub struct TrackPayForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    gateway: String,
}

/// A customer who did not sign in pays an unpaid online order (again) from
/// `/track`. The number and phone are checked again, behind the look-up's
/// own limit, before anything reaches a gateway: a wrong pair is the
/// look-up's 404 and starts nothing.
pub async fn track_pay(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<TrackPayForm>,
) -> Result<Response, PageError> {
    // A visitor without a session has no cookie a forged form could ride
    // on: the number and phone in the form are all the authority there is.
    if ctx.caller.session.is_some() {
        ctx.check_csrf(&form.csrf)?;
    }
    let gateway = chosen_gateway(&ctx, &form.gateway)?;
    let order = state
        .services
        .track_limited(&form.number, &form.phone, &ctx.caller.client)
        .await
        .map_err(|e| ctx.fail(e))?;
    let number = ctx.order_number(&order.number)?;
    let system = chotomoni_services::Actor::System;
    to_gateway(&ctx, &state, &headers, &system, number, gateway).await
}

/// The desk's payments page: payments held for staff, with buttons that
/// accept one or send it back, and refunds the shop must pay back by hand.
pub async fn staff_page(ctx: Ctx, State(state): State<AppState>) -> Result<Response, PageError> {
    staff_page_with(&ctx, &state, StatusCode::OK, None).await
}

async fn staff_page_with(
    ctx: &Ctx,
    state: &AppState,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, PageError> {
    let actor = ctx.staff_actor()?;
    let held = state
        .services
        .held_payments(&actor)
        .await
        .map_err(|e| ctx.fail(e))?;
    let refunds = state
        .services
        .refunds_to_pay(&actor)
        .await
        .map_err(|e| ctx.fail(e))?;
    ctx.render_status(
        status,
        "staff_payments.html",
        json!({ "held": held, "refunds": refunds, "error": error }),
    )
}

/// Staff accept a held payment from the page, or send it back (`action`
/// in the path: `accept` or `refund`).
pub async fn staff_decide_held(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((tran_id, action)): Path<(String, String)>,
    Form(form): Form<super::CsrfForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    let done = match action.as_str() {
        "accept" => state
            .services
            .accept_held_payment(&actor, &tran_id)
            .await
            .map(drop),
        "refund" => state
            .services
            .refund_held_payment(&actor, &tran_id)
            .await
            .map(drop),
        _ => return Err(ctx.error(StatusCode::NOT_FOUND, "err-not-found")),
    };
    match done {
        Ok(()) => Ok(Redirect::to("/staff/payments").into_response()),
        Err(ServiceError::Conflict(message)) => {
            staff_page_with(&ctx, &state, StatusCode::CONFLICT, Some(message)).await
        }
        Err(e) => Err(ctx.fail(e)),
    }
}
