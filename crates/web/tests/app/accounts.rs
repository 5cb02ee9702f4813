//! Customer accounts through the real server, on both engines: registration
//! proves the phone with a one-time code that the server sends through the
//! real Twilio client to a local stand-in of Twilio's Messages API.
use crate::common;

use chotomoni_services::accounts::NEEDS_SMS;
use chotomoni_services::auth::ClientInfo;
use chotomoni_services::ServiceError;
use chotomoni_testkit::{both_engines, Engine};
use common::html::{browser, csrf_of, text};
use common::TestApp as App;
use regex::Regex;
use reqwest::{Client, StatusCode};

const PASSWORD: &str = "mango season 2026";

/// A guest order by API; returns its number.
async fn guest_order(app: &App, name: &str, phone: &str) -> String {
    let (status, body) = app
        .post("/api/v1/orders", None, &common::order_body(name, phone))
        .await;
    assert_eq!(status, 201, "{body}");
    body["number"].as_str().unwrap().to_owned()
}

async fn start(app: &App, c: &Client, phone: &str) -> (StatusCode, String) {
    let res = c
        .post(app.url("/account/register?lang=en"))
        .form(&[("step", "1"), ("phone", phone)])
        .send()
        .await
        .unwrap();
    (res.status(), text(res).await)
}

/// The code in the latest SMS the stand-in received for `e164`.
fn code_for(app: &App, e164: &str) -> String {
    let sms = app.sms.as_ref().unwrap().last_to(e164).expect("an SMS");
    Regex::new(r"(\d{6})")
        .unwrap()
        .captures(&sms.body)
        .expect("a code")[1]
        .to_owned()
}

