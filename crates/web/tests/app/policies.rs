//! Privacy policy versions, on both engines: version 1 is the published
//! text; admins publish new versions in both languages; every version stays
//! readable at its own address, with a readable diff; a signed-in customer
//! is told of a change once, and what they accepted and when is recorded.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_testkit::{both_engines, Engine};
use common::TestApp;
use serde_json::json;

async fn page(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String) {
    let mut req = app.http.get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Version 2 keeps version 1's first line and adds one.
fn v2_en() -> String {
    let first = chotomoni_domain::policy::v1(chotomoni_domain::catalog::Lang::En)
        .lines()
        .next()
        .unwrap();
    format!("{first}\nWe now also delete proof videos after one year.")
}
const V2_BN: &str = "ছোটমনি আপনার গোপনীয়তা রক্ষায় প্রতিশ্রুতিবদ্ধ।\nএক বছর পর প্রুফ ভিডিও মুছে ফেলা হয়।";

async fn versions(engine: Engine) {
    let app = common::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let support = app.staff("support", Role::Support).await;

    // Version 1 is the published policy, in each language.
    let (_, list) = app.get("/api/v1/privacy/policies", "").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["url"], "/privacy/v/1");
    let (status, bn) = page(&app, "/privacy", None).await;
    assert_eq!(status, 200);
    assert!(bn.contains("তথ্য") && !bn.contains("Information we collect"));
    let (_, en) = page(&app, "/privacy/v/1?lang=en", None).await;
    assert!(en.contains("Information we collect"));

    // Publishing needs both languages, and an admin.
    let (status, body) = app
        .post(
            "/api/v1/privacy/policies",
            Some(&admin),
            &json!({"bn": V2_BN, "en": "  "}),
        )
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("en")));
    let (status, _) = app
        .post(
            "/api/v1/privacy/policies",
            Some(&support),
            &json!({"bn": V2_BN, "en": v2_en()}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post(
            "/api/v1/privacy/policies",
            None,
            &json!({"bn": V2_BN, "en": v2_en()}),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        app.count("policy_versions").await,
        1,
        "refused versions leave nothing"
    );
    let (status, v2) = app
        .post(
            "/api/v1/privacy/policies",
            Some(&admin),
            &json!({"bn": V2_BN, "en": v2_en()}),
        )
        .await;
    assert_eq!((status, v2["version"].as_i64()), (201, Some(2)));

    // In effect at once; the old one stays at its address; the diff reads.
    let (_, current) = page(&app, "/privacy?lang=en", None).await;
    assert!(current.contains("delete proof videos after one year"));
    let (_, old) = page(&app, "/privacy/v/1?lang=en", None).await;
    assert!(old.contains("Information we collect") && old.contains("This is an earlier version"));
    let (status, diff) = page(&app, "/privacy/diff?from=1&to=2&lang=en", None).await;
    assert_eq!(status, 200);
    assert!(
        diff.contains("<ins>+ We now also delete proof videos after one year.</ins>"),
        "{diff}"
    );
    assert!(diff.contains("<del>− Information we collect</del>"));
    let first = v2_en().lines().next().unwrap().to_owned();
    assert!(
        diff.contains(&format!("<p>{first}</p>")),
        "unchanged lines are plain"
    );
    let (_, diff_bn) = page(&app, "/privacy/diff?from=1&to=2&lang=bn", None).await;
    assert!(diff_bn.contains("<ins>+ এক বছর পর প্রুফ ভিডিও মুছে ফেলা হয়।</ins>"));
    assert_eq!(page(&app, "/privacy/v/9", None).await.0, 404);

    // Published versions never change.
    assert!(sqlx::query("UPDATE policy_versions SET text_en = 'x'")
        .execute(&app.services.db().pool)
        .await
        .is_err());
    assert!(sqlx::query("DELETE FROM policy_versions")
        .execute(&app.services.db().pool)
        .await
        .is_err());
}
both_engines!(versions, super::versions);

async fn customers_are_told_once(engine: Engine) {
    let app = common::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let (_, order) = app
        .post(
            "/api/v1/orders",
            None,
            &common::order_body("Nasrin Sultana", "01711000333"),
        )
        .await;
    assert!(order["number"].is_string());
    let (id, token, session) = app.first_customer_session().await;
    let (_, before) = page(&app, "/account", Some(&token)).await;
    assert!(
        !before.contains("Our privacy policy has changed"),
        "nothing changed yet"
    );

    app.post(
        "/api/v1/privacy/policies",
        Some(&admin),
        &json!({"bn": V2_BN, "en": v2_en()}),
    )
    .await;
    let (_, notice) = page(&app, "/account", Some(&token)).await;
    assert!(
        notice.contains("Our privacy policy has changed: version 2 is now in effect."),
        "{notice}"
    );
    assert!(notice.contains("/privacy/diff?from=1&amp;to=2"));
    // Staff and visitors get no such notice.
    assert!(!page(&app, "/staff/orders", Some(&admin))
        .await
        .1
        .contains("policy has changed"));

    let ack = |version: i64| {
        let req = app
            .http
            .post(app.url("/privacy/accept"))
            .bearer_auth(&token)
            .form(&[
                ("version", version.to_string()),
                ("back", "/account".into()),
                ("csrf", session.csrf_token.clone()),
            ]);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        ack(1).await,
        409,
        "only the current version can be accepted"
    );
    assert_eq!(ack(2).await, 303);
    let (_, after) = page(&app, "/account", Some(&token)).await;
    assert!(
        !after.contains("Our privacy policy has changed"),
        "told once"
    );
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, channel FROM policy_acceptances WHERE customer_id = $1")
            .bind(id)
            .fetch_all(&app.services.db().pool)
            .await
            .unwrap();
    assert_eq!(rows, vec![(2, "notice".to_owned())]);
}
both_engines!(customers_are_told_once, super::customers_are_told_once);

/// The admin's page publishes too, and shows which language is missing.
async fn publish_page(engine: Engine) {
    let app = common::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let packer = app.staff("packer", Role::Packer).await;
    let (status, form) = page(&app, "/staff/policy?lang=en", Some(&admin)).await;
    assert_eq!(status, 200);
    assert!(
        form.contains("Information we collect"),
        "prefilled with the current text"
    );
    assert_eq!(page(&app, "/staff/policy", Some(&packer)).await.0, 403);
    let csrf = common::html::csrf_of(&form);
    let post = |bn: &str| {
        let req = app
            .http
            .post(app.url("/staff/policy?lang=en"))
            .bearer_auth(&admin)
            .form(&[
                ("bn", bn),
                ("en", v2_en().as_str()),
                ("csrf", csrf.as_str()),
            ]);
        async move {
            let res = req.send().await.unwrap();
            let location = res
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned());
            (res.status().as_u16(), location, res.text().await.unwrap())
        }
    };
    let (status, _, html) = post("").await;
    assert_eq!(status, 422);
    assert!(html.contains("Both languages are required."));
    let (status, location, _) = post(V2_BN).await;
    assert_eq!((status, location.as_deref()), (303, Some("/privacy/v/2")));
}
both_engines!(publish_page, super::publish_page);
