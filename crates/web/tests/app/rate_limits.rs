//! Attacks on the sign-in rate limits, through the real server on both
//! engines: forged forwarding headers, parallel bursts, locking the owner
//! out from elsewhere, code requests crowding out sign-ins, and a flood of
//! password checks.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_services::rate_limit::RateLimits;
use chotomoni_services::Settings;
use chotomoni_testkit::{both_engines, Engine};
use chotomoni_web::proxies::TrustedProxies;
use chotomoni_web::WebConfig;
use common::TestApp as App;
use serde_json::{json, Value};

const PASSWORD: &str = "a long enough password";

fn limits(l: RateLimits) -> Settings {
    Settings {
        limits: l,
        ..Settings::default()
    }
}

/// Behind a proxy on this machine (the test client is on loopback).
fn behind_local_proxy() -> WebConfig {
    WebConfig {
        trust_forwarded: true,
        ..WebConfig::default()
    }
}

fn status_and_retry(res: &reqwest::Response) -> (u16, Option<String>) {
    let retry = res.headers().get("retry-after");
    (
        res.status().as_u16(),
        retry.map(|v| v.to_str().unwrap().to_owned()),
    )
}

/// A staff sign-in as the proxy forwards it for `forwarded_for`.
async fn sign_in(app: &App, password: &str, forwarded_for: &str) -> (u16, Option<String>, Value) {
    let res = app
        .http
        .post(app.url("/api/v1/session"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"username": "mitu", "password": password}))
        .send()
        .await
        .unwrap();
    let (status, retry) = status_and_retry(&res);
    (status, retry, res.json().await.unwrap_or(Value::Null))
}

async fn strangers_lock_only_themselves_out(engine: Engine) {
    let app =
        common::spawn_configured(engine, Settings::default(), behind_local_proxy(), false).await;
    app.services
        .add_staff("mitu", PASSWORD, Role::Admin)
        .await
        .unwrap();
    for i in 0..5 {
        // The attacker writes their own X-Forwarded-For; the proxy appends the truth.
        let forged = format!("10.9.9.{i}, 203.0.113.5");
        assert_eq!(sign_in(&app, "wrong", &forged).await.0, 401);
    }
    let (status, retry, body) = sign_in(&app, PASSWORD, "10.9.9.99, 203.0.113.5").await;
    assert_eq!(
        status, 429,
        "a forged leftmost entry does not make a new address"
    );
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(retry.unwrap().parse::<u64>().unwrap() > 0);
    let (status, _, body) = sign_in(&app, PASSWORD, "198.51.100.7").await;
    assert_eq!(status, 200, "the owner elsewhere still signs in: {body}");
}
both_engines!(
    a_strangers_failures_do_not_lock_the_owner_out,
    super::strangers_lock_only_themselves_out
);

async fn untrusted_peer_cannot_choose_its_address(engine: Engine) {
    let web = WebConfig {
        trust_forwarded: true,
        trusted_proxies: TrustedProxies::parse(&["10.0.0.0/8"]).unwrap(),
        ..WebConfig::default()
    };
    let app = common::spawn_configured(engine, Settings::default(), web, false).await;
    app.services
        .add_staff("mitu", PASSWORD, Role::Admin)
        .await
        .unwrap();
    for i in 0..5 {
        let fresh = format!("203.0.113.{i}");
        assert_eq!(sign_in(&app, "wrong", &fresh).await.0, 401);
    }
    assert_eq!(
        sign_in(&app, PASSWORD, "203.0.113.200").await.0,
        429,
        "a client that is not our proxy cannot pick a new address per try"
    );
}
both_engines!(
    forwarded_for_from_an_untrusted_peer_is_ignored,
    super::untrusted_peer_cannot_choose_its_address
);

async fn parallel_burst(engine: Engine) {
    let settings = limits(RateLimits {
        password_checks: 64,
        ..Default::default()
    });
    let app = common::spawn_configured(engine, settings, WebConfig::default(), false).await;
    app.services
        .add_staff("mitu", PASSWORD, Role::Admin)
        .await
        .unwrap();
    let tries = (0..20).map(|_| sign_in(&app, "wrong", "ignored"));
    let answers: Vec<u16> = futures::future::join_all(tries)
        .await
        .into_iter()
        .map(|(s, _, _)| s)
        .collect();
    let checked = answers.iter().filter(|s| **s == 401).count();
    assert!(
        (1..=5).contains(&checked),
        "at most five passwords were tried: {answers:?}"
    );
    assert!(
        answers.iter().all(|s| *s == 401 || *s == 429),
        "{answers:?}"
    );
}
both_engines!(
    a_parallel_burst_gets_no_more_tries_than_the_limit,
    super::parallel_burst
);

