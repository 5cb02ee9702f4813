//! Refunds of decided claims, on both engines, against the gateways'
//! stand-ins: a bKash payment refunded through bKash's refund API; an
//! SSLCommerz one processing until SSLCommerz settles it, followed by the
//! background job; a bKash payment past bKash's 15 days refused without a
//! call and paid back by hand; a cash-on-delivery order paid back by hand
//! with the wallet's transaction id (never a phone number). The claim shows
//! the refund to the desk and to its customer.
use crate::common;

use chotomoni_domain::{JobKind, Role};
use chotomoni_testkit::{both_engines, Engine};
use common::payments::{bkash_payment_id, follow, online_order, payment_status, spawn, started};
use common::privacy::{customer_token, place, set_status};
use common::TestApp;
use serde_json::{json, Value};
use std::time::Duration;

async fn deliver(app: &TestApp, admin: &str, number: &str) {
    for to in ["confirmed", "packed", "handed_to_courier", "delivered"] {
        set_status(app, admin, number, to).await;
    }
}

async fn customer_of(app: &TestApp, number: &str) -> String {
    let id: i64 = sqlx::query_scalar("SELECT customer_id FROM orders WHERE id = $1")
        .bind(number.trim_start_matches("CM-").parse::<i64>().unwrap())
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    customer_token(app, id).await
}

/// The customer claims the order's first line damaged; the desk decides
/// `decision` (a refund of `amount`, if given). The claim's id.
async fn claim_and_decide(
    app: &TestApp,
    desk: &str,
    customer: &str,
    number: &str,
    amount: Option<i64>,
) -> i64 {
    let (status, claim) = app
        .post(
            &format!("/api/v1/orders/{number}/claims"),
            Some(customer),
            &json!({"kind": "damaged", "items": [{"line_no": 1, "quantity": 1}],
                "description": "The box was crushed"}),
        )
        .await;
    assert_eq!(status, 201, "{claim}");
    let id = claim["id"].as_i64().unwrap();
    let mut decision = json!({"decision": "full_refund", "reason": "Crushed in transit"});
    if let Some(a) = amount {
        decision = json!({"decision": "partial_refund", "amount": a, "reason": "One item crushed"});
    }
    let (status, decided) = app
        .post(
            &format!("/api/v1/claims/{id}/decision"),
            Some(desk),
            &decision,
        )
        .await;
    assert_eq!(status, 200, "{decided}");
    id
}

