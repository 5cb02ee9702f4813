//! Fraud signals in the JSON API: an order's signals come with its view
//! (`GET /api/v1/orders/{number}`, `fraud`) for roles that may see them;
//! here staff record what a call to the customer confirmed.
use crate::api::orders::OrderPath;
use crate::caller::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Path;
use crate::json::Json;
use crate::AppState;
use axum::extract::State;
use chotomoni_domain::{schema, OrderNumber, PhoneCheckOutcome};
use chotomoni_services::orders::{FraudSignals, PhoneCheck};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneCheckInput {
    outcome: PhoneCheckOutcome,
    /// A short note.
    #[serde(default)]
    #[schema(schema_with = schema::blank_or_text::<{ PhoneCheck::MAX_NOTE }>)]
    note: String,
}

/// Records what a call to the customer about this order confirmed. A flag
/// never refuses an order; this is the staff's own record.
#[utoipa::path(post, path = "/api/v1/orders/{number}/phone-checks",
    security(("bearer" = []), ("session_cookie" = [])), request_body = PhoneCheckInput, params(OrderPath),
    responses((status = 200, body = FraudSignals), (status = 403, body = ErrorBody, description = "A role that may not see fraud signals"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid")))]
pub async fn phone_check(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    Json(body): Json<PhoneCheckInput>,
) -> ApiResult<axum::Json<FraudSignals>> {
    let actor = caller.require_staff()?;
    let number = OrderNumber::parse(&number)?;
    let check = PhoneCheck::parse(body.outcome.as_str(), &body.note)?;
    Ok(axum::Json(
        state
            .services
            .record_phone_check(&actor, number, &check)
            .await?,
    ))
}
