//! The consent ledger and the one-step marketing opt-out, on both engines:
//! grants and withdrawals are appended with time, channel, policy version
//! and wording; opting out puts a keyed hash (never the number) on the
//! suppression list; sending asks the ledger at send time.
use crate::common;

use chotomoni_domain::{ConsentPurpose, CustomerId, Role};
use chotomoni_services::auth::ClientInfo;
use chotomoni_testkit::{both_engines, Engine};
use serde_json::json;

async fn opt_in_and_out(engine: Engine) {
    let app = common::spawn(engine).await;
    let mut body = common::order_body("Rupa Khatun", "01711000444");
    body["marketing_opt_in"] = json!(true);
    // Ticked at a guest checkout, it is asked for, not yet a consent.
    let (status, _) = app.post("/api/v1/orders", None, &body).await;
    assert_eq!(status, 201);
    let id: i64 = sqlx::query_scalar("SELECT customer_id FROM orders")
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    let me = CustomerId(id);
    assert!(!app
        .services
        .may_send_marketing(me, ConsentPurpose::MarketingSms)
        .await
        .unwrap());

    // Signed in, the same tick at checkout is her consent.
    let (token, session) = app.customer_session(me.0, &ClientInfo::default()).await;
    let (status, _) = app.post("/api/v1/orders", Some(&token), &body).await;
    assert_eq!(status, 201);
    assert!(app
        .services
        .may_send_marketing(me, ConsentPurpose::MarketingSms)
        .await
        .unwrap());
    assert!(
        !app.services
            .may_send_marketing(me, ConsentPurpose::MarketingEmail)
            .await
            .unwrap(),
        "never asked for email"
    );

    let page = |path: &'static str| {
        let req = app.http.get(app.url(path)).bearer_auth(&token);
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let html = page("/account").await;
    assert!(
        html.contains("Offers and news by SMS: <strong>on</strong>"),
        "{html}"
    );

    // A new policy version, then one step stops everything.
    let admin = app.staff("admin", Role::Admin).await;
    let (status, _) = app
        .post(
            "/api/v1/privacy/policies",
            Some(&admin),
            &json!({"bn": "নীতি ২", "en": "Policy 2"}),
        )
        .await;
    assert_eq!(status, 201);
    let res = app
        .http
        .post(app.url("/account/marketing/stop"))
        .bearer_auth(&token)
        .form(&[("csrf", session.csrf_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(page("/account")
        .await
        .contains("Offers and news by SMS: <strong>off</strong>"));
    assert!(!app
        .services
        .may_send_marketing(me, ConsentPurpose::MarketingSms)
        .await
        .unwrap());

    let ledger: Vec<(String, i64, String, i64, String)> =
        sqlx::query_as("SELECT purpose, granted, channel, policy_version, wording FROM consents WHERE customer_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&app.services.db().pool)
            .await
            .unwrap();
    let summary: Vec<(&str, i64, &str, i64)> = ledger
        .iter()
        .map(|(p, g, c, v, _)| (p.as_str(), *g, c.as_str(), *v))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("marketing_sms", 1, "checkout", 1),
            ("marketing_sms", 0, "account_page", 2),
            ("marketing_email", 0, "account_page", 2),
        ],
        "every grant and withdrawal is kept, with the policy version in force"
    );
    assert_eq!(ledger[0].4, ConsentPurpose::MarketingSms.wording());
    assert!(
        sqlx::query("UPDATE consents SET granted = 1")
            .execute(&app.services.db().pool)
            .await
            .is_err(),
        "the ledger is never rewritten"
    );

    // The suppression list holds a keyed hash, never the number.
    let hashes: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT address_hash FROM marketing_suppressions")
            .fetch_all(&app.services.db().pool)
            .await
            .unwrap();
    assert_eq!(hashes.len(), 2, "the phone and the email");
    for h in &hashes {
        assert_eq!(h.len(), 16);
        assert!(!String::from_utf8_lossy(h).contains("1711000444"));
    }

    // Turning SMS back on from the account lifts its suppression only.
    let res = app
        .http
        .post(app.url("/account/consents"))
        .bearer_auth(&token)
        .form(&[
            ("purpose", "marketing_sms"),
            ("granted", "1"),
            ("csrf", session.csrf_token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(app
        .services
        .may_send_marketing(me, ConsentPurpose::MarketingSms)
        .await
        .unwrap());
    assert!(!app
        .services
        .may_send_marketing(me, ConsentPurpose::MarketingEmail)
        .await
        .unwrap());
    assert_eq!(app.count("marketing_suppressions").await, 1);
    // Only marketing purposes can be set this way; a bad token changes nothing.
    let res = app
        .http
        .post(app.url("/account/consents"))
        .bearer_auth(&token)
        .form(&[
            ("purpose", "analytics"),
            ("granted", "1"),
            ("csrf", session.csrf_token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let before = app.count("consents").await;
    let res = app
        .http
        .post(app.url("/account/marketing/stop"))
        .bearer_auth(&token)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(app.count("consents").await, before);
}
both_engines!(opt_in_and_out, super::opt_in_and_out);
