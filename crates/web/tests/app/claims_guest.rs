//! Filing as a guest from the tracking page, on both engines: the code
//! goes only to the number the order was placed with (the page answers the
//! same for any other), it signs that customer in and leads to the order's
//! claim form; a code for another number, a wrong code, or an account with
//! a password do not.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_testkit::{both_engines, Engine};
use common::html::{browser, text};
use common::privacy::{code_in, place, set_status, sms_count, wait_for_sms};
use common::TestApp;

async fn ask(app: &TestApp, client: &reqwest::Client, form: &[(&str, &str)]) -> (u16, String) {
    let res = client
        .post(app.url("/track/claim?lang=en"))
        .form(form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), text(res).await)
}

fn step_two<'a>(number: &'a str, phone: &'a str, code: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("step", "2"),
        ("number", number),
        ("phone", phone),
        ("code", code),
    ]
}

async fn guest(engine: Engine) {
    let app = common::spawn_with_sms(engine).await;
    let admin = app.staff("admin", Role::Admin).await;
    let (number, _) = place(&app, "Guest Buyer", "01711000601").await;
    let (other_number, _) = place(&app, "Other Buyer", "01711000602").await;
    for n in [&number, &other_number] {
        for to in ["confirmed", "packed", "handed_to_courier", "delivered"] {
            set_status(&app, &admin, n, to).await;
        }
    }
    // The tracking page offers it on a delivered order.
    let visitor = browser();
    let tracked = visitor
        .post(app.url("/track?lang=en"))
        .form(&[("number", number.as_str()), ("phone", "01711000601")])
        .send()
        .await
        .unwrap();
    let tracked = text(tracked).await;
    assert!(tracked.contains("id=\"guest-claim\""), "{tracked}");

    // Any other number gets the same answer, and no SMS.
    let (status, stranger) = ask(
        &app,
        &visitor,
        &[("number", &number), ("phone", "01711000699")],
    )
    .await;
    let (status_owner, owner) = ask(
        &app,
        &visitor,
        &[("number", &number), ("phone", "01711000601")],
    )
    .await;
    assert_eq!((status, status_owner), (200, 200));
    let said = |page: &str| page.contains("If this is the number the order was placed with");
    assert!(said(&stranger) && said(&owner), "{stranger}");
    let sms = wait_for_sms(&app, "+8801711000601", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(sms_count(&app, "+8801711000699"), 0);
    let code = code_in(&sms);

    // The other customer's own code does not open this order.
    let (_, _) = ask(
        &app,
        &visitor,
        &[("number", &other_number), ("phone", "01711000602")],
    )
    .await;
    let their_code = code_in(&wait_for_sms(&app, "+8801711000602", 1).await);
    let (status, page) = ask(
        &app,
        &visitor,
        &step_two(&number, "01711000602", &their_code),
    )
    .await;
    assert_eq!(status, 422, "{page}");
    // A wrong code: 422, still signed out.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, _) = ask(&app, &visitor, &step_two(&number, "01711000601", wrong)).await;
    assert_eq!(status, 422);

    // The right code signs them in and leads to the order's claim form.
    let (status, page) = ask(&app, &visitor, &step_two(&number, "01711000601", &code)).await;
    assert_eq!(status, 200, "followed to the order page: {page}");
    assert!(page.contains("File a claim"), "{page}");
    assert!(page.contains(&number));
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'customer.sign_in_by_code'",
    )
    .fetch_one(&app.services.db().pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    // A code is used once.
    let (status, _) = ask(&app, &browser(), &step_two(&number, "01711000601", &code)).await;
    assert_eq!(status, 422);

    // A number with a password signs in with it instead: told so once the code proved it.
    sqlx::query("UPDATE customers SET password_hash = 'x' WHERE id = (SELECT customer_id FROM orders WHERE id = $1)")
        .bind(chotomoni_domain::OrderNumber::parse(&other_number).unwrap().id().0)
        .execute(&app.services.db().pool)
        .await
        .unwrap();
    let (status, _) = ask(
        &app,
        &browser(),
        &[("number", &other_number), ("phone", "01711000602")],
    )
    .await;
    assert_eq!(status, 200);
    let fresh = code_in(&wait_for_sms(&app, "+8801711000602", 2).await);
    let (status, page) = ask(
        &app,
        &browser(),
        &step_two(&other_number, "01711000602", &fresh),
    )
    .await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("sign in with its password"), "{page}");
}
both_engines!(a_guest_files_from_the_tracking_page, super::guest);
