//! The public privacy request form, on both engines: one-time codes by SMS
//! and email (wrong, for another kind, expired, replayed, for a stranger's
//! number), the same answer whether or not an address is a customer's, the
//! disclosure of the address to the provider, and the guest who gets their
//! copy of their data from the request's status page.
use crate::common;

use chotomoni_testkit::{both_engines, Engine};
use common::privacy::{
    code_in, confirm, disclosures, place, settled_disclosures, submit, wait_for_sms,
};

async fn public_form(engine: Engine) {
    let app = common::spawn_with_sms(engine).await;
    place(&app, "Tania Sultana", "01711000601").await;
    let sms = app.sms.as_ref().unwrap();

    // A stranger's number and a customer's get the same page; only the customer gets a code.
    let (status, stranger, _) =
        submit(&app, &[("kind", "access"), ("address", "01711000699")]).await;
    let (status2, known, _) = submit(&app, &[("kind", "access"), ("address", "01711000601")]).await;
    assert_eq!((status, status2), (200, 200));
    assert_eq!(
        stranger.replace("01711000699", "N"),
        known.replace("01711000601", "N")
    );
    assert!(sms.last_to("+8801711000699").is_none());
    let code = code_in(&wait_for_sms(&app, "+8801711000601", 1).await);
    // Sending it gave the number to the SMS provider: in the disclosure log.
    assert_eq!(
        settled_disclosures(&app, 1).await,
        [(
            "service_provider".into(),
            "customers.phone_enc".into(),
            "security".into()
        )]
    );

    // A code for a stranger's number never works.
    let (status, page, _) = confirm(&app, "access", "01711000699", &code).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("not the code we sent") || page.contains("is not"),
        "{page}"
    );

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, page, _) = confirm(&app, "access", "01711000601", wrong).await;
    assert_eq!(status, 422);
    assert!(page.contains("role=\"alert\""), "{page}");
    // A code for another kind of request does not work for this one.
    let (status, _, _) = confirm(&app, "erasure", "01711000601", &code).await;
    assert_eq!(status, 422);

    let (status, _, location) = confirm(&app, "access", "01711000601", &code).await;
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert!(
        location.starts_with("/privacy/requests/status/"),
        "{location}"
    );
    let (_, _, replay) = confirm(&app, "access", "01711000601", &code).await;
    assert!(replay.is_none(), "a used code does not work twice");
    let req: (String, String, Option<String>) =
        sqlx::query_as("SELECT kind, channel, verified_by FROM privacy_requests")
            .fetch_one(&app.services.db().pool)
            .await
            .unwrap();
    assert_eq!(
        req,
        (
            "access".into(),
            "public_form".into(),
            Some("one_time_code_sms".into())
        )
    );

    // An expired code is refused.
    submit(
        &app,
        &[("kind", "marketing_opt_out"), ("address", "01711000601")],
    )
    .await;
    let code = code_in(&wait_for_sms(&app, "+8801711000601", 2).await);
    // Eleven minutes later: a code works for ten.
    app.services
        .clock()
        .advance(std::time::Duration::from_secs(11 * 60));
    let (status, page, _) = confirm(&app, "marketing_opt_out", "01711000601", &code).await;
    assert_eq!(status, 422);
    assert!(page.contains("expired"), "{page}");
    // Nothing about codes is kept in clear.
    let hashes: Vec<Vec<u8>> = sqlx::query_scalar("SELECT code_hash FROM request_codes")
        .fetch_all(&app.services.db().pool)
        .await
        .unwrap();
    assert!(hashes
        .iter()
        .all(|h| !h.windows(6).any(|w| w == code.as_bytes())));
}
both_engines!(
    the_public_form_confirms_identity_by_code,
    super::public_form
);

async fn public_request_by_email(engine: Engine) {
    let app = common::spawn(engine).await;
    let (_, customer) = place(&app, "Moni Akter", "01711000901").await;
    let (smtp, mailer) = common::smtp_stand_in().await;
    let services = app
        .services
        .clone()
        .with_mail(mailer)
        .with_public_url("https://shop.example");
    let client = chotomoni_services::auth::ClientInfo::default();
    let kind = chotomoni_domain::RequestKind::MarketingOptOut;
    services
        .start_public_request(kind, "nobody.here@example.com", &client)
        .await
        .unwrap();
    // The email typed at the checkout is not on record until proven.
    services
        .start_public_request(kind, "shapla.test@example.com", &client)
        .await
        .unwrap();
    assert!(
        smtp.messages().is_empty(),
        "a stranger's address, and an unproven one, get nothing"
    );
    // The customer proves it with the link sent to it.
    app.customer_session(customer, &client).await;
    let me = chotomoni_services::Actor::Customer(chotomoni_domain::CustomerId(customer));
    services.send_email_confirmation(&me).await.unwrap();
    let link = smtp.messages().remove(0).body_text();
    let token = common::privacy::email_link_token(&link);
    services.confirm_email(&token).await.unwrap();
    // The address on record, typed in another case.
    services
        .start_public_request(kind, "Shapla.Test@Example.com", &client)
        .await
        .unwrap();
    settled_disclosures(&app, 1).await;
    let sent = common::privacy::eventually(|| async {
        let sent = smtp.messages();
        (sent.len() >= 2).then_some(sent)
    })
    .await;
    assert_eq!(sent.len(), 2, "the confirmation link, then the code");
    assert_eq!(sent[1].rcpt_to, ["shapla.test@example.com"]);
    let code = code_in(&sent[1].body_text());
    // Each message gave the address to the mail provider.
    let to_provider = (
        "service_provider".into(),
        "customers.email_enc".into(),
        "security".into(),
    );
    assert_eq!(
        common::privacy::settled_disclosures(&app, 2).await,
        [to_provider.clone(), to_provider]
    );
    let logged = services
        .confirm_public_request(kind, "shapla.test@example.com", &code)
        .await
        .unwrap();
    assert_eq!(
        logged.request.verified_by.as_deref(),
        Some("one_time_code_email")
    );
    assert_eq!(
        logged.request.status.as_str(),
        "completed",
        "an opt-out is carried out at once"
    );
    let again = services
        .confirm_public_request(kind, "shapla.test@example.com", &code)
        .await
        .unwrap_err();
    // Refused as used, or, since the unproven address was sent nothing,
    // as not the code of the older unused row for it.
    assert!(
        again.to_string().contains("expired or was already used")
            || again.to_string().contains("not the code we sent"),
        "{again}"
    );
}
both_engines!(
    the_public_form_confirms_by_email_too,
    super::public_request_by_email
);

