//! "Download my data" for a signed-in customer: start an access export from
//! the account page, watch it being prepared (the page refreshes itself,
//! no script needed), and get the download link, shown once, when ready.
use super::{CsrfForm, Ctx, PageError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chotomoni_services::privacy_export::ExportStatus;
use chotomoni_services::Actor;
use serde_json::json;

fn me(ctx: &Ctx) -> Result<(Actor, i64), PageError> {
    let actor = ctx.customer_actor()?;
    match actor {
        Actor::Customer(id) => Ok((actor, id.0)),
        _ => Err(ctx.redirect("/account/sign-in".into())),
    }
}

fn show(ctx: &Ctx, export: &ExportStatus) -> Result<Response, PageError> {
    ctx.render("account_export.html", json!({ "export": export }))
}

/// Starts an export of the customer's own data and goes to its page.
pub async fn start(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let (actor, id) = me(&ctx)?;
    // An access request, so it is on the back office's list with its deadline.
    let logged = state
        .services
        .request_for_self(&actor, chotomoni_domain::RequestKind::Access)
        .await
        .map_err(|e| ctx.fail(e))?;
    let export_id = match logged.request.export_id {
        Some(export) => export,
        None => {
            state
                .services
                .start_export(&actor, id, Some(logged.request.id))
                .await
                .map_err(|e| ctx.fail(e))?
                .id
        }
    };
    Ok(Redirect::to(&format!("/account/exports/{export_id}")).into_response())
}

/// Progress while it is prepared; the link (once) when it is ready.
pub async fn page(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (actor, _) = me(&ctx)?;
    let export = state
        .services
        .export_status(&actor, id)
        .await
        .map_err(|e| ctx.fail(e))?;
    show(&ctx, &export)
}

/// A new link, shown on the page it answers with (the old one stops working).
pub async fn new_link(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let (actor, _) = me(&ctx)?;
    let export = state
        .services
        .new_export_link(&actor, id)
        .await
        .map_err(|e| ctx.fail(e))?;
    show(&ctx, &export)
}
