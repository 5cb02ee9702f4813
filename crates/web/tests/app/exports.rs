//! The access export, on both engines: a customer with orders, a session
//! with technical data, consent changes, a policy acceptance, disclosures
//! and a proof starts an export, follows its progress, downloads the ZIP
//! once and finds every section in data.json and, in both languages, in
//! index.html; the proof's bytes hash to the logged SHA-256 and its receipt
//! verifies. The file at rest is encrypted; other customers, wrong tokens
//! and expired links are refused; the audit log has every step and no
//! personal data.
use crate::common;
pub mod scene;

use chotomoni_domain::Role;
use chotomoni_services::Actor;
use chotomoni_testkit::{both_engines, Engine};
use scene::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

async fn export_round_trip(engine: Engine) {
    let app = common::spawn(engine).await;
    let s = scene(&app).await;

    // Started by the customer themself, with no body.
    let res = app
        .http
        .post(app.url("/api/v1/privacy/exports"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let started: Value = res.json().await.unwrap();
    assert_eq!(started["status"], "building");
    assert_eq!(started["customer_id"], s.me);
    assert!(started["download"].is_null());
    let id = started["id"].as_i64().unwrap();

    // Nobody else sees it.
    let (status, theirs) = app
        .get(&format!("/api/v1/privacy/exports/{id}"), &s.other)
        .await;
    assert_eq!(status, 404, "another customer: {theirs}");
    let (status, _) = app
        .get(&format!("/api/v1/privacy/exports/{id}"), &s.packer)
        .await;
    assert_eq!(status, 403, "a packer");

    let ready = wait_ready(&app, id, &s.token).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["progress"], 100);
    assert_eq!(ready["stage"], "ready");
    assert!(ready["expires_at"].is_string());
    let path = ready["download"]["path"]
        .as_str()
        .expect("the link, shown once")
        .to_owned();
    let token = ready["download"]["token"].as_str().unwrap().to_owned();
    assert_eq!(path, format!("/privacy/exports/download/{token}"));
    assert!(token.len() >= 43, "a high-entropy token");
    // Shown once: the next answer has no link.
    let (_, again) = app
        .get(&format!("/api/v1/privacy/exports/{id}"), &s.token)
        .await;
    assert!(again["download"].is_null(), "{again}");
    assert_eq!(again["link_shown"], true);
    // Stored only as a keyed hash.
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM exports WHERE id = $1")
        .bind(id)
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    assert_ne!(stored, token);
    assert!(!stored.contains(&token));

    // Another customer, a wrong token and a malformed one: not found.
    let (status, _, _) = app.get_bytes(&path, Some(&s.other), None).await;
    assert_eq!(status, 404, "another customer's download");
    let wrong = format!("/privacy/exports/download/{}", "A".repeat(43));
    let (status, _, body) = app.get_bytes(&wrong, None, None).await;
    assert_eq!(status, 404);
    let body: Value = serde_json::from_slice(&body.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let (status, _, _) = app
        .get_bytes("/privacy/exports/download/not-a-token", None, None)
        .await;
    assert_eq!(status, 404);

    // The download.
    let (status, headers, body) = app.get_bytes(&path, Some(&s.token), None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/zip");
    assert_eq!(headers["cache-control"], "no-store");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        regex::Regex::new(r#"^attachment; filename="chotomoni-export-\d{4}-\d{2}-\d{2}\.zip"$"#)
            .unwrap()
            .is_match(disposition),
        "{disposition}"
    );
    let body = body.unwrap();
    assert_eq!(body.len() as i64, ready["size"].as_i64().unwrap());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).expect("a valid ZIP");

    // data.json: every section, with the right values.
    let data: Value = serde_json::from_str(&zip_text(&mut archive, "data.json")).unwrap();
    assert_eq!(data["format"], "chotomoni-access-export/1");
    assert_eq!(data["profile"]["name"], NAME);
    assert_eq!(data["profile"]["phone"], "+8801719876543");
    assert_eq!(data["profile"]["email"], EMAIL);
    assert_eq!(data["profile"]["has_password"], false);
    assert!(data["profile"].get("password_hash").is_none());
    let lines: Vec<&str> = data["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["line"].as_str().unwrap())
        .collect();
    assert_eq!(lines, [LINE_1, LINE_2]);
    assert_eq!(data["addresses"][0]["area"], "Dhanmondi");
    assert_eq!(data["addresses"][0]["recipient"], NAME);
    let orders = data["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 2, "only this customer's orders");
    assert_eq!(orders[0]["delivery_instructions"], INSTRUCTIONS);
    assert_eq!(orders[0]["items"][0]["name"], "Nakshi kantha throw");
    // Her orders joined her history when her phone was proven, and her
    // own marketing choice spent the opt-in asked at the guest checkout.
    assert_eq!(orders[0]["unconfirmed"], false);
    assert_eq!(orders[0]["marketing_opt_in_pending"], false);
    assert!(
        data["profile"]["phone_proven_at"].is_string(),
        "{}",
        data["profile"]
    );
    assert_eq!(orders[0]["history"][0]["to"], "placed");
    assert_eq!(data["payments"][1]["status"], "pending");
    assert_eq!(data["payments"][1]["method"], "cod");
    let sessions = data["technical"]["sessions"].as_array().unwrap();
    let session = sessions
        .iter()
        .find(|x| x["ip_address"] == IP)
        .unwrap_or_else(|| panic!("the session with its IP address: {sessions:?}"));
    assert_eq!(session["user_agent"], AGENT);
    assert_eq!(session["device_kind"], "phone");
    let consents = data["consents"].as_array().unwrap();
    let ledger: Vec<(String, bool, String)> = consents
        .iter()
        .map(|c| {
            (
                c["purpose"].as_str().unwrap().into(),
                c["granted"].as_bool().unwrap(),
                c["channel"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        ledger,
        [
            // The guest checkout's tick was only asked for; her own
            // choices on the account page are the ledger.
            ("marketing_email".into(), true, "account_page".into()),
            ("marketing_sms".into(), false, "account_page".into()),
        ]
    );
    assert!(consents[1]["wording"].as_str().unwrap().contains("SMS"));
    assert_eq!(data["policy_acceptances"][0]["version"], 1);
    assert_eq!(data["policy_acceptances"][0]["channel"], "notice");
    let disclosures = data["disclosures"].as_array().unwrap();
    assert_eq!(disclosures.len(), 2, "{disclosures:?}");
    let d = &disclosures[0];
    assert_eq!(d["recipient"], "courier");
    assert_eq!(d["recipient_bn"], "কুরিয়ার কোম্পানি");
    let fields: Vec<&str> = d["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "customers.name_enc",
            "customers.phone_enc",
            "orders.address_enc"
        ]
    );
    assert!(d["fields"][2]["en"]
        .as_str()
        .unwrap()
        .starts_with("Delivery address"));
    assert_eq!(disclosures[1]["fields"][0]["key"], "proofs.blob_key");
    assert_eq!(data["claims"], json!([]));
    let proofs = data["proofs"].as_array().unwrap();
    assert_eq!(proofs.len(), 1);
    assert_eq!(proofs[0]["id"], s.proof);
    assert_eq!(proofs[0]["file_name"], "packing.mp4");
    let file_path = format!("proofs/{}.mp4", s.proof);
    let receipt_path = format!("proofs/{}.receipt.json", s.proof);
    assert_eq!(proofs[0]["file"], file_path.as_str());
    assert_eq!(proofs[0]["receipt"], receipt_path.as_str());
    assert!(proofs[0]["note"].is_null());
    // Each section is labelled with its catalog categories, in both languages.
    let sections = data["sections"].as_array().unwrap();
    for key in [
        "profile",
        "addresses",
        "orders",
        "payments",
        "technical",
        "consents",
        "policy_acceptances",
        "disclosures",
        "claims",
        "proofs",
    ] {
        let section = sections
            .iter()
            .find(|x| x["key"] == key)
            .unwrap_or_else(|| panic!("section {key}"));
        assert!(section["title_bn"].is_string() && section["title_en"].is_string());
        if key != "claims" {
            assert!(
                section["categories"][0]["bn"].is_string()
                    && section["categories"][0]["en"].is_string(),
                "{section}"
            );
        }
    }
    assert_eq!(
        sections.iter().find(|x| x["key"] == "technical").unwrap()["categories"][0]["en"],
        "Technical"
    );

    // index.html: the same, for people, in both languages.
    let page = zip_text(&mut archive, "index.html");
    for text in [
        NAME,
        "+8801719876543",
        LINE_1,
        LINE_2,
        "Dhanmondi",
        IP,
        "কুরিয়ার কোম্পানি",
        "courier",
        "আপনার প্রোফাইল",
        "Your profile",
        "সম্মতির ইতিহাস",
        "Consent history",
        "আপনার কোনো দাবি নেই।",
        "You have no claims.",
        "পরিচয়",
        "Identity",
        "প্রযুক্তিগত",
        "Technical",
        "Offers and news by SMS",
        "এসএমএসে অফার ও খবর",
        "গেটে দুইবার বেল দিন",
    ] {
        assert!(page.contains(text), "index.html lacks {text:?}");
    }
    assert!(page.contains(&format!("src=\"{file_path}\"")));
    assert!(page.contains(&format!("href=\"{receipt_path}\"")));
    assert!(!page.contains("<script"));

    // The proof: its bytes are the logged ones, and its receipt verifies.
    let bytes = zip_bytes(&mut archive, &file_path);
    assert!(bytes == s.file);
    let (_, view) = app
        .get(&format!("/api/v1/proofs/{}", s.proof), &s.support)
        .await;
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        view["sha256"].as_str().unwrap()
    );
    let receipt: chotomoni_translog::Receipt =
        serde_json::from_slice(&zip_bytes(&mut archive, &receipt_path)).unwrap();
    let key = app
        .http
        .get(app.url("/.well-known/chotomoni-log-key"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let verified =
        chotomoni_translog::verify_receipt(&bytes[..], &receipt, Some(key.trim())).unwrap();
    assert!(verified.key_pinned);
    assert!(zip_text(&mut archive, "README.txt").contains("chotomoni verify"));

    // At rest the file is encrypted: no name, no address, no IP, no ZIP.
    let blob_key: String = sqlx::query_scalar("SELECT blob_key FROM exports WHERE id = $1")
        .bind(id)
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    let at_rest = app.services.proofs().blobs.get(&blob_key).await.unwrap();
    assert!(at_rest.starts_with(b"age-encryption.org/v1"));
    for needle in [
        NAME.as_bytes(),
        LINE_1.as_bytes(),
        IP.as_bytes(),
        b"PK\x03\x04",
    ] {
        assert!(
            !at_rest.windows(needle.len()).any(|w| w == needle),
            "{:?} in clear at rest",
            String::from_utf8_lossy(needle)
        );
    }

    // A new link ends the old one.
    let (status, renewed) = app
        .post(
            &format!("/api/v1/privacy/exports/{id}/link"),
            Some(&s.token),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{renewed}");
    let new_path = renewed["download"]["path"].as_str().unwrap().to_owned();
    assert_ne!(new_path, path);
    assert_eq!(
        app.get_bytes(&path, None, None).await.0,
        404,
        "the old link"
    );
    // Anyone holding the link may download (a guest has no account).
    assert_eq!(app.get_bytes(&new_path, None, None).await.0, 200);

    // Expired: a clear refusal, and the sweeper deletes the file.
    let days = u64::from(app.settings.export_link_days) + 1;
    app.services
        .clock()
        .advance(std::time::Duration::from_secs(days * 86_400));
    let (status, _, body) = app.get_bytes(&new_path, Some(&s.token), None).await;
    assert_eq!(status, 410);
    let body: Value = serde_json::from_slice(&body.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "expired");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
    let page = app
        .http
        .get(app.url(&format!("{new_path}?lang=en")))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 410);
    let page = common::html::text(page).await;
    assert!(page.contains("This download link has expired"), "{page}");
    let (_, status) = app
        .get(&format!("/api/v1/privacy/exports/{id}"), &s.token)
        .await;
    assert_eq!(status["status"], "expired");
    assert_eq!(app.services.sweep_expired_exports().await.unwrap(), 1);
    assert!(
        app.services.proofs().blobs.get(&blob_key).await.is_err(),
        "file deleted"
    );
    assert_eq!(
        app.get_bytes(&new_path, None, None).await.0,
        410,
        "still says expired"
    );
    assert_eq!(app.services.sweep_expired_exports().await.unwrap(), 0);

    // The audit log has every step, and names people only by reference.
    app.services.audit().flush().await;
    let entries: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT actor, action, target, detail FROM audit_log WHERE action LIKE 'export.%' ORDER BY id",
    )
    .fetch_all(&app.services.db().pool)
    .await
    .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(
        actions,
        [
            "export.start",
            "export.ready",
            "export.link",
            "export.download",
            "export.link",
            "export.download",
            "export.expire"
        ],
        "{entries:?}"
    );
    assert_eq!(entries[0].0, format!("customer:{}", s.me));
    assert_eq!(entries[0].2, format!("customer:{}", s.me));
    // A download by the link alone is the one who asked for the copy's.
    assert_eq!(entries[5].0, format!("customer:{}", s.me));
    assert!(entries[5].3.ends_with("via=link"), "{:?}", entries[5]);
    for (actor, _, target, detail) in &entries {
        let all = format!("{actor} {target} {detail}");
        for secret in [NAME, "1719876543", IP, LINE_1, token.as_str()] {
            assert!(!all.contains(secret), "{secret} in the audit log: {all}");
        }
    }
}
both_engines!(export_round_trip, super::export_round_trip);

async fn who_may_start(engine: Engine) {
    let app = common::spawn(engine).await;
    let s = scene(&app).await;
    let body = json!({"customer_id": s.me});
    // Support (and admin) start exports for a customer; a packer may not;
    // a customer may not start one for someone else.
    let (status, started) = app
        .post("/api/v1/privacy/exports", Some(&s.support), &body)
        .await;
    assert_eq!(status, 202, "{started}");
    let admin = app.staff("admin", Role::Admin).await;
    let (status, _) = app
        .get(
            &format!("/api/v1/privacy/exports/{}", started["id"]),
            &admin,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.post("/api/v1/privacy/exports", Some(&s.packer), &body)
            .await
            .0,
        403
    );
    assert_eq!(
        app.post("/api/v1/privacy/exports", Some(&s.other), &body)
            .await
            .0,
        404
    );
    assert_eq!(
        app.post("/api/v1/privacy/exports", None, &body).await.0,
        401
    );
    let (status, err) = app
        .post("/api/v1/privacy/exports", Some(&s.support), &json!({}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "customer_id");
    let (status, _) = app
        .post(
            "/api/v1/privacy/exports",
            Some(&s.support),
            &json!({"customer_id": 999_999}),
        )
        .await;
    assert_eq!(status, 404);
    // A service (a privacy request) starts one without a web request.
    let by_system = app
        .services
        .start_export(&Actor::System, s.me, Some(42))
        .await
        .unwrap();
    assert_eq!(by_system.request_id, Some(42));
    let done = wait_ready(&app, by_system.id, &s.support).await;
    assert_eq!(done["status"], "ready");
    assert_eq!(done["request_id"], 42);
    let link = done["download"]["path"].as_str().unwrap().to_owned();
    // The other may have been shown to the admin already: it is ready either way.
    let other = wait_ready(&app, started["id"].as_i64().unwrap(), &s.support).await;
    assert_eq!(other["status"], "ready");
    assert_eq!(app.get_bytes(&link, Some(&s.support), None).await.0, 200);

    // Destroying the customer's key makes the export unreadable too; erasure
    // then deletes the files and rows.
    sqlx::query("DELETE FROM customer_keys WHERE customer_id = $1")
        .bind(s.me)
        .execute(&app.services.db().pool)
        .await
        .unwrap();
    assert_eq!(app.get_bytes(&link, Some(&s.support), None).await.0, 404);
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT blob_key FROM exports WHERE customer_id = $1 ORDER BY id")
            .bind(s.me)
            .fetch_all(&app.services.db().pool)
            .await
            .unwrap();
    assert_eq!(keys.len(), 2);
    app.erase(s.me).await;
    for key in &keys {
        assert!(
            app.services.proofs().blobs.get(key).await.is_err(),
            "{key} deleted"
        );
    }
    assert_eq!(app.count("exports").await, 0);
}
both_engines!(who_may_start, super::who_may_start);

/// The account page's button, the status page that refreshes itself, the
/// link shown once, and a new link on request.
async fn account_pages(engine: Engine) {
    let app = common::spawn(engine).await;
    let s = scene(&app).await;
    let page = |path: String| {
        let req = app.http.get(app.url(&path)).bearer_auth(&s.token);
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), common::html::text(res).await)
        }
    };
    let (_, account) = page("/account".into()).await;
    assert!(account.contains("action=\"/account/exports\""), "{account}");
    assert!(account.contains("Download my data"));
    let csrf = common::html::csrf_of(&account);
    let res = app
        .http
        .post(app.url("/account/exports"))
        .bearer_auth(&s.token)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/account/exports/"), "{location}");
    let mut shown = None;
    for _ in 0..300 {
        let (status, html) = page(location.clone()).await;
        assert_eq!(status, 200);
        if html.contains("id=\"export-download\"") {
            shown = Some(html);
            break;
        }
        assert!(
            html.contains("http-equiv=\"refresh\""),
            "refreshes while building: {html}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let html = shown.expect("the link appears when ready");
    assert!(html.contains("href=\"/privacy/exports/download/"));
    assert!(html.contains("This link is shown only once"));
    assert!(!html.contains("http-equiv=\"refresh\""));
    let (_, again) = page(location.clone()).await;
    assert!(!again.contains("id=\"export-download\""));
    assert!(again.contains("The download link was already shown"));
    let res = app
        .http
        .post(app.url(&format!("{location}/link")))
        .bearer_auth(&s.token)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = common::html::text(res).await;
    let link = regex::Regex::new(r#"href="(/privacy/exports/download/[A-Za-z0-9_-]+)""#)
        .unwrap()
        .captures(&html)
        .expect("a new link")[1]
        .to_owned();
    assert_eq!(app.get_bytes(&link, Some(&s.token), None).await.0, 200);
    // Bangla too.
    let (_, bn) = page(format!("{location}?lang=bn")).await;
    assert!(bn.contains("আপনার তথ্যের কপি"), "{bn}");
    // Another customer's export page does not exist for them.
    let res = app
        .http
        .get(app.url(&location))
        .bearer_auth(&s.other)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}
both_engines!(account_pages, super::account_pages);

/// Every `export-` message exists in both languages, including one per
/// stage the status page can show; the routes are in the OpenAPI document.
#[test]
fn messages_in_both_languages() {
    let ids = |lang: &str| -> std::collections::BTreeSet<String> {
        let path = format!("{}/locales/{lang}.ftl", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("export-"))
            .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim().to_owned()))
            .collect()
    };
    let (en, bn) = (ids("en"), ids("bn"));
    assert_eq!(en, bn);
    for stage in [
        "queued",
        "collecting",
        "copying_proofs",
        "writing_documents",
        "storing",
        "ready",
    ] {
        assert!(en.contains(&format!("export-stage-{stage}")), "{stage}");
    }
    for key in [
        "export-link-expired",
        "export-link-not-found",
        "export-start",
    ] {
        assert!(en.contains(key), "{key}");
    }
}

async fn documented(engine: Engine) {
    let app = common::spawn(engine).await;
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
        "/api/v1/privacy/exports",
        "/api/v1/privacy/exports/{id}",
        "/api/v1/privacy/exports/{id}/link",
        "/privacy/exports/download/{token}",
    ] {
        assert!(doc["paths"][path].is_object(), "OpenAPI lacks {path}");
    }
    assert!(doc["components"]["schemas"]["ExportStatus"].is_object());
}
both_engines!(routes_are_documented, super::documented);
