//! Online payments: starting one for an order, an order's payments, the
//! payments held for staff, and SSLCommerz's IPN.
use crate::api::orders::OrderPath;
use crate::api::webhooks::site_url;
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Path;
use crate::json::Json;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use chotomoni_domain::{GatewayName, OrderNumber};
use chotomoni_services::payments::{PaymentView, RefundView, StartedPayment};
use chotomoni_services::ServiceError;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// The most an IPN body may hold: SSLCommerz posts about forty short fields.
pub const NOTICE_MAX_BYTES: usize = 16 * 1024;

/// Which gateway to pay through.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayInput {
    pub gateway: GatewayName,
}

/// Opens a payment session for an unpaid online order; send the customer to
/// `redirect_url`. The order's customer, support and admin (for a phone
/// order, to send the customer the link) may start one; each session is
/// in the disclosure log with the fields the gateway received.
#[utoipa::path(post, path = "/api/v1/orders/{number}/payments", tag = "payments",
    params(OrderPath), request_body = PayInput,
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 201, body = StartedPayment),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Staff who may not see customers' contact details"),
        (status = 404, body = ErrorBody, description = "No such order, or someone else's"),
        (status = 409, body = ErrorBody, description = "A cash-on-delivery, paid or cancelled order"),
        (status = 422, body = ErrorBody, description = "A gateway not set up here (`gateway`), or the gateway refused the session (`gateway_refused`)"),
        (status = 503, body = ErrorBody, description = "The gateway did not answer (`gateway_unavailable`)")))]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(number): Path<String>,
    Json(input): Json<PayInput>,
) -> ApiResult<(StatusCode, axum::Json<StartedPayment>)> {
    let number = OrderNumber::parse(&number)?;
    let site = site_url(&state, &headers);
    let started = state
        .services
        .start_payment(&caller.actor(), number, input.gateway, &site)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(started)))
}

/// An order's payments, oldest first.
#[utoipa::path(get, path = "/api/v1/orders/{number}/payments", tag = "payments",
    params(OrderPath), security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = Vec<PaymentView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No such order, or someone else's")))]
pub async fn of_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> ApiResult<axum::Json<Vec<PaymentView>>> {
    let actor = caller.require_signed_in()?;
    let number = OrderNumber::parse(&number)?;
    Ok(axum::Json(
        state.services.order_payments(&actor, number).await?,
    ))
}

/// Payments the gateway confirmed but that do not pay their order as it
/// stands (another amount or currency, a risky card, an order paid
/// already): held for staff with the reason, newest first.
#[utoipa::path(get, path = "/api/v1/payments/held", tag = "payments",
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = Vec<PaymentView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not support or admin")))]
pub async fn held(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<PaymentView>>> {
    Ok(axum::Json(
        state.services.held_payments(&caller.actor()).await?,
    ))
}

/// A payment in a path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct PaymentPath {
    /// Our transaction id, e.g. `CM-000123-7GQ2KX9D`.
    tran_id: String,
}

/// Accepts a held payment after staff checked it: the payment and its
/// order are paid. 409 unless it is held, or when another payment paid the
/// order already (that one is refunded instead).
#[utoipa::path(post, path = "/api/v1/payments/{tran_id}/accept", tag = "payments",
    params(PaymentPath), security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = PaymentView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not support or admin"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not held, or the order is paid already")))]
pub async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(tran_id): Path<String>,
) -> ApiResult<axum::Json<PaymentView>> {
    Ok(axum::Json(
        state
            .services
            .accept_held_payment(&caller.actor(), &tran_id)
            .await?,
    ))
}

/// Sends a held payment back through its gateway instead of accepting it
/// (a second payment of a paid order, a wrong amount the customer did not
/// mean): what the gateway confirmed is refunded in the background (see
/// the refund's `status`), and the payment is no longer held. 409 unless
/// it is held and not already being sent back.
#[utoipa::path(post, path = "/api/v1/payments/{tran_id}/refund", tag = "payments",
    params(PaymentPath), security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 201, body = RefundView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not support or admin"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not held, or already being sent back")))]
pub async fn refund_held(
    State(state): State<AppState>,
    caller: Caller,
    Path(tran_id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<RefundView>)> {
    let actor = caller.require_staff()?;
    let refund = state.services.refund_held_payment(&actor, &tran_id).await?;
    Ok((StatusCode::CREATED, axum::Json(refund)))
}

/// A gateway in a webhook path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct GatewayPath {
    /// `sslcommerz` (bKash sends no notices this shop takes).
    gateway: GatewayName,
}

/// The fields of a notice read before its signature is checked; the rest
/// are the gateway's, checked by the signature and then dropped. Each
/// field is one string, sent once: a name sent twice is refused when the
/// signature covers it or it is read.
// Only described, never deserialized (the handler reads the form as pairs):
// `Deserialize` is there for `serde(flatten)`, which utoipa turns into
// `additionalProperties: {type: string}`; its own attribute allows any type.
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct NoticeForm {
    /// The transaction id this shop opened the session with.
    #[schema(min_length = 1, max_length = 30)]
    tran_id: String,
    val_id: Option<String>,
    amount: Option<String>,
    status: Option<String>,
    verify_sign: Option<String>,
    verify_key: Option<String>,
    /// The gateway's other fields (card brand, currency, risk level, …).
    #[serde(flatten)]
    others: std::collections::BTreeMap<String, String>,
}

/// SSLCommerz's IPN: its `verify_sign` is checked over the posted fields,
/// then the payment is confirmed with the validation API; only then is
/// the order paid (once, whichever of this and the customer's return comes
/// first). Card fields are read for the signature and dropped.
#[utoipa::path(post, path = "/webhooks/payments/{gateway}", tag = "webhooks",
    params(GatewayPath),
    request_body(content = NoticeForm, content_type = "application/x-www-form-urlencoded",
        description = "SSLCommerz's IPN fields (tran_id, val_id, amount, status, verify_sign, verify_key, …)"),
    responses((status = 200, body = PaymentView, description = "Recorded (a notice seen before changes nothing)"),
        (status = 400, body = ErrorBody, description = "Not a form body"),
        (status = 401, body = ErrorBody, description = "`bad_signature`: verify_sign does not hold; nothing changed"),
        (status = 404, body = ErrorBody, description = "A transaction this shop did not start, or a gateway not set up"),
        (status = 413, body = ErrorBody, description = "A body over 16 KiB"),
        (status = 422, body = ErrorBody, description = "`payment_not_confirmed`: the validation API does not confirm it (not VALID/VALIDATED), nothing marked paid; or `invalid_field`: no `tran_id`, or a field sent twice (the signature would cover one copy, the reader another)"),
        (status = 503, body = ErrorBody, description = "The gateway did not answer; SSLCommerz sends the notice again")))]
pub async fn notice(
    State(state): State<AppState>,
    Path(gateway): Path<String>,
    request: Request,
) -> ApiResult<axum::Json<PaymentView>> {
    let gateway = GatewayName::parse(&gateway).ok_or_else(|| ApiError::not_found("gateway"))?;
    let body = axum::body::to_bytes(request.into_body(), NOTICE_MAX_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "a payment notice is at most 16 KiB",
            )
        })?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_form",
            "the body must be form-encoded (application/x-www-form-urlencoded)",
        )
    })?;
    match state.services.payment_notice(gateway, &pairs).await {
        Ok(view) => Ok(axum::Json(view)),
        Err(ServiceError::Gateway {
            code: "bad_signature",
            message,
        }) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            message,
        )),
        Err(e) => Err(e.into()),
    }
}