async fn finish(app: &App, c: &Client, phone: &str, code: &str) -> (StatusCode, String) {
    let res = c
        .post(app.url("/account/register?lang=en"))
        .form(&[
            ("step", "2"),
            ("phone", phone),
            ("code", code),
            ("name", "Rahima Begum"),
            ("email", ""),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    (res.status(), text(res).await)
}

fn other_code(code: &str) -> String {
    if code == "000000" { "111111" } else { "000000" }.to_owned()
}

async fn guest_registers_signs_in_and_sees_only_own_orders(engine: Engine) {
    let app = common::spawn_with_sms(engine).await;
    let mine = guest_order(&app, "Rahima Begum", "01712345678").await;
    let theirs = guest_order(&app, "Karim Uddin", "01812345678").await;

    let c = browser();
    let form = text(
        c.get(app.url("/account/register?lang=en"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(form.contains("Send the code"));
    let (status, page) = start(&app, &c, "01712345678").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("a 6-digit code is on its way"));
    let code = code_for(&app, "+8801712345678");
    // The guest's number went to the SMS provider: in their disclosure log.
    let logged: Vec<(String, String)> = sqlx::query_as("SELECT recipient, fields FROM disclosures")
        .fetch_all(&app.services.db().pool)
        .await
        .unwrap();
    assert_eq!(
        logged,
        [("service_provider".into(), "customers.phone_enc".into())]
    );
    let (status, page) = finish(&app, &c, "01712345678", &code).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("My orders"));
    assert!(page.contains(&mine), "the guest order is in the account");
    assert!(!page.contains(&theirs));

    let order = c
        .get(app.url(&format!("/account/orders/{mine}")))
        .send()
        .await
        .unwrap();
    assert_eq!(order.status(), StatusCode::OK);
    let order = text(order).await;
    assert!(order.contains("House 12, Road 7, Block C"));
    assert!(order.contains("Cancel this order"));
    let csrf = csrf_of(&order);

    let other = c
        .get(app.url(&format!("/account/orders/{theirs}")))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    assert!(!text(other).await.contains("Karim"));
    let other = c
        .post(app.url(&format!("/account/orders/{theirs}/cancel")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);

    let cancelled = c
        .post(app.url(&format!("/account/orders/{mine}/cancel?lang=en")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::OK);
    let cancelled = text(cancelled).await;
    assert!(cancelled.contains("Cancelled"));
    assert!(
        !cancelled.contains("Cancel this order"),
        "only while placed"
    );
    let again = c
        .post(app.url(&format!("/account/orders/{mine}/cancel")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(
        [StatusCode::FORBIDDEN, StatusCode::CONFLICT].contains(&again.status()),
        "a cancelled order cannot be cancelled again: {}",
        again.status()
    );

    // Sign out, then the account needs signing in again.
    let out = c
        .post(app.url("/account/sign-out"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::OK);
    let account = text(c.get(app.url("/account?lang=en")).send().await.unwrap()).await;
    assert!(account.contains("Sign in to your account"));

    // Sign in with phone and password, in another form of the number.
    let c2 = browser();
    let wrong = c2
        .post(app.url("/account/sign-in?lang=en"))
        .form(&[
            ("phone", "+880 1712-345678"),
            ("password", "not the password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(text(wrong)
        .await
        .contains("Wrong mobile number or password"));
    let res = c2
        .post(app.url("/account/sign-in?lang=en"))
        .form(&[("phone", "+880 1712-345678"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let account = text(res).await;
    assert!(account.contains(&mine) && !account.contains(&theirs));

    // Checkout while signed in goes to the account.
    let csrf = csrf_of(&account);
    let checkout = c2
        .post(app.url("/cart/add?lang=en"))
        .form(&[("sku", "SAR-JAM-01"), ("quantity", "1"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(checkout.status(), StatusCode::OK);
    let checkout = text(checkout).await;
    assert!(checkout.contains("this order goes to your account"));
    let placed = c2
        .post(app.url("/checkout"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Rahima Begum"),
            ("phone", "01712345678"),
            ("email", ""),
            ("line", "House 3, Road 1"),
            ("area", "Dhanmondi"),
            ("district", "Dhaka"),
            ("payment", "cod"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::OK);
    let placed = text(placed).await;
    let number = Regex::new(r"CM-\d{6}")
        .unwrap()
        .find(&placed)
        .expect("order number")
        .as_str()
        .to_owned();
    let account = text(c2.get(app.url("/account")).send().await.unwrap()).await;
    assert!(account.contains(&number), "the new order is in the account");
}
both_engines!(
    guest_registers_signs_in_and_sees_only_own_orders,
    super::guest_registers_signs_in_and_sees_only_own_orders
);

async fn wrong_expired_reused_and_too_many_codes(engine: Engine) {
    let app = common::spawn_with_sms(engine).await;

    // Wrong, then right; then the same code again is refused.
    let c = browser();
    start(&app, &c, "01712345678").await;
    let code = code_for(&app, "+8801712345678");
    let (status, page) = finish(&app, &c, "01712345678", &other_code(&code)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("That is not the code we sent"));
    let (status, _) = finish(&app, &c, "01712345678", &code).await;
    assert_eq!(status, StatusCode::OK);
    let (status, page) = finish(&app, &browser(), "01712345678", &code).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("expired or was already used"));

    // Expired.
    let c = browser();
    start(&app, &c, "01812345678").await;
    let code = code_for(&app, "+8801812345678");
    let before = app.count("phone_verifications").await;
    // Eleven minutes later: a code works for ten.
    app.services
        .clock()
        .advance(std::time::Duration::from_secs(11 * 60));
    let (status, page) = finish(&app, &c, "01812345678", &code).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("expired or was already used"));
    app.services.sweep().await.unwrap();
    assert_eq!(
        app.count("phone_verifications").await,
        before,
        "kept a day after it expired: its wrong tries still count"
    );
    app.services
        .clock()
        .advance(std::time::Duration::from_secs(86_400));
    app.services.sweep().await.unwrap();
    assert_eq!(
        app.count("phone_verifications").await,
        0,
        "swept a day later"
    );

    // Five wrong tries, then even the right code is refused.
    let c = browser();
    start(&app, &c, "01912345678").await;
    let code = code_for(&app, "+8801912345678");
    for _ in 0..5 {
        let (status, page) = finish(&app, &c, "01912345678", &other_code(&code)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("That is not the code we sent"));
    }
    let (status, page) = finish(&app, &c, "01912345678", &code).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("tried too many times"));
    // A new code works.
    start(&app, &c, "01912345678").await;
    let code = code_for(&app, "+8801912345678");
    let (status, _) = finish(&app, &c, "01912345678", &code).await;
    assert_eq!(status, StatusCode::OK);
}
both_engines!(
    wrong_expired_reused_and_too_many_codes,
    super::wrong_expired_reused_and_too_many_codes
);

async fn a_number_with_an_account_is_refused(engine: Engine) {
    let app = common::spawn_with_sms(engine).await;
    let c = browser();
    start(&app, &c, "01712345678").await;
    let code = code_for(&app, "+8801712345678");
    assert_eq!(
        finish(&app, &c, "01712345678", &code).await.0,
        StatusCode::OK
    );

    let c = browser();
    start(&app, &c, "01712345678").await;
    let code = code_for(&app, "+8801712345678");
    let (status, page) = finish(&app, &c, "01712345678", &code).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("This number already has an account"));
}
both_engines!(
    a_number_with_an_account_is_refused,
    super::a_number_with_an_account_is_refused
);

async fn the_first_step_reveals_nothing_about_the_number(engine: Engine) {
    let app = common::spawn_with_sms(engine).await;
    guest_order(&app, "Rahima Begum", "01712345678").await;
    // An account on a third number.
    let c = browser();
    start(&app, &c, "01912345678").await;
    let code = code_for(&app, "+8801912345678");
    assert_eq!(
        finish(&app, &c, "01912345678", &code).await.0,
        StatusCode::OK
    );

    let (s1, known) = start(&app, &browser(), "01712345678").await;
    let (s2, unknown) = start(&app, &browser(), "01812345678").await;
    let (s3, registered) = start(&app, &browser(), "01912345678").await;
    assert_eq!(
        (s1, s2, s3),
        (StatusCode::OK, StatusCode::OK, StatusCode::OK)
    );
    let known = known.replace("01712345678", "NUMBER");
    let unknown = unknown.replace("01812345678", "NUMBER");
    let registered = registered.replace("01912345678", "NUMBER");
    assert_eq!(known, unknown);
    assert_eq!(known, registered);
    let sent = app.sms.as_ref().unwrap().messages();
    assert_eq!(sent.len(), 4, "a code goes to every number alike");
}
both_engines!(
    the_first_step_reveals_nothing_about_the_number,
    super::the_first_step_reveals_nothing_about_the_number
);

async fn without_sms_registration_says_so(engine: Engine) {
    let app = common::spawn(engine).await;
    let res = Client::new()
        .get(app.url("/account/register?lang=en"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(text(res)
        .await
        .contains("Creating an account needs SMS sending"));
    let (status, page) = start(&app, &Client::new(), "01712345678").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.contains("Creating an account needs SMS sending"));
    match app
        .services
        .start_registration("01712345678", &ClientInfo::default())
        .await
    {
        Err(ServiceError::Conflict(m)) => assert_eq!(m, NEEDS_SMS),
        other => panic!("{other:?}"),
    }
    assert_eq!(app.count("phone_verifications").await, 0);
}
both_engines!(
    without_sms_registration_says_so,
    super::without_sms_registration_says_so
);

async fn too_many_codes_for_one_number_are_refused(engine: Engine) {
    let app = common::spawn_with_sms(engine).await;
    for _ in 0..5 {
        assert_eq!(
            start(&app, &browser(), "01712345678").await.0,
            StatusCode::OK
        );
    }
    let (status, page) = start(&app, &browser(), "01712345678").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("Too many attempts"));
    assert_eq!(app.sms.as_ref().unwrap().messages().len(), 5);
}
both_engines!(
    too_many_codes_for_one_number_are_refused,
    super::too_many_codes_for_one_number_are_refused
);
