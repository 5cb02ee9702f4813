//! Printable packing slips with a Code128 barcode and a QR code.
use super::{Ctx, PageError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use barcoders::generators::svg::SVG;
use barcoders::sym::code128::Code128;
use chotomoni_domain::OrderNumber;
use chotomoni_services::orders::{OrderQuery, OrderView};
use serde::Deserialize;
use serde_json::{json, Value as Json};

fn barcode_svg(number: &str) -> Option<String> {
    let code = Code128::new(format!("\u{0181}{number}")).ok()?;
    SVG::new(60).generate(code.encode()).ok()
}

fn qr_svg(number: &str) -> Option<String> {
    let code = qrcode::QrCode::new(number.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(160, 160)
            .build(),
    )
}

/// One slip: the order, its codes, and its courier and tracking code once
/// booked.
async fn slip(
    state: &AppState,
    actor: &chotomoni_services::Actor,
    number: OrderNumber,
    view: OrderView,
) -> Json {
    let consignment = state
        .services
        .consignment(actor, number)
        .await
        .ok()
        .flatten();
    json!({
        "barcode": barcode_svg(&view.number),
        "qr": qr_svg(&view.number),
        "order": view,
        "consignment": consignment,
    })
}

pub async fn one(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    let actor = ctx.staff_actor()?;
    let number = ctx.order_number(&number)?;
    let view = state
        .services
        .order(&actor, number)
        .await
        .map_err(|e| ctx.fail(e))?;
    ctx.render(
        "slips.html",
        json!({ "slips": [slip(&state, &actor, number, view).await] }),
    )
}

#[derive(Deserialize)]
pub struct DayQuery {
    date: String,
}

/// Every order placed on one day (Dhaka time), one slip per printed page.
pub async fn day(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(q): Query<DayQuery>,
) -> Result<Response, PageError> {
    let actor = ctx.staff_actor()?;
    let mut slips = vec![];
    let mut before = None;
    loop {
        let page = state
            .services
            .list_orders(
                &actor,
                &OrderQuery {
                    from: Some(q.date.clone()),
                    to: Some(q.date.clone()),
                    before,
                    limit: Some(200),
                    ..OrderQuery::default()
                },
            )
            .await
            .map_err(|e| ctx.fail(e))?;
        for o in page.orders {
            let number = OrderNumber::parse(&o.number).map_err(|e| ctx.fail(e.into()))?;
            let view = state
                .services
                .order(&actor, number)
                .await
                .map_err(|e| ctx.fail(e))?;
            slips.push(slip(&state, &actor, number, view).await);
        }
        match page.next_before {
            Some(b) if slips.len() < 2000 => before = Some(b),
            _ => break,
        }
    }
    ctx.render("slips.html", json!({ "slips": slips, "date": q.date }))
}
