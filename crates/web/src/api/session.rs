use crate::caller::{Caller, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Json;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    username: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SignedIn {
    /// Send as `Authorization: Bearer <token>`; the same value is set as the session cookie.
    token: String,
    role: String,
}

/// Staff sign-in. Rate limited per account and per address.
#[utoipa::path(post, path = "/api/v1/session", request_body = SignIn,
    responses((status = 200, body = SignedIn), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "Too many password checks at once (`busy`, with Retry-After)")))]
pub async fn sign_in(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SignIn>,
) -> ApiResult<Response> {
    let (token, session) = state
        .services
        .staff_sign_in(&body.username, &body.password, &caller.client)
        .await?;
    let role = match session.actor {
        chotomoni_services::Actor::Staff { role, .. } => role.as_str().to_owned(),
        _ => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "unexpected session",
            ))
        }
    };
    let max_age = i64::from(state.services.settings().session_days) * 86_400;
    let cookie = caller.session_cookie(&token, max_age);
    Ok((
        [(header::SET_COOKIE, cookie)],
        axum::Json(SignedIn { token, role }),
    )
        .into_response())
}

/// Signs out: the session ends for the cookie and the bearer token alike.
#[utoipa::path(delete, path = "/api/v1/session", responses((status = 204, description = "Signed out"),
        (status = 401, body = ErrorBody, description = "The bearer token is not valid")))]
pub async fn sign_out(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    if let Some(s) = &caller.session {
        state.services.sign_out(s).await?;
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}
