//! Couriers, on both engines, against local stand-ins of their published
//! APIs: booking (once, whatever is asked), only delivery fields sent and
//! logged, webhooks that move the order forward only (duplicates, late
//! and forged calls change nothing), news about unknown parcels kept for
//! staff, the customer told on hand-over and delivery, failed bookings
//! shown and retried, cancelling, asking about quiet parcels, cash on
//! delivery, and who may do any of it.
use crate::common;

use chotomoni_courier_steadfast::stand_in::StandIn as Steadfast;
use chotomoni_domain::Role;
use chotomoni_testkit::{both_engines, Engine};
use common::couriers::{book, order_state, packed, packed_from, packed_to, REDX_WEBHOOK_TOKEN};
use common::privacy::{disclosures, eventually, place, set_status, sms_count, wait_for_sms};
use common::TestApp;
use serde_json::{json, Value};

/// A staff page's HTML, as `token` sees it.
async fn staff_page(app: &TestApp, token: &str, path: &str) -> String {
    let res = app
        .http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    res.text().await.unwrap()
}

async fn courier_events(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as("SELECT parcel_status, outcome FROM courier_events ORDER BY id")
        .fetch_all(&app.services.db().pool)
        .await
        .unwrap()
}

async fn booked_followed_and_delivered_on(engine: Engine) {
    let (app, stands) = common::couriers::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let support = app.staff("support", Role::Support).await;
    let packer = app.staff("packer", Role::Packer).await;
    // Ordered in English: the parcel's messages are in English.
    let mut body = common::order_body("Rokeya Begum", "01711000401");
    body["lang"] = json!("en");
    let number = packed_from(&app, &admin, &body).await;

    // A packer may not send a customer's address anywhere.
    let (status, _) = book(&app, &packer, &number, None).await;
    assert_eq!(status, 403);
    assert!(stands.steadfast.received().is_empty());

    let (status, parcel) = book(&app, &support, &number, None).await;
    assert_eq!(status, 200, "{parcel}");
    assert_eq!(parcel["courier"], "steadfast", "Dhaka goes to the default");
    assert_eq!(parcel["state"], "booked");
    let id = parcel["consignment_id"].as_str().unwrap().to_owned();
    let code = parcel["tracking_code"].as_str().unwrap().to_owned();
    assert!(parcel["tracking_url"].as_str().unwrap().ends_with(&code));
    // Exactly the delivery fields, the order number as invoice, the
    // cash-on-delivery total in taka; no email, no item names.
    let sent = &stands.steadfast.received()[0].body;
    assert_eq!(sent["invoice"], number.as_str());
    assert_eq!(sent["recipient_phone"], "01711000401");
    assert_eq!(sent["recipient_name"], "Rokeya Begum");
    assert_eq!(sent["cod_amount"].as_f64(), Some(9400.0));
    let text = sent.to_string();
    assert!(
        !text.contains("shapla.test") && !text.contains("Jamdani"),
        "{text}"
    );

    // Booking again books nothing new and answers with the same parcel.
    let (status, again) = book(&app, &admin, &number, None).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["consignment_id"], id.as_str());
    assert_eq!(stands.steadfast.consignments().len(), 1);

    // The disclosure log names the courier, the exact fields and why.
    let logged = disclosures(&app).await;
    let courier_rows: Vec<_> = logged.iter().filter(|(r, _, _)| r == "courier").collect();
    assert_eq!(courier_rows.len(), 1, "{logged:?}");
    assert_eq!(
        courier_rows[0].1,
        "orders.address_enc,customers.phone_enc,orders.total,orders.payment_method,order_items.quantity,orders.instructions_enc"
    );
    assert_eq!(courier_rows[0].2, "fulfilment");

    // The packing slip shows the courier and its tracking code.
    let slip = staff_page(&app, &packer, &format!("/staff/orders/{number}/slip")).await;
    assert!(slip.contains("steadfast") && slip.contains(&code), "{slip}");

    let hook = app.url("/webhooks/couriers/steadfast");
    let consignment = stands.steadfast.consignments()[0].clone();
    let event =
        |status: &str, cod: f64| Steadfast::delivery_status_event(&consignment, status, cod, 60.0);

    // Forged: no token, or another one. Refused, nothing changed.
    for token in [None, Some("not-the-token")] {
        let res = Steadfast::post_webhook(&hook, token, &event("delivered", 9400.0)).await;
        assert_eq!(res.status(), 401);
    }
    assert_eq!(app.count("courier_inbox").await, 0, "nothing received");
    assert!(courier_events(&app).await.is_empty());
    assert_eq!(order_state(&app, &admin, &number).await.0, "packed");

    // Picked up: handed to the courier, and the customer is told with the link.
    let token = Some(stands.steadfast.webhook_token.as_str());
    let res = Steadfast::post_webhook(&hook, token, &event("pending", 0.0)).await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["status"], "success");
    app.reports_applied().await;
    assert_eq!(
        order_state(&app, &admin, &number).await.0,
        "handed_to_courier"
    );
    let sms = wait_for_sms(&app, "+8801711000401", 1).await;
    assert!(sms.contains(&number) && sms.contains(&code), "{sms}");
    assert!(sms.contains("on its way with Steadfast"), "{sms}");

    // Delivered with the cash collected; then the same call again, and a
    // late "pending": the order stays delivered, with one history entry each.
    Steadfast::post_webhook(&hook, token, &event("delivered", 9400.0)).await;
    app.reports_applied().await;
    let (status, changes) = order_state(&app, &admin, &number).await;
    assert_eq!(status, "delivered");
    for late in ["delivered", "pending"] {
        let res = Steadfast::post_webhook(&hook, token, &event(late, 9400.0)).await;
        assert_eq!(res.status(), 200);
    }
    app.reports_applied().await;
    assert_eq!(order_state(&app, &admin, &number).await, (status, changes));
    let outcomes: Vec<String> = courier_events(&app)
        .await
        .into_iter()
        .map(|(_, o)| o)
        .collect();
    assert_eq!(outcomes, ["applied", "applied", "duplicate", "stale"]);
    let sms = wait_for_sms(&app, "+8801711000401", 2).await;
    assert!(sms.contains("was delivered"), "{sms}");
    assert_eq!(sms_count(&app, "+8801711000401"), 2, "told once per step");
    // Each notice is in the disclosure log: the SMS provider had the number.
    let to_provider = disclosures(&app)
        .await
        .into_iter()
        .filter(|(r, f, p)| {
            r == "service_provider" && f == "customers.phone_enc" && p == "fulfilment"
        })
        .count();
    assert_eq!(to_provider, 2);
    // The notices' jobs named the order only: no copy of the number waited
    // in the queue.
    let sealed: Vec<(String, Option<Vec<u8>>)> = sqlx::query_as(
        "SELECT kind, sealed FROM jobs WHERE kind LIKE 'message.parcel_%' ORDER BY id",
    )
    .fetch_all(&app.services.db().pool)
    .await
    .unwrap();
    assert_eq!(sealed.len(), 2, "{sealed:?}");
    assert!(sealed.iter().all(|(_, s)| s.is_none()), "{sealed:?}");

    // The order page lists what the courier said and what each did.
    let page = staff_page(&app, &support, &format!("/staff/orders/{number}?lang=en")).await;
    let said = page
        .split("id=\"parcel-history\"")
        .nth(1)
        .unwrap_or_default();
    for (word, outcome) in [
        ("pending", "moved it on"),
        ("delivered", "moved it on"),
        ("delivered", "already known"),
        ("pending", "came late, changed nothing"),
    ] {
        assert!(
            said.contains(&format!("{word} → ")) && said.contains(outcome),
            "{said}"
        );
    }
    assert_eq!(
        said.split("</ol>").next().unwrap().matches("<li>").count(),
        4
    );
    let (_, parcel) = app
        .get(&format!("/api/v1/orders/{number}/consignment"), &support)
        .await;
    assert_eq!(parcel["parcel_status"], "delivered");
    assert_eq!(parcel["collected"], 940_000);
    assert_eq!(parcel["delivery_fee"], 6_000);
    let (_, cash) = app.get("/api/v1/consignments/cash", &support).await;
    assert_eq!(
        cash,
        json!([{"courier": "steadfast", "parcels": 1, "collected": 940_000,
                "delivery_charges": 6_000, "paid_out": 0, "due_to_shop": 934_000}])
    );
    // Steadfast pays part of it; staff record that from its statement.
    let payout =
        |amount: i64| json!({"courier": "steadfast", "amount": amount, "reference": "SF-PAY-0042"});
    let (status, body) = app
        .post("/api/v1/consignments/payouts", Some(&support), &payout(0))
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("amount"))
    );
    let (status, _) = app
        .post(
            "/api/v1/consignments/payouts",
            Some(&packer),
            &payout(900_000),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post(
            "/api/v1/consignments/payouts",
            Some(&support),
            &payout(900_000),
        )
        .await;
    assert_eq!(status, 201);
    let (_, cash) = app.get("/api/v1/consignments/cash", &support).await;
    assert_eq!(
        (
            cash[0]["paid_out"].as_i64(),
            cash[0]["due_to_shop"].as_i64()
        ),
        (Some(900_000), Some(34_000))
    );
    // The catalog allows a courier no email address: the log's writer refuses it.
    let mut conn = app.services.db().conn().await.unwrap();
    let refused = chotomoni_services::disclosures::disclose(
        &mut conn,
        1,
        None,
        chotomoni_domain::catalog::Recipient::Courier,
        &["customers.email_enc"],
        chotomoni_domain::catalog::Purpose::Fulfilment,
    )
    .await;
    assert!(refused.is_err());
    drop(conn);
    // The SMS provider receiving the number is logged too.
    let logged = disclosures(&app).await;
    assert!(logged
        .iter()
        .any(|(r, f, _)| r == "service_provider" && f == "customers.phone_enc"));

    // News about a consignment we never booked: accepted, kept for staff.
    let mut stranger = consignment.clone();
    stranger.consignment_id = 999_999;
    let res = Steadfast::post_webhook(
        &hook,
        token,
        &Steadfast::delivery_status_event(&stranger, "delivered", 100.0, 60.0),
    )
    .await;
    assert_eq!(res.status(), 200);
    app.reports_applied().await;
    let (status, attention) = app.get("/api/v1/consignments/attention", &support).await;
    assert_eq!(status, 200);
    assert_eq!(attention["unknown"][0]["consignment_id"], "999999");
    let seen = attention["unknown"][0]["id"].as_i64().unwrap();
    let (status, _) = app.get("/api/v1/consignments/attention", &packer).await;
    assert_eq!(status, 403, "packers do not see the courier desk");
    let (status, _) = app
        .post(
            &format!("/api/v1/consignments/unknown/{seen}/seen"),
            Some(&support),
            &json!({}),
        )
        .await;
    assert_eq!(status, 204);
    let (_, attention) = app.get("/api/v1/consignments/attention", &support).await;
    assert_eq!(attention["unknown"], json!([]));
}
both_engines!(
    booked_followed_and_delivered,
    super::booked_followed_and_delivered_on
);

