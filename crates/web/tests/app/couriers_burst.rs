//! A burst of courier webhooks, on two servers over one database at once,
//! on both engines: reports are received into one inbox and applied many
//! per transaction by both servers' writers, and each is still applied
//! once. Every parcel moves once per status, its order once
//! per step, duplicates and late reports in the same batch change nothing,
//! and every report is recorded with what it did.
use crate::common;

use chotomoni_courier_steadfast::stand_in::StandIn as Steadfast;
use chotomoni_domain::Role;
use chotomoni_testkit::{both_engines, Engine};
use common::couriers::{order_state, packed};
use common::privacy::{sms_count, wait_for_sms};
use serde_json::json;

// Under the guest-order limit per address.
const PARCELS: usize = 8;

async fn count(app: &common::TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap()
}

/// Posts every `(webhook URL, event)` at once; each is answered 200.
async fn send_at_once(calls: Vec<(String, serde_json::Value)>, token: &str) {
    let calls: Vec<_> = calls
        .into_iter()
        .map(|(hook, event)| {
            let token = token.to_owned();
            tokio::spawn(async move {
                Steadfast::post_webhook(&hook, Some(&token), &event)
                    .await
                    .status()
            })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap(), 200);
    }
}

async fn a_burst_on_two_servers_applies_each_report_once_on(engine: Engine) {
    let (app, stands) = common::couriers::spawn(engine).await;
    let other = app.restart().await;
    let admin = app.staff("admin", Role::Admin).await;
    let phone = |i: usize| format!("0171100{:04}", 600 + i);
    let mut numbers = Vec::new();
    for i in 0..PARCELS {
        numbers.push(packed(&app, &admin, "Burst Customer", &phone(i)).await);
    }
    let (status, outcome) = app
        .post("/api/v1/consignments/book-packed", Some(&admin), &json!({}))
        .await;
    assert_eq!(status, 200, "{outcome}");
    let consignments = stands.steadfast.consignments();
    assert_eq!(consignments.len(), PARCELS);
    let token = stands.steadfast.webhook_token.clone();
    let hooks = [
        app.url("/webhooks/couriers/steadfast"),
        other.url("/webhooks/couriers/steadfast"),
    ];

    // Picked up: each parcel's news twice, once to each server, all at once.
    let mut calls = Vec::new();
    for c in &consignments {
        for hook in &hooks {
            let event = Steadfast::delivery_status_event(c, "pending", 0.0, 60.0);
            calls.push((hook.clone(), event));
        }
    }
    send_at_once(calls, &token).await;
    app.reports_applied().await;
    for number in &numbers {
        assert_eq!(
            order_state(&app, &admin, number).await.0,
            "handed_to_courier"
        );
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM courier_events WHERE outcome = 'applied'"
        )
        .await,
        PARCELS as i64
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM courier_events WHERE outcome = 'duplicate'"
        )
        .await,
        PARCELS as i64
    );

    // Delivered twice and a late "pending", spread over both servers.
    let mut calls = Vec::new();
    for (i, c) in consignments.iter().enumerate() {
        for (k, status) in ["delivered", "pending", "delivered"]
            .into_iter()
            .enumerate()
        {
            let event = Steadfast::delivery_status_event(c, status, 1500.0, 60.0);
            calls.push((hooks[(i + k) % 2].clone(), event));
        }
    }
    send_at_once(calls, &token).await;
    app.reports_applied().await;
    for number in &numbers {
        assert_eq!(order_state(&app, &admin, number).await.0, "delivered");
    }
    // Each order moved once per step; each parcel was delivered once.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM order_events WHERE to_status IN ('handed_to_courier', 'delivered')"
        )
        .await,
        2 * PARCELS as i64
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM courier_events WHERE outcome = 'applied' AND parcel_status = 'delivered'"
        )
        .await,
        PARCELS as i64
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM courier_events").await,
        5 * PARCELS as i64,
        "every report is recorded"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'order.status' AND detail LIKE '%by=courier'"
        )
        .await,
        2 * PARCELS as i64
    );
    assert_eq!(
        count(
            &app,
            "SELECT CAST(COALESCE(SUM(collected), 0) AS BIGINT) FROM consignments"
        )
        .await,
        PARCELS as i64 * 150_000
    );
    // Told once on hand-over and once on delivery.
    for i in 0..PARCELS {
        let e164 = format!("+88{}", phone(i));
        let last = wait_for_sms(&app, &e164, 2).await;
        assert!(last.contains("ডেলিভারি হয়েছে"), "{last}");
        assert_eq!(sms_count(&app, &e164), 2);
    }
}
both_engines!(
    a_burst_on_two_servers_applies_each_report_once,
    super::a_burst_on_two_servers_applies_each_report_once_on
);

/// A report received by a server that stopped before applying it stays in
/// the inbox; the next writer's turn (here started by the poll job) applies
/// it, with the time it was received.
async fn reports_a_stopped_server_received_are_applied_on(engine: Engine) {
    let (app, stands) = common::couriers::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let number = packed(&app, &admin, "Inbox Customer", "01711000690").await;
    let (status, outcome) = app
        .post("/api/v1/consignments/book-packed", Some(&admin), &json!({}))
        .await;
    assert_eq!(status, 200, "{outcome}");
    let id = stands.steadfast.consignments()[0].consignment_id;
    sqlx::query(&format!(
        "INSERT INTO courier_inbox (courier, consignment_id, parcel_status, courier_status, \
         source, received_at) VALUES ('steadfast', '{id}', 'with_courier', 'pending', 'webhook', 1234)"
    ))
    .execute(&app.services.db().pool)
    .await
    .unwrap();
    assert_eq!(order_state(&app, &admin, &number).await.0, "packed");

    app.services.poll_silent_parcels().await.unwrap();
    app.reports_applied().await;
    assert_eq!(
        order_state(&app, &admin, &number).await.0,
        "handed_to_courier"
    );
    let recorded: (String, String, i64) =
        sqlx::query_as("SELECT parcel_status, outcome, received_at FROM courier_events")
            .fetch_one(&app.services.db().pool)
            .await
            .unwrap();
    assert_eq!(recorded, ("with_courier".into(), "applied".into(), 1234));
}
both_engines!(
    reports_a_stopped_server_received_are_applied,
    super::reports_a_stopped_server_received_are_applied_on
);
