//! Storefront, cart, checkout, confirmation and public tracking.
use super::form::{field_error, OrderForm};
use super::{Ctx, PageError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chotomoni_domain::{GatewayName, PaymentMethod};
use chotomoni_services::orders::ItemInput;
use chotomoni_services::{Actor, ServiceError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CartLine {
    pub sku: String,
    pub quantity: i64,
}

pub(super) async fn product_list(ctx: &Ctx, state: &AppState) -> Result<Vec<Json>, PageError> {
    let rows = state
        .services
        .catalogue()
        .on_sale()
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(rows
        .into_iter()
        .map(|p| {
            json!({
                "sku": p.sku,
                "name": ctx.lang.pick(&p.name_en, &p.name_bn),
                "price": p.price,
            })
        })
        .collect())
}

pub async fn home(ctx: Ctx, State(state): State<AppState>) -> Result<Response, PageError> {
    let products = product_list(&ctx, &state).await?;
    ctx.render("home.html", json!({ "products": products }))
}

#[derive(Deserialize)]
pub struct AddForm {
    sku: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    csrf: String,
}

pub async fn cart_add(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<AddForm>,
) -> Result<Response, PageError> {
    let quantity = form
        .quantity
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|q| (1..=99).contains(q))
        .ok_or_else(|| ctx.error(StatusCode::UNPROCESSABLE_ENTITY, "err-quantity"))?;
    let product = state
        .services
        .catalogue()
        .product(&form.sku)
        .await
        .map_err(|e| ctx.fail(e))?
        .filter(|p| p.on_sale)
        .ok_or_else(|| ctx.error(StatusCode::NOT_FOUND, "err-not-found"))?;
    // The one strictly necessary cookie is set here, and only here, for visitors.
    let (session, cookie) = match &ctx.caller.session {
        Some(_) => (ctx.check_csrf(&form.csrf)?.clone(), None),
        None => {
            let (token, s) = state
                .services
                .open_session(Actor::Visitor, ctx.lang, &ctx.caller.client)
                .await
                .map_err(|e| ctx.fail(e))?;
            let max_age = i64::from(state.services.settings().session_days) * 86_400;
            (s, Some(ctx.caller.session_cookie(&token, max_age)))
        }
    };
    let mut cart: Vec<CartLine> = serde_json::from_str(&session.cart).unwrap_or_default();
    match cart.iter_mut().find(|l| l.sku == product.sku) {
        Some(l) => l.quantity = (l.quantity + quantity).min(99),
        None => cart.push(CartLine {
            sku: product.sku,
            quantity,
        }),
    }
    cart.truncate(50);
    let text = serde_json::to_string(&cart).unwrap_or_else(|_| "[]".into());
    state
        .services
        .set_cart(&session, &text)
        .await
        .map_err(|e| ctx.fail(e))?;
    // `new=1` lets the checkout page tell when the cookie did not come back.
    let to = if cookie.is_some() {
        format!("/checkout?new=1&lang={}", ctx.lang.code())
    } else {
        "/checkout".to_owned()
    };
    let res = Redirect::to(&to).into_response();
    Ok(match cookie {
        Some(c) => super::with_cookie(res, &c),
        None => res,
    })
}

/// The cart's lines with current names and prices, and the total.
async fn cart_view(
    ctx: &Ctx,
    state: &AppState,
) -> Result<(Vec<Json>, Vec<ItemInput>, i64), PageError> {
    let cart: Vec<CartLine> = ctx
        .caller
        .session
        .as_ref()
        .and_then(|s| serde_json::from_str(&s.cart).ok())
        .unwrap_or_default();
    let catalogue = state.services.catalogue();
    let (mut lines, mut items, mut total) = (vec![], vec![], 0);
    for l in cart {
        let Some(p) = catalogue.product(&l.sku).await.map_err(|e| ctx.fail(e))? else {
            continue;
        };
        total += p.price * l.quantity;
        lines.push(json!({
            "name": ctx.lang.pick(&p.name_en, &p.name_bn),
            "quantity": l.quantity,
            "price": p.price,
            "line_total": p.price * l.quantity,
        }));
        items.push(ItemInput {
            name: p.name_en.clone(),
            sku: Some(p.sku),
            quantity: l.quantity,
            unit_price: p.price,
        });
    }
    Ok((lines, items, total))
}

#[derive(Deserialize, Default)]
pub struct CheckoutQuery {
    #[serde(default)]
    new: Option<String>,
}

pub async fn checkout_form(
    ctx: Ctx,
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<CheckoutQuery>,
) -> Result<Response, PageError> {
    if ctx.caller.session.is_none() && q.new.is_some() {
        return Err(ctx.error(StatusCode::BAD_REQUEST, "err-cookie-needed"));
    }
    let (lines, _, total) = cart_view(&ctx, &state).await?;
    ctx.render(
        "checkout.html",
        json!({ "lines": lines, "total": total, "values": { "payment": "cod" }, "errors": {},
                "gateways": state.services.payment_choice() }),
    )
}

/// Sends a just-placed online order to its gateway: the gateway's page,
/// or `None` (the order stays unpaid; the order page offers a second try).
async fn pay_now(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    number: &str,
    gateway: GatewayName,
) -> Option<String> {
    let number = chotomoni_domain::OrderNumber::parse(number).ok()?;
    let site = crate::api::webhooks::site_url(state, headers);
    // The order was placed in this very request: the system starts its
    // payment on the customer's behalf.
    match state
        .services
        .start_payment(&Actor::System, number, gateway, &site)
        .await
    {
        Ok(started) => Some(started.redirect_url),
        Err(e) => {
            tracing::warn!(order = %number, error = %e, "a checkout's payment did not start");
            None
        }
    }
}

pub async fn checkout(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Form(form): Form<OrderForm>,
) -> Result<Response, PageError> {
    let session = ctx.check_csrf(&form.csrf)?.clone();
    let (lines, items, total) = cart_view(&ctx, &state).await?;
    let again = |errors: Json| {
        ctx.render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "checkout.html",
            json!({ "lines": lines, "total": total, "values": form.values(), "errors": errors,
                    "gateways": state.services.payment_choice() }),
        )
    };
    if items.is_empty() {
        return again(json!({ "items": "err-cart-empty" }));
    }
    match state
        .services
        .create_order_limited(
            &ctx.caller.actor(),
            &chotomoni_services::orders::OrderInput {
                lang: Some(ctx.lang),
                ..form.input(items, None)
            },
            &ctx.caller.client,
        )
        .await
    {
        Ok(view) => {
            state
                .services
                .set_cart(&session, "[]")
                .await
                .map_err(|e| ctx.fail(e))?;
            let placed = format!("/orders/{}/placed", view.number);
            let to = match GatewayName::parse(&form.gateway) {
                Some(gateway) if view.payment_method == PaymentMethod::Online => {
                    pay_now(&state, &headers, &view.number, gateway)
                        .await
                        .unwrap_or_else(|| format!("{placed}?payment=not_started"))
                }
                _ => placed,
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => match field_error(&e) {
            Some(errors) => again(errors),
            None => Err(ctx.fail(e)),
        },
    }
}

#[derive(Deserialize, Default)]
pub struct PlacedQuery {
    /// `not_started`: the order's online payment could not be started.
    #[serde(default)]
    payment: Option<String>,
}

pub async fn placed(
    ctx: Ctx,
    Path(number): Path<String>,
    axum::extract::Query(q): axum::extract::Query<PlacedQuery>,
) -> Result<Response, PageError> {
    let number = ctx.order_number(&number)?;
    let not_started = q.payment.as_deref() == Some("not_started");
    ctx.render(
        "placed.html",
        json!({ "number": number.to_string(), "payment_not_started": not_started }),
    )
}

#[derive(Deserialize, Default)]
pub struct TrackForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    phone: String,
}

pub async fn track_form(ctx: Ctx) -> Result<Response, PageError> {
    ctx.render("track.html", json!({ "number": "" }))
}

/// Posted, not in the URL, so the phone number stays out of logs and history.
pub async fn track(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<TrackForm>,
) -> Result<Response, PageError> {
    let asked = state
        .services
        .track_limited(&form.number, &form.phone, &ctx.caller.client)
        .await;
    match asked {
        Ok(view) => ctx.render(
            "track.html",
            json!({ "number": form.number, "order": view, "phone": form.phone.trim(),
                    "gateways": state.services.payment_choice() }),
        ),
        Err(ServiceError::NotFound(_)) => ctx.render_status(
            StatusCode::NOT_FOUND,
            "track.html",
            json!({ "number": form.number, "not_found": true }),
        ),
        Err(ServiceError::RateLimited { retry_after_secs }) => ctx
            .render_status(
                StatusCode::TOO_MANY_REQUESTS,
                "track.html",
                json!({ "number": form.number, "rate_limited": true }),
            )
            .map(|page| super::with_retry_after(page, retry_after_secs)),
        Err(e) => Err(ctx.fail(e)),
    }
}
