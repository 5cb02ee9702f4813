//! Marketing opt-out by the email link (RFC 8058 one-click) and by SMS STOP,
//! on both engines: a marketing email goes out through the real SMTP client
//! to a local SMTP stand-in with `List-Unsubscribe` and
//! `List-Unsubscribe-Post`; the one-click POST to the header's URL opts the
//! person out and the next send is refused at send time; forged links are
//! not found; Twilio's signed inbound-message webhook with STOP suppresses
//! the number (a keyed hash, customer or not), unsigned or wrongly signed
//! ones change nothing.
use crate::common;

use chotomoni_domain::{ConsentPurpose, CustomerId};
use chotomoni_services::consents::ConsentChannel;
use chotomoni_services::marketing::{MarketingOutcome, SMS_OPT_OUT_LINE};
use chotomoni_services::{Actor, Services};
use chotomoni_testkit::{both_engines, Engine};
use chotomoni_web::api::webhooks::TwilioAuthToken;
use chotomoni_web::{AppState, WebConfig};
use serde_json::{json, Value};

/// The shop's public address: links in messages and webhook signatures
/// use it, while the test server listens on a local port.
const PUBLIC: &str = "https://shop.example";
const WEBHOOK: &str = "/webhooks/sms/twilio";

struct Shop {
    app: common::TestApp,
    smtp: chotomoni_mail::stand_in::StandIn,
    services: Services,
    /// The local address of the server with mail and webhooks configured.
    base: String,
}

