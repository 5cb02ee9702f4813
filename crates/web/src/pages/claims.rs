//! The claims desk on pages: the queue with its filters, and one claim's
//! story (order, timeline, proofs side by side with their receipts checked)
//! with the forms that take it up and decide it, and make and revoke its
//! claim packs.
use super::{Ctx, PageError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chotomoni_domain::claim::{ClaimKind, ClaimStatus, Decision};
use chotomoni_domain::{ExcerptStart, ProofId, SharePurpose};
use chotomoni_services::claims::pack::PackRequest;
use chotomoni_services::claims::{ClaimQuery, DecisionInput};
use chotomoni_services::payments::ManualRefundInput;
use chotomoni_services::ServiceError;
use serde::Deserialize;
use serde_json::{json, Value as Json};

/// The queue's filters as a form sends them: empty means any.
#[derive(Deserialize, Default)]
pub struct Filter {
    #[serde(default)]
    status: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    older_than_days: String,
}

pub async fn queue(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(filter): Query<Filter>,
) -> Result<Response, PageError> {
    let actor = ctx.staff_actor()?;
    let bad = || ctx.error(StatusCode::UNPROCESSABLE_ENTITY, "err-invalid");
    let query = ClaimQuery {
        status: pick(&filter.status, ClaimStatus::parse).ok_or_else(bad)?,
        kind: pick(&filter.kind, ClaimKind::parse).ok_or_else(bad)?,
        older_than_days: match filter.older_than_days.trim() {
            "" => None,
            n => Some(n.parse().ok().filter(|d| *d <= 3650).ok_or_else(bad)?),
        },
    };
    let claims = state
        .services
        .claims_queue(&actor, &query)
        .await
        .map_err(|e| ctx.fail(e))?;
    ctx.render(
        "staff_claims.html",
        json!({
            "claims": claims,
            "filter": { "status": filter.status, "kind": filter.kind,
                        "older_than_days": filter.older_than_days },
            "statuses": ClaimStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "kinds": ClaimKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        }),
    )
}

/// A filter's value: empty is any (`Some(None)`), unknown is `None`.
fn pick<T>(text: &str, parse: fn(&str) -> Option<T>) -> Option<Option<T>> {
    match text {
        "" => Some(None),
        t => parse(t).map(Some),
    }
}

pub async fn detail(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    story_page(&ctx, &state, id, StatusCode::OK, Json::Null).await
}

async fn story_page(
    ctx: &Ctx,
    state: &AppState,
    id: i64,
    status: StatusCode,
    error: Json,
) -> Result<Response, PageError> {
    let actor = ctx.staff_actor()?;
    let story = state
        .services
        .claim_story(&actor, id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let packs = state
        .services
        .claim_packs(&actor, id)
        .await
        .map_err(|e| ctx.fail(e))?;
    ctx.render_status(
        status,
        "staff_claim.html",
        json!({
            "story": story,
            "packs": packs,
            "origin": super::staff::origin_of(ctx),
            "decisions": Decision::ALL.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
            "error": error,
        }),
    )
}

#[derive(Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    csrf: String,
}

pub async fn review(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    match state.services.review_claim(&actor, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/claims/{id}")).into_response()),
        Err(e) => refused(&ctx, &state, id, e).await,
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
}

pub async fn decide(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    let invalid = |field: &str, message: &str| {
        ServiceError::Invalid(chotomoni_domain::FieldError::new(field, message))
    };
    let input = match (Decision::parse(&form.decision), form.amount.trim()) {
        (None, _) => Err(invalid("decision", "choose a decision")),
        (Some(decision), "") => Ok((decision, None)),
        (Some(decision), amount) => amount
            .parse::<i64>()
            .map(|a| (decision, Some(a)))
            .map_err(|_| invalid("amount", "must be a whole number of poisha")),
    }
    .map(|(decision, amount)| DecisionInput {
        decision,
        amount,
        reason: form.reason.clone(),
    });
    let decided = match input {
        Ok(input) => state.services.decide_claim(&actor, id, &input).await,
        Err(e) => Err(e),
    };
    match decided {
        Ok(_) => Ok(Redirect::to(&format!("/staff/claims/{id}")).into_response()),
        Err(e) => refused(&ctx, &state, id, e).await,
    }
}

#[derive(Deserialize)]
pub struct ManualRefundForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    refund: i64,
    #[serde(default)]
    wallet: String,
    #[serde(default)]
    trx_id: String,
}

/// The desk records a refund it paid back by hand.
pub async fn record_refund(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<ManualRefundForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    let recorded = match ManualRefundInput::from_form(&form.wallet, &form.trx_id) {
        Ok(input) => {
            state
                .services
                .record_manual_refund(&actor, form.refund, &input)
                .await
        }
        Err(e) => Err(e),
    };
    match recorded {
        Ok(_) => Ok(Redirect::to(&format!("/staff/claims/{id}#refund")).into_response()),
        Err(e) => refused(&ctx, &state, id, e).await,
    }
}

/// The pack form: a start (seconds) for each video, `start_{proof}`.
pub async fn make_pack(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let value = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    ctx.check_csrf(value("csrf").unwrap_or(""))?;
    let actor = ctx.staff_actor()?;
    let request = pack_request(&form, value);
    let made = match request {
        Ok(request) => state.services.make_claim_pack(&actor, id, &request).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(_) => Ok(Redirect::to(&format!("/staff/claims/{id}#packs")).into_response()),
        Err(e) => refused(&ctx, &state, id, e).await,
    }
}

fn pack_request<'a>(
    form: &'a [(String, String)],
    value: impl Fn(&str) -> Option<&'a str>,
) -> Result<PackRequest, ServiceError> {
    let invalid = |field: String, message: &str| {
        ServiceError::Invalid(chotomoni_domain::FieldError::new(field, message))
    };
    let purpose = value("purpose")
        .and_then(SharePurpose::parse)
        .ok_or_else(|| invalid("purpose".into(), "choose who the pack is for"))?;
    let mut excerpts = Vec::new();
    for (name, text) in form {
        let Some(proof) = name.strip_prefix("start_").and_then(|p| p.parse().ok()) else {
            continue;
        };
        let seconds: f64 = text
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s >= 0.0 && *s < 1e7)
            .ok_or_else(|| invalid(name.clone(), "must be a number of seconds, 0 or more"))?;
        excerpts.push(ExcerptStart {
            proof: ProofId(proof),
            start_ms: (seconds * 1000.0).round() as u64,
        });
    }
    Ok(PackRequest {
        purpose,
        include_contact: value("include_contact") == Some("on"),
        excerpts,
    })
}

#[derive(Deserialize)]
pub struct RevokePackForm {
    #[serde(default)]
    csrf: String,
    claim: i64,
}

pub async fn revoke_pack(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(pack): Path<i64>,
    Form(form): Form<RevokePackForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    state
        .services
        .revoke_claim_pack(&actor, pack)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to(&format!("/staff/claims/{}#packs", form.claim)).into_response())
}

/// A refused step shows the claim again with what was wrong; anything but
/// a bad field or a conflict is an error page.
async fn refused(
    ctx: &Ctx,
    state: &AppState,
    id: i64,
    e: ServiceError,
) -> Result<Response, PageError> {
    let Some((status, message)) = refusal(&e) else {
        return Err(ctx.fail(e));
    };
    story_page(ctx, state, id, status, json!(message)).await
}

/// What a claim form shows when the service refused it: a bad field (422)
/// or a conflict (409), with the reason; `None` for anything else.
pub(super) fn refusal(e: &ServiceError) -> Option<(StatusCode, String)> {
    match e {
        ServiceError::Invalid(f) => Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{} {}", f.field, f.message),
        )),
        ServiceError::Conflict(m) => Some((StatusCode::CONFLICT, m.clone())),
        _ => None,
    }
}
