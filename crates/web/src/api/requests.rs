//! Privacy requests (access, erasure, marketing opt-out) and legal holds.
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Path;
use crate::json::Json;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chotomoni_domain::privacy_request::{MAX_HOLD_NOTE, MAX_REJECTION_REASON};
use chotomoni_domain::{schema, HoldReason, OrderNumber, RequestKind};
use chotomoni_services::privacy_export::ExportStatus;
use chotomoni_services::requests::{Logged, RequestView};
use chotomoni_services::{Actor, ServiceError};
use chotomoni_storage::erasure::HoldRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub kind: RequestKind,
    /// The customer's phone number as on record.
    #[schema(schema_with = schema::phone)]
    pub phone: String,
    /// Staff: the address the request came from by email; when it is the
    /// one on record, the request is verified.
    #[serde(default)]
    #[schema(schema_with = schema::nullable_email)]
    pub email: Option<String>,
}

fn signed_in(caller: &Caller) -> Result<Actor, ApiError> {
    match caller.actor() {
        Actor::Visitor => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in, or use the public form at /privacy/requests",
        )),
        actor => Ok(actor),
    }
}

/// Logs a request: staff on a customer's behalf, or a customer for
/// themselves. 201 with the request and its deadline; 200 with the
/// unfinished request of the same kind when there already is one.
#[utoipa::path(post, path = "/api/v1/privacy/requests",
    security(("bearer" = []), ("session_cookie" = [])), request_body = NewRequest,
    responses((status = 201, body = RequestView),
        (status = 200, body = RequestView, description = "An unfinished request of this kind already exists"),
        (status = 403, body = ErrorBody, description = "Someone else's data"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid")))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<NewRequest>,
) -> ApiResult<(StatusCode, axum::Json<RequestView>)> {
    let actor = signed_in(&caller)?;
    let logged = state
        .services
        .log_request(&actor, input.kind, &input.phone, input.email.as_deref())
        .await
        .map_err(|e| match (e, actor) {
            (ServiceError::Forbidden, Actor::Customer(_)) => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "a customer can only make requests about their own data",
            )
            .field("phone"),
            (e, _) => e.into(),
        })?;
    Ok(answer(logged))
}

fn answer(logged: Logged) -> (StatusCode, axum::Json<RequestView>) {
    let status = if logged.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, axum::Json(logged.request))
}

/// The back-office queue: unfinished requests by deadline, overdue first.
#[utoipa::path(get, path = "/api/v1/privacy/requests",
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = [RequestView]), (status = 403, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Staff only")))]
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<RequestView>>> {
    let actor = caller.require_staff()?;
    Ok(axum::Json(
        state.services.privacy_request_queue(&actor).await?,
    ))
}

/// A request with, for access, its export: progress, and once ready the
/// download link (shown once; a new one can be asked for on the export).
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestAnswer {
    #[serde(flatten)]
    pub request: RequestView,
    pub export: Option<ExportStatus>,
}

/// A request's state and history (its customer, or support).
#[utoipa::path(get, path = "/api/v1/privacy/requests/{id}",
    security(("bearer" = []), ("session_cookie" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = RequestAnswer), (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid")))]
pub async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<RequestAnswer>> {
    let actor = signed_in(&caller)?;
    let request = state.services.privacy_request(&actor, id).await?;
    let export = match request.export_id {
        Some(export) => Some(state.services.export_status(&actor, export).await?),
        None => None,
    };
    Ok(axum::Json(RequestAnswer { request, export }))
}

/// Carries out a verified request at once (support).
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/complete",
    security(("bearer" = []), ("session_cookie" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = RequestView),
        (status = 409, body = ErrorBody, description = "Identity not confirmed yet"),
        (status = 401, body = ErrorBody, description = "Staff only"),
        (status = 403, body = ErrorBody, description = "Not allowed to this role"),
        (status = 404, body = ErrorBody, description = "No such request")))]
pub async fn complete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<RequestView>> {
    let actor = caller.require_staff()?;
    Ok(axum::Json(
        state.services.complete_request(&actor, id).await?,
    ))
}

/// Confirms the requester's identity (support, after checking; or the customer, signed in).
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/verify",
    security(("bearer" = []), ("session_cookie" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = RequestView), (status = 409, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid"),
        (status = 403, body = ErrorBody, description = "Not allowed to this role"),
        (status = 404, body = ErrorBody, description = "No such request")))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<RequestView>> {
    let actor = signed_in(&caller)?;
    Ok(axum::Json(state.services.verify_request(&actor, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    /// Why, without personal data.
    #[schema(schema_with = schema::text::<MAX_REJECTION_REASON>)]
    pub reason: String,
}

/// Rejects a request (support), with the reason.
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/reject",
    security(("bearer" = []), ("session_cookie" = [])), params(("id" = i64, Path)), request_body = Rejection,
    responses((status = 200, body = RequestView), (status = 409, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Staff only"),
        (status = 403, body = ErrorBody, description = "Not allowed to this role"),
        (status = 404, body = ErrorBody, description = "No such request")))]
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<Rejection>,
) -> ApiResult<axum::Json<RequestView>> {
    let actor = caller.require_staff()?;
    Ok(axum::Json(
        state
            .services
            .reject_request(&actor, id, &input.reason)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHold {
    pub reason: HoldReason,
    #[serde(default)]
    #[schema(schema_with = schema::blank_or_text::<MAX_HOLD_NOTE>)]
    pub note: String,
    /// When the hold ends on its own (Unix ms); none: until released.
    #[serde(default)]
    pub until: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Hold {
    pub id: i64,
    pub order: String,
    pub reason: String,
    pub note: String,
    pub placed_at: i64,
    pub until: Option<i64>,
    pub released_at: Option<i64>,
}

impl From<HoldRow> for Hold {
    fn from(h: HoldRow) -> Hold {
        Hold {
            id: h.id,
            order: OrderNumber::from_id(chotomoni_domain::OrderId(h.order_id)).to_string(),
            reason: h.reason.as_str().to_owned(),
            note: h.note,
            placed_at: h.placed_at,
            until: h.until_at,
            released_at: h.released_at,
        }
    }
}

/// Keeps an order's proof media past an erasure (admin).
#[utoipa::path(post, path = "/api/v1/orders/{number}/holds",
    security(("bearer" = []), ("session_cookie" = [])), params(super::orders::OrderPath), request_body = NewHold,
    responses((status = 201, body = Hold), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Staff only"),
        (status = 404, body = ErrorBody, description = "No such order")))]
pub async fn place_hold(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    Json(input): Json<NewHold>,
) -> ApiResult<(StatusCode, axum::Json<Hold>)> {
    let actor = caller.require_staff()?;
    let number = OrderNumber::parse(&number)?;
    let hold = state
        .services
        .place_hold(&actor, number, input.reason, &input.note, input.until)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(hold.into())))
}

/// Ends a hold; proofs it kept past an erasure are deleted by the next job run.
#[utoipa::path(post, path = "/api/v1/privacy/holds/{id}/release",
    security(("bearer" = []), ("session_cookie" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Hold), (status = 409, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Staff only"),
        (status = 403, body = ErrorBody, description = "Not allowed to this role"),
        (status = 404, body = ErrorBody, description = "No such hold")))]
pub async fn release_hold(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Hold>> {
    let actor = caller.require_staff()?;
    Ok(axum::Json(
        state.services.release_hold(&actor, id).await?.into(),
    ))
}
