//! The development outboxes (`sms-outbox.txt`, `mail-outbox/`) hold numbers,
//! addresses and codes: an erasure takes the person's messages out of them,
//! the last message it sends them included, and the technical sweep removes
//! those past the technical-data period. On both engines.
use crate::common::html::{browser, text};
use crate::common::privacy::{ask, customer_token, place};
use crate::common::{self, TestApp as App, Transports};
use chotomoni_domain::JobKind;
use chotomoni_mail::{FileOutbox as MailOutbox, OutgoingMail};
use chotomoni_services::Settings;
use chotomoni_sms::FileOutbox as SmsOutbox;
use chotomoni_testkit::{both_engines, Engine};
use regex::Regex;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const DAY_MS: i64 = 86_400_000;

/// A server whose SMS and mail go to outboxes in `dir`, and nowhere else.
struct Shop {
    app: App,
    _dir: tempfile::TempDir,
    sms: PathBuf,
    mail: PathBuf,
}

impl Shop {
    async fn open(engine: Engine) -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let sms = dir.path().join("sms-outbox.txt");
        let mail = dir.path().join("mail-outbox");
        let mut settings = Settings {
            // Erasure requests are due at once.
            erasure_review_days: 0,
            ..Settings::default()
        };
        // The test runs each job itself, to look at the outboxes in between.
        settings.jobs.workers = 0;
        let transports = Transports {
            sms: Some(Arc::new(SmsOutbox::new(&sms))),
            mail: Some(Arc::new(
                MailOutbox::new(&mail, "Chotomoni <shop@chotomoni.test>").unwrap(),
            )),
            ..Transports::default()
        };
        let app = common::spawn_with_transports(engine, settings, transports).await;
        Shop {
            app,
            _dir: dir,
            sms,
            mail,
        }
    }

    fn sms_lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.sms)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Every message in the mail outbox, as written.
    fn mails(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(&self.mail) else {
            return Vec::new();
        };
        dir.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect()
    }

    /// Everything both outboxes hold, as one text to search.
    fn everything(&self) -> String {
        let mut all = self.sms_lines().join("\n");
        all.push_str(&self.mails().join("\n"));
        all
    }

    async fn mail(&self, to: &str, text: &str) {
        let mail = OutgoingMail {
            to: to.into(),
            subject: "Your order".into(),
            text: text.into(),
            headers: Vec::new(),
        };
        self.app.services.mail().unwrap().send(&mail).await.unwrap();
    }

    /// Registration's first step: a code by SMS to `phone` (`01…`), read
    /// from the outbox.
    async fn code_sent_to(&self, c: &reqwest::Client, phone: &str) -> String {
        let res = c
            .post(self.app.url("/account/register?lang=en"))
            .form(&[("step", "1"), ("phone", phone)])
            .send()
            .await
            .unwrap();
        let page = text(res).await;
        assert!(page.contains("a 6-digit code is on its way"), "{page}");
        let to = format!("\t+88{phone}\t");
        let line = self
            .sms_lines()
            .into_iter()
            .rev()
            .find(|l| l.contains(&to))
            .expect("the code is in the SMS outbox");
        let message = line.splitn(3, '\t').nth(2).unwrap();
        Regex::new(r"(\d{6})").unwrap().captures(message).unwrap()[1].to_owned()
    }
}

