//! Privacy policy versions: every version stays readable; admins publish new
//! ones, in both languages.
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Path;
use crate::json::Json;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chotomoni_domain::policy::PolicyDraft;
use chotomoni_domain::schema;
use chotomoni_services::policies::PolicyVersion;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyEntry {
    pub version: i64,
    pub published_at: String,
    /// The version's stable page.
    pub url: String,
}

/// Every version, newest first.
#[utoipa::path(get, path = "/api/v1/privacy/policies", responses((status = 200, body = [PolicyEntry])))]
pub async fn list(State(state): State<AppState>) -> ApiResult<axum::Json<Vec<PolicyEntry>>> {
    let versions = state.services.policy_versions().await?;
    Ok(axum::Json(
        versions
            .into_iter()
            .map(|(version, published_at)| PolicyEntry {
                version,
                published_at,
                url: format!("/privacy/v/{version}"),
            })
            .collect(),
    ))
}

/// One version, both languages.
#[utoipa::path(get, path = "/api/v1/privacy/policies/{version}", params(("version" = i64, Path)),
    responses((status = 200, body = PolicyVersion), (status = 404, body = ErrorBody)))]
pub async fn one(
    State(state): State<AppState>,
    Path(version): Path<i64>,
) -> ApiResult<axum::Json<PolicyVersion>> {
    Ok(axum::Json(state.services.policy_version(version).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPolicy {
    /// The full text in Bangla.
    #[schema(schema_with = schema::policy_text)]
    pub bn: String,
    /// The full text in English.
    #[schema(schema_with = schema::policy_text)]
    pub en: String,
}

/// Publishes the next version (admin); it takes effect at once.
#[utoipa::path(post, path = "/api/v1/privacy/policies",
    security(("bearer" = []), ("session_cookie" = [])), request_body = NewPolicy,
    responses((status = 201, body = PolicyVersion), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A language is missing"),
        (status = 401, body = ErrorBody, description = "Staff only")))]
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<NewPolicy>,
) -> ApiResult<(StatusCode, axum::Json<PolicyVersion>)> {
    let actor = caller.require_staff()?;
    let draft = PolicyDraft::parse(&input.bn, &input.en).map_err(ApiError::from)?;
    let published = state.services.publish_policy(&actor, &draft).await?;
    Ok((StatusCode::CREATED, axum::Json(published)))
}
