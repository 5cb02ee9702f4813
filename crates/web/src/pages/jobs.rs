//! The job queue page, for admins: counts by state, the newest jobs with
//! their attempts and last error, and a retry button on failed ones.
use super::{Ctx, PageError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, Default)]
pub struct Filter {
    #[serde(default)]
    state: Option<String>,
}

pub async fn page(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(filter): Query<Filter>,
) -> Result<Response, PageError> {
    let actor = ctx.staff_actor()?;
    let queue = state
        .services
        .job_queue(&actor, filter.state.as_deref())
        .await
        .map_err(|e| ctx.fail(e))?;
    ctx.render(
        "staff_jobs.html",
        json!({ "queue": queue, "filter": filter.state.unwrap_or_default() }),
    )
}

#[derive(Deserialize)]
pub struct RetryForm {
    #[serde(default)]
    csrf: String,
}

pub async fn retry(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<RetryForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    state
        .services
        .retry_job(&actor, id)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to("/staff/jobs").into_response())
}
