//! Claims: a customer files one on their own delivered order; the desk
//! (support and admins) files for a customer or a marketplace or courier,
//! takes claims up and decides them.
use super::orders::OrderPath;
use crate::caller::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Path, Query};
use crate::json::Json;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chotomoni_domain::OrderNumber;
use chotomoni_services::claims::{ClaimInput, ClaimQuery, ClaimView, DecisionInput};

/// Files a claim on a delivered order: its customer, or the desk. Filing
/// again while one is open is 409 naming the open claim.
#[utoipa::path(post, path = "/api/v1/orders/{number}/claims", params(OrderPath),
    security(("bearer" = []), ("session_cookie" = [])), request_body = ClaimInput,
    responses((status = 201, body = ClaimView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 403, body = ErrorBody, description = "A staff role that does not handle claims"),
        (status = 404, body = ErrorBody, description = "No such order, or not the caller's"),
        (status = 409, body = ErrorBody, description = "Not delivered yet, or a claim is already open on it"),
        (status = 422, body = ErrorBody, description = "Outside the claim window (`window`), or a bad field")))]
pub async fn file(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    Json(input): Json<ClaimInput>,
) -> ApiResult<(StatusCode, axum::Json<ClaimView>)> {
    let number = OrderNumber::parse(&number)?;
    let view = state
        .services
        .file_claim(&caller.actor(), number, &input)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// The claims on one order, newest first: the desk, or the order's customer.
#[utoipa::path(get, path = "/api/v1/orders/{number}/claims", params(OrderPath),
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = Vec<ClaimView>),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 403, body = ErrorBody, description = "A staff role that does not handle claims"),
        (status = 404, body = ErrorBody, description = "No such order, or not the caller's"),
        (status = 422, body = ErrorBody, description = "Not an order number")))]
pub async fn of_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> ApiResult<axum::Json<Vec<ClaimView>>> {
    let number = OrderNumber::parse(&number)?;
    let actor = caller.require_signed_in()?;
    Ok(axum::Json(
        state.services.order_claims(&actor, number).await?,
    ))
}

/// The desk's queue: overdue claims first, then by how soon they are due;
/// decided ones last. At most 200.
#[utoipa::path(get, path = "/api/v1/claims", params(ClaimQuery),
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = Vec<ClaimView>),
        (status = 401, body = ErrorBody, description = "Staff only"),
        (status = 403, body = ErrorBody, description = "A role that does not handle claims"),
        (status = 422, body = ErrorBody, description = "An unknown status or kind")))]
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ClaimQuery>,
) -> ApiResult<axum::Json<Vec<ClaimView>>> {
    let actor = caller.require_staff()?;
    Ok(axum::Json(state.services.claims_queue(&actor, &q).await?))
}

/// One claim: the desk, or its customer.
#[utoipa::path(get, path = "/api/v1/claims/{id}", params(("id" = i64, Path, description = "the claim")),
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = ClaimView),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 403, body = ErrorBody, description = "A staff role that does not handle claims"),
        (status = 404, body = ErrorBody, description = "No such claim, or not the caller's")))]
pub async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<ClaimView>> {
    let actor = caller.require_signed_in()?;
    Ok(axum::Json(state.services.claim(&actor, id).await?))
}

/// The desk takes an open claim up (its first response).
#[utoipa::path(post, path = "/api/v1/claims/{id}/review", params(("id" = i64, Path, description = "the claim")),
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = ClaimView),
        (status = 401, body = ErrorBody, description = "Staff only"),
        (status = 403, body = ErrorBody, description = "A role that does not handle claims"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The claim is not open")))]
pub async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<ClaimView>> {
    let actor = caller.require_staff()?;
    Ok(axum::Json(state.services.review_claim(&actor, id).await?))
}

/// Decides a claim; the customer is told by SMS or email in their language.
#[utoipa::path(post, path = "/api/v1/claims/{id}/decision", params(("id" = i64, Path, description = "the claim")),
    security(("bearer" = []), ("session_cookie" = [])), request_body = DecisionInput,
    responses((status = 200, body = ClaimView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Staff only"),
        (status = 403, body = ErrorBody, description = "A role that does not handle claims (packers)"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Already decided"),
        (status = 422, body = ErrorBody, description = "A refund above what was paid (`amount`), no reason, or a replacement with no items")))]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<DecisionInput>,
) -> ApiResult<axum::Json<ClaimView>> {
    let actor = caller.require_staff()?;
    Ok(axum::Json(
        state.services.decide_claim(&actor, id, &input).await?,
    ))
}
