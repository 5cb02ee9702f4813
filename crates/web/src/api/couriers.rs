//! Couriers: booking an order's parcel (one, or every packed order), what
//! needs staff, the cash couriers collected, and each courier's webhook.
use crate::api::orders::OrderPath;
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Path;
use crate::json::Json;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chotomoni_domain::{CourierName, OrderNumber};
use chotomoni_services::couriers::{
    AttentionView, BulkOutcome, CashView, ConsignmentView, PayoutInput, WebhookCall,
};
use chotomoni_services::ServiceError;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Which courier to book with; without one, the order's default (by its
/// district, else the shop's).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookInput {
    pub courier: Option<CourierName>,
}

/// Books a packed order's parcel. Booking a booked order returns its
/// consignment and books nothing; a failed booking is recorded with the
/// courier's message (200, `state: failed`) and may be booked again.
#[utoipa::path(post, path = "/api/v1/orders/{number}/consignment", tag = "couriers",
    params(OrderPath), request_body = BookInput,
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = ConsignmentView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "A role that may not book parcels"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The order is not packed, or is being booked now"),
        (status = 422, body = ErrorBody, description = "No courier for its district, a courier not set up, or a phone couriers do not take")))]
pub async fn book(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    Json(input): Json<BookInput>,
) -> ApiResult<axum::Json<ConsignmentView>> {
    let number = OrderNumber::parse(&number)?;
    Ok(axum::Json(
        state
            .services
            .book_parcel(&caller.actor(), number, input.courier)
            .await?,
    ))
}

/// An order's consignment.
#[utoipa::path(get, path = "/api/v1/orders/{number}/consignment", tag = "couriers",
    params(OrderPath), security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = ConsignmentView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "No such order, or it is not booked")))]
pub async fn consignment(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> ApiResult<axum::Json<ConsignmentView>> {
    let number = OrderNumber::parse(&number)?;
    state
        .services
        .consignment(&caller.actor(), number)
        .await?
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("consignment"))
}

/// Books every packed order not yet booked (and retries failed ones), with
/// the bulk endpoints where the courier has them.
#[utoipa::path(post, path = "/api/v1/consignments/book-packed", tag = "couriers",
    request_body = BookInput, security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = BulkOutcome), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A courier not set up here")))]
pub async fn book_packed(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<BookInput>,
) -> ApiResult<axum::Json<BulkOutcome>> {
    Ok(axum::Json(
        state
            .services
            .book_packed(&caller.actor(), input.courier)
            .await?,
    ))
}

/// Failed bookings, parcels on hold or returned, and news about
/// consignments we do not know.
#[utoipa::path(get, path = "/api/v1/consignments/attention", tag = "couriers",
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = AttentionView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn attention(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<AttentionView>> {
    Ok(axum::Json(
        state.services.needs_attention(&caller.actor()).await?,
    ))
}

/// A courier event's id in a path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct EventPath {
    #[param(minimum = 1)]
    id: i64,
}

/// Marks news about an unknown consignment as looked at.
#[utoipa::path(post, path = "/api/v1/consignments/unknown/{id}/seen", tag = "couriers",
    params(EventPath), security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 204, description = "Looked at"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No such event needing staff")))]
pub async fn unknown_seen(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    state
        .services
        .dismiss_unknown_parcel(&caller.actor(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cash on delivery per courier: collected, charged, still owed to the shop.
#[utoipa::path(get, path = "/api/v1/consignments/cash", tag = "couriers",
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = Vec<CashView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn cash(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<CashView>>> {
    Ok(axum::Json(
        state.services.cash_on_delivery(&caller.actor()).await?,
    ))
}

/// Records a payment a courier made to the shop of the cash it collected
/// (from its statement); the cash view then shows what it still owes.
#[utoipa::path(post, path = "/api/v1/consignments/payouts", tag = "couriers",
    request_body = PayoutInput, security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 201, description = "Recorded"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "An amount that is not positive, or no reference")))]
pub async fn payout(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<PayoutInput>,
) -> ApiResult<StatusCode> {
    state
        .services
        .record_payout(&caller.actor(), &input)
        .await?;
    Ok(StatusCode::CREATED)
}

/// A courier in a webhook path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct CourierPath {
    /// `steadfast`, `pathao` or `redx`.
    courier: CourierName,
}

/// A courier's status webhook, authenticated as that courier publishes:
/// Steadfast `Authorization: Bearer <token>`, Pathao `X-PATHAO-Signature`
/// (its integration handshake is answered 202 with its header), RedX a
/// `token` in the callback URL. News about a consignment we do not know is
/// accepted (the courier need not resend it) and kept for staff.
#[utoipa::path(post, path = "/webhooks/couriers/{courier}", tag = "webhooks",
    params(CourierPath, ("token" = Option<String>, Query, description = "RedX: the token set in the callback URL")),
    request_body(content = serde_json::Value, content_type = "application/json",
        description = "The courier's own event body"),
    responses((status = 200, description = "Accepted (Steadfast, RedX)"),
        (status = 202, description = "Accepted (Pathao; the handshake with X-Pathao-Merchant-Webhook-Integration-Secret)"),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "The courier's secret is missing or wrong; nothing changed"),
        (status = 404, body = ErrorBody, description = "No such courier set up here"),
        (status = 422, body = ErrorBody, description = "Not a body this courier sends")))]
pub async fn webhook(
    State(state): State<AppState>,
    Path(courier): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let courier = CourierName::parse(&courier).ok_or_else(|| ApiError::not_found("courier"))?;
    // The same limit as every JSON body: a courier's event is a few hundred bytes.
    crate::json::within_limit(&body)?;
    let headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let call = WebhookCall {
        headers: &headers,
        query: query.as_deref().unwrap_or(""),
        body: &body,
    };
    let answer = match state.services.courier_webhook(courier, &call).await {
        Ok(answer) => answer,
        Err(ServiceError::Unauthenticated) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "webhook_unauthenticated",
                "the courier's webhook secret is missing or wrong",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        answer.body,
    )
        .into_response();
    if let Some((name, value)) = answer.header {
        // `HeaderName` wants lower case; names match without case anyway.
        let name = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
            .expect("a courier's header name is a valid one");
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    Ok(response)
}
