//! Staff order entry: orders taken by phone or Facebook.
use super::form::{field_error, OrderForm};
use super::shop::product_list;
use super::{Ctx, PageError};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chotomoni_domain::staff::Permission;
use chotomoni_domain::OrderSource;
use chotomoni_services::orders::ItemInput;
use serde_json::json;

pub async fn new_form(ctx: Ctx, State(state): State<AppState>) -> Result<Response, PageError> {
    let actor = ctx.staff_actor()?;
    if !actor.staff_may(Permission::EnterOrders) {
        return Err(ctx.error(StatusCode::FORBIDDEN, "err-forbidden"));
    }
    let products = product_list(&ctx, &state).await?;
    ctx.render(
        "staff_new.html",
        json!({ "products": products,
                "values": { "payment": "cod", "source": "phone", "qty1": "1" },
                "errors": {} }),
    )
}

pub async fn new_order(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<OrderForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let actor = ctx.staff_actor()?;
    let products_list = product_list(&ctx, &state).await?;
    let again = |errors: serde_json::Value| {
        ctx.render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "staff_new.html",
            json!({ "products": products_list, "values": form.values(), "errors": errors }),
        )
    };
    let mut items = vec![];
    {
        let catalogue = state.services.catalogue();
        for (sku, qty) in [
            (&form.sku1, &form.qty1),
            (&form.sku2, &form.qty2),
            (&form.sku3, &form.qty3),
        ] {
            if sku.is_empty() {
                continue;
            }
            let Ok(quantity) = qty.trim().parse::<i64>() else {
                return again(json!({ "items": "err-field-items" }));
            };
            let Some(p) = catalogue.product(sku).await.map_err(|e| ctx.fail(e))? else {
                return again(json!({ "items": "err-field-items" }));
            };
            items.push(ItemInput {
                name: p.name_en,
                sku: Some(p.sku),
                quantity,
                unit_price: p.price,
            });
        }
    }
    let source = OrderSource::parse(&form.source).filter(|s| *s != OrderSource::Shop);
    let Some(source) = source else {
        return again(json!({ "source": "err-field-source" }));
    };
    match state
        .services
        .create_order(&actor, &form.input(items, Some(source)))
        .await
    {
        Ok(view) => Ok(Redirect::to(&format!("/staff/orders/{}", view.number)).into_response()),
        Err(e) => match field_error(&e) {
            Some(errors) => again(errors),
            None => Err(ctx.fail(e)),
        },
    }
}
