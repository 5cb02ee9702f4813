//! The background job queue, for admins: what is queued, running, done or
//! failed (with the error and attempts), and a retry for a failed job.
use crate::caller::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Path, Query};
use crate::AppState;
use axum::extract::State;
use chotomoni_services::jobs::{JobView, QueueView};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueQuery {
    /// Only jobs in this state (empty: every state).
    #[param(pattern = "^(queued|running|done|failed)?$")]
    pub state: Option<String>,
}

/// The queue: how many jobs are in each state, and the newest 200 (of one
/// state, if asked). Admins only.
#[utoipa::path(get, path = "/api/v1/jobs", params(QueueQuery),
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = QueueView), (status = 401, body = ErrorBody, description = "Staff only"),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody, description = "An unknown state")))]
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<QueueQuery>,
) -> ApiResult<axum::Json<QueueView>> {
    let actor = caller.require_staff()?;
    Ok(axum::Json(
        state.services.job_queue(&actor, q.state.as_deref()).await?,
    ))
}

/// Queues a failed job again, its attempts counted anew. Admins only.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", params(("id" = i64, Path, description = "the job")),
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody, description = "Staff only"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "The job is not failed, or the same work is queued again")))]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<JobView>> {
    let actor = caller.require_staff()?;
    Ok(axum::Json(state.services.retry_job(&actor, id).await?))
}
