use crate::caller::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Path, Query};
use crate::json::Json;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chotomoni_domain::{schema, OrderNumber, OrderStatus};
use chotomoni_services::orders::{OrderInput, OrderPage, OrderQuery, OrderView};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// An order's number in a path, as `OrderNumber::parse` takes it.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // Only describes the parameter; handlers take `Path<String>`.
pub struct OrderPath {
    /// e.g. CM-000123
    #[param(schema_with = schema::order_number)]
    number: String,
}

/// A scanned code in a path, as `OrderNumber::from_scan` takes it.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct ScanPath {
    /// The scanned text.
    #[param(schema_with = schema::scanned)]
    scanned: String,
}

/// Places an order. Staff (bearer) enter phone or Facebook orders; without a
/// session it is a shop order.
#[utoipa::path(post, path = "/api/v1/orders", request_body = OrderInput,
    responses((status = 201, body = OrderView), (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "too many orders without signing in from this address, or with this phone number today", body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid"),
        (status = 403, body = ErrorBody, description = "A staff role that may not enter orders")))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<OrderInput>,
) -> ApiResult<(StatusCode, axum::Json<OrderView>)> {
    let view = state
        .services
        .create_order_limited(&caller.actor(), &input, &caller.client)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// Orders, newest first, with filters. Staff see all (packers without contact
/// details); a signed-in customer sees their own.
#[utoipa::path(get, path = "/api/v1/orders",
    security(("bearer" = []), ("session_cookie" = [])), params(OrderQuery),
    responses((status = 200, body = OrderPage), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Filtering by phone needs a role that may see contact details")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<OrderQuery>,
) -> ApiResult<axum::Json<OrderPage>> {
    Ok(axum::Json(
        state.services.list_orders(&caller.actor(), &q).await?,
    ))
}

/// One order by its number.
#[utoipa::path(get, path = "/api/v1/orders/{number}", params(OrderPath),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid")))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> ApiResult<axum::Json<OrderView>> {
    let number = OrderNumber::parse(&number)?;
    Ok(axum::Json(
        state.services.order(&caller.actor(), number).await?,
    ))
}

/// What a barcode or QR scan resolves to; tolerant of whitespace, control
/// characters and prefixes the scanner adds.
#[utoipa::path(get, path = "/api/v1/orders/by-code/{scanned}",
    security(("bearer" = []), ("session_cookie" = [])), params(ScanPath),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 401, body = ErrorBody, description = "Staff only")))]
pub async fn by_code(
    State(state): State<AppState>,
    caller: Caller,
    Path(scanned): Path<String>,
) -> ApiResult<axum::Json<OrderView>> {
    let actor = caller.require_staff()?;
    Ok(axum::Json(
        state.services.order_by_code(&actor, &scanned).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    status: OrderStatus,
}

/// Moves an order along its lifecycle; an illegal change is 409 with what is allowed.
#[utoipa::path(post, path = "/api/v1/orders/{number}/status",
    security(("bearer" = []), ("session_cookie" = [])), request_body = StatusChange, params(OrderPath),
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid")))]
pub async fn set_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    Json(body): Json<StatusChange>,
) -> ApiResult<axum::Json<OrderView>> {
    let number = OrderNumber::parse(&number)?;
    if matches!(caller.actor(), chotomoni_services::Actor::Visitor) {
        return Err(chotomoni_services::ServiceError::Unauthenticated.into());
    }
    Ok(axum::Json(
        state
            .services
            .change_status(&caller.actor(), number, body.status)
            .await?,
    ))
}
