//! Couriers from the staff pages, on both engines.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_testkit::{both_engines, Engine};
use common::couriers::{order_state, packed, packed_to, REDX_WEBHOOK_TOKEN};

/// The same from the staff pages, with the session cookie and CSRF token
/// a browser has: booking from the order page (the district's courier
/// preselected), the couriers page with its bulk booking and attention
/// list, and a returned parcel that leaves the list once the station
/// records what came back.
async fn booked_from_the_pages_on(engine: Engine) {
    use common::html::{browser, csrf_of, text};
    use common::tus::metadata;
    let (app, stands) = common::couriers::spawn(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let packer = app.staff("packer", Role::Packer).await;
    let ctg = packed_to(&app, &admin, "01711000701", "Agrabad", "Chattogram").await;
    app.staff("desk", Role::Support).await;
    let c = browser();
    let res = c
        .post(app.url("/staff/sign-in?lang=en"))
        .form(&[("username", "desk"), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let page = text(
        c.get(app.url(&format!("/staff/orders/{ctg}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        page.contains(r#"<option value="redx" selected>redx (default here)</option>"#),
        "{page}"
    );
    let csrf = csrf_of(&page);
    let forged = c
        .post(app.url(&format!("/staff/orders/{ctg}/book")))
        .form(&[("courier", "redx")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403, "no CSRF token, nothing booked");
    assert!(stands.redx.parcels().is_empty());
    let res = c
        .post(app.url(&format!("/staff/orders/{ctg}/book")))
        .form(&[("csrf", csrf.as_str()), ("courier", "redx")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "followed back to the order");
    let tracking = stands.redx.parcels()[0].0.clone();
    let page = text(res).await;
    assert!(
        page.contains(&format!(r#"id="consignment-id">{tracking}<"#)),
        "{page}"
    );

    // Every other packed order at once, from the couriers page.
    let other = packed(&app, &admin, "Bulk Customer", "01711000702").await;
    let page = text(c.get(app.url("/staff/couriers")).send().await.unwrap()).await;
    let res = c
        .post(app.url("/staff/couriers/book-packed"))
        .form(&[("csrf", csrf_of(&page).as_str()), ("courier", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = text(res).await;
    assert!(
        page.contains(&format!(r#"<a href="/staff/orders/{other}">{other}</a>"#)),
        "{page}"
    );
    assert_eq!(stands.steadfast.consignments().len(), 1);

    // Returned: listed until the station records the return proof.
    let hook = app.url("/webhooks/couriers/redx");
    for status in ["delivery-in-progress", "returned"] {
        let res = stands
            .redx
            .send_webhook(&hook, REDX_WEBHOOK_TOKEN, &tracking, status)
            .await;
        assert_eq!(res.status(), 200);
    }
    app.reports_applied().await;
    assert_eq!(order_state(&app, &admin, &ctg).await.0, "returned");
    let page = text(c.get(app.url("/staff/couriers")).send().await.unwrap()).await;
    assert!(
        page.contains(&format!(
            "#courier\">{ctg}</a></td><td>redx</td>\n<td>returned</td>"
        )),
        "{page}"
    );
    let meta = metadata(&[
        ("order", ctg.as_str()),
        ("kind", "return"),
        ("filename", "back.mp4"),
    ]);
    app.upload_whole(&packer, &meta, &chotomoni_testkit::fake_mp4(4_000))
        .await;
    let page = text(c.get(app.url("/staff/couriers")).send().await.unwrap()).await;
    assert!(!page.contains(&format!("#courier\">{ctg}</a>")), "{page}");

    // A courier's payment recorded from its statement, in taka as typed.
    let res = c
        .post(app.url("/staff/couriers/payouts"))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("courier", "redx"),
            ("amount_taka", "1,000.50"),
            ("reference", "RX-STATEMENT-7"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = text(res).await;
    assert!(page.contains("<td>redx</td><td>1</td><td>৳0.00</td><td>৳0.00</td><td>৳1,000.50</td><td>-৳1,000.50</td>"), "{page}");

    // Packers have no courier desk.
    let res = app
        .http
        .get(app.url("/staff/couriers"))
        .bearer_auth(&packer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}
both_engines!(booked_from_the_pages, super::booked_from_the_pages_on);
