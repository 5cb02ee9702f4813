//! The bKash client against the stand-in, over real HTTP.
use crate::stand_in::{self, Failure, StandIn};
use crate::{Bkash, BkashConfig, ALREADY_EXECUTED};
use chotomoni_gateway::{
    Checkout, CheckoutCustomer, Gateway, GatewayError, Kept, PaymentFacts, PaymentOutcome,
    RefundOutcome, RefundRequest, Return, Started,
};
use std::time::Duration;

/// The payer's wallet, which bKash's answers carry as `customerMsisdn`.
const WALLET: &str = "01770618575";
/// The customer's own phone, which the shop has and must not send.
const PHONE: &str = "01712345678";

fn checkout(n: u32) -> Checkout {
    Checkout {
        tran_id: format!("PAY{n:06}A"),
        order_number: format!("CM-{n:06}"),
        amount: 106_050,
        return_url: format!("https://shop.example/pay/bkash/return?attempt={n}"),
        notice_url: "https://shop.example/pay/notice".into(),
        customer: Some(CheckoutCustomer {
            name: "Nusrat Jahan".into(),
            phone: PHONE.into(),
            email: Some("nusrat@example.com".into()),
            address: "House 12, Road 11, Banani".into(),
            city: "Dhaka".into(),
        }),
        item_count: 2,
    }
}

fn client(s: &StandIn) -> Bkash {
    Bkash::new(s.config()).unwrap()
}

/// What the customer's browser brings back, through `Kept` as the web layer reads it.
fn back_from(url: &str, tran_id: &str, started: &Started) -> Return {
    let url = reqwest::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    Return {
        tran_id: tran_id.into(),
        gateway_ref: started.gateway_ref.clone(),
        fields: Kept::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    }
}

/// A checkout the customer pays for, completed.
async fn paid(s: &StandIn, c: &Bkash, n: u32) -> (Checkout, PaymentFacts) {
    let co = checkout(n);
    let started = c.start(&co).await.unwrap();
    let url = s.customer(&started.gateway_ref, Some(WALLET), "success");
    let facts = c
        .complete(&back_from(&url, &co.tran_id, &started))
        .await
        .unwrap();
    (co, facts)
}

fn refund(payment: &PaymentFacts, amount: i64) -> RefundRequest {
    RefundRequest {
        refund_id: "RF-000001".into(),
        payment: payment.clone(),
        amount,
        reason: "Claim 7: the kurta arrived torn".into(),
    }
}

#[tokio::test]
async fn concurrent_calls_share_one_grant() {
    let s = StandIn::start().await;
    let c = client(&s);
    let cos = [checkout(1), checkout(2), checkout(3)];
    let (a, b, d) = tokio::join!(c.start(&cos[0]), c.start(&cos[1]), c.start(&cos[2]));
    assert!(a.is_ok() && b.is_ok() && d.is_ok());
    c.query("PAY000001A", &a.unwrap().gateway_ref)
        .await
        .unwrap();
    assert_eq!((s.grants(), s.refreshes()), (1, 0));
}

/// A client whose token is inside the last tenth of its life: still
/// valid, due for renewal.
async fn due_for_renewal(s: &StandIn) -> Bkash {
    s.set_token_lifetime(Duration::from_secs(2));
    let c = client(s);
    c.start(&checkout(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1850)).await;
    c
}

#[tokio::test]
async fn a_token_is_refreshed_before_it_expires() {
    let s = StandIn::start().await;
    let c = due_for_renewal(&s).await;
    let cos = [checkout(2), checkout(3)];
    let (a, b) = tokio::join!(c.start(&cos[0]), c.start(&cos[1]));
    assert!(a.is_ok() && b.is_ok());
    assert_eq!((s.grants(), s.refreshes()), (1, 1));
}

#[tokio::test]
async fn a_refused_refresh_is_followed_by_a_new_grant() {
    let s = StandIn::start().await;
    let c = due_for_renewal(&s).await;
    s.revoke_tokens(true);
    c.start(&checkout(2)).await.unwrap();
    assert_eq!((s.grants(), s.refreshes()), (2, 0));
}