async fn erasure_empties_the_outboxes_of_the_person(engine: Engine) {
    let shop = Shop::open(engine).await;
    let app = &shop.app;
    let (_, rupa) = place(app, "Rupa Outbox", "01711000901").await;
    let c = browser();
    let code = shop.code_sent_to(&c, "01711000901").await;
    // The code from the outbox is the one that registers her.
    let res = c
        .post(app.url("/account/register?lang=en"))
        .form(&[
            ("step", "2"),
            ("phone", "01711000901"),
            ("code", code.as_str()),
            ("name", "Rupa Outbox"),
            ("email", "rupa.outbox@example.com"),
            ("password", "mango season 2026"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", text(res).await);
    app.prove_email(rupa, "rupa.outbox@example.com").await;
    shop.mail("rupa.outbox@example.com", "Your order CM-1 is packed.")
        .await;
    let karims_code = shop.code_sent_to(&browser(), "01811000902").await;
    shop.mail("karim.stays@example.com", "Your order CM-2 is packed.")
        .await;
    assert!(shop.everything().contains("+8801711000901"));
    assert!(shop.everything().contains("rupa.outbox@example.com"));

    let token = customer_token(app, rupa).await;
    let (status, request) = ask(
        app,
        Some(&token),
        json!({"kind": "erasure", "phone": "01711000901"}),
    )
    .await;
    assert_eq!(status, 201, "{request}");
    app.services.run_privacy_requests().await.unwrap();
    assert_eq!(app.count("erasures").await, 1);

    // At once: nothing of hers is left, and the other customer's messages stay.
    let after = shop.everything();
    for hers in ["1711000901", "rupa.outbox", "CM-1 is packed", code.as_str()] {
        assert!(!after.contains(hers), "{hers} is still in the outboxes");
    }
    assert!(shop
        .sms_lines()
        .iter()
        .any(|l| l.contains("\t+8801811000902\t") && l.contains(karims_code.as_str())));
    assert!(after.contains("karim.stays@example.com"));

    // Her last message goes, and leaves no copy behind.
    let sent = app
        .services
        .run_jobs_of(JobKind::ErasureNotice)
        .await
        .unwrap();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].error, None);
    assert!(!shop.everything().contains("1711000901"), "the notice");
    // A copy that stayed all the same (a server stopped before forgetting
    // it) goes with the erasure's job ten minutes later.
    let sms = app.services.sms().unwrap();
    sms.send("+8801711000901", "a copy left behind")
        .await
        .unwrap();
    app.run_erasure_cleanup().await;
    assert!(!shop.everything().contains("1711000901"));
    assert_eq!(shop.sms_lines().len(), 1, "Karim's code stays");
    assert_eq!(shop.mails().len(), 1, "Karim's mail stays");

    // The job carried her contact sealed, and no longer does; in clear, never.
    let (payload, sealed): (String, Option<Vec<u8>>) =
        sqlx::query_as("SELECT payload, sealed FROM jobs WHERE kind = 'erasure.cleanup'")
            .fetch_one(&app.services.db().pool)
            .await
            .unwrap();
    assert!(!payload.contains("1711000901") && !payload.contains("rupa"));
    assert_eq!(sealed, None);
}
both_engines!(
    an_erasure_takes_the_persons_messages_out_of_the_outboxes,
    super::erasure_empties_the_outboxes_of_the_person
);

/// Writes a message into each outbox as if sent `days_ago` days ago.
fn backdate(shop: &Shop, days_ago: i64) {
    let at = chotomoni_services::now_ms() - days_ago * DAY_MS;
    let mut sms = std::fs::read_to_string(&shop.sms).unwrap_or_default();
    sms.push_str(&format!("{at}\t+8801911000903\told code 123456\n"));
    std::fs::write(&shop.sms, sms).unwrap();
    std::fs::create_dir_all(&shop.mail).unwrap();
    let eml = Path::new(&shop.mail).join(format!("{at}-0000beef.eml"));
    std::fs::write(eml, "To: old.mail@example.com\r\n\r\nold news\r\n").unwrap();
}

async fn outboxes_are_swept(engine: Engine) {
    let shop = Shop::open(engine).await;
    let app = &shop.app;
    backdate(&shop, 91);
    shop.code_sent_to(&browser(), "01711000904").await;
    shop.mail("fresh.mail@example.com", "Your order is packed.")
        .await;

    // The technical-data period (90 days) is over for the old ones only.
    app.services.sweep().await.unwrap();
    let left = shop.everything();
    assert!(!left.contains("+8801911000903") && !left.contains("old.mail@example.com"));
    assert!(left.contains("+8801711000904") && left.contains("fresh.mail@example.com"));

    app.services
        .clock()
        .advance(Duration::from_millis((91 * DAY_MS) as u64));
    app.services.sweep().await.unwrap();
    assert_eq!(shop.everything(), "");
}
both_engines!(
    messages_leave_the_outboxes_after_the_technical_period,
    super::outboxes_are_swept
);
