//! The SSLCommerz client against the stand-in, over real HTTP.
use crate::stand_in::{Card, StandIn, Trouble};
use crate::{Sslcommerz, SslcommerzConfig, QUERY_PATH, SESSION_PATH, VALIDATION_PATH};
use axum::extract::State;
use axum::routing::post;
use axum::{Form, Router};
use chotomoni_gateway::{
    Checkout, CheckoutCustomer, Gateway, GatewayError, Kept, PaymentFacts, PaymentOutcome,
    RefundOutcome, RefundRequest, Return,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PHONE: &str = "01712345678";

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn checkout(tran_id: &str, email: Option<&str>) -> Checkout {
    Checkout {
        tran_id: tran_id.to_owned(),
        order_number: "CM-000123".into(),
        amount: 106_050,
        return_url: "https://shop.example/orders/CM-000123/paid".into(),
        notice_url: "https://shop.example/payments/sslcommerz/ipn".into(),
        customer: Some(CheckoutCustomer {
            name: "Rahima Akter".into(),
            phone: PHONE.into(),
            email: email.map(str::to_owned),
            address: "House 17/1, Road 3/A, Dhanmondi".into(),
            city: "Dhaka".into(),
        }),
        item_count: 2,
    }
}

async fn started() -> (StandIn, Sslcommerz) {
    let s = StandIn::start().await;
    let client = Sslcommerz::new(s.config()).unwrap();
    (s, client)
}

/// A stand-in, a client and a session opened for `tran_id`.
async fn opened(tran_id: &str) -> (StandIn, Sslcommerz, Checkout) {
    let (s, client) = started().await;
    let c = checkout(tran_id, Some("rahima@example.com"));
    client.start(&c).await.unwrap();
    (s, client, c)
}

fn calls_to(s: &StandIn, path: &str) -> usize {
    s.seen().calls_to(path).len()
}

/// A client of `s` with a password SSLCommerz does not know.
fn wrong_password(s: &StandIn) -> Sslcommerz {
    let password = "not-it".to_owned();
    Sslcommerz::new(SslcommerzConfig {
        store_password: password,
        ..s.config()
    })
    .unwrap()
}

#[tokio::test]
async fn a_session_sends_exactly_the_required_fields() {
    let (s, client) = started().await;
    let started = client
        .start(&checkout("CM-000123-1", Some("rahima@example.com")))
        .await
        .unwrap();
    let session = &s.seen().sessions[0];
    assert_eq!(started.gateway_ref, session.sessionkey);
    assert!(
        started.redirect_url.contains("/EasyCheckOut/"),
        "{started:?}"
    );
    assert_eq!(
        started.customer_fields_sent,
        [
            "customers.name_enc",
            "customers.phone_enc",
            "customers.email_enc",
            "orders.address_enc"
        ]
    );
    let back = "https://shop.example/orders/CM-000123/paid?result=";
    let expected = pairs(&[
        ("store_id", &s.store_id),
        ("store_passwd", &s.store_password),
        ("total_amount", "1060.50"),
        ("currency", "BDT"),
        ("tran_id", "CM-000123-1"),
        ("success_url", &format!("{back}success")),
        ("fail_url", &format!("{back}fail")),
        ("cancel_url", &format!("{back}cancel")),
        ("ipn_url", "https://shop.example/payments/sslcommerz/ipn"),
        ("product_category", "general"),
        ("product_name", "Order CM-000123"),
        ("product_profile", "general"),
        ("num_of_item", "2"),
        ("shipping_method", "NO"),
        ("cus_name", "Rahima Akter"),
        ("cus_email", "rahima@example.com"),
        ("cus_add1", "House 17/1, Road 3/A, Dhanmondi"),
        ("cus_city", "Dhaka"),
        ("cus_country", "Bangladesh"),
        ("cus_phone", PHONE),
    ]);
    let received = s.seen().received;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].path, SESSION_PATH);
    assert_eq!(received[0].pairs, expected);
}

#[tokio::test]
async fn a_customer_without_email_sends_it_empty_and_no_email_is_disclosed() {
    let (s, client) = started().await;
    let mut c = checkout("CM-000124-1", None);
    c.return_url.push_str("?lang=bn");
    let started = client.start(&c).await.unwrap();
    assert!(!started
        .customer_fields_sent
        .contains(&"customers.email_enc"));
    let sent = &s.seen().received[0];
    assert_eq!(sent.get("cus_email"), Some(""));
    assert_eq!(
        sent.get("success_url"),
        Some("https://shop.example/orders/CM-000123/paid?lang=bn&result=success")
    );
}