/// The claim's refund once it reaches `status` (the job runs in the
/// background), as `token` sees it.
async fn refund_reaching(app: &TestApp, token: &str, claim: i64, status: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        let (code, body) = app.get(&format!("/api/v1/claims/{claim}"), token).await;
        assert_eq!(code, 200, "{body}");
        last = body["refund"].clone();
        if last["status"] == status {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the refund never reached {status}: {last}");
}

async fn paid_with_bkash(
    app: &TestApp,
    g: &common::payments::Gateways,
    support: &str,
    number: &str,
) {
    let tran_id = started(app, support, number, "bkash").await;
    let id = bkash_payment_id(&g.bkash, &tran_id);
    let (_, page) = follow(&g.bkash.customer(&id, Some("01898765432"), "success")).await;
    assert!(page.contains("Payment received"), "{page}");
}

async fn gateway_refunds_on(engine: Engine) {
    let (app, g) = spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let support = app.staff("support", Role::Support).await;

    // bKash: a partial refund, through bKash's refund API, once.
    let number = online_order(&app, "Rokeya Begum", "01711000601").await;
    paid_with_bkash(&app, &g, &support, &number).await;
    deliver(&app, &admin, &number).await;
    let customer = customer_of(&app, &number).await;
    let claim = claim_and_decide(&app, &support, &customer, &number, Some(250_000)).await;
    let refund = refund_reaching(&app, &support, claim, "refunded").await;
    assert_eq!(refund["method"], "bkash");
    assert_eq!(refund["amount"], 250_000);
    let sent = g.bkash.received("payment/refund");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["amount"], "2500.00");
    // bKash got no words of the desk's, which may name the customer.
    assert_eq!(sent[0]["reason"], format!("Claim {claim} refund"));
    let paid = g
        .bkash
        .payments()
        .into_iter()
        .find(|p| p.trx_id.is_some())
        .unwrap();
    assert_eq!(refund["gateway_reference"], paid.refunds[0].0.as_str());
    // The customer sees it on the claim, and on their order's page.
    let mine = refund_reaching(&app, &customer, claim, "refunded").await;
    assert_eq!(mine["amount"], 250_000);
    let res = app
        .http
        .get(app.url(&format!("/account/orders/{number}?lang=en")))
        .bearer_auth(&customer)
        .send()
        .await
        .unwrap();
    let page = common::html::text(res).await;
    assert!(page.contains("Refund of ৳2,500.00: refunded"), "{page}");
    // Part refunded: the order is still paid.
    assert_eq!(payment_status(&app, &support, &number).await, "paid");
    // A second run of the job sends nothing more.
    app.services.run_jobs_of(JobKind::RefundSend).await.unwrap();
    assert_eq!(g.bkash.received("payment/refund").len(), 1);

    // SSLCommerz: processing until SSLCommerz settles it; the follow-up
    // job asks, and the whole refund marks the order refunded.
    let number = online_order(&app, "Rokeya Begum", "01711000601").await;
    let tran_id = started(&app, &support, &number, "sslcommerz").await;
    let notice = g.ssl.pay(
        &tran_id,
        chotomoni_gateway_sslcommerz::stand_in::Card::visa(),
    );
    assert_eq!(g.ssl.post_notice(&tran_id, &notice).await, 200);
    deliver(&app, &admin, &number).await;
    let customer = customer_of(&app, &number).await;
    let claim = claim_and_decide(&app, &support, &customer, &number, None).await;
    let refund = refund_reaching(&app, &support, claim, "processing").await;
    let reference = refund["gateway_reference"].as_str().unwrap().to_owned();
    assert_eq!(g.ssl.seen().refunds.len(), 1);
    assert_eq!(g.ssl.seen().refunds[0].amount, 940_000);
    // Asked again only after a quiet while.
    assert_eq!(app.services.follow_refunds().await.unwrap(), 0);
    app.services.clock().advance(Duration::from_secs(11 * 60));
    assert_eq!(app.services.follow_refunds().await.unwrap(), 1);
    assert_eq!(
        refund_reaching(&app, &support, claim, "processing").await["status"],
        "processing"
    );
    g.ssl.settle_refund(&reference, "refunded");
    app.services.clock().advance(Duration::from_secs(11 * 60));
    assert_eq!(app.services.follow_refunds().await.unwrap(), 1);
    let support2 = app.staff("support2", Role::Support).await;
    let done = refund_reaching(&app, &support2, claim, "refunded").await;
    assert!(done["finished_at"].is_string(), "{done}");
    assert_eq!(payment_status(&app, &support2, &number).await, "refunded");
    assert_eq!(app.services.follow_refunds().await.unwrap(), 0);
    assert_eq!(g.ssl.seen().refunds.len(), 1, "refunded once");

    // bKash refuses: the refund is refused with bKash's own code and
    // words, for the desk to pay by hand; the order stays paid.
    let number = online_order(&app, "Rokeya Begum", "01711000601").await;
    paid_with_bkash(&app, &g, &support2, &number).await;
    deliver(&app, &admin, &number).await;
    let customer = customer_of(&app, &number).await;
    g.bkash.fail_next(
        1,
        chotomoni_gateway_bkash::stand_in::Failure::Code(
            "2071".into(),
            "Refund amount exceeds the transaction amount".into(),
        ),
    );
    let claim = claim_and_decide(&app, &support2, &customer, &number, None).await;
    let refused = refund_reaching(&app, &support2, claim, "refused").await;
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("2071") && message.contains("exceeds"),
        "{refused}"
    );
    assert!(refused["finished_at"].is_null(), "{refused}");
    assert_eq!(payment_status(&app, &support2, &number).await, "paid");
}
both_engines!(gateway_refunds, super::gateway_refunds_on);