#[tokio::test]
async fn a_failed_refresh_keeps_what_still_serves() {
    let s = StandIn::start().await;
    let c = due_for_renewal(&s).await;
    s.fail_next_token_calls(1, Failure::Http(503));
    c.start(&checkout(2)).await.unwrap();
    assert_eq!((s.grants(), s.refreshes()), (1, 0));
    // Expired now: the refresh fails again, the refresh token is kept.
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.fail_next_token_calls(1, Failure::Http(503));
    assert!(c.start(&checkout(3)).await.unwrap_err().is_transient());
    c.start(&checkout(4)).await.unwrap();
    assert_eq!((s.grants(), s.refreshes()), (1, 1));
}

#[tokio::test]
async fn an_unauthorized_read_is_retried_with_a_new_token_a_create_is_not() {
    let s = StandIn::start().await;
    let c = client(&s);
    let started = c.start(&checkout(1)).await.unwrap();
    s.revoke_tokens(false);
    let facts = c.query("PAY000001A", &started.gateway_ref).await.unwrap();
    assert_eq!(facts.outcome, PaymentOutcome::Pending);
    assert_eq!((s.grants(), s.refreshes()), (1, 1));
    s.revoke_tokens(false);
    let err = c.start(&checkout(2)).await.unwrap_err();
    assert_eq!(err, GatewayError::Unauthorized);
    // The refused token is renewed by the next call, which goes through.
    c.start(&checkout(3)).await.unwrap();
    assert_eq!((s.grants(), s.refreshes()), (1, 2));
    assert_eq!(s.payments().len(), 2);
}

#[tokio::test]
async fn wrong_credentials_are_unauthorized() {
    let s = StandIn::start().await;
    let c = Bkash::new(BkashConfig {
        app_secret: "wrong".into(),
        ..s.config()
    })
    .unwrap();
    assert_eq!(
        c.start(&checkout(1)).await.unwrap_err(),
        GatewayError::Unauthorized
    );
    assert!(s.payments().is_empty());
}

#[tokio::test]
async fn create_sends_exactly_the_published_fields_and_no_phone() {
    let s = StandIn::start().await;
    let c = client(&s);
    let co = checkout(123);
    let started = c.start(&co).await.unwrap();
    let sent = &s.received("create")[0];
    let mut names: Vec<&str> = sent.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut published = stand_in::CREATE_FIELDS.to_vec();
    published.sort_unstable();
    assert_eq!(names, published);
    let field = |name: &str| sent[name].as_str().unwrap().to_owned();
    assert_eq!(field("mode"), "0011");
    assert_eq!(field("payerReference"), "CM-000123");
    assert_eq!(field("callbackURL"), co.return_url);
    assert_eq!(field("amount"), "1060.50");
    assert_eq!(field("currency"), "BDT");
    assert_eq!(field("intent"), "sale");
    assert_eq!(field("merchantInvoiceNumber"), co.tran_id);
    let all = serde_json::to_string(sent).unwrap();
    assert!(!all.contains(PHONE) && !all.contains("Nusrat"), "{all}");
    assert!(started.customer_fields_sent.is_empty());
    assert_eq!(started.gateway_ref, s.payments()[0].payment_id);
    assert!(started.redirect_url.contains(&started.gateway_ref));
}

#[tokio::test]
async fn success_is_executed_and_paid_without_the_wallet_number() {
    let s = StandIn::start().await;
    let c = client(&s);
    let (co, facts) = paid(&s, &c, 1).await;
    let stored = &s.payments()[0];
    assert_eq!(facts.outcome, PaymentOutcome::Paid);
    assert_eq!(facts.amount, Some(106_050));
    assert_eq!(facts.currency.as_deref(), Some("BDT"));
    assert_eq!(facts.tran_id, co.tran_id);
    assert_eq!(facts.gateway_payment_id.as_ref(), Some(&stored.payment_id));
    assert_eq!(facts.gateway_transaction_id, stored.trx_id);
    assert_eq!(facts.gateway_status, "Completed");
    assert_eq!(s.received("execute").len(), 1);
    // bKash's answer named the wallet and the payer reference; neither is kept.
    let shown = format!("{facts:?}");
    assert!(!shown.contains(WALLET), "{shown}");
    assert!(!shown.contains(&co.order_number), "{shown}");
    // Status answers name them too.
    let queried = c.query(&co.tran_id, &stored.payment_id).await.unwrap();
    assert_eq!(queried, facts);
    assert!(!format!("{queried:?}").contains(WALLET));
}

