//! Online payments, on both engines, against local stand-ins of SSLCommerz
//! and bKash: paid through the IPN with the browser never back; the IPN
//! and the return racing (paid once); forged, replayed and unknown notices,
//! an INVALID validation, a risky card and a wrong amount (refused or held,
//! nothing paid); bKash success, failure, cancel and an execute that times
//! out; the background query; and no card or wallet number kept anywhere.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_gateway_sslcommerz::stand_in::{Card, StandIn as Ssl};
use chotomoni_testkit::{both_engines, Engine};
use common::payments::{
    bkash_payment_id, follow, online_order, paid_entries, payment_row, payment_status, post_return,
    spawn, start, started,
};
use common::privacy::disclosures;
use std::time::Duration;

fn set(pairs: &mut [(String, String)], name: &str, value: &str) {
    match pairs.iter_mut().find(|(k, _)| k == name) {
        Some(pair) => pair.1 = value.to_owned(),
        None => panic!("no {name} in the notice"),
    }
}

async fn paid_through_the_ipn_alone_on(engine: Engine) {
    let (app, g) = spawn(engine).await;
    let support = app.staff("support", Role::Support).await;
    let packer = app.staff("packer", Role::Packer).await;
    let number = online_order(&app, "Rokeya Begum", "01711000401").await;

    // A packer may not send a customer's details to a gateway.
    let (status, _) = start(&app, &packer, &number, "sslcommerz").await;
    assert_eq!(status, 403);
    let (status, body) = start(&app, &support, &number, "sslcommerz").await;
    assert_eq!(status, 201, "{body}");
    assert!(body["redirect_url"]
        .as_str()
        .unwrap()
        .contains("/EasyCheckOut/"));
    let tran_id = body["tran_id"].as_str().unwrap().to_owned();
    assert!(tran_id.starts_with(&format!("{number}-")) && tran_id.len() <= 30);
    // The session carried the order's amount and the fields the log names.
    let session = g.ssl.seen().session(&tran_id).unwrap().clone();
    assert_eq!(session.total_amount, "9400.00");
    let (recipient, fields, _) = disclosures(&app).await.pop().unwrap();
    assert_eq!(recipient, "payment_gateway");
    assert_eq!(
        fields,
        "orders.total,orders.payment_method,customers.name_enc,customers.phone_enc,customers.email_enc,orders.address_enc"
    );
    assert_eq!(payment_status(&app, &support, &number).await, "pending");

    // The customer pays and closes the browser: only the IPN arrives.
    let notice = g.ssl.pay(&tran_id, Card::visa());
    assert_eq!(g.ssl.post_notice(&tran_id, &notice).await, 200);
    assert_eq!(payment_status(&app, &support, &number).await, "paid");
    assert_eq!(payment_row(&app, &tran_id).await, ("paid".into(), None));
    assert_eq!(g.ssl.seen().session(&tran_id).unwrap().validations, 1);

    // The same notice again changes nothing.
    assert_eq!(g.ssl.post_notice(&tran_id, &notice).await, 200);
    assert_eq!(paid_entries(&app, &tran_id).await, 1);
    // The customer's return afterwards shows it paid, without asking again.
    let (status, page) = post_return(&app, "sslcommerz", &tran_id, "success", &notice).await;
    assert_eq!(status, 200);
    assert!(page.contains("Payment received"), "{page}");
    // Validated once per notice (the replay too), never for the return.
    assert_eq!(g.ssl.seen().session(&tran_id).unwrap().validations, 2);

    // A paid order is not paid again.
    let (status, body) = start(&app, &support, &number, "bkash").await;
    assert_eq!(status, 409, "{body}");
    let (status, list) = app
        .get(&format!("/api/v1/orders/{number}/payments"), &support)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(
        list[0]["gateway_transaction_id"],
        session_bank_tran_id(&g.ssl, &tran_id)
    );
}
both_engines!(
    paid_through_the_ipn_alone,
    super::paid_through_the_ipn_alone_on
);

