//! Fraud signals on the staff order page: recording what a call to the
//! customer confirmed. The flags themselves come with the order's view, for
//! roles that may see them.
use super::{Ctx, PageError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chotomoni_domain::staff::Permission;
use chotomoni_services::orders::PhoneCheck;
use chotomoni_services::ServiceError;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct PhoneCheckForm {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /staff/orders/{number}/phone-check`.
pub async fn phone_check(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(number): Path<String>,
    Form(form): Form<PhoneCheckForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    // A role that may not see the signals learns nothing from the form.
    if !actor.staff_may(Permission::ViewFraudSignals) {
        return Err(ctx.fail(ServiceError::Forbidden));
    }
    let number = ctx.order_number(&number)?;
    let check = PhoneCheck::parse(&form.outcome, &form.note).map_err(|e| ctx.fail(e))?;
    state
        .services
        .record_phone_check(&actor, number, &check)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to(&format!("/staff/orders/{number}#fraud")).into_response())
}
