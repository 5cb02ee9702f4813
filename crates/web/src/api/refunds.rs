//! Refunds of decided claims: the ones staff must pay back by hand, and
//! recording one paid. Gateway refunds run by themselves (`refund.send`,
//! `refunds.follow`); each claim shows its refund (`ClaimView.refund`).
use crate::caller::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Path;
use crate::json::Json;
use crate::AppState;
use axum::extract::State;
use chotomoni_services::payments::{ManualRefundInput, RefundView};

/// Refunds staff must pay back by hand, oldest first: cash-on-delivery
/// orders, and refunds a gateway refused (past bKash's 15 days, say).
#[utoipa::path(get, path = "/api/v1/refunds", tag = "payments",
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = Vec<RefundView>),
        (status = 401, body = ErrorBody, description = "Staff only"),
        (status = 403, body = ErrorBody, description = "A role that does not handle claims")))]
pub async fn to_pay(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<RefundView>>> {
    let actor = caller.require_staff()?;
    Ok(axum::Json(state.services.refunds_to_pay(&actor).await?))
}

/// Records a refund paid back by hand through a mobile wallet or bank,
/// with its transaction id (never the wallet's number: a phone number is
/// refused). Only a refund awaiting that, or one its gateway refused.
#[utoipa::path(post, path = "/api/v1/refunds/{id}/manual", tag = "payments",
    params(("id" = i64, Path, description = "the refund")),
    security(("bearer" = []), ("session_cookie" = [])), request_body = ManualRefundInput,
    responses((status = 200, body = RefundView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Staff only"),
        (status = 403, body = ErrorBody, description = "A role that does not handle claims"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Refunded already, or with its gateway"),
        (status = 422, body = ErrorBody, description = "Not a transaction id (`trx_id`)")))]
pub async fn record_manual(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<ManualRefundInput>,
) -> ApiResult<axum::Json<RefundView>> {
    let actor = caller.require_staff()?;
    Ok(axum::Json(
        state
            .services
            .record_manual_refund(&actor, id, &input)
            .await?,
    ))
}
