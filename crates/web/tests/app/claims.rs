//! Claims, on both engines: a customer files one on their own delivered
//! order (and nobody else's, nor before delivery, nor after the window),
//! the desk takes it up and decides it, the customer is told once, the
//! order's proof is held while the claim is open and for the appeal
//! period after, and a replacement creates its free order.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_testkit::{both_engines, Engine};
use common::privacy::{customer_token, place, set_status, sms_count, wait_for_sms};
use common::{tus, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

const DAY_MS: i64 = 86_400_000;

async fn deliver(app: &TestApp, admin: &str, number: &str) {
    for to in ["confirmed", "packed", "handed_to_courier", "delivered"] {
        set_status(app, admin, number, to).await;
    }
}

async fn file(app: &TestApp, token: Option<&str>, number: &str, body: Value) -> (u16, Value) {
    app.post(&format!("/api/v1/orders/{number}/claims"), token, &body)
        .await
}

async fn decide(app: &TestApp, token: &str, id: i64, body: Value) -> (u16, Value) {
    app.post(&format!("/api/v1/claims/{id}/decision"), Some(token), &body)
        .await
}

async fn scalar(app: &TestApp, sql: &str) -> Option<i64> {
    sqlx::query_scalar(sql)
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap()
}

async fn filed_and_decided(engine: Engine) {
    let app = common::spawn_with_sms(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let support = app.staff("support", Role::Support).await;
    let packer = app.staff("packer", Role::Packer).await;
    let (number, me) = place(&app, "Rokeya Begum", "01711000301").await;
    let (other_number, other) = place(&app, "Other Person", "01711000302").await;
    let mine = customer_token(&app, me).await;
    let theirs = customer_token(&app, other).await;
    let damaged = json!({"kind": "damaged", "items": [{"line_no": 1, "quantity": 1}],
        "description": "The lid was cracked"});

    // Not delivered yet: 409, and nothing was stored.
    let (status, body) = file(&app, Some(&mine), &number, damaged.clone()).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("delivered"));
    deliver(&app, &admin, &number).await;
    deliver(&app, &admin, &other_number).await;

    // Someone else's order answers exactly as an order that does not exist.
    let (status, not_mine) = file(&app, Some(&theirs), &number, damaged.clone()).await;
    let (_, missing) = file(&app, Some(&theirs), "CM-999999", damaged.clone()).await;
    assert_eq!(status, 404, "{not_mine}");
    assert_eq!(not_mine, missing);
    // No session: 401; a packer: 403.
    assert_eq!(file(&app, None, &number, damaged.clone()).await.0, 401);
    assert_eq!(
        file(&app, Some(&packer), &number, damaged.clone()).await.0,
        403
    );
    // Lines that are not the order's, or more than were ordered: 422 naming `items`.
    for items in [
        json!([{"line_no": 9, "quantity": 1}]),
        json!([{"line_no": 1, "quantity": 99}]),
        json!([]),
        json!([{"line_no": 1, "quantity": 1}, {"line_no": 1, "quantity": 1}]),
    ] {
        let (status, body) = file(
            &app,
            Some(&mine),
            &number,
            json!({"kind": "damaged", "items": items}),
        )
        .await;
        assert_eq!(status, 422, "{items}: {body}");
        assert_eq!(body["error"]["field"], "items", "{body}");
    }
    // A customer may not say a marketplace raised it.
    let (status, body) = file(
        &app,
        Some(&mine),
        &number,
        json!({"kind": "other", "raised_by": "marketplace", "reference": "DZ-1"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("raised_by")),
        "{body}"
    );
    assert_eq!(app.count("claims").await, 0);

    // Filed: open, its words read back, its order's proof held.
    let (status, claim) = file(&app, Some(&mine), &number, damaged.clone()).await;
    assert_eq!(status, 201, "{claim}");
    let id = claim["id"].as_i64().unwrap();
    assert_eq!(claim["status"], "open");
    assert_eq!(claim["raised_by"], "customer");
    assert_eq!(claim["description"], "The lid was cracked");
    assert_eq!(claim["items"][0]["quantity"], 1);
    assert_eq!(claim["order"], number.as_str());
    let held = format!(
        "SELECT COUNT(*) FROM legal_holds WHERE reason = 'open_claim' AND until_at IS NULL \
         AND released_at IS NULL AND id = (SELECT hold_id FROM claims WHERE id = {id})"
    );
    assert_eq!(scalar(&app, &held).await, Some(1));
    // The description is stored sealed, not in clear.
    let sealed: Vec<u8> = sqlx::query_scalar(&format!(
        "SELECT description_enc FROM claims WHERE id = {id}"
    ))
    .fetch_one(&app.services.db().pool)
    .await
    .unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("cracked"));

    // Evidence: the customer's video of the open claim, named or not, is its
    // evidence; another order's claim does not exist for it.
    let clip = chotomoni_testkit::fake_mp4(3_000);
    let meta = |claim: Option<i64>| {
        let claim = claim.map(|c| c.to_string());
        let mut pairs = vec![
            ("order", number.as_str()),
            ("kind", "claim"),
            ("filename", "unboxing.mp4"),
        ];
        if let Some(c) = &claim {
            pairs.push(("claim", c.as_str()));
        }
        tus::metadata(&pairs)
    };
    for named in [Some(id), None] {
        let created = app.tus_create(&mine, clip.len() as u64, &meta(named)).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let done = app
            .tus_patch(&mine, &created.header("location").unwrap(), 0, &clip, None)
            .await;
        assert_eq!(done.status, 204, "{}", done.body);
    }
    let (_, seen) = app.get(&format!("/api/v1/claims/{id}"), &mine).await;
    assert_eq!(seen["evidence"].as_array().unwrap().len(), 2, "{seen}");
    let elsewhere = app
        .tus_create(
            &theirs,
            10,
            &tus::metadata(&[
                ("order", other_number.as_str()),
                ("kind", "claim"),
                ("claim", &id.to_string()),
            ]),
        )
        .await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);

    // Filing again shows the open one.
    let (status, again) = file(&app, Some(&mine), &number, damaged.clone()).await;
    assert_eq!(status, 409, "{again}");
    assert!(again["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&format!("claim {id}")));

    // Who sees it: its customer and the desk; not another customer, not a packer.
    assert_eq!(app.get(&format!("/api/v1/claims/{id}"), &mine).await.0, 200);
    let (status, body) = app.get(&format!("/api/v1/claims/{id}"), &theirs).await;
    let (_, none) = app.get("/api/v1/claims/999999", &theirs).await;
    assert_eq!((status, &body), (404, &none));
    assert_eq!(
        app.get(&format!("/api/v1/claims/{id}"), &packer).await.0,
        403
    );
    assert_eq!(
        app.get(&format!("/api/v1/claims/{id}"), &support).await.0,
        200
    );
    assert_eq!(app.get("/api/v1/claims", &packer).await.0, 403);
    assert_eq!(app.get("/api/v1/claims", &mine).await.0, 401);
    let (status, queue) = app.get("/api/v1/claims?status=open", &support).await;
    assert_eq!(status, 200, "{queue}");
    assert_eq!(queue.as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/v1/claims?status=lost", &support).await.0, 422);

    // Taken up once.
    let (status, reviewed) = app
        .post(
            &format!("/api/v1/claims/{id}/review"),
            Some(&support),
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, reviewed["status"].as_str()),
        (200, Some("in_review"))
    );
    let again = app
        .post(
            &format!("/api/v1/claims/{id}/review"),
            Some(&support),
            &json!({}),
        )
        .await;
    assert_eq!(again.0, 409);

    // A packer may not decide; a refund above what was paid is 422 naming `amount`.
    let partial = json!({"decision": "partial_refund", "amount": 500, "reason": "The lid was cracked in transit"});
    assert_eq!(decide(&app, &packer, id, partial.clone()).await.0, 403);
    let total = scalar(
        &app,
        &format!(
            "SELECT total FROM orders WHERE id = (SELECT order_id FROM claims WHERE id = {id})"
        ),
    )
    .await
    .unwrap();
    let (status, body) = decide(
        &app,
        &support,
        id,
        json!({"decision": "partial_refund", "amount": total + 1, "reason": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("amount")),
        "{body}"
    );
    let (status, body) = decide(
        &app,
        &support,
        id,
        json!({"decision": "rejected", "reason": "  "}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("reason")),
        "{body}"
    );

    let sent = sms_count(&app, "+8801711000301");
    let (status, decided) = decide(&app, &support, id, partial.clone()).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "decided");
    assert_eq!(decided["decision"], "partial_refund");
    assert_eq!(decided["refund_amount"], 500);
    // Decided once, and closed to more evidence.
    assert_eq!(decide(&app, &support, id, partial.clone()).await.0, 409);
    let late = app
        .tus_create(&mine, clip.len() as u64, &meta(Some(id)))
        .await;
    assert_eq!(late.status, 409, "{}", late.body);

    // Told once, in Bangla (the default), with the reason.
    let sms = wait_for_sms(&app, "+8801711000301", sent + 1).await;
    assert!(
        sms.contains("ক্লেইমের সিদ্ধান্ত") && sms.contains("The lid was cracked in transit"),
        "{sms}"
    );
    assert!(sms.contains("৳5.00"), "{sms}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sms_count(&app, "+8801711000301"), sent + 1);

    // The hold now ends with the appeal period (30 days after the decision).
    let until = scalar(&app, &format!("SELECT until_at FROM legal_holds WHERE id = (SELECT hold_id FROM claims WHERE id = {id})")).await.unwrap();
    let decided_at = scalar(
        &app,
        &format!("SELECT decided_at FROM claims WHERE id = {id}"),
    )
    .await
    .unwrap();
    assert_eq!(until - decided_at, 30 * DAY_MS);

    // The customer sees the decision on their order.
    let (status, list) = app
        .get(&format!("/api/v1/orders/{number}/claims"), &mine)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["reason"], "The lid was cracked in transit");
    assert_eq!(
        app.get(&format!("/api/v1/orders/{number}/claims"), &theirs)
            .await
            .0,
        404
    );

    // Every step is in the audit log (views are written in batches).
    app.services.audit().flush().await;
    let actions: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT DISTINCT action FROM audit_log WHERE target = 'claim:{id}' ORDER BY action"
    ))
    .fetch_all(&app.services.db().pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        ["claim.decide", "claim.file", "claim.review", "claim.view"]
    );
    // What is left to refund is what was paid less this refund.
    let (status, claim2) = file(&app, Some(&mine), &number, json!({"kind": "other"})).await;
    assert_eq!(status, 201, "{claim2}");
    let (status, body) = decide(
        &app,
        &support,
        claim2["id"].as_i64().unwrap(),
        json!({"decision": "partial_refund", "amount": total - 499, "reason": "more"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("amount")),
        "{body}"
    );
}
both_engines!(
    claims_are_filed_by_their_customer_and_decided_by_the_desk,
    super::filed_and_decided
);

async fn window_and_marketplace(engine: Engine) {
    let app = common::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let support = app.staff("support", Role::Support).await;
    let (number, me) = place(&app, "Mitu Akter", "01711000311").await;
    let mine = customer_token(&app, me).await;
    deliver(&app, &admin, &number).await;
    app.services
        .clock()
        .advance(Duration::from_millis((7 * DAY_MS + 60_000) as u64));

    // Eight days after delivery: refused, naming the window and its length.
    let (status, body) = file(&app, Some(&mine), &number, json!({"kind": "not_received"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "window");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("7 days"),
        "{body}"
    );
    // Support filing for the customer keeps to the same window.
    let (status, _) = file(
        &app,
        Some(&support),
        &number,
        json!({"kind": "not_received"}),
    )
    .await;
    assert_eq!(status, 422);
    // A marketplace's claim has its own process: it needs its reference, not the window.
    let (status, body) = file(&app, Some(&support), &number,
        json!({"kind": "damaged", "raised_by": "marketplace", "items": [{"line_no": 1, "quantity": 1}]})).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("reference")),
        "{body}"
    );
    let (status, claim) = file(
        &app,
        Some(&support),
        &number,
        json!({"kind": "damaged", "raised_by": "marketplace", "reference": "DZ-7781",
               "items": [{"line_no": 1, "quantity": 1}]}),
    )
    .await;
    assert_eq!(status, 201, "{claim}");
    assert_eq!(claim["reference"], "DZ-7781");
    assert_eq!(claim["raised_by"], "marketplace");
    // Its customer sees it too.
    assert_eq!(
        app.get(&format!("/api/v1/claims/{}", claim["id"]), &mine)
            .await
            .0,
        200
    );

    // Overdue claims come first in the desk's queue, and say so.
    app.services
        .clock()
        .advance(Duration::from_millis((4 * DAY_MS) as u64));
    let (_, queue) = app.get("/api/v1/claims", &support).await;
    assert_eq!(queue[0]["id"], claim["id"]);
    assert_eq!(queue[0]["overdue"], true);
}
both_engines!(
    claims_keep_to_the_window_except_a_marketplaces,
    super::window_and_marketplace
);

