//! The security review's attacks (issue 10), each tried against the real
//! server on both engines and shown refused: a phone number must not reveal
//! or change a customer, an email typed at a checkout must not unlock
//! anyone's data, prices come from the catalogue, status links are secrets
//! only their requester holds, and redirects stay on this site.
use crate::common;

use chotomoni_domain::{CustomerId, RequestKind, Role};
use chotomoni_services::auth::ClientInfo;
use chotomoni_services::Actor;
use chotomoni_testkit::{both_engines, Engine};
use common::privacy::{code_in, confirm, customer_token};
use common::{html, order_body, TestApp};
use serde_json::{json, Value};

const VICTIM: &str = "Rahima Begum";
const VICTIM_PHONE: &str = "01712000111";
const VICTIM_EMAIL: &str = "rahima.real@example.com";
const ATTACKER: &str = "Mallory Mia";
const ATTACKER_EMAIL: &str = "mallory@evil.example";

fn order_as(name: &str, phone: &str, email: &str, marketing: bool) -> Value {
    let mut body = order_body(name, phone);
    body["customer"]["email"] = json!(email);
    body["marketing_opt_in"] = json!(marketing);
    body
}

async fn place(app: &TestApp, token: Option<&str>, body: &Value) -> Value {
    let (status, order) = app.post("/api/v1/orders", token, body).await;
    assert_eq!(status, 201, "{order}");
    order
}

async fn customer_of(app: &TestApp, number: &str) -> i64 {
    let id = chotomoni_domain::OrderNumber::parse(number).unwrap().id().0;
    sqlx::query_scalar("SELECT customer_id FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap()
}

async fn marketing_grants(app: &TestApp, customer: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM consents WHERE customer_id = $1 AND purpose LIKE 'marketing%' AND granted = 1",
    )
    .bind(customer)
    .fetch_one(&app.services.db().pool)
    .await
    .unwrap()
}

