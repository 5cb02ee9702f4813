//! Privacy requests and erasure, on both engines: customers asking for
//! themselves (and not for others), support logging requests on a
//! customer's behalf (the public form is in privacy_form.rs), the 90-day
//! deadline and the
//! overdue-first queue, erasure held while an order is out for delivery and
//! resumed by the job, legal holds keeping proof media past an erasure, and
//! crypto-shredding of the person's key in the database and the key vault.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_testkit::fake_mp4;
use chotomoni_testkit::{both_engines, Engine};
use common::privacy::{act, ask, customer_token, place, set_status};
use serde_json::json;

const DAY_MS: i64 = 86_400_000;

async fn customers_own_requests(engine: Engine) {
    let app = common::spawn(engine).await;
    let (_, me) = place(&app, "Nasrin Akter", "01711000101").await;
    place(&app, "Other Person", "01711000102").await;
    let token = customer_token(&app, me).await;

    // Someone else's number, an unknown kind, a bad phone: refused, naming
    // the field; no sign-in at all: 401.
    let refusals = [
        (Some(token.as_str()), "access", "01711000102", 403, "phone"),
        (Some(token.as_str()), "forget", "01711000101", 422, "kind"),
        (Some(token.as_str()), "erasure", "12345", 422, "phone"),
        (None, "erasure", "01711000101", 401, ""),
    ];
    for (who, kind, phone, want, field) in refusals {
        let (status, body) = ask(&app, who, json!({"kind": kind, "phone": phone})).await;
        assert_eq!(status, want, "{kind} {phone}: {body}");
        if !field.is_empty() {
            assert_eq!(body["error"]["field"], field, "{body}");
        }
    }

    // Their own: 201 with a deadline 90 days after receipt.
    let (status, req) = ask(
        &app,
        Some(&token),
        json!({"kind": "erasure", "phone": "01711000101"}),
    )
    .await;
    assert_eq!(status, 201, "{req}");
    assert_eq!(req["status"], "open");
    assert_eq!(req["verified_by"], "signed_in");
    assert_eq!(
        req["deadline"].as_i64().unwrap() - req["received_at"].as_i64().unwrap(),
        90 * DAY_MS
    );
    // Asking again gives the same unfinished request.
    let (status, again) = ask(
        &app,
        Some(&token),
        json!({"kind": "erasure", "phone": "+8801711000101"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], req["id"]);

    let id = req["id"].as_i64().unwrap();
    let (status, seen) = app
        .get(&format!("/api/v1/privacy/requests/{id}"), &token)
        .await;
    assert_eq!(status, 200);
    assert_eq!(seen["history"][0]["status"], "open");
    // Another customer cannot see it (the same 404 as a missing one).
    let other = customer_token(&app, me + 1).await;
    let (status, theirs) = app
        .get(&format!("/api/v1/privacy/requests/{id}"), &other)
        .await;
    let (_, missing) = app.get("/api/v1/privacy/requests/999999", &other).await;
    assert_eq!(status, 404);
    assert_eq!(theirs, missing);
    // A packer cannot see the queue.
    let packer = app.staff("packer", Role::Packer).await;
    let (status, _) = app.get("/api/v1/privacy/requests", &packer).await;
    assert_eq!(status, 403);
}
both_engines!(
    customers_make_requests_only_for_themselves,
    super::customers_own_requests
);

async fn support_on_behalf(engine: Engine) {
    let app = common::spawn(engine).await;
    let (number, me) = place(&app, "Shapla Rani", "01711000201").await;
    let support = app.staff("support", Role::Support).await;

    // Came by email from the address on record, which she proved is hers:
    // verified, and an opt-out is carried out at once.
    app.prove_email(me, "shapla.test@example.com").await;
    let (status, req) = ask(&app, Some(&support), json!({"kind": "marketing_opt_out", "phone": "01711000201", "email": "shapla.test@example.com"})).await;
    assert_eq!(status, 201, "{req}");
    assert_eq!(req["channel"], "support_email");
    assert_eq!(req["verified_by"], "email_on_record");
    assert_eq!(req["status"], "completed");
    let ledger: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT purpose, granted, channel FROM consents WHERE customer_id = $1 ORDER BY id",
    )
    .bind(me)
    .fetch_all(&app.services.db().pool)
    .await
    .unwrap();
    assert!(
        ledger.contains(&("marketing_sms".into(), 0, "privacy_request".into())),
        "{ledger:?}"
    );
    assert!(ledger.contains(&("marketing_email".into(), 0, "privacy_request".into())));

    // From another address: logged unverified; carrying it out waits for identity.
    let (status, req) = ask(
        &app,
        Some(&support),
        json!({"kind": "erasure", "phone": "01711000201", "email": "someone.else@example.com"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(req["status"], "unverified");
    let id = req["id"].as_i64().unwrap();
    let (status, body) = act(&app, &support, id, "complete").await;
    assert_eq!(status, 409, "{body}");
    let (status, req) = act(&app, &support, id, "verify").await;
    assert_eq!(status, 200);
    assert_eq!(req["status"], "open", "an erasure waits for review: {req}");
    let (status, done) = act(&app, &support, id, "complete").await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "completed");
    assert_eq!(done["outcome"]["orders_pseudonymised"], 1);
    let statuses: Vec<&str> = done["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["unverified", "open", "completed"]);
    // Carrying it out again changes nothing.
    let (status, again) = act(&app, &support, id, "complete").await;
    assert_eq!(status, 200);
    assert_eq!(again["completed_at"], done["completed_at"]);
    // The number is no longer a customer's.
    let (status, _) = ask(
        &app,
        Some(&support),
        json!({"kind": "erasure", "phone": "01711000201"}),
    )
    .await;
    assert_eq!(status, 404);

    // The order is kept for the legal record, without its address, and no longer the person's.
    let admin = app.staff("admin", Role::Admin).await;
    let (status, order) = app.get(&format!("/api/v1/orders/{number}"), &admin).await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(order["total"], 940000);
    let (customer_now, address): (i64, Option<Vec<u8>>) =
        sqlx::query_as("SELECT customer_id, address_enc FROM orders")
            .fetch_one(&app.services.db().pool)
            .await
            .unwrap();
    assert_ne!(customer_now, me);
    assert!(address.is_none());
    assert_eq!(
        app.count("customer_keys").await,
        0,
        "the person's key is destroyed"
    );
    let audit: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor, action FROM audit_log WHERE action LIKE 'privacy_request%' OR action = 'customer.erase' ORDER BY id",
    )
    .fetch_all(&app.services.db().pool)
    .await
    .unwrap();
    assert!(
        audit
            .iter()
            .any(|(a, x)| a.starts_with("staff:") && x == "customer.erase"),
        "{audit:?}"
    );
    assert!(
        audit
            .iter()
            .filter(|(_, x)| x == "privacy_request.status")
            .count()
            >= 3
    );
}
both_engines!(
    support_logs_requests_on_a_customers_behalf,
    super::support_on_behalf
);

async fn held_while_out_for_delivery(engine: Engine) {
    let app = common::spawn(engine).await;
    let (number, me) = place(&app, "Ruma Das", "01711000301").await;
    let admin = app.staff("admin", Role::Admin).await;
    for to in ["confirmed", "packed", "handed_to_courier"] {
        set_status(&app, &admin, &number, to).await;
    }
    let token = customer_token(&app, me).await;
    let (_, req) = ask(
        &app,
        Some(&token),
        json!({"kind": "erasure", "phone": "01711000301"}),
    )
    .await;
    let id = req["id"].as_i64().unwrap();
    let (status, held) = act(&app, &admin, id, "complete").await;
    assert_eq!(status, 200);
    assert_eq!(held["status"], "held");
    let reason = held["hold_reason"].as_str().unwrap();
    assert!(
        reason.contains(&number) && reason.contains("out for delivery"),
        "{reason}"
    );
    assert_eq!(app.count("erasures").await, 0);

    // Delivered: the job resumes it by itself.
    set_status(&app, &admin, &number, "delivered").await;
    assert!(app.services.run_privacy_requests().await.unwrap() >= 1);
    let (_, done) = app
        .get(&format!("/api/v1/privacy/requests/{id}"), &admin)
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(app.count("erasures").await, 1);
}
both_engines!(
    erasure_waits_while_an_order_is_out_for_delivery,
    super::held_while_out_for_delivery
);

async fn legal_hold_keeps_proofs(engine: Engine) {
    let app = common::spawn(engine).await;
    let (kept_order, me) = place(&app, "Mina Begum", "01711000401").await;
    let admin = app.staff("admin", Role::Admin).await;
    // A second order of the same person, not under hold.
    let (status, second) = app
        .post(
            "/api/v1/orders",
            None,
            &common::order_body("Mina Begum", "01711000401"),
        )
        .await;
    assert_eq!(status, 201);
    let free_order = second["number"].as_str().unwrap().to_owned();
    let packer = app.staff("packer", Role::Packer).await;
    let kept = app
        .upload_proof(&packer, &kept_order, &fake_mp4(120_000), 60_000)
        .await;
    let gone = app
        .upload_proof(&packer, &free_order, &fake_mp4(90_000), 60_000)
        .await;
    let gone_blob: String = sqlx::query_scalar("SELECT blob_key FROM proofs WHERE id = $1")
        .bind(gone)
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();

    let support = app.staff("support", Role::Support).await;
    let (status, _) = app
        .post(
            &format!("/api/v1/orders/{kept_order}/holds"),
            Some(&support),
            &json!({"reason": "legal"}),
        )
        .await;
    assert_eq!(status, 403, "support may not place holds");
    let (status, body) = app
        .post(
            &format!("/api/v1/orders/{kept_order}/holds"),
            Some(&admin),
            &json!({"reason": "vacation"}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "reason");
    let until = chotomoni_services::now_ms() + 30 * DAY_MS;
    let (status, hold) = app
        .post(
            &format!("/api/v1/orders/{kept_order}/holds"),
            Some(&admin),
            &json!({"reason": "open_claim", "note": "courier claim 7781", "until": until}),
        )
        .await;
    assert_eq!(status, 201, "{hold}");

    let token = customer_token(&app, me).await;
    let (_, req) = ask(
        &app,
        Some(&token),
        json!({"kind": "erasure", "phone": "01711000401"}),
    )
    .await;
    let id = req["id"].as_i64().unwrap();
    // The requester's status link, handed to them alone.
    let status_path = req["status_path"].as_str().unwrap().to_owned();
    let (_, done) = act(&app, &admin, id, "complete").await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(
        done.get("status_path").is_none(),
        "staff never see it: {done}"
    );
    assert_eq!(done["outcome"]["proofs_deleted"], 1);
    let held = &done["outcome"]["held"][0];
    assert_eq!(held["order"], kept_order.as_str());
    assert_eq!(held["reason"], "open_claim");
    assert_eq!(held["until"], until);
    // The person is told why and until when, on the request's status page.
    let page = app
        .http
        .get(app.url(&format!("{status_path}?lang=en")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let text = common::html::unescape(&page);
    assert!(
        text.contains(&format!(
            "the proof photos and videos of order {kept_order} (1), because of an open claim"
        )),
        "{text}"
    );

    // The held proof still plays for support; the other one is gone, blob and all.
    let (status, _, body) = app
        .get_bytes(
            &format!("/api/v1/proofs/{kept}/content"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body.unwrap().len(), 120_000);
    let (status, _) = app.get(&format!("/api/v1/proofs/{gone}"), &admin).await;
    assert_eq!(status, 404);
    assert!(!app.db.dir.path().join("media").join(&gone_blob).exists());

    // Released: the next job run deletes the held proof and the stand-in's key.
    let hold_id = hold["id"].as_i64().unwrap();
    let (status, _) = app
        .post(
            &format!("/api/v1/privacy/holds/{hold_id}/release"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .post(
            &format!("/api/v1/privacy/holds/{hold_id}/release"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 409);
    app.services.run_privacy_requests().await.unwrap();
    let (status, _) = app.get(&format!("/api/v1/proofs/{kept}"), &admin).await;
    assert_eq!(status, 404);
    assert_eq!(app.count("proofs").await, 0);
    assert_eq!(app.count("customer_keys").await, 0);
}
both_engines!(
    a_legal_hold_keeps_proofs_past_an_erasure,
    super::legal_hold_keeps_proofs
);

async fn erasure_is_idempotent_and_shreds_the_vault_key(engine: Engine) {
    let app = common::spawn(engine).await;
    let (_, me) = place(&app, "Keya Roy", "01711000501").await;
    let vault = app
        .services
        .key_vault()
        .expect("tests run with a key vault");
    let wrapped: Vec<u8> =
        sqlx::query_scalar("SELECT wrapped_key FROM customer_keys WHERE customer_id = $1")
            .bind(me)
            .fetch_one(&app.services.db().pool)
            .await
            .unwrap();
    vault.put_key(me, &wrapped).await.unwrap();
    let system = chotomoni_services::Actor::System;
    let customer = chotomoni_domain::CustomerId(me);
    let first = app
        .services
        .erase_customer(&system, customer, None)
        .await
        .unwrap();
    let second = app
        .services
        .erase_customer(&system, customer, None)
        .await
        .unwrap();
    use chotomoni_services::erasure::ErasureResult::Done;
    let (Done(first), Done(second)) = (first, second) else {
        panic!("both done")
    };
    assert!(!first.already_erased && second.already_erased);
    assert_eq!(first.erased_at, second.erased_at);
    assert_eq!(
        vault.key(me).await.unwrap(),
        None,
        "the vault's copy of the key is gone"
    );
    let journal = vault.erasures().await.unwrap();
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].customer_id, me);
    let row: (Option<Vec<u8>>, Option<Vec<u8>>, Option<i64>) =
        sqlx::query_as("SELECT name_enc, phone_index, erased_at FROM customers WHERE id = $1")
            .bind(me)
            .fetch_one(&app.services.db().pool)
            .await
            .unwrap();
    assert_eq!((row.0, row.1), (None, None));
    assert!(row.2.is_some());
    for table in ["sessions", "consents", "policy_acceptances", "disclosures"] {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {table} WHERE customer_id = $1"
        ))
        .bind(me)
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
        assert_eq!(n, 0, "{table}");
    }
}
both_engines!(
    erasure_is_idempotent_and_destroys_every_copy_of_the_key,
    super::erasure_is_idempotent_and_shreds_the_vault_key
);

async fn queue_puts_overdue_first(engine: Engine) {
    let app = common::spawn(engine).await;
    let mut ids = vec![];
    let mut support = String::new();
    for (i, (name, phone)) in [
        ("C Three", "01711000703"),
        ("A One", "01711000701"),
        ("B Two", "01711000702"),
    ]
    .into_iter()
    .enumerate()
    {
        // The first was received 91 days before the others: overdue. (A
        // sign-in does not last that long: support signs in again.)
        if i == 1 {
            app.services
                .clock()
                .advance(std::time::Duration::from_secs(91 * 86_400));
        }
        if i < 2 {
            support = app.staff(&format!("support{i}"), Role::Support).await;
        }
        place(&app, name, phone).await;
        let (_, r) = ask(
            &app,
            Some(&support),
            json!({"kind": "erasure", "phone": phone}),
        )
        .await;
        ids.push(r["id"].as_i64().unwrap());
    }
    let (status, queue) = app.get("/api/v1/privacy/requests", &support).await;
    assert_eq!(status, 200);
    let order: Vec<i64> = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(order, ids);
    assert_eq!(queue[0]["overdue"], true);
    assert_eq!(queue[1]["overdue"], false);
    let page = app
        .http
        .get(app.url("/staff/requests?lang=en"))
        .bearer_auth(&support)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let first_row = page.find(&format!("/staff/requests/{}\"", ids[0])).unwrap();
    let second_row = page.find(&format!("/staff/requests/{}\"", ids[1])).unwrap();
    assert!(first_row < second_row);
    assert!(page.contains("class=\"overdue\""));
}
both_engines!(
    the_queue_shows_overdue_requests_first,
    super::queue_puts_overdue_first
);

async fn access_request_builds_an_export(engine: Engine) {
    let app = common::spawn(engine).await;
    let (_, me) = place(&app, "Lipi Ghosh", "01711000801").await;
    let token = customer_token(&app, me).await;
    let (status, req) = ask(
        &app,
        Some(&token),
        json!({"kind": "access", "phone": "01711000801"}),
    )
    .await;
    assert_eq!(status, 201, "{req}");
    assert_eq!(
        req["status"], "in_progress",
        "an access request starts its export at once"
    );
    let id = req["id"].as_i64().unwrap();
    let mut seen = json!(null);
    // The link is in the first answer after the export is ready, which may
    // come before the job has marked the request completed.
    let mut link = None;
    for _ in 0..100 {
        app.services.run_privacy_requests().await.unwrap();
        seen = app
            .get(&format!("/api/v1/privacy/requests/{id}"), &token)
            .await
            .1;
        if let Some(path) = seen["export"]["download"]["path"].as_str() {
            assert!(link.is_none(), "the link is shown once");
            link = Some(path.to_owned());
        }
        if seen["status"] == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seen["status"], "completed", "{seen}");
    assert_eq!(seen["export"]["status"], "ready");
    let path = link.expect("the download link");
    let path = path.as_str();
    let res = app
        .http
        .get(app.url(path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let zip = res.bytes().await.unwrap();
    assert_eq!(&zip[..2], b"PK");
    let statuses: Vec<&str> = seen["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["open", "in_progress", "completed"]);
}
both_engines!(
    an_access_request_builds_the_export_and_shows_its_link,
    super::access_request_builds_an_export
);

async fn staff_pages(engine: Engine) {
    let app = common::spawn(engine).await;
    let (number, _) = place(&app, "Rokeya Hossain", "01711001001").await;
    let support = app.staff("support", Role::Support).await;
    let page = |path: String| {
        let req = app.http.get(app.url(&path)).bearer_auth(&support);
        async move {
            let res = req.send().await.unwrap();
            (
                res.status().as_u16(),
                common::html::unescape(&res.text().await.unwrap()),
            )
        }
    };
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let req = app
            .http
            .post(app.url(&path))
            .bearer_auth(&support)
            .form(&form);
        async move {
            let res = req.send().await.unwrap();
            let location = res
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned());
            (
                res.status().as_u16(),
                location,
                common::html::unescape(&res.text().await.unwrap()),
            )
        }
    };
    let (status, queue) = page("/staff/requests?lang=en".into()).await;
    assert_eq!(status, 200);
    let csrf = common::html::csrf_of(&queue);

    // A number that is nobody's is named on the form.
    let (status, _, body) = post(
        "/staff/requests?lang=en".into(),
        vec![
            ("csrf", csrf.clone()),
            ("kind", "erasure".into()),
            ("phone", "01711009999".into()),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body.contains("No customer has this phone number."),
        "{body}"
    );

    // Logged from an email that is not the one on record: unverified.
    let (status, location, _) = post(
        "/staff/requests?lang=en".into(),
        vec![
            ("csrf", csrf.clone()),
            ("kind", "erasure".into()),
            ("phone", "01711001001".into()),
            ("email", "not.theirs@example.com".into()),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let detail = location.unwrap();
    let (_, html) = page(format!("{detail}?lang=en")).await;
    assert!(html.contains("data-status=\"unverified\""), "{html}");
    assert!(html.contains("email to support"));
    let id = detail.rsplit('/').next().unwrap();
    for action in ["verify", "complete"] {
        let (status, location, _) = post(
            format!("/staff/requests/{id}/{action}"),
            vec![("csrf", csrf.clone())],
        )
        .await;
        assert_eq!(status, 303, "{action}");
        assert_eq!(location.as_deref(), Some(detail.as_str()));
    }
    let (_, html) = page(format!("{detail}?lang=en")).await;
    assert!(html.contains("data-status=\"completed\""), "{html}");
    // The history names who moved it, never a customer's name.
    assert!(html.matches("staff:").count() >= 3, "{html}");
    assert!(!html.contains("Rokeya"));
    let (status, _) = page(format!("/staff/orders/{number}?lang=en")).await;
    assert_eq!(status, 200);
    // A packer has no queue.
    let packer = app.staff("packer", Role::Packer).await;
    let res = app
        .http
        .get(app.url("/staff/requests"))
        .bearer_auth(&packer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}
both_engines!(support_works_the_queue_from_its_pages, super::staff_pages);

/// The person is told when their erasure is done: what was kept, why and
/// until when, at the number they had.
async fn erased_person_is_told(engine: Engine) {
    let app = common::spawn_with_sms(engine).await;
    let (number, me) = place(&app, "Told Person", "01711001201").await;
    let admin = app.staff("admin", Role::Admin).await;
    let packer = app.staff("packer", Role::Packer).await;
    app.upload_proof(&packer, &number, &fake_mp4(50_000), 50_000)
        .await;
    let (status, _) = app
        .post(
            &format!("/api/v1/orders/{number}/holds"),
            Some(&admin),
            &json!({"reason": "open_claim"}),
        )
        .await;
    assert_eq!(status, 201);
    let token = customer_token(&app, me).await;
    let (_, req) = ask(
        &app,
        Some(&token),
        json!({"kind": "erasure", "phone": "01711001201"}),
    )
    .await;
    let (_, done) = act(&app, &admin, req["id"].as_i64().unwrap(), "complete").await;
    assert_eq!(done["status"], "completed", "{done}");
    // Sent by the job the erasure queued, a moment later.
    let body = common::privacy::wait_for_sms(&app, "+8801711001201", 1).await;
    assert!(body.contains("your data has been deleted"), "{body}");
    assert!(
        body.contains(&format!("The proofs of order {number} are kept because of an open claim, until the hold is released")),
        "{body}"
    );
}
both_engines!(
    the_person_is_told_when_the_erasure_is_done,
    super::erased_person_is_told
);
