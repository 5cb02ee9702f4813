//! The server-rendered pages, through a real server on a random port, on
//! both engines.
use crate::common;

use chotomoni_domain::catalog::entries;
use chotomoni_domain::Role;
use chotomoni_testkit::{both_engines, Engine};
use common::html::{browser, csrf_of, text, unescape};
use common::TestApp as App;
use regex::Regex;
use reqwest::{header, redirect, Client, StatusCode};

fn checkout_form<'a>(csrf: &'a str, phone: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("name", "Rahima Begum"),
        ("phone", phone),
        ("email", ""),
        ("line", "House 12, Road 5"),
        ("area", "Mirpur 10"),
        ("district", "Dhaka"),
        ("instructions", "Call before coming"),
        ("payment", "cod"),
    ]
}

/// Adds one product to the cart and returns the checkout page.
async fn add_to_cart(app: &App, c: &Client) -> String {
    let res = c
        .post(format!("{}/cart/add?lang=en", app.base))
        .form(&[("sku", "SAR-JAM-01"), ("quantity", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    text(res).await
}

async fn storefront_in_both_languages_sets_no_cookie(engine: Engine) {
    let app = common::spawn(engine).await;
    let c = Client::new();
    let bn = c.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(bn.status(), StatusCode::OK);
    assert!(bn.headers().get(header::SET_COOKIE).is_none());
    let html = text(bn).await;
    assert!(html.contains(r#"<html lang="bn">"#));
    assert!(html.contains("ঢাকাই জামদানি শাড়ি"));
    assert!(html.contains("৳৮,৫০০.০০"), "prices in Bangla digits");
    assert!(html.contains(r#"href="/?lang=en""#), "language switch");
    assert!(html.contains(r#"href="/privacy/data""#));

    let en = c
        .get(format!("{}/?lang=en", app.base))
        .send()
        .await
        .unwrap();
    assert!(en.headers().get(header::SET_COOKIE).is_none());
    let html = text(en).await;
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains("Jamdani saree, Dhakai"));
    assert!(html.contains("৳8,500.00"));
    assert!(html.contains("Our products"));
    assert!(
        html.contains(r#"href="/privacy/data?lang=en""#),
        "language kept in links"
    );
}

async fn checkout_flow_with_field_error_then_order(engine: Engine) {
    let app = common::spawn(engine).await;
    let c = browser();
    let page = add_to_cart(&app, &c).await;
    assert!(page.contains("Jamdani saree, Dhakai"));
    let checkbox = Regex::new(r#"<input type="checkbox" name="marketing"[^>]*>"#)
        .unwrap()
        .find(&page)
        .expect("marketing opt-in")
        .as_str()
        .to_owned();
    assert!(
        !checkbox.contains("checked"),
        "opt-in starts unticked: {checkbox}"
    );
    assert!(page.contains(r#"href="/privacy""#));
    let csrf = csrf_of(&page);

    // The session remembers the language chosen when it was opened, and a switch.
    let again = text(
        c.get(format!("{}/checkout", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(again.contains("Cart and checkout"));
    let bangla = text(
        c.get(format!("{}/?lang=bn", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        bangla.contains(r#"href="/checkout""#),
        "no lang in links once a session remembers it"
    );
    let again = text(
        c.get(format!("{}/checkout", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(again.contains("কার্ট ও চেকআউট"));
    c.get(format!("{}/?lang=en", app.base))
        .send()
        .await
        .unwrap();

    let bad = c
        .post(format!("{}/checkout", app.base))
        .form(&checkout_form(&csrf, "12345"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(bad).await;
    assert!(
        html.contains("Please enter a Bangladeshi mobile number"),
        "{html}"
    );
    assert!(
        html.contains(r#"value="Rahima Begum""#),
        "form keeps its values"
    );

    let ok = c
        .post(format!("{}/checkout", app.base))
        .form(&checkout_form(&csrf, "01712345678"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(ok.url().path().ends_with("/placed"));
    let html = text(ok).await;
    let number = Regex::new(r"CM-\d{6}")
        .unwrap()
        .find(&html)
        .expect("order number")
        .as_str()
        .to_owned();

    // Tracking needs the number and the phone together.
    let found = c
        .post(format!("{}/track?lang=en", app.base))
        .form(&[("number", number.as_str()), ("phone", "01712345678")])
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), StatusCode::OK);
    assert!(text(found).await.contains("Placed"));
    let wrong = c
        .post(format!("{}/track?lang=en", app.base))
        .form(&[("number", number.as_str()), ("phone", "01812345678")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    assert!(text(wrong).await.contains("We found no order"));
}

async fn posts_need_the_csrf_token_and_the_cookie(engine: Engine) {
    let app = common::spawn(engine).await;
    let c = browser();
    add_to_cart(&app, &c).await;
    let res = c
        .post(format!("{}/checkout", app.base))
        .form(&checkout_form("", "01712345678"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = c
        .post(format!("{}/checkout", app.base))
        .form(&checkout_form("forged", "01712345678"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Cookies disabled: the cart explains why it needs its one cookie.
    let no_cookies = Client::new();
    let res = add_to_cart_raw(&app, &no_cookies).await;
    assert_eq!(res.0, StatusCode::BAD_REQUEST);
    assert!(res.1.contains("strictly necessary cookie"), "{}", res.1);
}

async fn add_to_cart_raw(app: &App, c: &Client) -> (StatusCode, String) {
    let res = c
        .post(format!("{}/cart/add?lang=en", app.base))
        .form(&[("sku", "SAR-JAM-01"), ("quantity", "1")])
        .send()
        .await
        .unwrap();
    (res.status(), text(res).await)
}

async fn staff_back_office_and_packing_slips(engine: Engine) {
    let app = common::spawn(engine).await;
    app.services
        .add_staff("admin", "correct horse battery", Role::Admin)
        .await
        .unwrap();
    let shopper = browser();
    let page = add_to_cart(&app, &shopper).await;
    shopper
        .post(format!("{}/checkout", app.base))
        .form(&checkout_form(&csrf_of(&page), "01712345678"))
        .send()
        .await
        .unwrap();

    let c = browser();
    let unsigned = Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap();
    let res = unsigned
        .get(format!("{}/staff/orders", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(res.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/staff/sign-in"));

    let res = c
        .post(format!("{}/staff/sign-in?lang=en", app.base))
        .form(&[("username", "admin"), ("password", "wrong password!")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = c
        .post(format!("{}/staff/sign-in?lang=en", app.base))
        .form(&[("username", "admin"), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.url().path(), "/staff/orders");
    let html = text(res).await;
    let number = Regex::new(r"CM-\d{6}")
        .unwrap()
        .find(&html)
        .expect("order listed")
        .as_str()
        .to_owned();
    assert!(html.contains("Rahima Begum"));

    let detail = c
        .get(format!("{}/staff/orders/{number}", app.base))
        .send()
        .await
        .unwrap();
    let detail = text(detail).await;
    assert!(detail.contains("House 12, Road 5"));
    let csrf = csrf_of(&detail);
    let moved = c
        .post(format!("{}/staff/orders/{number}/status", app.base))
        .form(&[("csrf", csrf.as_str()), ("to", "confirmed")])
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::OK);
    assert!(text(moved).await.contains("Confirmed"));
    let refused = c
        .post(format!("{}/staff/orders/{number}/status", app.base))
        .form(&[("to", "packed")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let slip = c
        .get(format!("{}/staff/orders/{number}/slip", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(slip.status(), StatusCode::OK);
    let slip = text(slip).await;
    assert!(slip.matches("<svg").count() >= 2, "barcode and QR code");

    let today = (chrono::Utc::now() + chrono::Duration::hours(6)).format("%Y-%m-%d");
    let day = c
        .get(format!("{}/staff/slips?date={today}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| unescape(&t))
        .unwrap();
    assert!(day.contains(&number));
    assert!(day.contains("page-break-after"));

    // Staff order entry.
    let form = c
        .get(format!("{}/staff/orders/new", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| unescape(&t))
        .unwrap();
    let mut fields = checkout_form("", "01812345678");
    let csrf = csrf_of(&form);
    fields[0] = ("csrf", csrf.as_str());
    fields.extend([
        ("source", "facebook"),
        ("sku1", "TEA-SYL-05"),
        ("qty1", "3"),
    ]);
    let entered = c
        .post(format!("{}/staff/orders/new", app.base))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(entered.status(), StatusCode::OK);
    assert!(entered.url().path().starts_with("/staff/orders/CM-"));
    assert!(text(entered).await.contains("Facebook"));
}

async fn privacy_data_lists_every_catalog_field(engine: Engine) {
    let app = common::spawn(engine).await;
    let c = Client::new();
    let en = text(
        c.get(format!("{}/privacy/data?lang=en", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let bn = text(
        c.get(format!("{}/privacy/data", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    // The database's fields and the files of the server's own.
    for f in entries() {
        assert!(en.contains(f.label_en), "missing {}", f.label_en);
        assert!(bn.contains(f.label_bn), "missing {}", f.label_bn);
    }
}

async fn unknown_order_is_a_not_found_page(engine: Engine) {
    let app = common::spawn(engine).await;
    let res = Client::new()
        .get(format!("{}/orders/nonsense/placed?lang=en", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(text(res).await.contains("We could not find that."));
}

both_engines!(
    storefront_in_both_languages_sets_no_cookie_,
    super::storefront_in_both_languages_sets_no_cookie
);
both_engines!(
    checkout_flow_with_field_error_then_order_,
    super::checkout_flow_with_field_error_then_order
);
both_engines!(
    posts_need_the_csrf_token_and_the_cookie_,
    super::posts_need_the_csrf_token_and_the_cookie
);
both_engines!(
    staff_back_office_and_packing_slips_,
    super::staff_back_office_and_packing_slips
);
both_engines!(
    privacy_data_lists_every_catalog_field_,
    super::privacy_data_lists_every_catalog_field
);
both_engines!(
    unknown_order_is_a_not_found_page_,
    super::unknown_order_is_a_not_found_page
);

async fn policy_page(engine: Engine) {
    let app = common::spawn(engine).await;
    let c = Client::new();
    let en = text(
        c.get(format!("{}/privacy?lang=en", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(en.contains("<h2>Information we collect</h2>"), "{en}");
    assert!(en.contains("<li>You can opt out of marketing communications.</li>"));
    assert!(!en.contains("আমরা কী তথ্য সংগ্রহ করি"));
    let bn = text(c.get(format!("{}/privacy", app.base)).send().await.unwrap()).await;
    assert!(bn.contains("আমরা কী তথ্য সংগ্রহ করি"));
    assert!(!bn.contains("Information we collect"));
}
both_engines!(policy_page_in_the_visitors_language, super::policy_page);