async fn refunds_paid_by_hand_on(engine: Engine) {
    let (app, g) = spawn(engine).await;
    let support = app.staff("support", Role::Support).await;

    // Paid with bKash, claimed after bKash's 15 days: refused without a
    // call, with the reason, and left for staff to pay by hand.
    let late = online_order(&app, "Nasrin Akter", "01711000602").await;
    paid_with_bkash(&app, &g, &support, &late).await;
    app.services
        .clock()
        .advance(Duration::from_secs(16 * 24 * 3600));
    // Signed in after the days went by (sessions run out).
    let admin = app.staff("admin", Role::Admin).await;
    let desk = app.staff("desk", Role::Support).await;
    let packer = app.staff("packer", Role::Packer).await;
    deliver(&app, &admin, &late).await;
    let customer = customer_of(&app, &late).await;
    let claim = claim_and_decide(&app, &desk, &customer, &late, None).await;
    let refused = refund_reaching(&app, &desk, claim, "refused").await;
    assert!(
        refused["message"].as_str().unwrap().contains("15 days"),
        "{refused}"
    );
    assert!(g.bkash.received("payment/refund").is_empty());

    // Cash on delivery: waiting for staff from the start.
    let (cod, customer_id) = place(&app, "Nasrin Akter", "01711000603").await;
    deliver(&app, &admin, &cod).await;
    let cod_customer = customer_token(&app, customer_id).await;
    let cod_claim = claim_and_decide(&app, &desk, &cod_customer, &cod, None).await;
    let waiting = refund_reaching(&app, &desk, cod_claim, "awaiting_manual").await;
    assert_eq!(waiting["method"], "manual");

    // The desk's list holds both, oldest first.
    let (status, list) = app.get("/api/v1/refunds", &desk).await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            refused["id"].as_i64().unwrap(),
            waiting["id"].as_i64().unwrap()
        ]
    );
    assert_eq!(app.get("/api/v1/refunds", &packer).await.0, 403);
    // The desk's payments page lists them too, with the way to each claim.
    let (status, page) = crate::claims_desk::page(&app, &desk, "/staff/payments?lang=en").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(&format!("data-refund=\"{}\"", waiting["id"])),
        "{page}"
    );
    assert!(
        page.contains(&format!("/staff/claims/{claim}#refund")),
        "{page}"
    );
    assert!(page.contains("No payment is held."), "{page}");
    assert_eq!(
        crate::claims_desk::page(&app, &packer, "/staff/payments")
            .await
            .0,
        403
    );
    assert_eq!(app.get("/api/v1/refunds", &cod_customer).await.0, 401);

    let record = |id: i64, body: Value, token: String| {
        let app = &app;
        async move {
            app.post(&format!("/api/v1/refunds/{id}/manual"), Some(&token), &body)
                .await
        }
    };
    let id = waiting["id"].as_i64().unwrap();
    // A wallet number is never kept: refused, naming the field.
    let (status, body) = record(
        id,
        json!({"wallet": "bkash", "trx_id": "01711000603"}),
        desk.clone(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "trx_id");
    let (status, _) = record(
        id,
        json!({"wallet": "nagad", "trx_id": "7HG2K9QX"}),
        packer.clone(),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = record(
        id,
        json!({"wallet": "nagad", "trx_id": "7HG2K9QX"}),
        cod_customer.clone(),
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = record(
        id,
        json!({"wallet": "paypal", "trx_id": "7HG2K9QX"}),
        desk.clone(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, done) = record(
        id,
        json!({"wallet": "nagad", "trx_id": "7hg2k9qx"}),
        desk.clone(),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "refunded");
    assert_eq!(done["wallet_trx_id"], "7HG2K9QX");
    // Once only.
    let (status, _) = record(
        id,
        json!({"wallet": "nagad", "trx_id": "8HG2K9QX"}),
        desk.clone(),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        app.post(
            "/api/v1/refunds/999999/manual",
            Some(&desk),
            &json!({"wallet": "nagad", "trx_id": "8HG2K9QX"})
        )
        .await
        .0,
        404
    );
    // The customer sees how they were paid back.
    let mine = refund_reaching(&app, &cod_customer, cod_claim, "refunded").await;
    assert_eq!(
        (mine["wallet"].as_str(), mine["wallet_trx_id"].as_str()),
        (Some("nagad"), Some("7HG2K9QX"))
    );

    // The refused bKash refund, paid by hand through the desk's page.
    let (status, page) =
        crate::claims_desk::page(&app, &desk, &format!("/staff/claims/{claim}?lang=en")).await;
    assert_eq!(status, 200);
    assert!(page.contains("15 days"), "{page}");
    let csrf = common::html::csrf_of(&page);
    let refund_id = refused["id"].as_i64().unwrap().to_string();
    let (status, page) = crate::claims_desk::submit(
        &app,
        &desk,
        &format!("/staff/claims/{claim}/refund?lang=en"),
        &[
            ("csrf", csrf.as_str()),
            ("refund", refund_id.as_str()),
            ("wallet", "bkash"),
            ("trx_id", "9BA7X2K1Q0"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    let (_, page) =
        crate::claims_desk::page(&app, &desk, &format!("/staff/claims/{claim}?lang=en")).await;
    assert!(
        page.contains(r#"id="refund" data-status="refunded""#),
        "{page}"
    );
    assert!(page.contains("9BA7X2K1Q0"), "{page}");
    assert!(!page.contains(r#"id="refund-form""#), "{page}");
    let (_, list) = app.get("/api/v1/refunds", &desk).await;
    assert_eq!(list.as_array().unwrap().len(), 0, "{list}");
}
both_engines!(refunds_paid_by_hand, super::refunds_paid_by_hand_on);