impl Shop {
    async fn open(engine: Engine) -> Shop {
        let app = common::spawn_with_sms(engine).await;
        let (smtp, mailer) = common::smtp_stand_in().await;
        let services = app
            .services
            .clone()
            .with_mail(mailer)
            .with_public_url(PUBLIC);
        let web = WebConfig {
            twilio_auth_token: Some(TwilioAuthToken::new(
                app.sms.as_ref().unwrap().auth_token.clone(),
            )),
            ..WebConfig::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(chotomoni_web::serve(
            listener,
            AppState {
                services: services.clone(),
                config: web,
            },
            std::future::pending(),
        ));
        Shop {
            app,
            smtp,
            services,
            base,
        }
    }

    /// Where a public URL is served in this test.
    fn local(&self, public_url: &str) -> String {
        public_url.replacen(PUBLIC, &self.base, 1)
    }

    fn twilio(&self) -> &chotomoni_sms::stand_in::StandIn {
        self.app.sms.as_ref().unwrap()
    }

    /// A customer from a checkout (`sms_opt_in`: the checkout's box ticked,
    /// signed in: a guest's tick is not a consent until they confirm it).
    async fn customer(&self, name: &str, phone: &str, email: &str, sms_opt_in: bool) -> CustomerId {
        let mut body = common::order_body(name, phone);
        body["customer"]["email"] = json!(email);
        let (status, order) = self.app.post("/api/v1/orders", None, &body).await;
        assert_eq!(status, 201, "{order}");
        let id: i64 = sqlx::query_scalar("SELECT customer_id FROM orders ORDER BY id DESC LIMIT 1")
            .fetch_one(&self.services.db().pool)
            .await
            .unwrap();
        if sms_opt_in {
            let (token, _) = self
                .app
                .customer_session(id, &chotomoni_services::auth::ClientInfo::default())
                .await;
            body["marketing_opt_in"] = json!(true);
            let (status, order) = self.app.post("/api/v1/orders", Some(&token), &body).await;
            assert_eq!(status, 201, "{order}");
        }
        CustomerId(id)
    }

    async fn ledger(&self, c: CustomerId) -> Vec<(String, i64, String)> {
        sqlx::query_as(
            "SELECT purpose, granted, channel FROM consents WHERE customer_id = $1 ORDER BY id",
        )
        .bind(c.0)
        .fetch_all(&self.services.db().pool)
        .await
        .unwrap()
    }

    async fn suppressions(&self) -> Vec<(Vec<u8>, String)> {
        sqlx::query_as("SELECT address_hash, channel FROM marketing_suppressions ORDER BY channel")
            .fetch_all(&self.services.db().pool)
            .await
            .unwrap()
    }

    async fn may_send(&self, c: CustomerId, p: ConsentPurpose) -> bool {
        self.services.may_send_marketing(c, p).await.unwrap()
    }

    /// Every audit entry, as one text, to look for personal data in.
    async fn audit_text(&self) -> String {
        let rows: Vec<(String, String, String, String)> =
            sqlx::query_as("SELECT actor, action, target, detail FROM audit_log ORDER BY id")
                .fetch_all(&self.services.db().pool)
                .await
                .unwrap();
        rows.iter()
            .map(|(a, b, c, d)| format!("{a} {b} {c} {d}\n"))
            .collect()
    }
}

fn one_header(m: &chotomoni_mail::stand_in::Received, name: &str) -> String {
    let values = m.header_values(name);
    assert_eq!(values.len(), 1, "{name} exactly once in\n{}", m.text());
    values[0].clone()
}

async fn email_one_click(engine: Engine) {
    let shop = Shop::open(engine).await;
    let me = shop
        .customer(
            "Shapla Akter",
            "01711000555",
            "Shapla.Test@example.com",
            true,
        )
        .await;
    shop.services
        .set_consent(
            &Actor::Customer(me),
            ConsentPurpose::MarketingEmail,
            true,
            ConsentChannel::AccountPage,
        )
        .await
        .unwrap();

    // The send goes out over SMTP with both headers, each exactly once.
    let outcome = shop
        .services
        .send_marketing_email(
            me,
            "ঈদের অফার / Eid offers",
            "নতুন শাড়ি এসেছে। New saris are in.",
        )
        .await
        .unwrap();
    assert_eq!(outcome, MarketingOutcome::Sent);
    let sent = shop.smtp.messages();
    assert_eq!(sent.len(), 1);
    let m = &sent[0];
    assert_eq!(m.rcpt_to, vec!["Shapla.Test@example.com".to_owned()]);
    assert_eq!(m.mail_from, "shop@chotomoni.test");
    let list_unsubscribe = one_header(m, "List-Unsubscribe");
    assert_eq!(
        one_header(m, "List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    let uris: Vec<&str> = list_unsubscribe
        .split(',')
        .map(|u| u.trim().trim_start_matches('<').trim_end_matches('>'))
        .collect();
    assert_eq!(uris.len(), 2, "{list_unsubscribe}");
    let https = uris[0];
    assert!(
        https.starts_with(&format!("{PUBLIC}/unsubscribe/")),
        "the first URI is the HTTPS one-click link: {https}"
    );
    assert_eq!(uris[1], "mailto:shop@chotomoni.test?subject=unsubscribe");
    let token = https.rsplit('/').next().unwrap();
    assert_eq!(token.len(), 35, "version, channel, reference and MAC");
    assert!(!token.to_lowercase().contains("shapla"));
    let body = m.body_text();
    assert!(body.contains("New saris are in."), "{body}");
    assert!(body.contains(https), "the link is in the text too: {body}");

    // Opening the link shows the button in both languages and changes nothing.
    let consents_before = shop.app.count("consents").await;
    let res = shop.app.http.get(shop.local(https)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = common::html::text(res).await;
    for words in [
        "আনসাবস্ক্রাইব করুন",
        "Unsubscribe",
        "Stop marketing emails",
        "মার্কেটিং ইমেইল বন্ধ করুন",
    ] {
        assert!(page.contains(words), "{words} in {page}");
    }
    assert!(page.contains(r#"name="List-Unsubscribe" value="One-Click""#));
    assert_eq!(shop.app.count("consents").await, consents_before);
    assert!(shop.may_send(me, ConsentPurpose::MarketingEmail).await);

    // RFC 8058: a POST with List-Unsubscribe=One-Click, no cookie, no CSRF
    // token; answered 200, no redirect, no cookie set.
    let one_click = || {
        shop.app
            .http
            .post(shop.local(https))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
    };
    let res = one_click().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("set-cookie").is_none());
    let page = common::html::text(res).await;
    assert!(page.contains("You are unsubscribed"), "{page}");
    assert!(page.contains("আনসাবস্ক্রাইব হয়েছে"), "{page}");
    let ledger = shop.ledger(me).await;
    assert_eq!(
        ledger.last().unwrap(),
        &(
            "marketing_email".to_owned(),
            0,
            "unsubscribe_link".to_owned()
        )
    );
    let hash = shop
        .services
        .vault()
        .keyring()
        .blind_index("suppress-email", "shapla.test@example.com");
    assert!(
        shop.suppressions()
            .await
            .contains(&(hash, "email".to_owned())),
        "the email's keyed hash is on the suppression list"
    );

    // The next send is refused at send time, and says so as an outcome.
    assert!(!shop.may_send(me, ConsentPurpose::MarketingEmail).await);
    let outcome = shop
        .services
        .send_marketing_email(me, "Another offer", "Again")
        .await
        .unwrap();
    assert_eq!(outcome, MarketingOutcome::OptedOut);
    assert_eq!(shop.smtp.messages().len(), 1, "nothing more went out");

    // Idempotent: a second click answers the same and records nothing.
    let ledger_len = shop.ledger(me).await.len();
    let suppressed = shop.suppressions().await.len();
    let res = one_click().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(shop.ledger(me).await.len(), ledger_len);
    assert_eq!(shop.suppressions().await.len(), suppressed);

    // The email link stops email only; SMS marketing is as it was.
    assert!(shop.may_send(me, ConsentPurpose::MarketingSms).await);

    // The audit log names the person by reference only.
    let audit = shop.audit_text().await;
    for action in ["marketing.send", "marketing.refused", "consent.withdraw"] {
        assert!(audit.contains(action), "{action} in {audit}");
    }
    assert!(audit.contains("via=unsubscribe_link"), "{audit}");
    for personal in ["shapla", "Shapla", "1711000555", "example.com"] {
        assert!(!audit.contains(personal), "{personal} in the audit log");
    }
}

both_engines!(
    a_marketing_email_is_unsubscribed_in_one_click,
    super::email_one_click
);

async fn forged_links(engine: Engine) {
    let shop = Shop::open(engine).await;
    let rupa = shop
        .customer("Rupa Khatun", "01711000777", "rupa.test@example.com", false)
        .await;
    let mita = shop
        .customer("Mita Das", "01811000888", "mita.test@example.com", true)
        .await;
    let real = shop
        .services
        .unsubscribe_token(rupa, ConsentPurpose::MarketingEmail)
        .unwrap();

    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let raw = b64.decode(&real).unwrap();
    // The MAC of Rupa's link on Mita's reference.
    let mut other_person = raw.clone();
    other_person[2..10].copy_from_slice(&mita.0.to_be_bytes());
    // A link of the right shape, MAC'd under another installation's key.
    let mut body = raw[..10].to_vec();
    body[2..10].copy_from_slice(&mita.0.to_be_bytes());
    let mut signed = b"unsubscribe:".to_vec();
    signed.extend_from_slice(&body);
    let foreign_mac = chotomoni_crypto::MasterKey::generate()
        .keyring()
        .unsubscribe_mac(&signed);
    body.extend_from_slice(&foreign_mac[..16]);
    // One character changed.
    let mut altered = real.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });

    let consents = shop.app.count("consents").await;
    let suppressions = shop.app.count("marketing_suppressions").await;
    for token in [
        altered,
        b64.encode(&other_person),
        b64.encode(&body),
        "not-a-token".to_owned(),
        real[..20].to_owned(),
    ] {
        let url = format!("{}/unsubscribe/{token}", shop.base);
        let res = shop.app.http.get(&url).send().await.unwrap();
        assert_eq!(res.status(), 404, "GET {token}");
        let page = common::html::text(res).await;
        assert!(
            page.contains("This unsubscribe link is not valid"),
            "{page}"
        );
        assert!(page.contains("এই আনসাবস্ক্রাইব লিংকটি সঠিক নয়"), "{page}");
        assert!(
            !page.contains("List-Unsubscribe"),
            "no button on a bad link"
        );
        let res = shop
            .app
            .http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "POST {token}");
    }
    assert_eq!(
        shop.app.count("consents").await,
        consents,
        "nothing recorded"
    );
    assert_eq!(shop.app.count("marketing_suppressions").await, suppressions);
    assert!(shop.may_send(mita, ConsentPurpose::MarketingSms).await);

    // A real link for Mita's SMS marketing, sent as RFC 8058's example
    // does (multipart/form-data), works.
    let token = shop
        .services
        .unsubscribe_token(mita, ConsentPurpose::MarketingSms)
        .unwrap();
    let boundary = "----cm-test-boundary";
    let res = shop
        .app
        .http
        .post(format!("{}/unsubscribe/{token}", shop.base))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--{boundary}--\r\n"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(common::html::text(res)
        .await
        .contains("no more marketing SMS"));
    assert_eq!(
        shop.ledger(mita).await.last().unwrap(),
        &("marketing_sms".to_owned(), 0, "unsubscribe_link".to_owned())
    );
    assert!(!shop.may_send(mita, ConsentPurpose::MarketingSms).await);
}

both_engines!(
    forged_or_altered_unsubscribe_links_are_not_found,
    super::forged_links
);

/// Posts webhook parameters with the given signature header (if any).
async fn post_webhook(
    shop: &Shop,
    params: &[(String, String)],
    signature: Option<&str>,
) -> reqwest::Response {
    let mut req = shop
        .app
        .http
        .post(format!("{}{WEBHOOK}", shop.base))
        .form(params);
    if let Some(s) = signature {
        req = req.header("X-Twilio-Signature", s);
    }
    req.send().await.unwrap()
}

async fn sms_stop(engine: Engine) {
    let shop = Shop::open(engine).await;
    let me = shop
        .customer(
            "Nasrin Sultana",
            "01711000666",
            "nasrin.test@example.com",
            true,
        )
        .await;
    let number = "+8801711000666";
    let signed_url = format!("{PUBLIC}{WEBHOOK}");
    let post_to = format!("{}{WEBHOOK}", shop.base);

    // A marketing SMS ends with how to stop them.
    assert_eq!(
        shop.services
            .send_marketing_sms(me, "ঈদের অফার: ২০% ছাড়। Eid offer: 20% off.")
            .await
            .unwrap(),
        MarketingOutcome::Sent
    );
    let sms = shop.twilio().last_to(number).expect("sent");
    assert!(sms.body.ends_with(SMS_OPT_OUT_LINE), "{}", sms.body);
    assert!(sms
        .body
        .contains("STOP লিখে উত্তর দিন / Reply STOP to opt out"));
    let sent = shop.twilio().messages().len();

    // Unsigned, wrongly signed, signed for another URL, or altered after
    // signing: 403 in the error envelope, and nothing changes.
    let consents = shop.app.count("consents").await;
    let suppressions = shop.app.count("marketing_suppressions").await;
    let params = shop
        .twilio()
        .inbound_sms_params(number, "+15005550006", "STOP");
    let good = shop.twilio().sign(&signed_url, &params);
    let wrong_key = chotomoni_sms::webhook::signature("not the auth token", &signed_url, &params);
    let wrong_url = shop
        .twilio()
        .sign(&format!("https://evil.example{WEBHOOK}"), &params);
    let mut altered = params.clone();
    for (k, v) in altered.iter_mut() {
        if k == "From" {
            *v = "+8801811000999".into();
        }
    }
    for (what, params, signature) in [
        ("unsigned", &params, None),
        ("empty signature", &params, Some("")),
        ("wrong key", &params, Some(wrong_key.as_str())),
        ("wrong URL", &params, Some(wrong_url.as_str())),
        ("altered", &altered, Some(good.as_str())),
    ] {
        let res = post_webhook(&shop, params, signature).await;
        assert_eq!(res.status(), 403, "{what}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_signature", "{what}: {body}");
    }
    assert_eq!(shop.app.count("consents").await, consents);
    assert_eq!(shop.app.count("marketing_suppressions").await, suppressions);
    assert!(shop.may_send(me, ConsentPurpose::MarketingSms).await);

    // Signed as Twilio signs: STOP (any case, with spaces) stops SMS marketing.
    let res = shop
        .twilio()
        .deliver_inbound_sms(&signed_url, &post_to, number, "  Stop\n")
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/xml"));
    let twiml = res.text().await.unwrap();
    assert!(
        twiml.contains("<Response><Message>")
            && twiml.contains("You will get no more marketing SMS"),
        "{twiml}"
    );
    assert!(twiml.contains("মার্কেটিং এসএমএস পাবেন না"), "{twiml}");
    assert_eq!(
        shop.ledger(me).await.last().unwrap(),
        &("marketing_sms".to_owned(), 0, "sms_stop".to_owned())
    );
    let phone_hash = shop
        .services
        .vault()
        .keyring()
        .blind_index("suppress-phone", number);
    assert!(shop
        .suppressions()
        .await
        .contains(&(phone_hash, "sms".to_owned())));
    assert!(!shop.may_send(me, ConsentPurpose::MarketingSms).await);
    assert_eq!(
        shop.services
            .send_marketing_sms(me, "Another offer")
            .await
            .unwrap(),
        MarketingOutcome::OptedOut
    );
    assert_eq!(
        shop.twilio().messages().len(),
        sent,
        "nothing more went out"
    );

    // Again: the same answer, nothing more recorded.
    let ledger_len = shop.ledger(me).await.len();
    let res = shop
        .twilio()
        .deliver_inbound_sms(&signed_url, &post_to, number, "STOPALL")
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(shop.ledger(me).await.len(), ledger_len);

    // Any other message: an empty answer, and nothing changes.
    let suppressed = shop.suppressions().await.len();
    let res = shop
        .twilio()
        .deliver_inbound_sms(
            &signed_url,
            &post_to,
            "+8801711000444",
            "Hello, is the saree in stock?",
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().ends_with("<Response/>"));
    assert_eq!(shop.suppressions().await.len(), suppressed);

    // STOP in Bangla from a number that is no customer's: suppressed all
    // the same, as a keyed hash; the table holds no number.
    let stranger = "+8801999000111";
    let res = shop
        .twilio()
        .deliver_inbound_sms(&signed_url, &post_to, stranger, "বন্ধ")
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("<Message>"));
    let rows = shop.suppressions().await;
    assert_eq!(rows.len(), suppressed + 1);
    let stranger_hash = shop
        .services
        .vault()
        .keyring()
        .blind_index("suppress-phone", stranger);
    assert!(rows.contains(&(stranger_hash, "sms".to_owned())));
    for (hash, _) in &rows {
        assert_eq!(hash.len(), 16);
        let lossy = String::from_utf8_lossy(hash);
        assert!(!lossy.contains("1999000111") && !lossy.contains("1711000666"));
    }
    // Also STOP from a number written nationally ends up as the same hash.
    let res = shop
        .twilio()
        .deliver_inbound_sms(&signed_url, &post_to, "01999000111", "stop")
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(shop.suppressions().await.len(), suppressed + 1);

    // The audit log names no number.
    let audit = shop.audit_text().await;
    assert!(audit.contains("via=sms_stop"), "{audit}");
    for personal in ["1711000666", "1999000111", "1711000444", "nasrin", "Nasrin"] {
        assert!(!audit.contains(personal), "{personal} in the audit log");
    }
}

both_engines!(sms_stop_suppresses_the_number, super::sms_stop);

async fn no_token_no_webhooks(engine: Engine) {
    // The ordinary test server has no Twilio Auth Token configured.
    let app = common::spawn_with_sms(engine).await;
    let twilio = app.sms.as_ref().unwrap();
    let url = app.url(WEBHOOK);
    let res = twilio
        .deliver_inbound_sms(&url, &url, "+8801711000123", "STOP")
        .await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "webhook_not_configured");
    assert_eq!(app.count("marketing_suppressions").await, 0);
    let doc: Value = app
        .http
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["paths"][WEBHOOK]["post"].is_object(),
        "the webhook is described"
    );
}

both_engines!(
    without_an_auth_token_webhooks_are_refused,
    super::no_token_no_webhooks
);
