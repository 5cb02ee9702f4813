//! The packing station: `/station` (staff who record proof only; strangers
//! and customers go to the staff sign-in and come back), its config block
//! in both languages with every message the page's script uses, the staff
//! sign-in's `next`, and the static files served from the binary.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_services::auth::ClientInfo;
use chotomoni_testkit::{both_engines, Engine};
use common::TestApp;
use regex::Regex;
use reqwest::{header, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `station-…` ids in an FTL file.
fn ftl_ids(lang: &str) -> BTreeSet<String> {
    let src =
        std::fs::read_to_string(web_dir().join(format!("locales/station.{lang}.ftl"))).unwrap();
    src.lines()
        .filter(|l| l.starts_with("station-"))
        .map(|l| l.split_once('=').unwrap().0.trim().to_owned())
        .collect()
}

/// Message ids named literally by the template and the station's scripts
/// (ids built at run time from a prefix are covered by `ftl_ids`).
fn used_ids() -> BTreeSet<String> {
    let mut sources =
        vec![std::fs::read_to_string(web_dir().join("templates/station.html")).unwrap()];
    for entry in std::fs::read_dir(web_dir().join("assets/station")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "js") {
            sources.push(std::fs::read_to_string(path).unwrap());
        }
    }
    let re = Regex::new(r#"['"`](station-[a-z0-9_-]+)['"`$]"#).unwrap();
    let ids: BTreeSet<String> = sources
        .iter()
        .flat_map(|s| {
            re.captures_iter(s)
                .map(|c| c[1].to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|id| !id.ends_with('-') && id != "station-config")
        .collect();
    assert!(ids.len() > 40, "the scripts name their messages: {ids:?}");
    ids
}

/// The page's config block, parsed.
fn config_of(html: &str) -> Value {
    let re = Regex::new(r#"<script type="application/json" id="station-config">([^<]*)</script>"#)
        .unwrap();
    let json = &re.captures(html).expect("a config block")[1];
    serde_json::from_str(json).expect("the config block is JSON")
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = app.http.get(app.url(path));
    if let Some(t) = token {
        req = req.header(header::COOKIE, format!("cm_session={t}"));
    }
    req.send().await.unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()[header::LOCATION].to_str().unwrap().to_owned()
}

async fn station_is_for_staff_who_record_proof(engine: Engine) {
    let app = common::spawn(engine).await;

    // A stranger goes to the staff sign-in, which comes back here.
    let res = get(&app, "/station", None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/staff/sign-in?next=/station&lang=bn");
    let res = get(&app, "/station?lang=en", None).await;
    assert_eq!(location(&res), "/staff/sign-in?next=/station&lang=en");

    // So does a customer: the station is not theirs.
    let (status, _) = app
        .post(
            "/api/v1/orders",
            None,
            &common::order_body("Shapla Akter", "01711000009"),
        )
        .await;
    assert_eq!(status, 201);
    let customer: i64 = sqlx::query_scalar("SELECT customer_id FROM orders ORDER BY id LIMIT 1")
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    let (customer, _) = app.customer_session(customer, &ClientInfo::default()).await;
    let res = get(&app, "/station", Some(&customer)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/staff/sign-in?next=/station&lang=en");

    // A packer gets the page, in Bangla and in English, with every message.
    let packer = app.staff("rina", Role::Packer).await;
    let used = used_ids();
    for lang in ["bn", "en"] {
        let res = get(&app, &format!("/station?lang={lang}"), Some(&packer)).await;
        assert_eq!(res.status(), StatusCode::OK, "{lang}");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
        assert!(res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = res.text().await.unwrap();
        assert!(
            !html.contains("{{") && !html.contains("&#x2f;"),
            "placeholders filled, unescaped"
        );
        assert!(
            html.contains(r#"<script type="module" src="/assets/station/station.js"></script>"#)
        );
        assert!(html.contains(r#"href="/assets/station/manifest.webmanifest""#));
        let config = config_of(&html);
        assert_eq!(config["lang"], lang);
        assert_eq!(config["uploadEndpoint"], "/api/v1/uploads/");
        assert_eq!(config["lookup"], "/api/v1/orders/by-code/");
        assert_eq!(
            config["signIn"],
            format!("/staff/sign-in?next=/station&lang={lang}")
        );
        assert_eq!(config["video"]["width"], 1280);
        assert_eq!(config["video"]["height"], 720);
        assert_eq!(config["video"]["bitsPerSecond"], 1_000_000);
        let strings = config["strings"].as_object().unwrap();
        let ids: BTreeSet<String> = strings.keys().cloned().collect();
        assert_eq!(
            ids,
            ftl_ids(lang),
            "every station- message of station.{lang}.ftl, and only those"
        );
        for id in &used {
            assert!(
                strings.contains_key(id),
                "{id} is used by the page but not in the {lang} config"
            );
        }
        for (id, text) in strings {
            let text = text.as_str().unwrap();
            assert!(
                !text.is_empty() && !text.contains('\u{2068}'),
                "{id}: text without isolation marks"
            );
        }
        // Variables are left for the page to fill.
        assert!(strings["station-order-heading"]
            .as_str()
            .unwrap()
            .contains("{$number}"));
        let title = strings["station-title"].as_str().unwrap();
        match lang {
            "bn" => assert_eq!(title, "প্যাকিং স্টেশন"),
            _ => assert_eq!(title, "Packing station"),
        }
    }
    // Without ?lang the session's language is kept (the last one chosen).
    let html = get(&app, "/station", Some(&packer))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(config_of(&html)["lang"], "en");

    // Every role that may record proof gets in.
    for (name, role) in [
        ("admin1", Role::Admin),
        ("support1", Role::Support),
        ("courier1", Role::Courier),
    ] {
        let token = app.staff(name, role).await;
        assert_eq!(
            get(&app, "/station", Some(&token)).await.status(),
            StatusCode::OK,
            "{role:?}"
        );
    }
}

async fn sign_in_comes_back_to_the_station(engine: Engine) {
    let app = common::spawn(engine).await;
    app.staff("rina", Role::Packer).await;
    let form = app
        .http
        .get(app.url("/staff/sign-in?next=/station&lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        form.contains(r#"<input type="hidden" name="next" value="&#x2f;station">"#),
        "{form}"
    );
    let sign_in = |next: &'static str| {
        app.http
            .post(app.url("/staff/sign-in?lang=en"))
            .form(&[
                ("username", "rina"),
                ("password", "correct horse battery"),
                ("next", next),
            ])
            .send()
    };
    let res = sign_in("/station").await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/station?signed_in=1&lang=en");
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("cm_session=")
        .to_owned();
    let page = get(&app, "/station?signed_in=1&lang=en", Some(&token)).await;
    assert_eq!(page.status(), StatusCode::OK);

    // The cookie did not come back: say so on the sign-in page, keeping `next`.
    let res = get(&app, "/station?signed_in=1&lang=en", None).await;
    assert_eq!(
        location(&res),
        "/staff/sign-in?next=/station&nocookie=1&lang=en"
    );

    // Only paths on this site are followed.
    for bad in [
        "//evil.example/station",
        "https://evil.example/",
        "/\\evil.example",
        "station",
    ] {
        let res = sign_in(bad).await.unwrap();
        assert_eq!(location(&res), "/staff/orders?signed_in=1&lang=en", "{bad}");
        let form = app
            .http
            .get(app.url("/staff/sign-in"))
            .query(&[("next", bad)])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!form.contains(r#"name="next""#), "{bad} is not offered");
    }
}

both_engines!(
    station_is_for_staff_who_record_proof_,
    super::station_is_for_staff_who_record_proof
);
both_engines!(
    sign_in_comes_back_to_the_station_,
    super::sign_in_comes_back_to_the_station
);

fn files_under(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().unwrap().is_dir() {
            files_under(&entry.path(), &format!("{name}/"), out);
        } else {
            out.insert(name);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_served_from_the_binary() {
    let app = common::spawn(Engine::Sqlite).await;
    let mut on_disk = BTreeSet::new();
    files_under(&web_dir().join("assets"), "", &mut on_disk);
    let served: BTreeSet<String> = chotomoni_web::assets::names().map(str::to_owned).collect();
    assert_eq!(
        served, on_disk,
        "every file under crates/web/assets is embedded"
    );

    for name in &on_disk {
        let bytes = std::fs::read(web_dir().join("assets").join(name)).unwrap();
        let res = get(&app, &format!("/assets/{name}"), None).await;
        assert_eq!(res.status(), StatusCode::OK, "{name}");
        let h = res.headers().clone();
        let want = match name.rsplit_once('.').map(|(_, e)| e) {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("webmanifest") => "application/manifest+json",
            Some("svg") => "image/svg+xml",
            _ => "text/plain; charset=utf-8",
        };
        assert_eq!(h[header::CONTENT_TYPE], want, "{name}");
        assert_eq!(h[header::CACHE_CONTROL], "no-cache", "{name}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{name}");
        let etag = format!("\"{}\"", hex::encode(Sha256::digest(&bytes)));
        assert_eq!(h[header::ETAG], etag.as_str(), "{name}");
        assert_eq!(
            h.get("service-worker-allowed").map(|v| v.to_str().unwrap()),
            (name == "station/sw.js").then_some("/station"),
            "{name}"
        );
        assert_eq!(res.bytes().await.unwrap(), bytes, "{name}: the same bytes");

        // Revalidation: 304 for the current ETag (also in a list, or weak).
        for tag in [etag.clone(), format!("\"x\", W/{etag}"), "*".to_owned()] {
            let res = app
                .http
                .get(app.url(&format!("/assets/{name}")))
                .header(header::IF_NONE_MATCH, tag.as_str())
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{name} {tag}");
            assert_eq!(res.headers()[header::ETAG], etag.as_str());
            assert!(res.bytes().await.unwrap().is_empty());
        }
        let res = app
            .http
            .get(app.url(&format!("/assets/{name}")))
            .header(header::IF_NONE_MATCH, "\"0000\"")
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{name}: a stale ETag gets the file"
        );
    }
    let head = app
        .http
        .head(app.url("/assets/station/sw.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["service-worker-allowed"], "/station");

    for missing in [
        "/assets/station/nope.js",
        "/assets/station/",
        "/assets/",
        "/assets/station/..%2F..%2FCargo.toml",
        "/assets/templates/station.html",
    ] {
        assert_eq!(
            get(&app, missing, None).await.status(),
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}
