//! Couriers on the staff pages: booking an order's parcel from its page,
//! booking every packed order at once, and the couriers page (what needs
//! attention, cash on delivery per courier).
use super::{Ctx, PageError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chotomoni_domain::staff::Permission;
use chotomoni_domain::CourierName;
use chotomoni_services::ServiceError;
use serde::Deserialize;
use serde_json::{json, Value as Json};

#[derive(Deserialize)]
pub struct BookForm {
    #[serde(default)]
    courier: String,
    #[serde(default)]
    csrf: String,
}

impl BookForm {
    fn courier(&self, ctx: &Ctx) -> Result<Option<CourierName>, PageError> {
        match self.courier.trim() {
            "" => Ok(None),
            name => CourierName::parse(name)
                .map(Some)
                .ok_or_else(|| ctx.error(StatusCode::UNPROCESSABLE_ENTITY, "err-invalid")),
        }
    }
}

/// What the order page shows about couriers: the consignment, and for
/// staff who may book, the couriers to choose from with the default chosen.
pub async fn order_panel(
    state: &AppState,
    actor: &chotomoni_services::Actor,
    number: chotomoni_domain::OrderNumber,
    district: Option<&str>,
) -> Result<Json, ServiceError> {
    let consignment = state.services.consignment(actor, number).await?;
    let history = state.services.parcel_history(actor, number).await?;
    let (couriers, default) = state.services.courier_choice(district);
    Ok(json!({
        "consignment": consignment,
        "history": history,
        "couriers": couriers,
        "default_courier": default,
        "may_book": actor.staff_may(Permission::BookParcels) && !couriers.is_empty(),
    }))
}

/// Books one order's parcel. A refusal the courier explains is recorded on
/// the consignment (shown on the page); one we find first (no courier for
/// the district, a phone couriers do not take) is shown on the page too.
pub async fn book(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(number): Path<String>,
    Form(form): Form<BookForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    let number = ctx.order_number(&number)?;
    let courier = form.courier(&ctx)?;
    match state.services.book_parcel(&actor, number, courier).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/orders/{number}#courier")).into_response()),
        Err(ServiceError::Invalid(e)) => {
            super::staff::render_order(&ctx, &state, number, Some(e.message)).await
        }
        Err(ServiceError::Conflict(m)) => {
            super::staff::render_order(&ctx, &state, number, Some(m)).await
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

pub async fn page(ctx: Ctx, State(state): State<AppState>) -> Result<Response, PageError> {
    let actor = ctx.staff_actor()?;
    render_page(&ctx, &state, &actor, None).await
}

async fn render_page(
    ctx: &Ctx,
    state: &AppState,
    actor: &chotomoni_services::Actor,
    outcome: Option<chotomoni_services::couriers::BulkOutcome>,
) -> Result<Response, PageError> {
    let attention = state
        .services
        .needs_attention(actor)
        .await
        .map_err(|e| ctx.fail(e))?;
    let cash = state
        .services
        .cash_on_delivery(actor)
        .await
        .map_err(|e| ctx.fail(e))?;
    let (couriers, _) = state.services.courier_choice(None);
    ctx.render(
        "staff_couriers.html",
        json!({ "attention": attention, "cash": cash, "couriers": couriers, "outcome": outcome }),
    )
}

/// Books every packed order not yet booked, and shows how it went.
pub async fn book_packed(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<BookForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    let courier = form.courier(&ctx)?;
    let outcome = state
        .services
        .book_packed(&actor, courier)
        .await
        .map_err(|e| ctx.fail(e))?;
    render_page(&ctx, &state, &actor, Some(outcome)).await
}

/// Staff looked at news about a parcel we do not know.
pub async fn unknown_seen(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<super::CsrfForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    state
        .services
        .dismiss_unknown_parcel(&actor, id)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to("/staff/couriers").into_response())
}

#[derive(Deserialize)]
pub struct PayoutForm {
    #[serde(default)]
    courier: String,
    #[serde(default)]
    amount_taka: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    csrf: String,
}

/// Records a courier's payment to the shop from its statement.
pub async fn payout(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<PayoutForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    let invalid = || ctx.error(StatusCode::UNPROCESSABLE_ENTITY, "err-invalid");
    let courier = CourierName::parse(form.courier.trim()).ok_or_else(invalid)?;
    let amount = chotomoni_domain::order::parse_taka(&form.amount_taka).ok_or_else(invalid)?;
    let input = chotomoni_services::couriers::PayoutInput {
        courier,
        amount,
        reference: form.reference,
    };
    state
        .services
        .record_payout(&actor, &input)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to("/staff/couriers#cash").into_response())
}
