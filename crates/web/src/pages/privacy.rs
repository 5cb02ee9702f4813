//! "What we collect and why", generated from the personal-data catalog.
use super::{Ctx, PageError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use chotomoni_domain::catalog::{entries, Category, Purpose};
use chotomoni_domain::policy::PolicyDraft;
use chotomoni_domain::staff::Permission;
use chotomoni_services::policies::{Acceptance, PolicyVersion};
use serde::Deserialize;
use serde_json::json;

pub async fn data(ctx: Ctx, State(state): State<AppState>) -> Result<Response, PageError> {
    let lang = ctx.lang;
    // `api::privacy::catalog_doc` is private to the API module; the page reads
    // the same catalog directly.
    let periods = state.services.settings().periods();
    let purpose = |p: &Purpose| {
        let (en, bn) = p.policy_terms();
        lang.pick(en, bn).to_owned()
    };
    let categories: Vec<_> = Category::ALL
        .iter()
        .map(|c| {
            let fields: Vec<_> = entries()
                .filter(|f| f.category == *c)
                .map(|f| {
                    json!({
                        "label": lang.pick(f.label_en, f.label_bn),
                        "purposes": f.purposes.iter().map(purpose).collect::<Vec<_>>(),
                        "retention": f.retention.describe(lang, &periods),
                        "shared_with": f.shared_with.iter().map(|r| r.label(lang)).collect::<Vec<_>>(),
                        "erasure": f.erasure.label(lang),
                        "encrypted": f.encrypted,
                    })
                })
                .collect();
            let (policy_en, policy_bn) = c.policy_terms();
            json!({
                "label": c.label(lang),
                "policy": lang.pick(policy_en, policy_bn),
                "fields": fields,
            })
        })
        .collect();
    ctx.render("privacy_data.html", json!({ "categories": categories }))
}

/// The current privacy policy, in the visitor's language.
pub async fn policy(ctx: Ctx, State(state): State<AppState>) -> Result<Response, PageError> {
    let current = state
        .services
        .current_policy()
        .await
        .map_err(|e| ctx.fail(e))?;
    show(&ctx, &state, current).await
}

/// One version at its stable address, `/privacy/v/N`.
pub async fn version(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(n): Path<i64>,
) -> Result<Response, PageError> {
    let version = state
        .services
        .policy_version(n)
        .await
        .map_err(|e| ctx.fail(e))?;
    show(&ctx, &state, version).await
}

async fn show(ctx: &Ctx, state: &AppState, v: PolicyVersion) -> Result<Response, PageError> {
    use chotomoni_domain::policy;
    let versions = state
        .services
        .policy_versions()
        .await
        .map_err(|e| ctx.fail(e))?;
    let current = versions.first().map(|(n, _)| *n).unwrap_or(v.version);
    ctx.render(
        "privacy_policy.html",
        json!({
            "blocks": policy::blocks(v.text(ctx.lang)),
            "version": v.version,
            "published_at": v.published_at,
            "current": current,
            "versions": versions.iter().map(|(n, at)| json!({"version": n, "published_at": at})).collect::<Vec<_>>(),
        }),
    )
}

#[derive(Deserialize)]
pub struct DiffQuery {
    from: i64,
    to: i64,
}

/// What changed between two versions, line by line, in the visitor's language.
pub async fn diff(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(q): Query<DiffQuery>,
) -> Result<Response, PageError> {
    let services = &state.services;
    let old = services
        .policy_version(q.from)
        .await
        .map_err(|e| ctx.fail(e))?;
    let new = services
        .policy_version(q.to)
        .await
        .map_err(|e| ctx.fail(e))?;
    let lines = chotomoni_domain::policy::diff(old.text(ctx.lang), new.text(ctx.lang));
    ctx.render(
        "privacy_diff.html",
        json!({ "from": old.version, "to": new.version, "lines": lines }),
    )
}

#[derive(Deserialize)]
pub struct AcceptForm {
    version: i64,
    #[serde(default)]
    back: String,
    #[serde(default)]
    csrf: String,
}

/// A signed-in customer acknowledges the changed policy (the notice goes away).
pub async fn accept(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<AcceptForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.customer_actor()?;
    state
        .services
        .accept_policy(&actor, form.version, Acceptance::Notice)
        .await
        .map_err(|e| ctx.fail(e))?;
    // The same check as a sign-in's `next`: `/\\host` is another site too.
    let back = super::station::local_path(&form.back).unwrap_or("/account");
    Ok(Redirect::to(back).into_response())
}

#[derive(Deserialize)]
pub struct PublishForm {
    bn: String,
    en: String,
    #[serde(default)]
    csrf: String,
}

/// The admin's form for a new version, prefilled with the current one.
pub async fn publish_form(ctx: Ctx, State(state): State<AppState>) -> Result<Response, PageError> {
    let actor = ctx.staff_actor()?;
    if !actor.staff_may(Permission::Administer) {
        return Err(ctx.error(StatusCode::FORBIDDEN, "err-forbidden"));
    }
    let current = state
        .services
        .current_policy()
        .await
        .map_err(|e| ctx.fail(e))?;
    ctx.render(
        "staff_policy.html",
        json!({ "current": current.version, "bn": current.bn, "en": current.en, "errors": {} }),
    )
}

pub async fn publish(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<PublishForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    let services = &state.services;
    let draft = match PolicyDraft::parse(&form.bn, &form.en) {
        Ok(d) => d,
        Err(e) => {
            let current = services.current_policy().await.map_err(|e| ctx.fail(e))?;
            return ctx.render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "staff_policy.html",
                json!({ "current": current.version, "bn": form.bn, "en": form.en, "errors": { e.field: "policy-err-required" } }),
            );
        }
    };
    let published = services
        .publish_policy(&actor, &draft)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Redirect::to(&format!("/privacy/v/{}", published.version)).into_response())
}