fn session_bank_tran_id(ssl: &Ssl, tran_id: &str) -> String {
    ssl.seen()
        .session(tran_id)
        .unwrap()
        .bank_tran_id
        .clone()
        .unwrap()
}

async fn ipn_and_return_race_and_pay_once_on(engine: Engine) {
    let (app, g) = spawn(engine).await;
    let support = app.staff("support", Role::Support).await;
    // A second server over the same database, behind the same balancer.
    let other = app.restart().await;
    for order in ["return first", "notice first", "together", "two servers"] {
        let number = online_order(&app, "Shapla Akter", "01711000402").await;
        let tran_id = started(&app, &support, &number, "sslcommerz").await;
        let notice = g.ssl.pay(&tran_id, Card::visa());
        match order {
            "return first" => {
                let (status, page) =
                    post_return(&app, "sslcommerz", &tran_id, "success", &notice).await;
                assert_eq!(status, 200);
                assert!(page.contains("Payment received"), "{page}");
                assert_eq!(g.ssl.post_notice(&tran_id, &notice).await, 200);
            }
            "notice first" => {
                assert_eq!(g.ssl.post_notice(&tran_id, &notice).await, 200);
                post_return(&app, "sslcommerz", &tran_id, "success", &notice).await;
            }
            _ => {
                let returned_to = if order == "together" { &app } else { &other };
                let (ipn, (back, _)) = tokio::join!(
                    g.ssl.post_notice(&tran_id, &notice),
                    post_return(returned_to, "sslcommerz", &tran_id, "success", &notice)
                );
                assert_eq!((ipn, back), (200, 200), "{order}");
            }
        }
        assert_eq!(
            payment_status(&app, &support, &number).await,
            "paid",
            "{order}"
        );
        assert_eq!(paid_entries(&app, &tran_id).await, 1, "{order}");
    }
}
both_engines!(
    ipn_and_return_race_and_pay_once,
    super::ipn_and_return_race_and_pay_once_on
);