async fn backoff(engine: Engine) {
    let settings = limits(RateLimits {
        sign_in_backoff_after: 3,
        ..Default::default()
    });
    let app = common::spawn_configured(engine, settings, behind_local_proxy(), false).await;
    app.services
        .add_staff("mitu", PASSWORD, Role::Admin)
        .await
        .unwrap();
    for i in 0..3 {
        assert_eq!(
            sign_in(&app, "wrong", &format!("203.0.113.{i}")).await.0,
            401
        );
    }
    let (status, retry, _) = sign_in(&app, "wrong", "203.0.113.50").await;
    assert_eq!(status, 429, "many addresses against one account slow down");
    let retry: u64 = retry.unwrap().parse().unwrap();
    assert!(retry == 1, "a short, growing wait, not a lock: {retry}");
}
both_engines!(
    failures_from_many_addresses_slow_the_account_down,
    super::backoff
);

async fn codes_and_sign_ins_count_apart(engine: Engine) {
    let settings = limits(RateLimits {
        sign_in_per_address: 2,
        codes_per_address: 4,
        ..Default::default()
    });
    let app = common::spawn_configured(engine, settings, WebConfig::default(), true).await;
    app.services
        .add_staff("mitu", PASSWORD, Role::Admin)
        .await
        .unwrap();
    // Four neighbours behind one carrier NAT ask for codes; a fifth is refused.
    for (i, expected) in [200, 200, 200, 200, 429].into_iter().enumerate() {
        let res = app
            .http
            .post(app.url("/account/register?lang=en"))
            .form(&[("step", "1"), ("phone", &format!("0171234567{i}"))])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), expected, "code request {i}");
        if expected == 429 {
            assert!(res.text().await.unwrap().contains("Too many attempts"));
        }
    }
    let (status, _, _) = sign_in(&app, PASSWORD, "ignored").await;
    assert_eq!(
        status, 200,
        "neighbours' code requests do not block sign-in"
    );
}
both_engines!(
    code_requests_do_not_use_up_sign_ins,
    super::codes_and_sign_ins_count_apart
);

async fn saturated(engine: Engine) {
    let app = common::spawn(engine).await;
    app.services
        .add_staff("mitu", PASSWORD, Role::Admin)
        .await
        .unwrap();
    let all = RateLimits::default().password_checks;
    let _busy = app
        .services
        .password_checks()
        .acquire_many(all)
        .await
        .unwrap();
    let (status, retry, body) = sign_in(&app, PASSWORD, "ignored").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("busy"))
    );
    assert_eq!(retry.as_deref(), Some("1"));
    drop(_busy);
    assert_eq!(
        sign_in(&app, PASSWORD, "ignored").await.0,
        200,
        "the refused try was not counted"
    );
}
both_engines!(
    a_flood_of_password_checks_is_refused_at_once,
    super::saturated
);

/// A `/track` look-up as the proxy forwards it for `from`.
async fn track(app: &App, number: &str, phone: &str, from: &str) -> (u16, Option<String>, String) {
    let res = app
        .http
        .post(app.url("/track?lang=en"))
        .header("x-forwarded-for", from)
        .form(&[("number", number), ("phone", phone)])
        .send()
        .await
        .unwrap();
    let (status, retry) = status_and_retry(&res);
    (status, retry, res.text().await.unwrap())
}

async fn tracking(engine: Engine) {
    let settings = limits(RateLimits {
        track_per_order: 3,
        track_per_address: 5,
        ..Default::default()
    });
    let app = common::spawn_configured(engine, settings, behind_local_proxy(), false).await;
    let (status, body) = app
        .post(
            "/api/v1/orders",
            None,
            &common::order_body("Rahima Begum", "01712345678"),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mine = body["number"].as_str().unwrap().to_owned();
    assert_eq!(
        track(&app, &mine, "01712345678", "198.51.100.1").await.0,
        200
    );

    // Guessing phone numbers for one order, from several addresses.
    for i in 0..3 {
        let guess = format!("0181234560{i}");
        let from = format!("203.0.113.{i}");
        assert_eq!(track(&app, &mine, &guess, &from).await.0, 404);
    }
    let (status, retry, page) = track(&app, &mine, "01712345678", "203.0.113.9").await;
    assert_eq!(status, 429, "the order is closed to look-ups for a while");
    assert!(retry.is_some());
    assert!(page.contains("Too many attempts"));

    // Running order numbers from one address.
    for n in 2..7 {
        let number = format!("CM-{n:06}");
        assert_eq!(
            track(&app, &number, "01912345678", "192.0.2.1").await.0,
            404
        );
    }
    let (status, _, _) = track(&app, "CM-000009", "01912345678", "192.0.2.1").await;
    assert_eq!(status, 429, "the address is closed to look-ups for a while");
}
both_engines!(
    tracking_cannot_be_used_to_guess_phones_or_orders,
    super::tracking
);