#[tokio::test]
async fn failure_and_cancel_are_not_executed() {
    let s = StandIn::start().await;
    let c = client(&s);
    for (n, status, outcome) in [
        (1, "failure", PaymentOutcome::Failed),
        (2, "cancel", PaymentOutcome::Cancelled),
    ] {
        let co = checkout(n);
        let started = c.start(&co).await.unwrap();
        let url = s.customer(&started.gateway_ref, None, status);
        let facts = c
            .complete(&back_from(&url, &co.tran_id, &started))
            .await
            .unwrap();
        assert_eq!(facts.outcome, outcome);
        assert_eq!(facts.gateway_transaction_id, None);
    }
    assert!(s.received("execute").is_empty());
}

#[tokio::test]
async fn an_execute_that_times_out_is_answered_by_the_status() {
    let s = StandIn::start().await;
    let c = Bkash::new(BkashConfig {
        timeout: Duration::from_millis(400),
        ..s.config()
    })
    .unwrap();
    s.set_delay(Some("execute"), Duration::from_millis(1500));
    let (_, facts) = paid(&s, &c, 1).await;
    assert_eq!(facts.outcome, PaymentOutcome::Paid);
    assert_eq!(facts.gateway_transaction_id, s.payments()[0].trx_id);
    assert_eq!(s.received("payment/status").len(), 1);
}

#[tokio::test]
async fn an_execute_failing_on_the_way_asks_the_status_and_stays_pending() {
    let s = StandIn::start().await;
    let c = client(&s);
    for (n, status) in [(1, 502), (2, 400)] {
        let co = checkout(n);
        let started = c.start(&co).await.unwrap();
        let url = s.customer(&started.gateway_ref, Some(WALLET), "success");
        s.fail_next(1, Failure::Http(status));
        let facts = c
            .complete(&back_from(&url, &co.tran_id, &started))
            .await
            .unwrap();
        assert_eq!(facts.outcome, PaymentOutcome::Pending);
    }
    assert_eq!(s.received("payment/status").len(), 2);
}