async fn failed_bookings_are_shown_and_retried_on(engine: Engine) {
    let (app, stands) = common::couriers::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let number = packed(&app, &admin, "Karim Uddin", "01711000402").await;

    stands.steadfast.fail_next(1, 500);
    let (status, parcel) = book(&app, &admin, &number, None).await;
    assert_eq!(status, 200, "{parcel}");
    assert_eq!(parcel["state"], "failed");
    assert!(
        parcel["error"].as_str().unwrap().contains("Server Error"),
        "{parcel}"
    );
    assert_eq!(parcel["may_book"], true);
    // A courier's message may repeat the address: not for packers.
    let packer = app.staff("packer", Role::Packer).await;
    let (status, seen) = app
        .get(&format!("/api/v1/orders/{number}/consignment"), &packer)
        .await;
    assert_eq!(
        (status, &seen["state"], &seen["error"]),
        (200, &json!("failed"), &Value::Null)
    );
    let (_, attention) = app.get("/api/v1/consignments/attention", &admin).await;
    assert_eq!(attention["parcels"][0]["order"], number.as_str());

    // The order page shows the courier's own message and the form again.
    let page = staff_page(&app, &admin, &format!("/staff/orders/{number}")).await;
    assert!(
        page.contains("id=\"courier-error\"") && page.contains("Server Error"),
        "{page}"
    );
    assert!(page.contains("id=\"book-form\""));

    let (status, parcel) = book(&app, &admin, &number, None).await;
    assert_eq!(status, 200, "{parcel}");
    assert_eq!(parcel["state"], "booked");
    assert_eq!(parcel["attempts"], 2);
    assert_eq!(stands.steadfast.consignments().len(), 1);
    let (_, attention) = app.get("/api/v1/consignments/attention", &admin).await;
    assert_eq!(attention["parcels"], json!([]));

    // Pathao, chosen by staff: booked, then delivered by its signed webhook
    // (amounts as Pathao writes them), the order through its steps.
    let pathao = packed(&app, &admin, "Pathao Customer", "01711000404").await;
    let (status, parcel) = book(&app, &admin, &pathao, Some("pathao")).await;
    assert_eq!(status, 200, "{parcel}");
    assert_eq!(parcel["state"], "booked", "{parcel}");
    let id = parcel["consignment_id"].as_str().unwrap().to_owned();
    let sent = &stands.pathao.orders()[0].received;
    assert_eq!(sent["merchant_order_id"], pathao.as_str());
    assert_eq!(sent["recipient_phone"], "01711000404");
    let body = stands.pathao.event_body("order.delivered", &id, &pathao);
    let res = stands
        .pathao
        .send_webhook(&app.url("/webhooks/couriers/pathao"), &body)
        .await;
    assert_eq!(res.status(), 202);
    app.reports_applied().await;
    let (status, steps) = order_state(&app, &admin, &pathao).await;
    assert_eq!((status.as_str(), steps), ("delivered", 5));
    let (_, parcel) = app
        .get(&format!("/api/v1/orders/{pathao}/consignment"), &admin)
        .await;
    assert_eq!(parcel["collected"], 106_050);

    // Not packed yet: refused before anything is sent.
    let sent = stands.steadfast.received().len();
    let (other, _) = place(&app, "Nasrin Akter", "01711000403").await;
    let (status, body) = book(&app, &admin, &other, None).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(stands.steadfast.received().len(), sent);
}
both_engines!(
    failed_bookings_are_shown_and_retried,
    super::failed_bookings_are_shown_and_retried_on
);