#[tokio::test]
async fn a_refused_session_keeps_sslcommerzs_words() {
    let (s, client) = started().await;
    let small = Checkout {
        amount: 500,
        ..checkout("CM-000125-1", None)
    };
    match client.start(&small).await.unwrap_err() {
        GatewayError::Refused { message, .. } => assert!(message.contains("total_amount")),
        other => panic!("{other:?}"),
    }
    let err = wrong_password(&s)
        .start(&checkout("CM-000125-2", None))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        GatewayError::Refused {
            code: "FAILED".into(),
            message: "Store Credential Error Or Store is De-active".into()
        }
    );
    assert!(s.seen().sessions.is_empty());
    let no_customer = Checkout {
        customer: None,
        ..checkout("CM-000125-3", None)
    };
    assert!(matches!(
        client.start(&no_customer).await,
        Err(GatewayError::NotSupported(_))
    ));
}

#[tokio::test]
async fn a_forged_notice_is_refused_and_nothing_is_asked() {
    let (s, client, c) = opened("CM-000126-1").await;
    let genuine = s.pay(&c.tran_id, Card::visa());
    let mut wrong_password = genuine.clone();
    StandIn::sign(&mut wrong_password, "guessed@ssl");
    let mut raised: Vec<(String, String)> = genuine
        .iter()
        .map(|(k, v)| match k.as_str() {
            "amount" | "currency_amount" => (k.clone(), "10.00".to_owned()),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    raised.retain(|(k, _)| k != "verify_sign");
    raised.push(("verify_sign".into(), "0".repeat(32)));
    for forged in [wrong_password, raised] {
        assert_eq!(
            client.notice(&forged).await.unwrap_err(),
            GatewayError::BadSignature
        );
    }
    assert_eq!(calls_to(&s, VALIDATION_PATH), 0);
}

/// A receiver at the IPN URL that hands each notice to the client.
async fn ipn_receiver(
    client: Sslcommerz,
) -> (String, Arc<Mutex<Vec<Result<PaymentFacts, GatewayError>>>>) {
    let seen = Arc::new(Mutex::new(vec![]));
    let app = Router::new()
        .route(
            "/ipn",
            post(
                |State((client, seen)): State<(Sslcommerz, Arc<Mutex<Vec<_>>>)>,
                 Form(pairs): Form<Vec<(String, String)>>| async move {
                    let facts = client.notice(&pairs).await;
                    seen.lock().unwrap().push(facts);
                    "OK"
                },
            ),
        )
        .with_state((client, seen.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ipn", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

#[tokio::test]
async fn a_valid_notice_is_validated_then_paid_and_a_replay_stays_paid() {
    let (s, client) = started().await;
    let (ipn_url, seen) = ipn_receiver(client.clone()).await;
    let c = Checkout {
        notice_url: ipn_url,
        ..checkout("CM-000127-1", None)
    };
    client.start(&c).await.unwrap();
    let risky = Card {
        risk_level: 1,
        ..Card::visa()
    };
    let notice = s.pay(&c.tran_id, risky);
    assert_eq!(s.post_notice(&c.tran_id, &notice).await, 200);
    assert_eq!(s.post_notice(&c.tran_id, &notice).await, 200);
    let session = s.seen().sessions[0].clone();
    let seen = seen.lock().unwrap().clone();
    for facts in &seen {
        let facts = facts.as_ref().unwrap();
        assert_eq!(facts.outcome, PaymentOutcome::Paid);
        assert_eq!(facts.tran_id, "CM-000127-1");
        assert_eq!(facts.amount, Some(106_050));
        assert_eq!(facts.currency.as_deref(), Some("BDT"));
        assert_eq!(facts.gateway_payment_id, session.val_id);
        assert_eq!(facts.gateway_transaction_id, session.bank_tran_id);
        assert_eq!(facts.risk_level, Some(1));
    }
    let statuses: Vec<&str> = seen
        .iter()
        .map(|f| f.as_ref().unwrap().gateway_status.as_str())
        .collect();
    assert_eq!(statuses, ["VALID", "VALIDATED"]);
}

#[tokio::test]
async fn failed_and_cancelled_notices_are_not_paid() {
    let (s, client, c) = opened("CM-000128-1").await;
    let failed = s.end_unpaid(&c.tran_id, "FAILED");
    assert_eq!(
        client.notice(&failed).await.unwrap().outcome,
        PaymentOutcome::Failed
    );
    let cancelled = s.end_unpaid(&c.tran_id, "CANCELLED");
    assert_eq!(
        client.notice(&cancelled).await.unwrap().outcome,
        PaymentOutcome::Cancelled
    );
}

#[tokio::test]
async fn a_validation_that_does_not_confirm_is_not_paid() {
    let (s, client, c) = opened("CM-000129-1").await;
    let mut notice = s.pay(&c.tran_id, Card::visa());
    // Signed with the store password, but for a val_id SSLCommerz never gave.
    for (k, v) in notice.iter_mut() {
        if k == "val_id" {
            *v = "261207021500madeUpValId".into();
        }
    }
    StandIn::sign(&mut notice, &s.store_password);
    match client.notice(&notice).await.unwrap_err() {
        GatewayError::Refused { code, .. } => assert_eq!(code, "INVALID_TRANSACTION"),
        other => panic!("{other:?}"),
    }
    // Another transaction's val_id does not pay this one.
    let other = checkout("CM-000129-2", None);
    client.start(&other).await.unwrap();
    let paid_other = s.pay(&other.tran_id, Card::visa());
    let other_val_id = Kept::from_pairs(crate::as_pairs(&paid_other));
    let back = Return {
        tran_id: c.tran_id.clone(),
        gateway_ref: String::new(),
        fields: other_val_id,
    };
    match client.complete(&back).await.unwrap_err() {
        GatewayError::Refused { code, .. } => assert_eq!(code, "tran_id"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_return_before_any_notice_is_validated_and_paid() {
    let (s, client, c) = opened("CM-000130-1").await;
    let brought = s.pay(&c.tran_id, Card::visa());
    let key = s.seen().sessions[0].sessionkey.clone();
    let with_val_id = Return {
        tran_id: c.tran_id.clone(),
        gateway_ref: key.clone(),
        fields: Kept::from_pairs(crate::as_pairs(&brought)),
    };
    let facts = client.complete(&with_val_id).await.unwrap();
    assert_eq!(facts.outcome, PaymentOutcome::Paid);
    assert_eq!(calls_to(&s, VALIDATION_PATH), 1);
    // Without val_id, the transaction is queried instead.
    let bare = Return {
        tran_id: c.tran_id.clone(),
        gateway_ref: key.clone(),
        fields: Kept::default(),
    };
    let queried = client.complete(&bare).await.unwrap();
    assert_eq!(queried.outcome, PaymentOutcome::Paid);
    assert_eq!(queried.amount, Some(106_050));
    assert_eq!(queried.gateway_status, "VALIDATED");
    let by_key = client.query("", &key).await.unwrap();
    assert_eq!(by_key.outcome, PaymentOutcome::Paid);
    assert_eq!(by_key.tran_id, c.tran_id);
    let unknown = client.query("CM-999999-1", "").await.unwrap();
    assert_eq!(unknown.outcome, PaymentOutcome::Pending);
}

#[tokio::test]
async fn nothing_kept_or_printed_holds_card_or_contact_data() {
    let (s, client, c) = opened("CM-000131-1").await;
    let notice = s.pay(&c.tran_id, Card::visa());
    let facts = client.notice(&notice).await.unwrap();
    let queried = client.query(&c.tran_id, "").await.unwrap();
    let kept = Kept::from_pairs(crate::as_pairs(&notice));
    let printed = format!("{facts:?} {queried:?} {kept:?} {client:?} {c:?}");
    let card = Card::visa();
    for secret in [
        card.number.as_str(),
        &card.masked(),
        "411111",
        "VISA",
        "TRUST BANK",
        "Bangladesh",
        PHONE,
        "Rahima",
        "Dhanmondi",
        &s.store_password,
    ] {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
}

/// A refund of `amount` poisha of `facts`.
fn refund_of(facts: &PaymentFacts, amount: i64) -> RefundRequest {
    RefundRequest {
        refund_id: "RF-000001".into(),
        payment: facts.clone(),
        amount,
        reason: "Claim CL-000004: damaged in transit".into(),
    }
}

#[tokio::test]
async fn refunds_are_refused_above_what_was_paid_and_followed_until_refunded() {
    let (s, client, c) = opened("CM-000132-1").await;
    let facts = client
        .notice(&s.pay(&c.tran_id, Card::visa()))
        .await
        .unwrap();
    let too_much = refund_of(&facts, 106_051);
    match client.refund(&too_much).await.unwrap_err() {
        GatewayError::Refused { code, message } => {
            assert_eq!(code, "failed");
            assert!(message.contains("exceeds"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let part = refund_of(&facts, 50_000);
    let started = client.refund(&part).await.unwrap();
    assert_eq!(started.outcome, RefundOutcome::Processing);
    let refund_ref_id = started.gateway_ref.clone().unwrap();
    let asked = s.seen().received.last().cloned().unwrap();
    assert_eq!(asked.path, QUERY_PATH);
    assert_eq!(
        asked.get("bank_tran_id"),
        facts.gateway_transaction_id.as_deref()
    );
    assert_eq!(asked.get("refund_amount"), Some("500.00"));
    assert_eq!(asked.get("refe_id"), Some("RF-000001"));
    let status = client.refund_status(&part, &refund_ref_id).await.unwrap();
    assert_eq!(status.outcome, RefundOutcome::Processing);
    s.settle_refund(&refund_ref_id, "refunded");
    let status = client.refund_status(&part, &refund_ref_id).await.unwrap();
    assert_eq!(status.outcome, RefundOutcome::Refunded);
    assert_eq!(status.gateway_ref.as_deref(), Some(refund_ref_id.as_str()));
    // What is left is 560.50: one poisha more is refused.
    assert!(client.refund(&refund_of(&facts, 56_051)).await.is_err());
    assert_eq!(s.seen().refunds.len(), 1);
}

#[tokio::test]
async fn a_slow_gateway_times_out_and_a_session_is_not_sent_twice() {
    let s = StandIn::start().await;
    s.set_trouble(Trouble::Slow(Duration::from_secs(3)));
    let impatient = SslcommerzConfig {
        timeout: Duration::from_millis(200),
        read_retries: 0,
        ..s.config()
    };
    let client = Sslcommerz::new(impatient).unwrap();
    let err = client
        .start(&checkout("CM-000133-1", None))
        .await
        .unwrap_err();
    assert_eq!(err, GatewayError::Timeout(Duration::from_millis(200)));
    let err = client.query("CM-000133-1", "").await.unwrap_err();
    assert!(matches!(err, GatewayError::Timeout(_)), "{err:?}");
}

#[tokio::test]
async fn a_read_is_asked_again_after_a_5xx_and_a_session_is_not() {
    let (s, client, c) = opened("CM-000134-1").await;
    s.pay(&c.tran_id, Card::visa());
    s.set_trouble(Trouble::ServerErrors {
        count: 1,
        status: 503,
    });
    let facts = client.query(&c.tran_id, "").await.unwrap();
    assert_eq!(facts.outcome, PaymentOutcome::Paid);
    assert_eq!(
        calls_to(&s, QUERY_PATH),
        1,
        "the 503 is answered before routing"
    );
    s.set_trouble(Trouble::ServerErrors {
        count: 1,
        status: 502,
    });
    let err = client
        .start(&checkout("CM-000134-2", None))
        .await
        .unwrap_err();
    assert_eq!(err, GatewayError::Unreachable("HTTP 502".into()));
    assert_eq!(calls_to(&s, SESSION_PATH), 1);
    s.set_trouble(Trouble::ServerErrors {
        count: 5,
        status: 500,
    });
    let err = client.query(&c.tran_id, "").await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
}

#[tokio::test]
async fn the_store_password_is_never_printed() {
    let s = StandIn::start().await;
    let client = Sslcommerz::new(s.config()).unwrap();
    let printed = format!("{client:?} {client} {:?}", s.config());
    assert!(!printed.contains(&s.store_password), "{printed}");
    assert!(printed.contains("***"));
    assert_eq!(
        wrong_password(&s).query("CM-1", "").await.unwrap_err(),
        GatewayError::Unauthorized
    );
}