#[test]
fn error_codes_unreadable_answers_and_5xx() {
    let body =
        br#"{"errorCode":"2001","errorMessage":"Invalid App Key","customerMsisdn":"01770618575"}"#;
    assert_eq!(
        crate::answer_of(200, body).unwrap_err(),
        GatewayError::Refused {
            code: "2001".into(),
            message: "Invalid App Key".into()
        }
    );
    let ok = crate::answer_of(200, br#"{"statusCode":"0000","trxID":"BFK6JB5QO9"}"#).unwrap();
    assert_eq!(ok.get("trxID"), Some("BFK6JB5QO9"));
    assert!(matches!(
        crate::answer_of(200, b"<html>"),
        Err(GatewayError::Protocol(_))
    ));
    assert!(crate::answer_of(503, b"").unwrap_err().is_transient());
}

#[tokio::test]
async fn a_second_return_is_answered_by_the_status_not_a_second_payment() {
    let s = StandIn::start().await;
    let c = client(&s);
    let co = checkout(1);
    let started = c.start(&co).await.unwrap();
    let url = s.customer(&started.gateway_ref, Some(WALLET), "success");
    let back = back_from(&url, &co.tran_id, &started);
    let first = c.complete(&back).await.unwrap();
    let again = c.complete(&back).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(s.received("execute").len(), 2);
    assert_eq!(s.received("payment/status").len(), 1);
    assert_eq!(ALREADY_EXECUTED, "2117");
}

#[tokio::test]
async fn a_tampered_payment_id_is_refused() {
    let s = StandIn::start().await;
    let c = client(&s);
    let (co, other) = (checkout(1), checkout(2));
    let started = c.start(&co).await.unwrap();
    let theirs = c.start(&other).await.unwrap();
    let url = s.customer(&theirs.gateway_ref, Some(WALLET), "success");
    // Their paid return replayed against our attempt.
    let back = back_from(&url, &co.tran_id, &started);
    assert_eq!(
        c.complete(&back).await.unwrap_err(),
        GatewayError::BadSignature
    );
    let mut missing = back.clone();
    missing.fields = Kept::from_pairs([("status", "success")]);
    assert_eq!(
        c.complete(&missing).await.unwrap_err(),
        GatewayError::BadSignature
    );
    assert!(s.received("execute").is_empty());
}

#[tokio::test]
async fn refunds_and_their_status() {
    let s = StandIn::start().await;
    let c = client(&s);
    let (_, facts) = paid(&s, &c, 1).await;
    let err = c.refund(&refund(&facts, 106_051)).await.unwrap_err();
    assert_eq!(
        err,
        GatewayError::Refused {
            code: stand_in::REFUND_ABOVE_PAID.into(),
            message: "Refund amount exceeds the transaction amount".into(),
        }
    );
    let partial = refund(&facts, 50_000);
    let done = c.refund(&partial).await.unwrap();
    assert_eq!(done.outcome, RefundOutcome::Refunded);
    let refund_trx = s.payments()[0].refunds[0].0.clone();
    assert_eq!(done.gateway_ref.as_deref(), Some(refund_trx.as_str()));
    let sent = &s.received("payment/refund")[1];
    assert_eq!(sent["amount"], "500.00");
    assert_eq!(sent["sku"], "RF-000001");
    let status = c.refund_status(&partial, &refund_trx).await.unwrap();
    assert_eq!(status, done);
    let asked = s.received("payment/refund");
    let mut names: Vec<&String> = asked[2].keys().collect();
    names.sort_unstable();
    assert_eq!(names, ["paymentID", "trxID"]);
}

#[tokio::test]
async fn a_refund_past_the_limit_is_refused_with_bkash_message() {
    let s = StandIn::start().await;
    let c = client(&s);
    let (_, facts) = paid(&s, &c, 1).await;
    s.advance_days(i64::from(crate::REFUND_DAYS) + 1);
    let err = c.refund(&refund(&facts, 10_000)).await.unwrap_err();
    assert!(
        matches!(&err, GatewayError::Refused { code, message }
            if code == stand_in::REFUND_TOO_LATE && message == "Refund period is over"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_status_code_error_surfaces_its_message_but_not_in_display() {
    let s = StandIn::start().await;
    let c = client(&s);
    s.fail_next(
        1,
        Failure::Code("2023".into(), "Insufficient Balance".into()),
    );
    let err = c.start(&checkout(1)).await.unwrap_err();
    assert_eq!(
        err,
        GatewayError::Refused {
            code: "2023".into(),
            message: "Insufficient Balance".into()
        }
    );
    assert_eq!(err.to_string(), "the gateway refused it (2023)");
}

#[tokio::test]
async fn a_slow_bkash_is_a_timeout_and_reads_are_retried() {
    let s = StandIn::start().await;
    let c = Bkash::new(BkashConfig {
        timeout: Duration::from_millis(300),
        ..s.config()
    })
    .unwrap();
    let started = c.start(&checkout(1)).await.unwrap();
    s.fail_next(2, Failure::Http(503));
    c.query("PAY000001A", &started.gateway_ref).await.unwrap();
    assert_eq!(s.received("payment/status").len(), 3);
    s.set_delay(None, Duration::from_secs(1));
    let err = c.start(&checkout(2)).await.unwrap_err();
    assert_eq!(err, GatewayError::Timeout(Duration::from_millis(300)));
    assert_eq!(s.received("create").len(), 2, "a create is never repeated");
}

#[tokio::test]
async fn notices_are_not_taken_and_secrets_stay_out_of_debug() {
    let s = StandIn::start().await;
    let c = client(&s);
    assert_eq!(
        c.notice(&[]).await.unwrap_err(),
        GatewayError::NotSupported("server notices")
    );
    let config = s.config();
    let shown = format!("{c:?}");
    for secret in [&config.password, &config.app_secret, &config.app_key] {
        assert!(!shown.contains(secret.as_str()), "{shown}");
    }
    assert!(!shown.contains(stand_in::USERNAME), "{shown}");
}
