//! "What we collect and why", generated from the personal-data catalog.
use super::{Ctx, PageError};
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use chotomoni_domain::catalog::{Category, Purpose, FIELDS};
use serde_json::json;

pub async fn data(ctx: Ctx, State(state): State<AppState>) -> Result<Response, PageError> {
    let lang = ctx.lang;
    // `api::privacy::catalog_doc` is private to the API module; the page reads
    // the same catalog directly.
    let days = state.services.settings.technical_retention_days;
    let purpose = |p: &Purpose| {
        let (en, bn) = p.policy_terms();
        lang.pick(en, bn).to_owned()
    };
    let categories: Vec<_> = Category::ALL
        .iter()
        .map(|c| {
            let fields: Vec<_> = FIELDS
                .iter()
                .filter(|f| f.category == *c)
                .map(|f| {
                    json!({
                        "label": lang.pick(f.label_en, f.label_bn),
                        "purposes": f.purposes.iter().map(purpose).collect::<Vec<_>>(),
                        "retention": f.retention.describe(lang, days),
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
pub async fn policy(ctx: Ctx) -> Result<Response, PageError> {
    use chotomoni_domain::policy;
    let blocks = policy::blocks(policy::v1(ctx.lang));
    ctx.render(
        "privacy_policy.html",
        json!({ "blocks": blocks, "version": 1 }),
    )
}