async fn forged_unknown_and_unconfirmed_notices_pay_nothing_on(engine: Engine) {
    let (app, g) = spawn(engine).await;
    let support = app.staff("support", Role::Support).await;
    let number = online_order(&app, "Nasima Khatun", "01711000403").await;
    let tran_id = started(&app, &support, &number, "sslcommerz").await;
    let notice = g.ssl.pay(&tran_id, Card::visa());
    let ipn = app.url("/webhooks/payments/sslcommerz");
    let post = |pairs: Vec<(String, String)>| {
        let ipn = ipn.clone();
        async move {
            let res = reqwest::Client::new()
                .post(ipn)
                .form(&pairs)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.json::<serde_json::Value>().await.unwrap())
        }
    };

    // An amount changed after signing.
    let mut forged = notice.clone();
    set(&mut forged, "amount", "10.00");
    let (status, body) = post(forged).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("bad_signature"))
    );
    // Signed with a password that is not the store's.
    let mut forged = notice.clone();
    Ssl::sign(&mut forged, "not-the-store-password");
    assert_eq!(post(forged).await.0, 401);
    // A field said twice (the signature reads the first, a reader might
    // take the second): refused before anything is read.
    let mut twice = notice.clone();
    twice.push(("tran_id".into(), "CM-000001-AAAAAAAA".into()));
    let (status, body) = post(twice).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("tran_id")),
        "{body}"
    );
    // A transaction this shop never started (signed properly).
    let mut unknown = notice.clone();
    set(&mut unknown, "tran_id", "CM-999999-ZZZZZZZZ");
    Ssl::sign(&mut unknown, &g.ssl.store_password);
    let (status, body) = post(unknown).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
    // A val_id the validation API does not know: INVALID_TRANSACTION.
    let mut invalid = notice.clone();
    set(&mut invalid, "val_id", "2612070215000000NOTAREALVAL");
    Ssl::sign(&mut invalid, &g.ssl.store_password);
    let (status, body) = post(invalid).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("payment_not_confirmed")),
        "{body}"
    );
    // Not a form, and too big.
    let res = reqwest::Client::new()
        .post(&ipn)
        .body(vec![b'a'; 20 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    assert_eq!(payment_status(&app, &support, &number).await, "pending");
    assert_eq!(payment_row(&app, &tran_id).await.0, "started");
    // A return with a tampered amount is checked with the gateway, whose
    // word (the amount the session was for) is the one that counts.
    let mut tampered = notice.clone();
    set(&mut tampered, "amount", "10.00");
    let (_, page) = post_return(&app, "sslcommerz", &tran_id, "success", &tampered).await;
    assert!(page.contains("Payment received"), "{page}");
    assert_eq!(payment_status(&app, &support, &number).await, "paid");
}
both_engines!(
    forged_unknown_and_unconfirmed_notices_pay_nothing,
    super::forged_unknown_and_unconfirmed_notices_pay_nothing_on
);

async fn risky_or_mismatched_payments_are_held_for_staff_on(engine: Engine) {
    let (app, g) = spawn(engine).await;
    let support = app.staff("support", Role::Support).await;
    let packer = app.staff("packer", Role::Packer).await;
    // SSLCommerz marks the card risky.
    let number = online_order(&app, "Hasina Parvin", "01711000404").await;
    let tran_id = started(&app, &support, &number, "sslcommerz").await;
    let risky = Card {
        risk_level: 1,
        ..Card::visa()
    };
    let notice = g.ssl.pay(&tran_id, risky);
    assert_eq!(g.ssl.post_notice(&tran_id, &notice).await, 200);
    let (status, reason) = payment_row(&app, &tran_id).await;
    assert_eq!(status, "held");
    assert!(reason.unwrap().contains("risk_level 1"));
    assert_eq!(payment_status(&app, &support, &number).await, "pending");

    // The gateway confirms another amount than the attempt asked for.
    let other = online_order(&app, "Hasina Parvin", "01711000404").await;
    let tran_other = started(&app, &support, &other, "sslcommerz").await;
    sqlx::query("UPDATE payments SET amount = amount + 5000 WHERE tran_id = $1")
        .bind(&tran_other)
        .execute(&app.services.db().pool)
        .await
        .unwrap();
    let notice = g.ssl.pay(&tran_other, Card::visa());
    assert_eq!(g.ssl.post_notice(&tran_other, &notice).await, 200);
    let (status, reason) = payment_row(&app, &tran_other).await;
    assert_eq!(status, "held");
    assert!(
        reason.unwrap().contains("9,400.00"),
        "the amount confirmed is named"
    );
    assert_eq!(payment_status(&app, &support, &other).await, "pending");
    // A fraud flag on the order says so.
    let (_, order) = app.get(&format!("/api/v1/orders/{other}"), &support).await;
    let flags = order["fraud"]["flags"].as_array().unwrap();
    assert!(
        flags
            .iter()
            .any(|f| f["kind"] == "payment_mismatch" && f["count"] == 1),
        "{order}"
    );
    // The customer is told it is being checked.
    let (_, page) = post_return(&app, "sslcommerz", &tran_other, "success", &notice).await;
    assert!(page.contains("Payment being checked"), "{page}");

    // Two sessions of one order, both paid: the order is paid once, and the
    // second payment is held for staff to refund.
    let twice = online_order(&app, "Hasina Parvin", "01711000404").await;
    let first = started(&app, &support, &twice, "sslcommerz").await;
    let second = started(&app, &support, &twice, "sslcommerz").await;
    for tran_id in [&first, &second] {
        let notice = g.ssl.pay(tran_id, Card::visa());
        assert_eq!(g.ssl.post_notice(tran_id, &notice).await, 200);
    }
    assert_eq!(payment_status(&app, &support, &twice).await, "paid");
    assert_eq!(payment_row(&app, &first).await.0, "paid");
    let (status, reason) = payment_row(&app, &second).await;
    assert_eq!(status, "held");
    assert!(reason.unwrap().contains("paid already"));

    // Staff see why on the order's page.
    let page = app
        .http
        .get(app.url(&format!("/staff/orders/{other}?lang=en")))
        .bearer_auth(&support)
        .send()
        .await
        .unwrap();
    let page = common::html::text(page).await;
    assert!(page.contains("A payment is held for staff"), "{page}");
    assert!(page.contains("but the order asks"), "{page}");

    let (status, held) = app.get("/api/v1/payments/held", &support).await;
    assert_eq!(status, 200);
    assert_eq!(held.as_array().unwrap().len(), 3, "{held}");

    // Staff accept the risky one after calling the customer: it pays the
    // order. The second payment of a paid order is not accepted.
    let accept = |tran_id: &str| format!("/api/v1/payments/{tran_id}/accept");
    assert_eq!(
        app.post(&accept(&tran_id), Some(&packer), &serde_json::json!({}))
            .await
            .0,
        403
    );
    let (status, body) = app
        .post(&accept(&tran_id), Some(&support), &serde_json::json!({}))
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("paid")),
        "{body}"
    );
    assert_eq!(payment_status(&app, &support, &number).await, "paid");
    let (status, body) = app
        .post(&accept(&tran_id), Some(&support), &serde_json::json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = app
        .post(&accept(&second), Some(&support), &serde_json::json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(payment_row(&app, &second).await.0, "held");
    assert!(held[0]["hold_reason"].is_string());
    assert_eq!(app.get("/api/v1/payments/held", &packer).await.0, 403);

    // The desk's payments page lists what is still held; accepting the
    // second payment of a paid order there is refused with the reason.
    let (status, page) = crate::claims_desk::page(&app, &support, "/staff/payments?lang=en").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&format!("data-tran=\"{second}\"")), "{page}");
    assert!(
        !page.contains(&format!("data-tran=\"{tran_id}\"")),
        "{page}"
    );
    let csrf = common::html::csrf_of(&page);
    let (status, page) = crate::claims_desk::submit(
        &app,
        &support,
        &format!("/staff/payments/{second}/accept?lang=en"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("paid already by another payment"), "{page}");

    // So it is sent back through SSLCommerz instead: once, by support or
    // an admin; then neither held nor acceptable, and the order stays paid.
    let send_back = format!("/api/v1/payments/{second}/refund");
    let none = serde_json::json!({});
    assert_eq!(app.post(&send_back, Some(&packer), &none).await.0, 403);
    let (status, refund) = app.post(&send_back, Some(&support), &none).await;
    assert_eq!(status, 201, "{refund}");
    assert!(refund["claim"].is_null(), "{refund}");
    assert_eq!(app.post(&send_back, Some(&support), &none).await.0, 409);
    assert_eq!(
        app.post(&accept(&second), Some(&support), &none).await.0,
        409
    );
    assert_eq!(
        app.post(
            "/api/v1/payments/CM-999999-NOPE/refund",
            Some(&support),
            &none
        )
        .await
        .0,
        404
    );
    let (_, held) = app.get("/api/v1/payments/held", &support).await;
    assert!(
        !held
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["tran_id"] == second.as_str()),
        "{held}"
    );
    for _ in 0..100 {
        if !g.ssl.seen().refunds.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sent = g.ssl.seen().refunds;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].tran_id, second);
    assert_eq!(payment_status(&app, &support, &twice).await, "paid");
}
both_engines!(
    risky_or_mismatched_payments_are_held_for_staff,
    super::risky_or_mismatched_payments_are_held_for_staff_on
);

