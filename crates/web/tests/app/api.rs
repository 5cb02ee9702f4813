//! The JSON API against the real server, on SQLite and on PostgreSQL.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_testkit::{both_engines, Engine};
use common::{order_body, spawn};
use serde_json::{json, Value};

async fn order_lifecycle(engine: Engine) {
    let app = spawn(engine).await;
    let (status, order) = app
        .post(
            "/api/v1/orders",
            None,
            &order_body("Shapla Khatun", "০১৭১১-২২৩৩৪৪"),
        )
        .await;
    assert_eq!(status, 201, "{order}");
    let number = order["number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("CM-") && number.len() == 9, "{number}");
    assert_eq!(order["total"], 850000 + 2 * 45000);
    assert_eq!(order["customer"]["phone"], "+8801711223344");
    assert_eq!(order["status"], "placed");

    let support = app.staff("sumi", Role::Support).await;
    let packer = app.staff("polash", Role::Packer).await;

    let (s, full) = app.get(&format!("/api/v1/orders/{number}"), &support).await;
    assert_eq!(s, 200);
    assert_eq!(full["customer"]["name"], "Shapla Khatun");
    assert_eq!(full["address"]["line"], "House 12, Road 7, Block C");
    assert_eq!(full["delivery_instructions"], "Ring the bell twice");

    // A scan with scanner noise finds the same order; the packer sees what
    // packing needs and not the phone or the full address.
    let scanned = format!("%5DC0{}%0D%0A", number.to_lowercase());
    let (s, packing) = app
        .get(&format!("/api/v1/orders/by-code/{scanned}"), &packer)
        .await;
    assert_eq!(s, 200, "{packing}");
    assert_eq!(packing["number"], number.as_str());
    assert_eq!(packing["items"][0]["name"], "Jamdani saree, Dhakai");
    assert_eq!(packing["delivery_instructions"], "Ring the bell twice");
    assert!(packing["customer"].is_null());
    assert!(packing["address"]["line"].is_null() && packing["address"]["recipient"].is_null());
    assert_eq!(packing["address"]["district"], "Dhaka");
    assert!(!packing.to_string().contains("1711223344"));

    // The lifecycle: illegal moves are 409 with a message, role limits are 403.
    let status_path = format!("/api/v1/orders/{number}/status");
    let (s, e) = app
        .post(
            &status_path,
            Some(&support),
            &json!({"status": "delivered"}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("confirmed"),
        "{e}"
    );
    let (s, _) = app
        .post(&status_path, Some(&packer), &json!({"status": "cancelled"}))
        .await;
    assert_eq!(s, 403);
    let (s, o) = app
        .post(
            &status_path,
            Some(&support),
            &json!({"status": "confirmed"}),
        )
        .await;
    assert_eq!((s, o["status"].as_str()), (200, Some("confirmed")));
    let (s, o) = app
        .post(&status_path, Some(&packer), &json!({"status": "packed"}))
        .await;
    assert_eq!((s, o["status"].as_str()), (200, Some("packed")));
    assert_eq!(o["history"].as_array().unwrap().len(), 3);
    let (s, _) = app
        .post(&status_path, None, &json!({"status": "cancelled"}))
        .await;
    assert_eq!(s, 401);

    // Lists: by status and by phone in any form; packers may not search by phone.
    app.post(
        "/api/v1/orders",
        None,
        &order_body("Other Person", "01812345678"),
    )
    .await;
    let (_, page) = app.get("/api/v1/orders?status=packed", &support).await;
    assert_eq!(page["orders"].as_array().unwrap().len(), 1);
    let (_, page) = app
        .get("/api/v1/orders?phone=%2B880%201711%20223344", &support)
        .await;
    assert_eq!(page["orders"].as_array().unwrap().len(), 1);
    assert_eq!(page["orders"][0]["customer_name"], "Shapla Khatun");
    let (_, page) = app.get("/api/v1/orders?limit=1", &support).await;
    let before = page["next_before"].as_i64().expect("a next page");
    let (_, next) = app
        .get(&format!("/api/v1/orders?limit=1&before={before}"), &support)
        .await;
    assert_eq!(next["orders"][0]["number"], number.as_str());
    let (s, _) = app.get("/api/v1/orders?phone=01711223344", &packer).await;
    assert_eq!(s, 403);
    let (_, page) = app.get("/api/v1/orders", &packer).await;
    assert!(page["orders"][0]["phone"].is_null(), "{page}");
    let (s, _) = app.get("/api/v1/orders", "not-a-token").await;
    assert_eq!(s, 401);

    // Staff views of personal data are in the audit log, by reference only.
    app.services.audit().flush().await;
    let mut conn = app.services.db().conn().await.unwrap();
    let rows = chotomoni_storage::audit::recent(&mut conn, Some(&format!("order:{number}")), 50)
        .await
        .unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert!(
        actions.contains(&"order.view")
            && actions.contains(&"order.status")
            && actions.contains(&"order.create"),
        "{actions:?}"
    );
    for r in &rows {
        let line = format!("{} {} {}", r.actor, r.target, r.detail);
        assert!(
            !line.contains("Shapla") && !line.contains("1711223344"),
            "{line}"
        );
    }
}
both_engines!(order_lifecycle_works, super::order_lifecycle);

async fn bad_input(engine: Engine) {
    let app = spawn(engine).await;
    let support = app.staff("sumi", Role::Support).await;
    let good = order_body("Rina", "01711223344");
    let with = |path: &[&str], value: Value| {
        let mut b = good.clone();
        let mut cur = &mut b;
        for p in &path[..path.len() - 1] {
            cur = if let Ok(i) = p.parse::<usize>() {
                &mut cur[i]
            } else {
                &mut cur[*p]
            };
        }
        cur[path[path.len() - 1]] = value;
        b
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            with(&["customer", "phone"], json!("12345")),
            422,
            "customer.phone",
        ),
        (
            with(&["customer", "phone"], json!("+441234567890")),
            422,
            "customer.phone",
        ),
        (with(&["customer", "name"], json!("")), 422, "customer.name"),
        (
            with(&["customer", "name"], json!("ক".repeat(101))),
            422,
            "customer.name",
        ),
        (
            with(&["customer", "email"], json!("not-an-email")),
            422,
            "customer.email",
        ),
        (
            with(&["address", "district"], json!("Atlantis")),
            422,
            "address.district",
        ),
        (
            with(&["address", "line"], json!("x".repeat(201))),
            422,
            "address.line",
        ),
        (
            with(&["items", "0", "quantity"], json!(0)),
            422,
            "items[0].quantity",
        ),
        (
            with(&["items", "1", "quantity"], json!(-3)),
            422,
            "items[1].quantity",
        ),
        (
            with(&["items", "0", "unit_price"], json!(-1)),
            422,
            "items[0].unit_price",
        ),
        (
            with(&["items", "0", "quantity"], json!("two")),
            422,
            "items[0].quantity",
        ),
        (with(&["items"], json!([])), 422, "items"),
        (
            with(&["payment_method"], json!("bitcoin")),
            422,
            "payment_method",
        ),
        (with(&["surprise"], json!(1)), 422, "surprise"),
        (
            with(&["customer", "nickname"], json!("x")),
            422,
            "customer.nickname",
        ),
        (
            with(&["delivery_instructions"], json!("x".repeat(501))),
            422,
            "delivery_instructions",
        ),
    ];
    for (body, want, field) in cases {
        let (s, e) = app.post("/api/v1/orders", None, &body).await;
        assert_eq!(
            (s, e["error"]["field"].as_str()),
            (want, Some(field)),
            "{e}"
        );
        assert_eq!(e["error"]["code"], "invalid_field");
        assert!(!e["error"]["message"].as_str().unwrap().is_empty());
    }
    let mut missing = good.clone();
    missing["customer"].as_object_mut().unwrap().remove("phone");
    let (s, e) = app.post("/api/v1/orders", None, &missing).await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (422, Some("customer.phone")),
        "{e}"
    );

    let res = app
        .http
        .post(app.url("/api/v1/orders"))
        .header("content-type", "application/json")
        .body("{\"customer\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "malformed_json"
    );
    let res = app
        .http
        .post(app.url("/api/v1/orders"))
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let res = app
        .http
        .post(app.url("/api/v1/orders"))
        .header("content-type", "application/json")
        .body(vec![b' '; 300 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);

    // Nothing of the refused requests was written.
    assert_eq!(app.count("orders").await, 0);
    assert_eq!(app.count("customers").await, 0);

    for path in [
        "/api/v1/orders/CM-999999",
        "/api/v1/orders/by-code/CM-424242",
    ] {
        let (s, e) = app.get(path, &support).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    let (s, e) = app.get("/api/v1/orders/XYZ", &support).await;
    assert_eq!((s, e["error"]["field"].as_str()), (422, Some("number")));
    let (s, e) = app.get("/api/v1/orders/by-code/hello", &support).await;
    assert_eq!((s, e["error"]["field"].as_str()), (422, Some("scanned")));
    let (s, e) = app
        .post(
            "/api/v1/orders/CM-000001/status",
            Some(&support),
            &json!({"status": "shipped"}),
        )
        .await;
    assert_eq!((s, e["error"]["field"].as_str()), (422, Some("status")));
    let (s, e) = app.get("/api/v1/orders?status=lost", &support).await;
    assert_eq!((s, e["error"]["field"].as_str()), (422, Some("status")));
    let (s, e) = app.get("/api/v1/orders?from=yesterday", &support).await;
    assert_eq!((s, e["error"]["field"].as_str()), (422, Some("from")));
    // Parameters the extractors refuse are in the envelope too, named.
    for (path, field) in [
        ("/api/v1/orders?limit=many", "limit"),
        ("/api/v1/orders?colour=red", "colour"),
        ("/api/v1/log/consistency?from=1", "to"),
        ("/api/v1/proofs/first", "id"),
    ] {
        let (s, e) = app.get(path, &support).await;
        assert_eq!(
            (s, e["error"]["code"].as_str(), e["error"]["field"].as_str()),
            (422, Some("invalid_field"), Some(field)),
            "{path}"
        );
    }
}
both_engines!(bad_input_is_refused_with_the_field_named, super::bad_input);

async fn sign_in_rules(engine: Engine) {
    let app = spawn(engine).await;
    app.services
        .add_staff("mitu", "a long enough password", Role::Admin)
        .await
        .unwrap();
    let res = app
        .http
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "mitu", "password": "a long enough password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("cm_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "not behind TLS here");

    // The cookie alone authenticates reads; a cross-site write with it is refused.
    let value = cookie.split(';').next().unwrap().to_owned();
    let res = app
        .http
        .get(app.url("/api/v1/orders"))
        .header("cookie", &value)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .http
        .post(app.url("/api/v1/orders/CM-000001/status"))
        .header("cookie", &value)
        .header("origin", "https://evil.example")
        .json(&json!({"status": "confirmed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    for _ in 0..5 {
        let (s, e) = app
            .post(
                "/api/v1/session",
                None,
                &json!({"username": "mitu", "password": "wrong"}),
            )
            .await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (401, Some("bad_credentials"))
        );
    }
    let res = app
        .http
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "mitu", "password": "a long enough password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        429,
        "locked after five failures, even with the right password"
    );
    assert!(res.headers().contains_key("retry-after"));
    let (s, _) = app
        .post(
            "/api/v1/session",
            None,
            &json!({"username": "nobody", "password": "x"}),
        )
        .await;
    assert_eq!(s, 401);

    let (s, _) = app
        .post(
            "/api/v1/session",
            None,
            &json!({"username": "mitu", "password": "x", "remember": true}),
        )
        .await;
    assert_eq!(s, 422);

    // Signing out ends the bearer token at once, even though it was just used.
    let token = app.staff("rumi", Role::Packer).await;
    assert_eq!(app.get("/api/v1/orders", &token).await.0, 200);
    let res = app
        .http
        .delete(app.url("/api/v1/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.get("/api/v1/orders", &token).await.0, 401);
}
both_engines!(
    sign_in_is_rate_limited_and_cookies_are_strict,
    super::sign_in_rules
);

async fn technical_data_is_purged(engine: Engine) {
    let app = common::spawn_with(
        engine,
        chotomoni_services::Settings {
            technical_retention_days: 0,
            ..Default::default()
        },
    )
    .await;
    app.staff("raju", Role::Courier).await;
    let ip: Option<String> = sqlx::query_scalar("SELECT ip_address FROM sessions")
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (purged, _) = app.services.sweep().await.unwrap();
    assert_eq!(purged, 1);
    let row: (Option<String>, Option<String>, Option<String>) =
        sqlx::query_as("SELECT ip_address, user_agent, device_kind FROM sessions")
            .fetch_one(&app.services.db().pool)
            .await
            .unwrap();
    assert_eq!(row, (None, None, None));
}
both_engines!(
    technical_data_is_purged_after_its_period,
    super::technical_data_is_purged
);

async fn catalog_and_openapi(engine: Engine) {
    let app = spawn(engine).await;
    let cat: Value = app
        .http
        .get(app.url("/api/v1/privacy/catalog"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fields = cat["fields"].as_array().unwrap();
    assert_eq!(fields.len(), chotomoni_domain::catalog::FIELDS.len());
    let phone = fields.iter().find(|f| f["column"] == "phone_enc").unwrap();
    assert_eq!(phone["category"], "contact");
    assert_eq!(phone["erasure"], "delete");
    assert!(phone["shared_with"]
        .as_array()
        .unwrap()
        .contains(&json!("courier")));
    let ip = fields.iter().find(|f| f["column"] == "ip_address").unwrap();
    assert_eq!(ip["retention_en"], "90 days");
    // The development outboxes hold numbers and messages: they are stated too.
    let files = cat["files"].as_array().unwrap();
    for name in ["sms_outbox", "mail_outbox"] {
        let outbox = files.iter().find(|f| f["name"] == name).unwrap();
        assert_eq!(outbox["category"], "contact", "{outbox}");
        assert_eq!(outbox["erasure"], "delete", "{outbox}");
        assert_eq!(outbox["retention_en"], "90 days", "{outbox}");
    }
    let categories: Vec<&str> = cat["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    assert!(!categories.contains(&"location"));

    let doc: Value = app
        .http
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/healthz",
        "/api/v1/session",
        "/api/v1/orders",
        "/api/v1/orders/{number}",
        "/api/v1/orders/by-code/{scanned}",
        "/api/v1/orders/{number}/status",
        "/api/v1/privacy/catalog",
    ] {
        assert!(doc["paths"][path].is_object(), "OpenAPI lacks {path}");
    }
    assert!(doc["components"]["schemas"]["OrderInput"].is_object());
    let res = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}
both_engines!(catalog_and_openapi_are_served, super::catalog_and_openapi);

async fn proxy_headers(engine: Engine) {
    let sign_in = |app: &common::TestApp, proto: Option<&str>| {
        let mut req = app
            .http
            .post(app.url("/api/v1/session"))
            .header("x-forwarded-for", "203.0.113.7")
            .json(&json!({"username": "nila", "password": "a long enough password"}));
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        async move {
            req.send().await.unwrap().headers()["set-cookie"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    let ip = |app: &common::TestApp| {
        let pool = app.services.db().pool.clone();
        async move {
            let ip: Option<String> = sqlx::query_scalar(
                "SELECT ip_address FROM sessions ORDER BY created_at DESC LIMIT 1",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            ip
        }
    };

    // Without a trusted proxy, forwarded headers are ignored.
    let direct = spawn(engine).await;
    direct
        .services
        .add_staff("nila", "a long enough password", Role::Admin)
        .await
        .unwrap();
    assert!(!sign_in(&direct, Some("https")).await.contains("Secure"));
    assert_eq!(ip(&direct).await.as_deref(), Some("127.0.0.1"));

    // Behind a trusted TLS proxy the cookie is Secure and the client's address is kept.
    let proxied = common::spawn_behind_proxy(engine).await;
    proxied
        .services
        .add_staff("nila", "a long enough password", Role::Admin)
        .await
        .unwrap();
    assert!(sign_in(&proxied, Some("https")).await.contains("; Secure"));
    assert!(!sign_in(&proxied, None).await.contains("Secure"));
    assert_eq!(ip(&proxied).await.as_deref(), Some("203.0.113.7"));
}
both_engines!(
    cookies_are_secure_behind_a_trusted_tls_proxy,
    super::proxy_headers
);
