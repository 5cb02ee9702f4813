//! Fraud signals from the shop's own history, on both engines: three
//! orders from one phone in a day are flagged with their count on the
//! staff list and page for support; a packer sees no flags and cannot
//! record a call; a confirmation by phone is recorded, audited and shown;
//! the configured thresholds decide; the client fingerprints are kept only
//! for the technical-data period.
use crate::common;

use chotomoni_domain::{FraudThresholds, Role};
use chotomoni_services::Settings;
use chotomoni_testkit::{both_engines, Engine};
use common::html::{browser, csrf_of, text};
use common::{order_body, TestApp};
use reqwest::StatusCode;
use serde_json::Value;

const PHONE: &str = "01712345678";
const BROWSER: &str = "Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36";

/// Places an order as a visitor from the shop's phone browser; its number.
async fn place(app: &TestApp, phone: &str) -> String {
    let res = app
        .http
        .post(app.url("/api/v1/orders"))
        .header("user-agent", BROWSER)
        .json(&order_body("Rahima Begum", phone))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["number"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A browser signed in as a new staff member of `role`.
async fn signed_in(app: &TestApp, username: &str, role: Role) -> reqwest::Client {
    app.staff(username, role).await;
    let c = browser();
    let res = c
        .post(app.url("/staff/sign-in?lang=en"))
        .form(&[
            ("username", username),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    c
}

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let res = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    text(res).await
}

fn flag_count(flags: &Value, kind: &str) -> Option<i64> {
    flags
        .as_array()?
        .iter()
        .find(|f| f["kind"] == kind)
        .and_then(|f| f["count"].as_i64())
}

async fn flagged_for_the_desk(engine: Engine) {
    let app = common::spawn(engine).await;
    let mut numbers = Vec::new();
    for _ in 0..3 {
        numbers.push(place(&app, PHONE).await);
    }
    let other = place(&app, "01812345679").await;
    let support = app.staff("desk", Role::Support).await;

    // The API: the order's view and the list carry the flags with counts.
    let (status, view) = app
        .get(&format!("/api/v1/orders/{}", numbers[0]), &support)
        .await;
    assert_eq!(status, 200);
    let flags = &view["fraud"]["flags"];
    assert_eq!(flag_count(flags, "phone_orders"), Some(3), "{view}");
    // Four orders from one browser within the day (another phone's too).
    assert_eq!(flag_count(flags, "device_orders"), Some(4));
    assert_eq!(flag_count(flags, "ip_orders"), None, "four is under five");
    let (_, list) = app.get("/api/v1/orders", &support).await;
    let listed = |n: &str| {
        list["orders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["number"] == n)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        flag_count(&listed(&numbers[2])["fraud_flags"], "phone_orders"),
        Some(3)
    );
    assert_eq!(
        flag_count(&listed(&other)["fraud_flags"], "phone_orders"),
        None
    );

    // The pages: a column on the list, the reasons on the order's page.
    let c = signed_in(&app, "desk2", Role::Support).await;
    let html = page(&c, &app, "/staff/orders?lang=en").await;
    assert!(html.contains(r#"data-flag="phone_orders""#), "{html}");
    assert!(html.contains("phone (3)"));
    let html = page(&c, &app, &format!("/staff/orders/{}?lang=en", numbers[1])).await;
    assert!(
        html.contains("3 orders from this phone within 24 hours"),
        "{html}"
    );
    assert!(html.contains("never a ban"));
    let bn = page(&c, &app, &format!("/staff/orders/{}?lang=bn", numbers[1])).await;
    assert!(bn.contains("২৪ ঘণ্টার মধ্যে এই ফোন থেকে ৩টি অর্ডার"), "{bn}");

    // A packer gets nothing: not the field, not the column, not the form.
    let packer = app.staff("packer", Role::Packer).await;
    let (status, view) = app
        .get(&format!("/api/v1/orders/{}", numbers[0]), &packer)
        .await;
    assert_eq!(status, 200);
    assert!(view.get("fraud").is_none(), "{view}");
    let (_, list) = app.get("/api/v1/orders", &packer).await;
    for o in list["orders"].as_array().unwrap() {
        assert!(
            o.get("fraud_flags").is_none() && o.get("phone_check").is_none(),
            "{o}"
        );
    }
    let p = signed_in(&app, "packer2", Role::Packer).await;
    let html = page(&p, &app, "/staff/orders?lang=en").await;
    assert!(!html.contains("data-flag") && !html.contains("Signals"));
    let html = page(&p, &app, &format!("/staff/orders/{}?lang=en", numbers[0])).await;
    assert!(!html.contains("Fraud signals") && !html.contains("phone-check"));
    let csrf = csrf_of(&html);
    let refused = p
        .post(app.url(&format!("/staff/orders/{}/phone-check", numbers[0])))
        .form(&[
            ("csrf", csrf.as_str()),
            ("outcome", "genuine"),
            ("note", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let (status, _) = app
        .post(
            &format!("/api/v1/orders/{}/phone-checks", numbers[0]),
            Some(&packer),
            &serde_json::json!({"outcome": "genuine"}),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(app.count("order_phone_checks").await, 0);
}

async fn confirmed_by_phone(engine: Engine) {
    let app = common::spawn(engine).await;
    let number = place(&app, PHONE).await;
    let c = signed_in(&app, "desk", Role::Support).await;
    let path = format!("/staff/orders/{number}?lang=en");
    let html = page(&c, &app, &path).await;
    let csrf = csrf_of(&html);
    let res = c
        .post(app.url(&format!("/staff/orders/{number}/phone-check")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("outcome", "genuine"),
            ("note", "will take it on Friday"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(res).await;
    assert!(html.contains(r#"data-outcome="genuine""#), "{html}");
    assert!(html.contains("confirmed genuine (desk): will take it on Friday"));
    // An outcome that is not one is refused.
    let bad = c
        .post(app.url(&format!("/staff/orders/{number}/phone-check")))
        .form(&[("csrf", csrf.as_str()), ("outcome", "maybe")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The list shows the latest outcome; the API records one too.
    let list = page(&c, &app, "/staff/orders?lang=en").await;
    assert!(list.contains(r#"class="checked" data-outcome="genuine""#));
    let token = app.staff("desk2", Role::Admin).await;
    let (status, signals) = app
        .post(
            &format!("/api/v1/orders/{number}/phone-checks"),
            Some(&token),
            &serde_json::json!({"outcome": "no_answer", "note": ""}),
        )
        .await;
    assert_eq!(status, 200, "{signals}");
    assert_eq!(signals["phone_checks"].as_array().unwrap().len(), 2);
    assert_eq!(signals["phone_checks"][1]["by"], "desk2");
    // Audited without the note.
    let details: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'fraud.phone_check' ORDER BY id",
    )
    .fetch_all(&app.services.db().pool)
    .await
    .unwrap();
    assert_eq!(details, ["outcome=genuine", "outcome=no_answer"]);

    // The client fingerprints and calls go with the technical-data period.
    assert_eq!(app.count("order_signals").await, 1);
    let stored: Vec<Option<String>> = sqlx::query_scalar("SELECT device_index FROM order_signals")
        .fetch_all(&app.services.db().pool)
        .await
        .unwrap();
    // A keyed fingerprint in hex, never the browser's own words.
    let hex = |d: &str| d.len() >= 32 && d.bytes().all(|b| b.is_ascii_hexdigit());
    assert!(stored[0].as_deref().is_some_and(hex), "{stored:?}");
    let days = u64::from(app.settings.technical_retention_days) + 1;
    app.services
        .clock()
        .advance(std::time::Duration::from_secs(days * 86_400));
    app.services.sweep().await.unwrap();
    assert_eq!(app.count("order_signals").await, 0);
    assert_eq!(app.count("order_phone_checks").await, 0);
}

async fn thresholds_decide(engine: Engine) {
    let strict = Settings {
        fraud: FraudThresholds {
            orders_per_phone: 2,
            first_order_value: 10_000_000,
            ..Default::default()
        },
        ..Settings::default()
    };
    let app = common::spawn_with(engine, strict).await;
    let first = place(&app, PHONE).await;
    let support = app.staff("desk", Role::Support).await;
    let (_, view) = app.get(&format!("/api/v1/orders/{first}"), &support).await;
    assert_eq!(view["fraud"]["flags"], serde_json::json!([]), "{view}");
    let second = place(&app, PHONE).await;
    let (_, view) = app.get(&format!("/api/v1/orders/{second}"), &support).await;
    assert_eq!(flag_count(&view["fraud"]["flags"], "phone_orders"), Some(2));

    // With the defaults the same two orders raise no phone flag, and the
    // first (৳9,400) is a costly first order.
    let app = common::spawn(engine).await;
    let first = place(&app, PHONE).await;
    place(&app, PHONE).await;
    let support = app.staff("desk", Role::Support).await;
    let (_, view) = app.get(&format!("/api/v1/orders/{first}"), &support).await;
    let flags = &view["fraud"]["flags"];
    assert_eq!(flag_count(flags, "phone_orders"), None);
    assert_eq!(flag_count(flags, "first_order_value"), Some(940_000));
}

both_engines!(
    phone_orders_are_flagged_for_the_desk_only,
    super::flagged_for_the_desk
);
both_engines!(
    a_confirmation_by_phone_is_recorded,
    super::confirmed_by_phone
);
both_engines!(configured_thresholds_decide, super::thresholds_decide);