/// A guest (no account) who asked through the public form gets the copy
/// from the request's status page, whose link is the secret.
async fn guest_export(engine: Engine) {
    let app = common::spawn_with_sms(engine).await;
    place(&app, "Guest Shirin", "01711001101").await;
    let status_page =
        common::privacy::public_request(&app, "access", "01711001101", "+8801711001101").await;
    let get = |path: String| {
        let req = app.http.get(app.url(&path));
        async move {
            let res = req.send().await.unwrap();
            (
                res.status().as_u16(),
                common::html::unescape(&res.text().await.unwrap()),
            )
        }
    };
    let (_, link) = common::privacy::wait_for_download(&app, &status_page).await;
    let res = app.http.get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), 200, "the link alone is enough");
    assert_eq!(&res.bytes().await.unwrap()[..2], b"PK");
    // Shown once: the next visit offers a new link instead.
    let (_, again) = get(status_page.clone()).await;
    assert!(!again.contains("id=\"download\""));
    assert!(
        again.contains("The download link was already shown"),
        "{again}"
    );
    let base = status_page.split('?').next().unwrap();
    let res = app
        .http
        .post(app.url(&format!("{base}/export-link?lang=en")))
        .form(&[("csrf", "")])
        .send()
        .await
        .unwrap();
    let fresh = common::html::unescape(&res.text().await.unwrap());
    let new_link = regex::Regex::new(r#"id="download" href="([^"]+)""#)
        .unwrap()
        .captures(&fresh)
        .unwrap_or_else(|| panic!("{fresh}"))[1]
        .to_owned();
    assert_ne!(new_link, link);
    let old = app.http.get(app.url(&link)).send().await.unwrap();
    assert_eq!(old.status(), 404, "a new link ends the old one");
    // A made-up status link is not found.
    let (status, _) = get("/privacy/requests/status/00000000000000000000000000000000".into()).await;
    assert_eq!(status, 404);
}
both_engines!(
    a_guest_downloads_the_copy_from_the_status_page,
    super::guest_export
);

/// An SMS transport that holds every message until the test lets it go, as
/// a slow provider would.
struct HeldSms {
    release: tokio::sync::Semaphore,
    sent: std::sync::Mutex<Vec<String>>,
}

impl chotomoni_sms::SmsSender for HeldSms {
    fn send<'a>(&'a self, to_e164: &'a str, _text: &'a str) -> chotomoni_sms::SendFuture<'a> {
        Box::pin(async move {
            self.release.acquire().await.expect("open").forget();
            self.sent.lock().unwrap().push(to_e164.to_owned());
            Ok(())
        })
    }
}

async fn answer_does_not_wait(engine: Engine) {
    let held = std::sync::Arc::new(HeldSms {
        release: tokio::sync::Semaphore::new(0),
        sent: Default::default(),
    });
    let app = common::spawn_with_sender(engine, held.clone()).await;
    place(&app, "Tania Sultana", "01711000801").await;
    // A deadlock guard, not a speed test: waiting for the SMS would hang.
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap();
    let mut pages = vec![];
    for address in ["01711000801", "01711000899"] {
        let res = http
            .post(app.url("/privacy/requests?lang=en"))
            .form(&[("kind", "access"), ("address", address)])
            .send()
            .await
            .expect("answered while the customer's SMS is still held");
        assert_eq!(res.status(), 200);
        pages.push(res.text().await.unwrap().replace(address, "N"));
    }
    assert_eq!(
        pages[0], pages[1],
        "a customer's number and a stranger's look alike"
    );
    assert!(held.sent.lock().unwrap().is_empty(), "nothing was sent yet");
    assert!(disclosures(&app).await.is_empty());

    held.release.add_permits(10);
    let disclosed = settled_disclosures(&app, 1).await;
    assert_eq!(disclosed.len(), 1);
    assert_eq!(
        *held.sent.lock().unwrap(),
        ["+8801711000801"],
        "only the customer's"
    );
}
both_engines!(
    the_public_form_answers_before_the_code_is_sent,
    super::answer_does_not_wait
);