async fn replacement(engine: Engine) {
    let app = common::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let (number, me) = place(&app, "Jui Khatun", "01711000321").await;
    let mine = customer_token(&app, me).await;
    deliver(&app, &admin, &number).await;
    let (_, claim) = file(
        &app,
        Some(&mine),
        &number,
        json!({"kind": "wrong_item", "items": [{"line_no": 1, "quantity": 1}]}),
    )
    .await;
    let id = claim["id"].as_i64().unwrap();
    let (status, decided) = decide(
        &app,
        &admin,
        id,
        json!({"decision": "replacement", "reason": "We sent the wrong colour"}),
    )
    .await;
    assert_eq!(status, 200, "{decided}");
    let new_number = decided["replacement_order"].as_str().unwrap();
    assert_ne!(new_number, number);

    // A free order of the claimed line, ready to pack, to the same address, theirs.
    let (status, original) = app.get(&format!("/api/v1/orders/{number}"), &mine).await;
    assert_eq!(status, 200);
    let (status, order) = app
        .get(&format!("/api/v1/orders/{new_number}"), &mine)
        .await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(order["status"], "confirmed");
    assert_eq!(order["total"], 0);
    assert_eq!(order["items"][0]["name"], original["items"][0]["name"]);
    assert_eq!(order["items"][0]["quantity"], 1);
    assert_eq!(order["address"], original["address"]);
    // No amount goes with a replacement.
    let (_, claim2) = file(&app, Some(&mine), &number, json!({"kind": "other"})).await;
    let (status, body) = decide(
        &app,
        &admin,
        claim2["id"].as_i64().unwrap(),
        json!({"decision": "replacement", "reason": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("decision")),
        "{body}"
    );
    let (status, body) = decide(
        &app,
        &admin,
        claim2["id"].as_i64().unwrap(),
        json!({"decision": "rejected", "amount": 5, "reason": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("amount")),
        "{body}"
    );
}
both_engines!(a_replacement_creates_its_free_order, super::replacement);
