//! Paying from the pages: the checkout sends an online order straight to
//! the chosen gateway, and a signed-in customer's order page offers a
//! second try after a failed one; SSLCommerz's fail and cancel returns, and
//! a success return the gateway knows nothing of.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_gateway_sslcommerz::stand_in::Trouble;
use chotomoni_testkit::{both_engines, Engine};
use common::html::{csrf_of, text};
use common::payments::{
    bkash_payment_id, follow, online_order, payment_row, payment_status, post_return, spawn,
    started,
};
use reqwest::{redirect, Client, StatusCode};

/// A browser that keeps cookies and shows redirects instead of following them.
fn visitor() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// The tracking page, in English, for an order number and its phone.
async fn tracking_page(c: &Client, app: &common::TestApp, number: &str, phone: &str) -> String {
    let res = c
        .post(app.url("/track?lang=en"))
        .form(&[("number", number), ("phone", phone)])
        .send()
        .await
        .unwrap();
    text(res).await
}

/// The customer's order page, in English, as `token` sees it.
async fn order_page(c: &Client, app: &common::TestApp, token: &str, number: &str) -> String {
    let res = c
        .get(app.url(&format!("/account/orders/{number}?lang=en")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    text(res).await
}

async fn checkout_and_order_page_lead_to_the_gateway_on(engine: Engine) {
    let (app, g) = spawn(engine).await;
    let c = visitor();
    let res = c
        .post(app.url("/cart/add?lang=en"))
        .form(&[("sku", "SAR-JAM-01"), ("quantity", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = text(c.get(app.url("/checkout?lang=en")).send().await.unwrap()).await;
    assert!(
        page.contains(r#"name="gateway" value="sslcommerz""#),
        "{page}"
    );
    assert!(page.contains("bKash"), "{page}");
    let form = [
        ("csrf", csrf_of(&page)),
        ("name", "Rahima Begum".into()),
        ("phone", "01712345678".into()),
        ("email", "".into()),
        ("line", "House 12, Road 5".into()),
        ("area", "Mirpur 10".into()),
        ("district", "Dhaka".into()),
        ("payment", "online".into()),
        ("gateway", "bkash".into()),
    ];
    let res = c
        .post(app.url("/checkout"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let created = g.bkash.payments();
    assert_eq!(created.len(), 1);
    assert!(
        to.starts_with(&g.bkash.base_url[..20]),
        "sent to bKash: {to}"
    );
    assert_eq!(created[0].received["amount"], "8500.00");

    // The return page speaks Bangla unless asked otherwise.
    let res = reqwest::get(g.bkash.customer(&created[0].payment_id, None, "cancel"))
        .await
        .unwrap();
    assert!(text(res).await.contains("পেমেন্ট হয়নি"));

    // The customer cancels on bKash's page, then signs in and pays from
    // the order's page.
    let number = created[0].received["payerReference"]
        .as_str()
        .unwrap()
        .to_owned();
    let tran_id = created[0].received["merchantInvoiceNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, page) = follow(&g.bkash.customer(&created[0].payment_id, None, "cancel")).await;
    assert!(page.contains("Payment not made"), "{page}");
    let customer: i64 =
        sqlx::query_scalar("SELECT customer_id FROM orders ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.services.db().pool)
            .await
            .unwrap();
    let (token, _) = app
        .customer_session(customer, &chotomoni_services::auth::ClientInfo::default())
        .await;
    let page = order_page(&c, &app, &token, &number).await;
    assert!(
        page.contains(&format!(r#"action="/account/orders/{number}/pay""#)),
        "{page}"
    );
    let res = c
        .post(app.url(&format!("/account/orders/{number}/pay")))
        .bearer_auth(&token)
        .form(&[("csrf", csrf_of(&page)), ("gateway", "bkash".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let again = g.bkash.payments();
    assert_eq!(again.len(), 2);
    let second = bkash_payment_id(
        &g.bkash,
        again[1].received["merchantInvoiceNumber"].as_str().unwrap(),
    );
    assert_ne!(again[1].received["merchantInvoiceNumber"], tran_id.as_str());
    let (_, page) = follow(&g.bkash.customer(&second, Some("01898765432"), "success")).await;
    assert!(page.contains("Payment received"), "{page}");
    // Paid: the page offers no payment any more.
    let page = order_page(&c, &app, &token, &number).await;
    assert!(!page.contains("/pay\""), "{page}");

    // SSLCommerz down at checkout: the order is placed, and the page says
    // it is not paid yet.
    g.ssl.set_trouble(Trouble::ServerErrors {
        count: 5,
        status: 503,
    });
    let fresh = visitor();
    fresh
        .post(app.url("/cart/add?lang=en"))
        .form(&[("sku", "SAR-JAM-01"), ("quantity", "1")])
        .send()
        .await
        .unwrap();
    let checkout = text(
        fresh
            .get(app.url("/checkout?lang=en"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let mut down = form.clone();
    down[0].1 = csrf_of(&checkout);
    down[8].1 = "sslcommerz".into();
    let res = fresh
        .post(app.url("/checkout"))
        .form(&down)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.ends_with("/placed?payment=not_started"), "{to}");
    let placed = text(
        fresh
            .get(app.url(&format!("{to}&lang=en")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(placed.contains("not paid yet"), "{placed}");

    // Someone else's order is not theirs to pay.
    let other = online_order(&app, "Shirin Akter", "01799887766").await;
    let res = c
        .post(app.url(&format!("/account/orders/{other}/pay")))
        .bearer_auth(&token)
        .form(&[("csrf", csrf_of(&page)), ("gateway", "bkash".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
both_engines!(
    checkout_and_order_page_lead_to_the_gateway,
    super::checkout_and_order_page_lead_to_the_gateway_on
);

async fn sslcommerz_fail_cancel_and_an_empty_success_return_on(engine: Engine) {
    let (app, g) = spawn(engine).await;
    let support = app.staff("support", chotomoni_domain::Role::Support).await;
    for (status, result, row, shown) in [
        ("FAILED", "fail", "failed", "Payment not made"),
        ("CANCELLED", "cancel", "cancelled", "Payment not made"),
    ] {
        let number = online_order(&app, "Jharna Das", "01711000408").await;
        let tran_id = started(&app, &support, &number, "sslcommerz").await;
        let notice = g.ssl.end_unpaid(&tran_id, status);
        let (code, page) = post_return(&app, "sslcommerz", &tran_id, result, &notice).await;
        assert_eq!(code, 200, "{result}");
        assert!(page.contains(shown), "{result}: {page}");
        assert_eq!(payment_row(&app, &tran_id).await.0, row);
        assert_eq!(payment_status(&app, &support, &number).await, "failed");
        // SSLCommerz's IPN of the same outcome changes nothing more.
        assert_eq!(g.ssl.post_notice(&tran_id, &notice).await, 200);
        assert_eq!(payment_row(&app, &tran_id).await.0, row);
    }
    // A browser at the success URL that says VALID but never paid: the
    // gateway knows no payment, so it is only pending.
    let number = online_order(&app, "Jharna Das", "01711000408").await;
    let tran_id = started(&app, &support, &number, "sslcommerz").await;
    let claimed = vec![
        ("tran_id".to_owned(), tran_id.clone()),
        ("status".to_owned(), "VALID".to_owned()),
        ("amount".to_owned(), "9400.00".to_owned()),
    ];
    let (_, page) = post_return(&app, "sslcommerz", &tran_id, "success", &claimed).await;
    assert!(page.contains("Payment being checked"), "{page}");
    assert_eq!(payment_row(&app, &tran_id).await.0, "started");
    assert_eq!(payment_status(&app, &support, &number).await, "pending");
    // A return for a transaction this shop never started.
    let (code, _) = post_return(
        &app,
        "sslcommerz",
        "CM-999999-NOTOURS1",
        "success",
        &claimed,
    )
    .await;
    assert_eq!(code, 404);
}
both_engines!(
    sslcommerz_fail_cancel_and_an_empty_success_return,
    super::sslcommerz_fail_cancel_and_an_empty_success_return_on
);

async fn a_guest_pays_again_from_the_tracking_page_on(engine: Engine) {
    let (app, g) = spawn(engine).await;
    let support = app.staff("support", Role::Support).await;
    let number = online_order(&app, "Sabina Yasmin", "01711000611").await;
    // The first try failed at bKash.
    let tran_id = started(&app, &support, &number, "bkash").await;
    let id = bkash_payment_id(&g.bkash, &tran_id);
    follow(&g.bkash.customer(&id, None, "failure")).await;
    assert_eq!(payment_status(&app, &support, &number).await, "failed");

    let c = visitor();
    let tracked = tracking_page(&c, &app, &number, "01711000611").await;
    assert!(tracked.contains("id=\"track-pay\""), "{tracked}");
    // A visitor with no session: the form carries no token, and needs none.
    assert!(tracked.contains(r#"name="csrf" value="""#), "{tracked}");
    let csrf = String::new();
    let pay = |phone: &'static str, gateway: &'static str| {
        let (c, app, csrf, number) = (&c, &app, csrf.clone(), number.clone());
        async move {
            c.post(app.url("/track/pay?lang=en"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("number", number.as_str()),
                    ("phone", phone),
                    ("gateway", gateway),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    // Another phone number starts nothing: the look-up's own answer.
    let sessions = g.bkash.received("create").len();
    let res = pay("01711000699", "bkash").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(g.bkash.received("create").len(), sessions);
    assert_eq!(
        pay("01711000611", "paypal").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // The order's own phone: off to bKash, and paid on the way back.
    let res = pay("01711000611", "bkash").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(g.bkash.received("create").len(), sessions + 1);
    let retry = g
        .bkash
        .payments()
        .into_iter()
        .last()
        .expect("a second bKash payment");
    assert!(to.contains(&retry.payment_id), "{to}");
    let (_, page) = follow(
        &g.bkash
            .customer(&retry.payment_id, Some("01898765432"), "success"),
    )
    .await;
    assert!(page.contains("Payment received"), "{page}");
    assert_eq!(payment_status(&app, &support, &number).await, "paid");
    // Paid: the tracking page offers no payment any more.
    let tracked = tracking_page(&c, &app, &number, "01711000611").await;
    assert!(!tracked.contains("id=\"track-pay\""));
}
both_engines!(
    a_guest_pays_again_from_the_tracking_page,
    super::a_guest_pays_again_from_the_tracking_page_on
);