async fn the_days_packed_orders_are_booked_at_once_on(engine: Engine) {
    let (app, stands) = common::couriers::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let mut dhaka = Vec::new();
    for i in 0..3 {
        dhaka.push(packed(&app, &admin, "Dhaka Customer", &format!("0171100050{i}")).await);
    }
    // One to Chattogram, which RedX takes.
    let ctg = packed_to(&app, &admin, "01711000509", "Agrabad", "Chattogram").await;
    // Already booked: left alone.
    let (_, first) = book(&app, &admin, &dhaka[0], None).await;
    assert_eq!(first["state"], "booked");

    let (status, outcome) = app
        .post("/api/v1/consignments/book-packed", Some(&admin), &json!({}))
        .await;
    assert_eq!(status, 200, "{outcome}");
    let mut booked: Vec<String> = serde_json::from_value(outcome["booked"].clone()).unwrap();
    booked.sort();
    let mut want = vec![dhaka[1].clone(), dhaka[2].clone(), ctg.clone()];
    want.sort();
    assert_eq!(booked, want);
    assert_eq!(outcome["failed"], json!([]));
    // Steadfast's two went in one bulk call; RedX has no bulk endpoint.
    let bulk: Vec<_> = stands
        .steadfast
        .received()
        .into_iter()
        .filter(|r| r.path.contains("bulk"))
        .collect();
    assert_eq!(bulk.len(), 1);
    assert_eq!(stands.steadfast.consignments().len(), 3);
    assert_eq!(stands.redx.parcels().len(), 1);
    let (_, parcel) = app
        .get(&format!("/api/v1/orders/{ctg}/consignment"), &admin)
        .await;
    assert_eq!(parcel["courier"], "redx");

    // Nothing left to book: a second run books nothing.
    let (_, again) = app
        .post("/api/v1/consignments/book-packed", Some(&admin), &json!({}))
        .await;
    assert_eq!(again["booked"], json!([]));
    assert_eq!(stands.steadfast.consignments().len(), 3);
}
both_engines!(
    the_days_packed_orders_are_booked_at_once,
    super::the_days_packed_orders_are_booked_at_once_on
);

