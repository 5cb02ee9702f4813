//! Demo and bulk seeding produce real, readable data on both engines.
use crate::common;

use chotomoni_domain::{OrderId, OrderNumber, OrderStatus};
use chotomoni_services::{seed, Actor};
use chotomoni_testkit::{both_engines, Engine};

async fn bulk_and_demo(engine: Engine) {
    let app = common::spawn(engine).await;
    let s = &app.services;
    let mut reported = vec![];
    seed::seed_bulk(s, 120, |n| reported.push(n)).await.unwrap();
    assert_eq!(reported.last(), Some(&120));
    assert_eq!(app.count("orders").await, 120);
    assert_eq!(app.count("customers").await, 12);
    assert_eq!(app.count("order_items").await, 120);

    // Bulk rows are sealed under each customer's own key, like real ones.
    let view = s
        .order(&Actor::System, OrderNumber::from_id(OrderId(77)))
        .await
        .unwrap();
    assert!(view.customer.as_ref().unwrap().phone.starts_with("+88019"));
    assert!(view.address.line.as_deref().unwrap().starts_with("House "));
    assert!(!view.erased);

    // A second run continues the numbering, and new orders still get fresh ids.
    seed::seed_bulk(s, 30, |_| {}).await.unwrap();
    assert_eq!(app.count("orders").await, 150);
    let (status, order) = app
        .post(
            "/api/v1/orders",
            None,
            &common::order_body("After Seed", "01711999888"),
        )
        .await;
    assert_eq!((status, order["number"].as_str()), (201, Some("CM-000151")));

    // The demo shop: every status present, dates spread over weeks.
    seed::seed_demo(s, 5, 60).await.unwrap();
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT status FROM orders WHERE id > 151")
            .fetch_all(&s.db().pool)
            .await
            .unwrap();
    for st in OrderStatus::ALL {
        assert!(statuses.iter().any(|x| x == st.as_str()), "demo lacks {st}");
    }
    let (min, max): (i64, i64) =
        sqlx::query_as("SELECT MIN(created_at), MAX(created_at) FROM orders WHERE id > 151")
            .fetch_one(&s.db().pool)
            .await
            .unwrap();
    assert!(max - min > 30 * 86_400_000, "demo orders span weeks");
}
both_engines!(seeding_makes_readable_data, super::bulk_and_demo);
