//! A customer's claims on their order page: what they filed, its evidence
//! and the decision, and the form that files one on a delivered order.
use super::{Ctx, PageError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chotomoni_domain::claim::{ClaimKind, ClaimStatus};
use chotomoni_domain::{OrderNumber, OrderStatus};
use chotomoni_services::claims::{ClaimInput, ClaimItemInput};
use chotomoni_services::orders::OrderView;
use chotomoni_services::{Actor, ServiceError};
use serde_json::{json, Value as Json};
use std::collections::HashMap;

/// What the order page shows of the customer's claims: each claim, whether
/// a new one may be filed (delivered, none open), and what the unboxing
/// recorder records at.
pub(super) async fn section(
    ctx: &Ctx,
    state: &AppState,
    actor: &Actor,
    order: &OrderView,
    number: OrderNumber,
) -> Result<Json, PageError> {
    let claims = state
        .services
        .order_claims(actor, number)
        .await
        .map_err(|e| ctx.fail(e))?;
    let open = claims.iter().any(|c| c.status != ClaimStatus::Decided);
    Ok(json!({
        "list": claims,
        "may_file": order.status == OrderStatus::Delivered && !open,
        "kinds": ClaimKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        // The unboxing recorder records at the station's settings: one place
        // to tune what a phone sends over a customer's connection too.
        "video": state.config.station_video,
    }))
}

/// The filing form: `kind`, `description`, and `qty_<line>` for each line
/// claimed (empty or 0 for lines not claimed).
pub async fn file(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(number): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    ctx.check_csrf(field("csrf"))?;
    let actor = ctx.customer_actor()?;
    let number = ctx.order_number(&number)?;
    let invalid = |field: &str, message: &str| {
        ServiceError::Invalid(chotomoni_domain::FieldError::new(field, message))
    };
    let items: Result<Vec<ClaimItemInput>, ServiceError> = form
        .iter()
        .filter_map(|(name, qty)| Some((name.strip_prefix("qty_")?, qty.trim())))
        .filter(|(_, qty)| !qty.is_empty() && *qty != "0")
        .map(|(line, qty)| {
            Ok(ClaimItemInput {
                line_no: line
                    .parse()
                    .map_err(|_| invalid("items", "name no such line"))?,
                quantity: qty
                    .parse()
                    .map_err(|_| invalid("items", "need a whole number"))?,
            })
        })
        .collect();
    let filed = match (ClaimKind::parse(field("kind")), items) {
        (None, _) => Err(invalid("kind", "choose what went wrong")),
        (_, Err(e)) => Err(e),
        (Some(kind), Ok(mut items)) => {
            items.sort_by_key(|i| i.line_no);
            let input = ClaimInput {
                kind,
                items,
                description: Some(field("description").to_owned()),
                raised_by: None,
                reference: None,
                lang: Some(ctx.lang.code().to_owned()),
            };
            state.services.file_claim(&actor, number, &input).await
        }
    };
    match filed {
        Ok(_) => Ok(Redirect::to(&format!("/account/orders/{number}#claims")).into_response()),
        Err(e) => {
            let Some((status, message)) = super::claims::refusal(&e) else {
                return Err(ctx.fail(e));
            };
            super::account::order_page(&ctx, &state, number, status, json!(message)).await
        }
    }
}