async fn bkash_success_failure_cancel_and_a_slow_execute_on(engine: Engine) {
    let (app, g) = spawn(engine).await;
    let support = app.staff("support", Role::Support).await;

    let paid = online_order(&app, "Morium Sultana", "01711000405").await;
    let (status, body) = start(&app, &support, &paid, "bkash").await;
    assert_eq!(status, 201, "{body}");
    let tran_id = body["tran_id"].as_str().unwrap().to_owned();
    // bKash got no customer data: the disclosure log names only the order's.
    let (recipient, fields, _) = disclosures(&app).await.pop().unwrap();
    assert_eq!(
        (recipient.as_str(), fields.as_str()),
        ("payment_gateway", "orders.total,orders.payment_method")
    );
    let id = bkash_payment_id(&g.bkash, &tran_id);
    let (status, page) = follow(&g.bkash.customer(&id, Some("01898765432"), "success")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Payment received"), "{page}");
    assert_eq!(payment_status(&app, &support, &paid).await, "paid");
    // Reloaded: nothing executed again.
    follow(&g.bkash.customer(&id, Some("01898765432"), "success")).await;
    assert_eq!(g.bkash.received("execute").len(), 1);

    for (name, status_word, row) in [
        ("failure", "failure", "failed"),
        ("cancel", "cancel", "cancelled"),
    ] {
        let number = online_order(&app, "Morium Sultana", "01711000405").await;
        let tran_id = started(&app, &support, &number, "bkash").await;
        let id = bkash_payment_id(&g.bkash, &tran_id);
        let (status, page) = follow(&g.bkash.customer(&id, None, status_word)).await;
        assert_eq!(status, 200, "{name}");
        assert!(page.contains("Payment not made"), "{name}: {page}");
        assert_eq!(payment_row(&app, &tran_id).await.0, row);
        assert_eq!(payment_status(&app, &support, &number).await, "failed");
        // A second try from the same order works.
        assert_eq!(start(&app, &support, &number, "bkash").await.0, 201);
    }
    assert_eq!(
        g.bkash.received("execute").len(),
        1,
        "failure and cancel are never executed"
    );

    // bKash executes but answers after the client gave up: its status says.
    let slow = online_order(&app, "Morium Sultana", "01711000405").await;
    let tran_id = started(&app, &support, &slow, "bkash").await;
    let id = bkash_payment_id(&g.bkash, &tran_id);
    g.bkash.set_delay(Some("execute"), Duration::from_secs(2));
    let (_, page) = follow(&g.bkash.customer(&id, Some("01898765432"), "success")).await;
    assert!(page.contains("Payment received"), "{page}");
    assert!(!g.bkash.received("payment/status").is_empty());
    assert_eq!(payment_status(&app, &support, &slow).await, "paid");
}
both_engines!(
    bkash_success_failure_cancel_and_a_slow_execute,
    super::bkash_success_failure_cancel_and_a_slow_execute_on
);

async fn quiet_payments_are_asked_about_on(engine: Engine) {
    let (app, g) = spawn(engine).await;
    let support = app.staff("support", Role::Support).await;
    let number = online_order(&app, "Taslima Nahar", "01711000406").await;
    let tran_id = started(&app, &support, &number, "sslcommerz").await;
    // Paid, but neither the notice nor the customer ever comes.
    g.ssl.pay(&tran_id, Card::visa());
    assert_eq!(app.services.query_silent_payments().await.unwrap(), 0);
    app.services.clock().advance(Duration::from_secs(11 * 60));
    assert_eq!(app.services.query_silent_payments().await.unwrap(), 1);
    assert_eq!(payment_status(&app, &support, &number).await, "paid");
    assert_eq!(app.services.query_silent_payments().await.unwrap(), 0);

    // A session nobody pays: pending when asked, asked again only after
    // another quiet period, and over (cancelled) a day after it began.
    let unpaid = online_order(&app, "Taslima Nahar", "01711000406").await;
    let tran_id = started(&app, &support, &unpaid, "sslcommerz").await;
    app.services.clock().advance(Duration::from_secs(11 * 60));
    assert_eq!(app.services.query_silent_payments().await.unwrap(), 1);
    assert_eq!(payment_row(&app, &tran_id).await.0, "started");
    assert_eq!(app.services.query_silent_payments().await.unwrap(), 0);
    app.services.clock().advance(Duration::from_secs(24 * 3600));
    assert_eq!(app.services.query_silent_payments().await.unwrap(), 1);
    assert_eq!(payment_row(&app, &tran_id).await.0, "cancelled");
    assert_eq!(payment_status(&app, &support, &unpaid).await, "failed");
}
both_engines!(
    quiet_payments_are_asked_about,
    super::quiet_payments_are_asked_about_on
);