/// High 1: a made-up order with a customer's phone number.
async fn a_phone_number_reveals_no_customer(engine: Engine) {
    let app = common::spawn(engine).await;
    let support = app.staff("sabina", Role::Support).await;
    let hers = place(
        &app,
        None,
        &order_as(VICTIM, VICTIM_PHONE, VICTIM_EMAIL, false),
    )
    .await;
    let victim = customer_of(&app, hers["number"].as_str().unwrap()).await;
    // She has an account: her phone is proven and her orders are hers.
    let her_token = customer_token(&app, victim).await;

    // The attacker, not signed in, orders with her number and opts in.
    let (status, junk) = app
        .post(
            "/api/v1/orders",
            None,
            &order_as(ATTACKER, VICTIM_PHONE, ATTACKER_EMAIL, true),
        )
        .await;
    assert_eq!(status, 201, "{junk}");
    let text = junk.to_string();
    assert!(
        !text.contains(VICTIM) && !text.contains(VICTIM_EMAIL),
        "the answer reveals the customer: {text}"
    );
    assert_eq!(junk["customer"]["name"], ATTACKER, "only what was sent");
    assert_eq!(junk["customer"]["email"], ATTACKER_EMAIL);
    let junk_number = junk["number"].as_str().unwrap().to_owned();

    // Linked to her record without changing it or her consent ledger.
    assert_eq!(customer_of(&app, &junk_number).await, victim);
    assert_eq!(marketing_grants(&app, victim).await, 0);
    let (_, as_staff) = app
        .get(
            &format!("/api/v1/orders/{}", hers["number"].as_str().unwrap()),
            &support,
        )
        .await;
    assert_eq!(as_staff["customer"]["name"], VICTIM);
    assert_eq!(as_staff["customer"]["email"], VICTIM_EMAIL);
    let (_, junk_for_staff) = app
        .get(&format!("/api/v1/orders/{junk_number}"), &support)
        .await;
    assert_eq!(junk_for_staff["unconfirmed"], true, "{junk_for_staff}");
    let staff_page = html::text(
        app.http
            .get(app.url(&format!("/staff/orders/{junk_number}?lang=en")))
            .bearer_auth(&support)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(staff_page.contains("id=\"unconfirmed\""), "{staff_page}");

    // Not in her history: her list, the order itself and its proofs.
    let (_, mine) = app.get("/api/v1/orders", &her_token).await;
    let numbers: Vec<&str> = mine["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, [hers["number"].as_str().unwrap()]);
    let (status, _) = app
        .get(&format!("/api/v1/orders/{junk_number}"), &her_token)
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .get(&format!("/api/v1/orders/{junk_number}/proofs"), &her_token)
        .await;
    assert_eq!(status, 404);

    // Tracking it with her number shows that order, never her record.
    let page = html::text(
        app.http
            .post(app.url("/track?lang=en"))
            .form(&[("number", junk_number.as_str()), ("phone", VICTIM_PHONE)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(page.contains(&junk_number), "{page}");
    assert!(
        !page.contains(VICTIM) && !page.contains(VICTIM_EMAIL),
        "tracking reveals the customer: {page}"
    );

    // Her account tells her about the opt-in asked with her number; only
    // her own choice turns marketing on, and spends the pending one.
    let account = html::text(
        app.http
            .get(app.url("/account?lang=en"))
            .bearer_auth(&her_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        account.contains("id=\"pending-opt-in\"") && account.contains(&junk_number),
        "{account}"
    );
    app.services
        .set_consent(
            &Actor::Customer(CustomerId(victim)),
            chotomoni_domain::ConsentPurpose::MarketingSms,
            false,
            chotomoni_services::consents::ConsentChannel::AccountPage,
        )
        .await
        .unwrap();
    assert_eq!(marketing_grants(&app, victim).await, 0);
    assert!(app
        .services
        .my_contact(&Actor::Customer(CustomerId(victim)))
        .await
        .unwrap()
        .pending_opt_ins
        .is_empty());

    // A signed-in customer's own order still records her opt-in at once.
    place(
        &app,
        Some(&her_token),
        &order_as(VICTIM, VICTIM_PHONE, VICTIM_EMAIL, true),
    )
    .await;
    assert_eq!(marketing_grants(&app, victim).await, 1);
}

both_engines!(
    a_phone_number_reveals_and_changes_no_customer,
    super::a_phone_number_reveals_no_customer
);

/// High 2: whoever orders first with someone's number, typing their own
/// email, must not be able to read or erase that person's data by email.
async fn an_email_typed_at_checkout_unlocks_nothing(engine: Engine) {
    let app = common::spawn(engine).await;
    let (smtp, mailer) = common::smtp_stand_in().await;
    let services = app
        .services
        .clone()
        .with_mail(mailer)
        .with_public_url("https://shop.example");
    let client = ClientInfo::default();

    // The attacker orders first with her number and his email.
    let junk = place(
        &app,
        None,
        &order_as(ATTACKER, VICTIM_PHONE, ATTACKER_EMAIL, false),
    )
    .await;
    let victim = customer_of(&app, junk["number"].as_str().unwrap()).await;
    // Then she orders with her own email (which changes nothing on record).
    place(
        &app,
        None,
        &order_as(VICTIM, VICTIM_PHONE, VICTIM_EMAIL, false),
    )
    .await;

    for kind in [RequestKind::Access, RequestKind::Erasure] {
        services
            .start_public_request(kind, ATTACKER_EMAIL, &client)
            .await
            .unwrap();
    }
    assert!(
        smtp.messages().is_empty(),
        "a code went to an email nobody proved: {:?}",
        smtp.messages()
            .iter()
            .map(|m| m.rcpt_to.clone())
            .collect::<Vec<_>>()
    );
    // Guessing codes for it gets nothing either.
    for code in ["000000", "123456"] {
        let (status, _, location) = confirm(&app, "access", ATTACKER_EMAIL, code).await;
        assert_eq!((status, location), (422, None));
    }
    let requests: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM privacy_requests")
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    assert_eq!(requests, 0);

    // Support given that email does not count it as "on record" either.
    let support = app.staff("sabina", Role::Support).await;
    let (status, logged) = app
        .post(
            "/api/v1/privacy/requests",
            Some(&support),
            &json!({"kind": "access", "phone": VICTIM_PHONE, "email": ATTACKER_EMAIL}),
        )
        .await;
    assert_eq!(status, 201, "{logged}");
    assert_eq!(logged["status"], "unverified");

    // She registers (her phone proven): her own details replace the
    // attacker's; she proves her email by the link sent to it.
    let me = Actor::Customer(CustomerId(victim));
    services.phone_proven(CustomerId(victim)).await.unwrap();
    let name = chotomoni_domain::CustomerName::parse(VICTIM).unwrap();
    let phone = chotomoni_domain::Phone::parse(VICTIM_PHONE).unwrap();
    let email = chotomoni_domain::Email::parse(VICTIM_EMAIL).unwrap();
    replace_contact(&services, victim, &name, &phone, &email).await;
    let before = services.my_contact(&me).await.unwrap();
    assert_eq!(before.email.as_deref(), Some(VICTIM_EMAIL));
    assert!(!before.email_proven);
    services.send_email_confirmation(&me).await.unwrap();
    let sent = smtp.messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].rcpt_to, [VICTIM_EMAIL]);
    let body = sent[0].body_text();
    let token = common::privacy::email_link_token(&body);
    // Opening the link changes nothing; an altered link is refused.
    let res = app
        .http
        .get(app.url(&format!("/account/email/confirm/{token}?lang=en")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(!services.my_contact(&me).await.unwrap().email_proven);
    let mut forged = token.clone();
    forged.replace_range(forged.len() - 2.., "AA");
    let res = app
        .http
        .post(app.url(&format!("/account/email/confirm/{forged}?lang=en")))
        .form(&[("csrf", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .http
        .post(app.url(&format!("/account/email/confirm/{token}?lang=en")))
        .form(&[("csrf", "")])
        .send()
        .await
        .unwrap();
    let status = res.status();
    let page = html::text(res).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"email-confirmed\""), "{page}");
    assert!(services.my_contact(&me).await.unwrap().email_proven);

    // Now, and only now, her email identifies her.
    services
        .start_public_request(RequestKind::Access, VICTIM_EMAIL, &client)
        .await
        .unwrap();
    // The code goes out after the answer, in the background.
    let sent = common::privacy::eventually(|| async {
        let sent = smtp.messages();
        (sent.len() >= 2).then_some(sent)
    })
    .await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].rcpt_to, [VICTIM_EMAIL]);
    let code = code_in(&sent[1].body_text());
    services
        .confirm_public_request(RequestKind::Access, VICTIM_EMAIL, &code)
        .await
        .unwrap();
    // And still never the attacker's.
    services
        .start_public_request(RequestKind::Erasure, ATTACKER_EMAIL, &client)
        .await
        .unwrap();
    assert_eq!(smtp.messages().len(), 2);
}

async fn replace_contact(
    services: &chotomoni_services::Services,
    id: i64,
    name: &chotomoni_domain::CustomerName,
    phone: &chotomoni_domain::Phone,
    email: &chotomoni_domain::Email,
) {
    let mut conn = services.db().conn().await.unwrap();
    let row = chotomoni_storage::customers::get(&mut conn, id)
        .await
        .unwrap()
        .unwrap();
    let key = services
        .vault()
        .customer_key(id, row.wrapped_key.as_deref())
        .unwrap();
    let sealed = services
        .vault()
        .seal_contact(&key, id, name, phone, Some(email));
    chotomoni_storage::customers::replace_contact(&mut conn, id, &sealed, 1)
        .await
        .unwrap();
}

both_engines!(
    an_email_typed_at_checkout_unlocks_nothing,
    super::an_email_typed_at_checkout_unlocks_nothing
);

/// Medium 3: a shop order pays the catalogue's prices.
async fn prices_come_from_the_catalogue(engine: Engine) {
    let app = common::spawn(engine).await;
    let mut free = order_body("Chapa Rani", "01712000222");
    free["items"][0]["unit_price"] = json!(0);
    let (status, body) = app.post("/api/v1/orders", None, &free).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "items[0].unit_price", "{body}");

    let mut made_up = order_body("Chapa Rani", "01712000222");
    made_up["items"][1] = json!({"name": "Gold bar", "quantity": 1, "unit_price": 100});
    let (status, body) = app.post("/api/v1/orders", None, &made_up).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "items[1].sku", "{body}");
    let orders: i64 = app.count("orders").await;
    assert_eq!(orders, 0, "nothing half-written");

    // A renamed line gets the catalogue's name.
    let mut renamed = order_body("Chapa Rani", "01712000222");
    renamed["items"][0]["name"] = json!("Free gift");
    let placed = place(&app, None, &renamed).await;
    assert_eq!(placed["items"][0]["name"], "Jamdani saree, Dhakai");
    assert_eq!(placed["total"], 850_000 + 2 * 45_000);

    // Staff entering a phone order may set a price; the audit log says so.
    let support = app.staff("sabina", Role::Support).await;
    let mut discounted = order_body("Chapa Rani", "01712000222");
    discounted["items"][0]["unit_price"] = json!(800_000);
    discounted["source"] = json!("phone");
    let placed = place(&app, Some(&support), &discounted).await;
    assert_eq!(placed["total"], 800_000 + 2 * 45_000);
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'order.create' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.services.db().pool)
    .await
    .unwrap();
    assert!(
        detail.contains("price_override=items[0]:SAR-JAM-01:850000->800000"),
        "{detail}"
    );
}

both_engines!(
    prices_come_from_the_catalogue,
    super::prices_come_from_the_catalogue
);

/// Medium 7: status links are stored hashed, shown only to the requester,
/// expire with the request, and downloads through them are the requester's.
async fn status_links_belong_to_the_requester(engine: Engine) {
    let app = common::spawn_with_sms(engine).await;
    let hers = place(
        &app,
        None,
        &order_as(VICTIM, VICTIM_PHONE, VICTIM_EMAIL, false),
    )
    .await;
    let victim = customer_of(&app, hers["number"].as_str().unwrap()).await;
    let path =
        common::privacy::public_request(&app, "access", VICTIM_PHONE, "+8801712000111").await;
    let path = path.split('?').next().unwrap().to_owned();
    let token = path.rsplit('/').next().unwrap().to_owned();

    // Not stored in clear anywhere in the table.
    let stored: String = sqlx::query_scalar("SELECT status_token_hash FROM privacy_requests")
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    assert_ne!(stored, token);
    assert!(!stored.contains(&token));

    // Support sees the request but never its link.
    let support = app.staff("sabina", Role::Support).await;
    let (_, queue) = app.get("/api/v1/privacy/requests", &support).await;
    assert!(!queue.to_string().contains(&token), "{queue}");
    assert!(queue[0].get("status_path").is_none(), "{queue}");
    let page = html::text(
        app.http
            .get(app.url(&format!("/staff/requests/{}", queue[0]["id"])))
            .bearer_auth(&support)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(!page.contains(&token));

    // The requester's page shows the export; its download is theirs.
    let (_, link) = common::privacy::wait_for_download(&app, &path).await;
    let res = app.http.get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let by: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor, action FROM audit_log WHERE action IN ('export.link', 'export.download') ORDER BY id",
    )
    .fetch_all(&app.services.db().pool)
    .await
    .unwrap();
    let me = format!("customer:{victim}");
    assert!(
        by.iter().any(|(a, x)| a == &me && x == "export.download"),
        "{by:?}"
    );
    assert!(by.iter().all(|(a, _)| a == &me), "{by:?}");

    // Thirty days after the request ended the link stops working.
    let (status, done) = app
        .post(
            &format!("/api/v1/privacy/requests/{}/complete", queue[0]["id"]),
            Some(&support),
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, &done["status"]),
        (200, &json!("completed")),
        "{done}"
    );
    let res = app.http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "the link still works after completion");
    // A link works until 30 days after its request ended.
    app.services
        .clock()
        .advance(std::time::Duration::from_secs(31 * 86_400));
    let ended: Option<i64> = sqlx::query_scalar("SELECT completed_at FROM privacy_requests")
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    assert!(ended.is_some(), "the access request completed");
    let res = app.http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

both_engines!(
    status_links_belong_to_the_requester,
    super::status_links_belong_to_the_requester
);

/// Low 12: `back` after a cookie or policy choice stays on this site.
async fn back_links_stay_on_this_site(engine: Engine) {
    let app = common::spawn(engine).await;
    for back in ["/\\evil.example", "//evil.example", "https://evil.example/"] {
        let res = app
            .http
            .post(app.url("/privacy/cookies"))
            .form(&[("functional", "0"), ("analytics", "0"), ("back", back)])
            .send()
            .await
            .unwrap();
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        assert_eq!(location.as_deref(), Some("/"), "{back} -> {location:?}");
    }
    let res = app
        .http
        .post(app.url("/privacy/cookies"))
        .form(&[("functional", "0"), ("analytics", "0"), ("back", "/track")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/track");
}

both_engines!(
    back_links_stay_on_this_site,
    super::back_links_stay_on_this_site
);

/// Medium 6: a visitor cannot create orders, customers or sessions without
/// end; each quota answers 429 in the one envelope, writing nothing.
async fn visitors_have_quotas(engine: Engine) {
    let settings = chotomoni_services::Settings {
        limits: chotomoni_services::rate_limit::RateLimits {
            guest_orders_per_address: 8,
            guest_orders_per_phone_per_day: 3,
            visitor_sessions_per_address: 4,
            ..Default::default()
        },
        ..Default::default()
    };
    let app = common::spawn_with(engine, settings).await;
    // One number buried under junk orders: three a day, then 429.
    for _ in 0..3 {
        place(
            &app,
            None,
            &order_as(ATTACKER, VICTIM_PHONE, ATTACKER_EMAIL, false),
        )
        .await;
    }
    let res = app
        .http
        .post(app.url("/api/v1/orders"))
        .json(&order_as(ATTACKER, VICTIM_PHONE, ATTACKER_EMAIL, false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 15 * 60, "a day's quota: {wait}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert_eq!(
        app.count("orders").await,
        3,
        "the refused order wrote nothing"
    );
    // Other numbers from this address, until the address's own quota.
    for n in 0..5 {
        let phone = format!("0171200030{n}");
        place(
            &app,
            None,
            &order_as("Shapla", &phone, "s@example.com", false),
        )
        .await;
    }
    let (status, body) = app
        .post(
            "/api/v1/orders",
            None,
            &order_as("Shapla", "01712000399", "s@example.com", false),
        )
        .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(app.count("customers").await, 6, "no customer made either");
    // Signed in, the owner of the number still orders.
    let victim = customer_of(&app, "CM-000001").await;
    let token = customer_token(&app, victim).await;
    place(
        &app,
        Some(&token),
        &order_as(VICTIM, VICTIM_PHONE, VICTIM_EMAIL, false),
    )
    .await;

    // Visitor sessions: each cart started anew opens one, up to the quota.
    let mut statuses = vec![];
    for _ in 0..6 {
        let res = app
            .http
            .post(app.url("/cart/add"))
            .form(&[("sku", "TEA-SYL-05"), ("quantity", "1")])
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [303, 303, 303, 303, 429, 429]);
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE kind = 'visitor'")
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    assert_eq!(sessions, 4);
}

both_engines!(visitors_have_quotas, super::visitors_have_quotas);
