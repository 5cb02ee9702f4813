//! The claims desk's pages, on both engines: the queue with its filters,
//! a claim's story with the order's proof and the customer's evidence side
//! by side, each receipt checked against the log (and a tampered one shown
//! as not verified), and the forms that take a claim up and decide it.
use crate::common;

use chotomoni_domain::catalog::Lang;
use chotomoni_domain::Role;
use chotomoni_testkit::{both_engines, Engine};
use common::html::{csrf_of, text};
use common::privacy::{claim_scene, customer_token, place, set_status};
use common::TestApp;
use serde_json::json;

pub(crate) async fn page(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let res = app
        .http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), text(res).await)
}

pub(crate) async fn submit(
    app: &TestApp,
    token: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let res = app
        .http
        .post(app.url(path))
        .bearer_auth(token)
        .form(form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), text(res).await)
}

async fn desk(engine: Engine) {
    let app = common::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let support = app.staff("support", Role::Support).await;
    let packer = app.staff("packer", Role::Packer).await;
    let clip = chotomoni_testkit::fake_mp4(5_000);
    let scene = claim_scene(&app, &admin, &packer, "01711000501", &clip).await;
    let (number, customer, packing, id) =
        (scene.number, scene.customer, scene.packing, scene.claim);
    let evidence = app.upload_evidence(&customer, &number, &clip).await;

    // The queue lists it; filters narrow it; a bad filter is refused; a
    // packer may not see the desk.
    let (status, queue) = page(&app, &support, "/staff/claims").await;
    assert_eq!(status, 200, "{queue}");
    assert!(queue.contains(&format!("/staff/claims/{id}")), "{queue}");
    let (_, decided) = page(&app, &support, "/staff/claims?status=decided").await;
    assert!(!decided.contains(&format!("/staff/claims/{id}")));
    let (_, damaged) = page(&app, &support, "/staff/claims?kind=damaged&status=open").await;
    assert!(damaged.contains(&format!("/staff/claims/{id}")));
    assert_eq!(
        page(&app, &support, "/staff/claims?status=lost").await.0,
        422
    );
    assert_eq!(page(&app, &packer, "/staff/claims").await.0, 403);
    // The desk is in support's menu, not in a packer's.
    assert!(queue.contains("href=\"/staff/claims\""));
    let (_, packers) = page(&app, &packer, "/staff/orders").await;
    assert!(!packers.contains("href=\"/staff/claims\""), "{packers}");
    assert_eq!(
        page(&app, &packer, &format!("/staff/claims/{id}")).await.0,
        403
    );

    // The story: the customer's words, the timeline from order to claim,
    // packing proof and evidence side by side, both verified.
    let (status, story) = page(&app, &support, &format!("/staff/claims/{id}?lang=en")).await;
    assert_eq!(status, 200, "{story}");
    assert!(story.contains("The box was crushed"));
    for p in [packing, evidence] {
        assert!(
            story.contains(&format!("src=\"/api/v1/proofs/{p}/content\"")),
            "proof {p} does not play: {story}"
        );
    }
    assert_eq!(story.matches("class=\"verified\"").count(), 2, "{story}");
    assert!(!story.contains("NOT VERIFIED"));
    let order_of = |s: &str| story.find(s).unwrap_or_else(|| panic!("no {s} in {story}"));
    assert!(
        order_of("moment-proof") < order_of("moment-filed"),
        "oldest first"
    );
    assert!(story.contains("Order marked Delivered"), "{story}");

    // A proof whose logged hash was changed in the database is shown, loudly, as not verified.
    sqlx::query(&format!(
        "UPDATE proofs SET leaf = REPLACE(leaf, sha256, '{}') WHERE id = {packing}",
        "0".repeat(64)
    ))
    .execute(&app.services.db().pool)
    .await
    .unwrap();
    let (_, story) = page(&app, &support, &format!("/staff/claims/{id}?lang=en")).await;
    assert_eq!(story.matches("class=\"verified\"").count(), 1, "{story}");
    assert!(story.contains("NOT VERIFIED"), "{story}");

    // Taken up, then decided from the page: a refund above what was paid is
    // refused there, naming the amount, and nothing is decided.
    let csrf = csrf_of(&story);
    let (status, _) = submit(
        &app,
        &support,
        &format!("/staff/claims/{id}/review"),
        &[("csrf", &csrf)],
    )
    .await;
    assert!(status == 303 || status == 200, "{status}");
    let (status, refused) = submit(
        &app,
        &support,
        &format!("/staff/claims/{id}/decision?lang=en"),
        &[
            ("csrf", &csrf),
            ("decision", "partial_refund"),
            ("amount", "999999999"),
            ("reason", "Crushed"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.contains("amount"), "{refused}");
    let (_, seen) = app.get(&format!("/api/v1/claims/{id}"), &support).await;
    assert_eq!(seen["status"], "in_review", "{seen}");
    // Without the form's token: refused, nothing decided.
    let (status, _) = submit(
        &app,
        &support,
        &format!("/staff/claims/{id}/decision"),
        &[
            ("csrf", "forged"),
            ("decision", "rejected"),
            ("reason", "x"),
        ],
    )
    .await;
    assert!(status == 400 || status == 403, "{status}");
    let (status, _) = submit(
        &app,
        &support,
        &format!("/staff/claims/{id}/decision"),
        &[
            ("csrf", &csrf),
            ("decision", "partial_refund"),
            ("amount", "5000"),
            ("reason", "Crushed in transit"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (_, story) = page(&app, &support, &format!("/staff/claims/{id}?lang=en")).await;
    assert!(story.contains("id=\"decision\""), "{story}");
    assert!(story.contains("Crushed in transit"));
    assert!(story.contains("moment-decided"));
}
both_engines!(the_desk_shows_a_claims_story_and_decides_it, super::desk);

/// The customer's side on their order page: no form before delivery, a
/// claim filed from the form (a bad one shown again with what was wrong),
/// its evidence listed, and the desk's decision read there.
async fn mine(engine: Engine) {
    let app = common::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let support = app.staff("support", Role::Support).await;
    let (number, me) = place(&app, "Parveen Sultana", "01711000502").await;
    let customer = customer_token(&app, me).await;
    let order_page = format!("/account/orders/{number}?lang=en");
    let (status, html) = page(&app, &customer, &order_page).await;
    assert_eq!(status, 200, "{html}");
    assert!(!html.contains("File a claim"), "not delivered yet");
    for to in ["confirmed", "packed", "handed_to_courier", "delivered"] {
        set_status(&app, &admin, &number, to).await;
    }
    let (_, html) = page(&app, &customer, &order_page).await;
    assert!(html.contains("File a claim"), "{html}");
    let csrf = csrf_of(&html);
    let action = format!("/account/orders/{number}/claims?lang=en");

    // More than was ordered: refused on the page, naming the items; nothing filed.
    let (status, refused) = submit(
        &app,
        &customer,
        &action,
        &[
            ("csrf", &csrf),
            ("kind", "damaged"),
            ("qty_1", "50"),
            ("description", "Torn"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused.contains("id=\"claim-error\"") && refused.contains("items"),
        "{refused}"
    );
    assert_eq!(app.count("claims").await, 0);

    let (status, _) = submit(
        &app,
        &customer,
        &action,
        &[
            ("csrf", &csrf),
            ("kind", "damaged"),
            ("qty_1", "1"),
            ("description", "The saree was torn"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (_, claims) = app
        .get(&format!("/api/v1/orders/{number}/claims"), &customer)
        .await;
    let id = claims[0]["id"].as_i64().unwrap();
    assert_eq!(claims[0]["raised_by"], "customer");
    assert_eq!(claims[0]["items"][0]["quantity"], 1);
    let clip = chotomoni_testkit::fake_mp4(3_000);
    let evidence = app.upload_evidence(&customer, &number, &clip).await;
    let (_, html) = page(&app, &customer, &order_page).await;
    assert!(html.contains("The saree was torn"));
    assert!(
        html.contains(&format!("href=\"#proof-{evidence}\"")),
        "{html}"
    );
    assert!(
        html.contains("class=\"evidence\""),
        "an open claim takes more evidence"
    );
    assert!(!html.contains("File a claim"), "one open claim per order");

    let (status, _) = app
        .post(
            &format!("/api/v1/claims/{id}/decision"),
            Some(&support),
            &json!({"decision": "full_refund", "reason": "Sorry: refunded in full"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, html) = page(&app, &customer, &order_page).await;
    assert!(html.contains("Sorry: refunded in full"), "{html}");
    assert!(html.contains("full refund"));
    assert!(
        !html.contains("class=\"evidence\""),
        "a decided claim takes no evidence"
    );

    // Someone else's order: its page and its claims form answer 404, even
    // with that person's own valid form token.
    let (_, other) = place(&app, "Someone Else", "01711000503").await;
    let theirs = customer_token(&app, other).await;
    assert_eq!(page(&app, &theirs, &order_page).await.0, 404);
    let (_, own) = page(&app, &theirs, "/account?lang=en").await;
    let (status, _) = submit(
        &app,
        &theirs,
        &action,
        &[
            ("csrf", &csrf_of(&own)),
            ("kind", "damaged"),
            ("qty_1", "1"),
        ],
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(app.count("claims").await, 1);
}
both_engines!(
    a_customer_files_and_follows_a_claim_on_the_order_page,
    super::mine
);

/// An open claim offers the unboxing recorder beside the file chooser: its
/// script, the order number and the station's video settings it records
/// with, and the privacy policy's own camera wording, in the page's
/// language, to read before the browser asks for the camera. A decided
/// claim offers neither.
async fn recorder(engine: Engine) {
    let app = common::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let support = app.staff("support", Role::Support).await;
    let (number, me) = place(&app, "Nasrin Akter", "01711000504").await;
    let customer = customer_token(&app, me).await;
    for to in ["confirmed", "packed", "handed_to_courier", "delivered"] {
        set_status(&app, &admin, &number, to).await;
    }
    let (status, filed) = app
        .post(
            &format!("/api/v1/orders/{number}/claims"),
            Some(&customer),
            &json!({"kind": "damaged", "items": [{"line_no": 1, "quantity": 1}]}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let wording =
        regex::Regex::new(r#"(?s)<blockquote class="policy-camera">(.*?)</blockquote>"#).unwrap();
    for (lang, code, record) in [
        (Lang::En, "en", "Record unboxing video"),
        (Lang::Bn, "bn", "আনবক্সিং ভিডিও রেকর্ড করুন"),
    ] {
        let (status, html) = page(
            &app,
            &customer,
            &format!("/account/orders/{number}?lang={code}"),
        )
        .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains(record), "{html}");
        assert!(
            html.contains(r#"<script type="module" src="/assets/claims/unboxing.js">"#),
            "{html}"
        );
        assert!(
            html.contains(&format!(
                r#"class="unboxing" data-order="{number}" data-claim="{}""#,
                filed["id"]
            )),
            "{html}"
        );
        assert!(html.contains(r#"data-width="1280" data-height="720" data-bits="1000000""#));
        let shown = &wording
            .captures(&html)
            .expect("the camera wording is shown")[1];
        let policy = flat(chotomoni_domain::policy::v1(lang));
        assert!(
            shown.len() > 200 && policy.contains(&flat(shown)),
            "the policy's own words ({code}): {shown}"
        );
    }
    let (status, script) = page(&app, &customer, "/assets/claims/unboxing.js").await;
    assert_eq!(status, 200);
    assert!(
        script.contains("../station/recorder.js"),
        "the station's recorder, reused"
    );

    let (status, _) = app
        .post(
            &format!("/api/v1/claims/{}/decision", filed["id"]),
            Some(&support),
            &json!({"decision": "rejected", "reason": "The seal was intact"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, html) = page(
        &app,
        &customer,
        &format!("/account/orders/{number}?lang=en"),
    )
    .await;
    assert!(
        !html.contains("class=\"unboxing\""),
        "a decided claim takes no evidence"
    );
}
both_engines!(
    an_open_claim_offers_the_unboxing_recorder_with_the_policys_camera_wording,
    super::recorder
);
