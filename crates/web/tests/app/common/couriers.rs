//! The three couriers' stand-ins, and the server booking with them:
//! Steadfast is the default, RedX takes Chattogram.
use super::TestApp;
use chotomoni_courier_pathao::stand_in::StandIn as PathaoStandIn;
use chotomoni_courier_redx::stand_in::StandIn as RedxStandIn;
use chotomoni_courier_steadfast::stand_in::StandIn as SteadfastStandIn;
use chotomoni_domain::CourierName;
use chotomoni_services::couriers::CourierSet;
use chotomoni_testkit::Engine;
use serde_json::{json, Value};
use std::sync::Arc;

pub const REDX_WEBHOOK_TOKEN: &str = "redx-callback-token-0123456789";

pub struct Couriers {
    pub steadfast: SteadfastStandIn,
    pub pathao: PathaoStandIn,
    pub redx: RedxStandIn,
}

pub async fn spawn(engine: Engine) -> (TestApp, Couriers) {
    let stands = Couriers {
        steadfast: SteadfastStandIn::start().await,
        pathao: PathaoStandIn::start().await,
        redx: RedxStandIn::start().await,
    };
    let mut set = CourierSet::new()
        .with(Arc::new(
            chotomoni_courier_steadfast::Steadfast::new(stands.steadfast.config()).unwrap(),
        ))
        .with(Arc::new(
            chotomoni_courier_pathao::Pathao::new(stands.pathao.config()).unwrap(),
        ))
        .with(Arc::new(
            chotomoni_courier_redx::Redx::new(stands.redx.config(REDX_WEBHOOK_TOKEN)).unwrap(),
        ));
    set.default = Some(CourierName::Steadfast);
    set.by_district = vec![("Chattogram".into(), CourierName::Redx)];
    (super::spawn_with_couriers(engine, set).await, stands)
}

/// Books `number` (with `courier`, or its default) as `token`.
pub async fn book(app: &TestApp, token: &str, number: &str, courier: Option<&str>) -> (u16, Value) {
    let body = match courier {
        Some(c) => serde_json::json!({ "courier": c }),
        None => serde_json::json!({}),
    };
    app.post(
        &format!("/api/v1/orders/{number}/consignment"),
        Some(token),
        &body,
    )
    .await
}

/// An order's status and how many status changes it has had.
pub async fn order_state(app: &TestApp, token: &str, number: &str) -> (String, usize) {
    let (status, order) = app.get(&format!("/api/v1/orders/{number}"), token).await;
    assert_eq!(status, 200, "{order}");
    (
        order["status"].as_str().unwrap().to_owned(),
        order["history"].as_array().unwrap().len(),
    )
}

/// A packed order placed by `name` with `phone` (Mirpur, Dhaka).
pub async fn packed(app: &TestApp, admin: &str, name: &str, phone: &str) -> String {
    let (number, _) = super::privacy::place(app, name, phone).await;
    super::privacy::set_status(app, admin, &number, "confirmed").await;
    super::privacy::set_status(app, admin, &number, "packed").await;
    number
}

/// A packed order to an area RedX lists (it books by its own area names).
pub async fn packed_to(
    app: &TestApp,
    admin: &str,
    phone: &str,
    area: &str,
    district: &str,
) -> String {
    let mut body = super::order_body("Redx Customer", phone);
    body["address"] = json!({"line": "House 3, Road 2", "area": area, "district": district});
    packed_from(app, admin, &body).await
}

pub async fn packed_from(app: &TestApp, admin: &str, body: &Value) -> String {
    let (status, order) = app.post("/api/v1/orders", None, body).await;
    assert_eq!(status, 201, "{order}");
    let number = order["number"].as_str().unwrap().to_owned();
    super::privacy::set_status(app, admin, &number, "confirmed").await;
    super::privacy::set_status(app, admin, &number, "packed").await;
    number
}