async fn cancelled_orders_cancel_their_parcel_and_quiet_ones_are_asked_on(engine: Engine) {
    let (app, stands) = common::couriers::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let cancelled = packed_to(&app, &admin, "01711000601", "Dhanmondi", "Dhaka").await;
    let (_, parcel) = book(&app, &admin, &cancelled, Some("redx")).await;
    let tracking = parcel["consignment_id"].as_str().unwrap().to_owned();
    set_status(&app, &admin, &cancelled, "cancelled").await;
    // The cancel is a job, run by the server's worker.
    let redx = eventually(|| async {
        let parcels = stands.redx.parcels();
        (parcels[0].1.status == "cancelled").then_some(parcels)
    })
    .await;
    assert_eq!(redx[0].0, tracking);
    // The job records it once RedX has answered.
    eventually(|| async {
        let (_, parcel) = app
            .get(&format!("/api/v1/orders/{cancelled}/consignment"), &admin)
            .await;
        (parcel["state"] == "cancelled").then_some(())
    })
    .await;

    // Cancelled while Steadfast was still answering the booking: once the
    // answer is in, the parcel is cancelled there too (a return request).
    let late = packed(&app, &admin, "Late Cancel", "01711000603").await;
    stands
        .steadfast
        .set_delay(std::time::Duration::from_millis(1500));
    let booking = {
        let (app_base, admin) = (app.base.clone(), admin.clone());
        let late = late.clone();
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{app_base}/api/v1/orders/{late}/consignment"))
                .bearer_auth(admin)
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    set_status(&app, &admin, &late, "cancelled").await;
    assert_eq!(booking.await.unwrap(), 200);
    stands.steadfast.set_delay(std::time::Duration::ZERO);
    let requests = eventually(|| async {
        let r = stands.steadfast.return_requests();
        (!r.is_empty()).then_some(r)
    })
    .await;
    assert_eq!(requests.len(), 1, "{requests:?}");

    // A RedX webhook with the token in the URL; a wrong token changes nothing.
    let quiet = packed_to(&app, &admin, "01711000602", "Dhanmondi", "Dhaka").await;
    let (_, parcel) = book(&app, &admin, &quiet, Some("redx")).await;
    let tracking = parcel["consignment_id"].as_str().unwrap().to_owned();
    let hook = app.url("/webhooks/couriers/redx");
    let res = stands
        .redx
        .send_webhook(&hook, "wrong", &tracking, "delivered")
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(app.count("courier_inbox").await, 0, "nothing received");
    assert_eq!(order_state(&app, &admin, &quiet).await.0, "packed");
    let res = stands
        .redx
        .send_webhook(&hook, REDX_WEBHOOK_TOKEN, &tracking, "delivery-in-progress")
        .await;
    assert_eq!(res.status(), 200);
    app.reports_applied().await;
    assert_eq!(
        order_state(&app, &admin, &quiet).await.0,
        "handed_to_courier"
    );
    // Ordered without a language: told in Bangla, with RedX's tracking page.
    let sms = wait_for_sms(&app, "+8801711000602", 1).await;
    assert!(sms.contains("হস্তান্তর") && sms.contains(&tracking), "{sms}");

    // The delivered webhook never comes; after the quiet period the poll
    // job asks RedX and the order follows.
    stands.redx.set_status(&tracking, "delivered");
    assert_eq!(app.services.poll_silent_parcels().await.unwrap(), 0);
    assert_eq!(
        order_state(&app, &admin, &quiet).await.0,
        "handed_to_courier",
        "not quiet yet"
    );
    app.services
        .clock()
        .advance(std::time::Duration::from_secs(7 * 3600));
    assert_eq!(app.services.poll_silent_parcels().await.unwrap(), 1);
    app.reports_applied().await;
    assert_eq!(order_state(&app, &admin, &quiet).await.0, "delivered");
    let sources: Vec<String> = sqlx::query_scalar("SELECT source FROM courier_events ORDER BY id")
        .fetch_all(&app.services.db().pool)
        .await
        .unwrap();
    assert_eq!(sources, ["webhook", "poll"]);
}
both_engines!(
    cancelled_orders_cancel_their_parcel_and_quiet_ones_are_asked,
    super::cancelled_orders_cancel_their_parcel_and_quiet_ones_are_asked_on
);

/// Pathao saves a webhook URL only after its handshake is answered 202
/// with its header; a call without the signature is refused.
async fn pathao_handshake_on(engine: Engine) {
    let (app, stands) = common::couriers::spawn(engine).await;
    let hook = app.url("/webhooks/couriers/pathao");
    let res = stands.pathao.send_handshake(&hook).await;
    assert_eq!(res.status(), 202);
    assert_eq!(
        res.headers()["x-pathao-merchant-webhook-integration-secret"],
        "f3992ecc-59da-4cbe-a049-a13da2018d51"
    );
    let res = app
        .http
        .post(&hook)
        .json(&json!({"event": "webhook_integration"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // A greedy body is refused before anything reads it.
    let res = app
        .http
        .post(&hook)
        .header("content-type", "application/json")
        .body(vec![b' '; 300 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let res = app
        .http
        .post(app.url("/webhooks/couriers/dhl"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}
both_engines!(pathao_handshake, super::pathao_handshake_on);
