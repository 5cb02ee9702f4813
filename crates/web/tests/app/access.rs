//! Access control as a matrix: each role, a customer, and a stranger against
//! each order endpoint, on both engines.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_services::auth::ClientInfo;
use chotomoni_testkit::{both_engines, Engine};
use serde_json::json;

/// Who asks: a bearer token, or none.
struct Who {
    label: &'static str,
    token: Option<String>,
}

async fn matrix(engine: Engine) {
    let app = common::spawn(engine).await;
    let (_, mine) = app
        .post(
            "/api/v1/orders",
            None,
            &common::order_body("Owner One", "01711000001"),
        )
        .await;
    let (_, theirs) = app
        .post(
            "/api/v1/orders",
            None,
            &common::order_body("Owner Two", "01711000002"),
        )
        .await;
    let mine = mine["number"].as_str().unwrap().to_owned();
    let theirs = theirs["number"].as_str().unwrap().to_owned();

    let mut people = vec![];
    for (label, role) in [
        ("admin", Role::Admin),
        ("support", Role::Support),
        ("packer", Role::Packer),
        ("courier", Role::Courier),
    ] {
        people.push(Who {
            label,
            token: Some(app.staff(label, role).await),
        });
    }
    // The owner of `mine`, signed in as a customer.
    let owner_id: i64 = sqlx::query_scalar("SELECT customer_id FROM orders ORDER BY id LIMIT 1")
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    let (token, _) = app.customer_session(owner_id, &ClientInfo::default()).await;
    people.push(Who {
        label: "customer",
        token: Some(token),
    });
    people.push(Who {
        label: "stranger",
        token: None,
    });

    // (who, GET own order, GET other's order, GET list, GET by-code, sees phone)
    let expected = [
        ("admin", 200, 200, 200, 200, true),
        ("support", 200, 200, 200, 200, true),
        ("packer", 200, 200, 200, 200, false),
        ("courier", 200, 200, 200, 200, true),
        ("customer", 200, 404, 200, 401, true),
        ("stranger", 404, 404, 401, 401, false),
    ];
    for (who, (label, own, other, list, scan, sees_phone)) in people.iter().zip(expected) {
        assert_eq!(who.label, label);
        let get = |path: String| {
            let mut req = app.http.get(app.url(&path));
            if let Some(t) = &who.token {
                req = req.bearer_auth(t);
            }
            async move {
                let res = req.send().await.unwrap();
                let status = res.status().as_u16();
                (
                    status,
                    res.json::<serde_json::Value>().await.unwrap_or_default(),
                )
            }
        };
        let (s, body) = get(format!("/api/v1/orders/{mine}")).await;
        assert_eq!(s, own, "{label} GET own order: {body}");
        if s == 200 {
            assert_eq!(
                body["customer"]["phone"].is_string(),
                sees_phone,
                "{label} phone visibility"
            );
        }
        let (s, body) = get(format!("/api/v1/orders/{theirs}")).await;
        assert_eq!(s, other, "{label} GET other order: {body}");
        // A customer's "not found" for someone else's order is the same as for no order.
        if label == "customer" {
            let (s2, none) = get("/api/v1/orders/CM-999999".into()).await;
            assert_eq!((s2, &none["error"]), (404, &body["error"]));
        }
        let (s, body) = get("/api/v1/orders".into()).await;
        assert_eq!(s, list, "{label} list");
        if label == "customer" {
            let numbers: Vec<&str> = body["orders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["number"].as_str().unwrap())
                .collect();
            assert_eq!(
                numbers,
                vec![mine.as_str()],
                "a customer lists only their own orders"
            );
        }
        let (s, _) = get(format!("/api/v1/orders/by-code/{mine}")).await;
        assert_eq!(s, scan, "{label} scan");
    }

    // Who may enter orders and move them along.
    let entry = [
        ("admin", 201),
        ("support", 201),
        ("packer", 403),
        ("courier", 403),
        ("customer", 201),
        ("stranger", 201),
    ];
    for (who, (label, want)) in people.iter().zip(entry) {
        let mut body = common::order_body("Entered By Phone", "01911000003");
        if label != "customer" && label != "stranger" {
            body["source"] = json!("phone");
        }
        let (s, e) = app
            .post("/api/v1/orders", who.token.as_deref(), &body)
            .await;
        assert_eq!(s, want, "{label} enters an order: {e}");
    }
    let mut facebook = common::order_body("Shop Visitor", "01911000004");
    facebook["source"] = json!("facebook");
    let (s, e) = app.post("/api/v1/orders", None, &facebook).await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (422, Some("source")),
        "only staff enter Facebook orders"
    );

    let status_of = |n: &str| format!("/api/v1/orders/{n}/status");
    let admin = people[0].token.clone();
    let (s, _) = app
        .post(
            &status_of(&mine),
            people[3].token.as_deref(),
            &json!({"status": "confirmed"}),
        )
        .await;
    assert_eq!(s, 403, "a courier does not confirm orders");
    let (s, _) = app
        .post(
            &status_of(&theirs),
            people[4].token.as_deref(),
            &json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(s, 404, "a customer cannot touch another's order");
    let (s, _) = app
        .post(
            &status_of(&mine),
            people[4].token.as_deref(),
            &json!({"status": "confirmed"}),
        )
        .await;
    assert_eq!(s, 403, "a customer cannot confirm");
    let (s, o) = app
        .post(
            &status_of(&mine),
            people[4].token.as_deref(),
            &json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(
        (s, o["status"].as_str()),
        (200, Some("cancelled")),
        "a customer may cancel their placed order"
    );
    let (s, _) = app
        .post(
            &status_of(&theirs),
            admin.as_deref(),
            &json!({"status": "confirmed"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .post(
            &status_of(&theirs),
            people[2].token.as_deref(),
            &json!({"status": "packed"}),
        )
        .await;
    assert_eq!(s, 200, "a packer packs");
    let (s, _) = app
        .post(
            &status_of(&theirs),
            people[2].token.as_deref(),
            &json!({"status": "handed_to_courier"}),
        )
        .await;
    assert_eq!(s, 403, "a packer does not hand over");
    let (s, _) = app
        .post(
            &status_of(&theirs),
            people[3].token.as_deref(),
            &json!({"status": "handed_to_courier"}),
        )
        .await;
    assert_eq!(s, 200, "a courier takes it");
}
both_engines!(order_endpoints_by_role, super::matrix);
