//! Filing from the tracking page without an account: the order's number
//! and phone (already on the page), then the code sent to that phone signs
//! its customer in and the order page's claim form takes over.
use super::{Ctx, PageError};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use chotomoni_services::ServiceError;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, Default)]
pub struct GuestClaimForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
}

/// Posted, so the phone number stays out of logs and history.
pub async fn sign_in(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<GuestClaimForm>,
) -> Result<Response, PageError> {
    if ctx.caller.session.is_some() {
        ctx.check_csrf(&form.csrf)?;
    }
    let values = json!({ "number": form.number.trim(), "phone": form.phone.trim() });
    let page = |status: StatusCode, errors: serde_json::Value| {
        ctx.render_status(
            status,
            "track_claim.html",
            json!({ "values": values, "errors": errors }),
        )
    };
    if form.step != "2" {
        return match state
            .services
            .start_claim_sign_in(&form.number, &form.phone, &ctx.caller.client)
            .await
        {
            Ok(()) => page(StatusCode::OK, json!({})),
            Err(ServiceError::RateLimited { retry_after_secs }) => page(
                StatusCode::TOO_MANY_REQUESTS,
                json!({ "form": "err-rate-limited" }),
            )
            .map(|p| super::with_retry_after(p, retry_after_secs)),
            Err(e) => match super::account::register_error(&e) {
                Some(errors) => page(StatusCode::UNPROCESSABLE_ENTITY, errors),
                None => Err(ctx.fail(e)),
            },
        };
    }
    let number = ctx.order_number(&form.number)?;
    match state
        .services
        .finish_claim_sign_in(
            &form.number,
            &form.phone,
            &form.code,
            ctx.lang,
            &ctx.caller.client,
        )
        .await
    {
        Ok((token, _)) => {
            let to = format!("/account/orders/{number}?lang={}#claims", ctx.lang.code());
            super::account::signed_in(&ctx, &state, &token, to).await
        }
        Err(ServiceError::Conflict(_)) => page(
            StatusCode::CONFLICT,
            json!({ "form": "track-claim-sign-in-instead" }),
        ),
        Err(e) => match super::account::register_error(&e) {
            Some(errors) => page(StatusCode::UNPROCESSABLE_ENTITY, errors),
            None => Err(ctx.fail(e)),
        },
    }
}
