//! Proof pages: the proofs on an order's page (staff and customer), share
//! links made and revoked from the back office, and the public page a
//! share link opens, which shows that one proof and nothing else.
use super::{Ctx, PageError};
use crate::api::proofs::{media_response, requested_range};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chotomoni_domain::staff::Permission;
use chotomoni_domain::{OrderNumber, ProofId, SharePurpose};
use chotomoni_services::Actor;
use serde::Deserialize;
use serde_json::{json, Value};

/// The proofs of an order for its page, or `None` when the viewer may not
/// see them (packers and couriers record proof but do not browse it).
pub async fn of_order(
    ctx: &Ctx,
    state: &AppState,
    number: OrderNumber,
) -> Result<Option<Value>, PageError> {
    let actor = ctx.caller.actor();
    let may_see = match actor {
        Actor::Staff { .. } => actor.staff_may(Permission::ViewProofs),
        Actor::Customer(_) => true,
        _ => false,
    };
    if !may_see {
        return Ok(None);
    }
    let services = &state.services;
    let proofs = services
        .proofs_of_order(&actor, number)
        .await
        .map_err(|e| ctx.fail(e))?;
    let mut out = vec![];
    for p in proofs {
        let mut v = serde_json::to_value(&p).expect("serialisable");
        if matches!(actor, Actor::Staff { .. }) {
            let links = services
                .share_links(&actor, ProofId(p.id))
                .await
                .map_err(|e| ctx.fail(e))?;
            v["links"] = serde_json::to_value(links).expect("serialisable");
        }
        out.push(v);
    }
    Ok(Some(Value::Array(out)))
}

#[derive(Deserialize)]
pub struct ShareForm {
    purpose: String,
    back: String,
    #[serde(default)]
    csrf: String,
}

pub async fn share(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<ShareForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    let purpose = SharePurpose::parse(&form.purpose)
        .ok_or_else(|| ctx.error(StatusCode::UNPROCESSABLE_ENTITY, "err-invalid"))?;
    state
        .services
        .create_share_link(&actor, ProofId(id), purpose)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to(&back_to(&form.back, id)).into_response())
}

#[derive(Deserialize)]
pub struct RevokeForm {
    back: String,
    #[serde(default)]
    csrf: String,
}

pub async fn revoke(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<RevokeForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    state
        .services
        .revoke_share_link(&actor, id)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to(&back_to(&form.back, 0)).into_response())
}

/// Only a back-office order page is a place to return to.
fn back_to(back: &str, proof: i64) -> String {
    let ok = back.starts_with("/staff/orders/")
        && back
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-".contains(c));
    let page = if ok { back } else { "/staff/orders" };
    if proof > 0 {
        format!("{page}#proof-{proof}")
    } else {
        page.to_owned()
    }
}

pub async fn shared(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let proof = state
        .services
        .shared_proof(&token)
        .await
        .map_err(|e| ctx.fail(e))?;
    let mut res = ctx.render("share.html", json!({ "p": proof, "token": token }))?;
    no_referrer(&mut res);
    Ok(res)
}

pub async fn shared_content(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, crate::error::ApiError> {
    let view = state.services.shared_proof(&token).await?;
    let range = requested_range(&headers, view.size)?;
    let stream = state
        .services
        .shared_content(&token, range.clone().unwrap_or(0..view.size))
        .await?;
    let mut res = media_response(&view, range, stream);
    no_referrer(&mut res);
    Ok(res)
}

pub async fn shared_receipt(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, crate::error::ApiError> {
    let receipt = state.services.shared_receipt(&token).await?;
    let mut res = axum::Json(receipt).into_response();
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"proof.receipt.json\""),
    );
    Ok(res)
}

/// The token is in the URL: never leak it to another site.
fn no_referrer(res: &mut Response) {
    res.headers_mut()
        .insert("referrer-policy", HeaderValue::from_static("no-referrer"));
}
