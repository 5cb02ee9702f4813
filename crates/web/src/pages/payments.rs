//! The pages a payment leads to: the customer's return from the gateway
//! (`/payments/{gateway}/return/{tran_id}`: SSLCommerz posts its form
//! there, bKash sends the browser with `paymentID` and `status`), which
//! shows paid, pending or failed once the gateway has been asked; and a
//! signed-in customer's second try from their order page.
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
    let gateway = GatewayName::parse(&form.gateway)
        .ok_or_else(|| ctx.error(StatusCode::UNPROCESSABLE_ENTITY, "err-invalid"))?;
    let started = state
        .services
        .start_payment(&actor, number, gateway, &site_url(&state, &headers))
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to(&started.redirect_url).into_response())
}
