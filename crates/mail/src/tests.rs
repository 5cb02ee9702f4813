//! The SMTP transport against the stand-in (the real bytes on the wire),
//! and the folder outbox.
use crate::stand_in::{Options, StandIn};
use crate::{FileOutbox, MailError, Mailer, OutgoingMail, Smtp, SmtpConfig};

const FROM: &str = "Chotomoni <shop@chotomoni.test>";

fn mail(to: &str) -> OutgoingMail {
    OutgoingMail {
        to: to.into(),
        subject: "ঈদের অফার / Eid offers".into(),
        text: "নতুন শাড়ি এসেছে।\n.a line that starts with a dot\nNew saris are in.".into(),
        headers: vec![
            (
                "List-Unsubscribe".into(),
                "<https://shop.example/unsubscribe/AbC_-123>, <mailto:shop@chotomoni.test?subject=unsubscribe>".into(),
            ),
            (
                "List-Unsubscribe-Post".into(),
                "List-Unsubscribe=One-Click".into(),
            ),
        ],
    }
}

fn smtp(url: String, password: Option<&str>) -> Smtp {
    Smtp::new(SmtpConfig {
        url,
        password: password.map(str::to_owned),
        from: FROM.into(),
    })
    .unwrap()
}

#[tokio::test]
async fn a_message_arrives_with_each_header_exactly_once() {
    let s = StandIn::start().await;
    let client = smtp(s.url(), None);
    client.send(&mail("rupa@example.com")).await.unwrap();
    let got = s.messages();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.mail_from, "shop@chotomoni.test");
    assert_eq!(m.rcpt_to, vec!["rupa@example.com".to_owned()]);
    assert_eq!(m.user, None);
    let once = |name: &str| {
        let values = m.header_values(name);
        assert_eq!(values.len(), 1, "{name} exactly once in\n{}", m.text());
        values[0].clone()
    };
    assert_eq!(
        once("List-Unsubscribe"),
        "<https://shop.example/unsubscribe/AbC_-123>, <mailto:shop@chotomoni.test?subject=unsubscribe>"
    );
    assert_eq!(once("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
    assert_eq!(once("To"), "rupa@example.com");
    assert!(once("From").contains("<shop@chotomoni.test>"));
    assert!(once("Message-ID").ends_with("@chotomoni.test>"));
    once("Date");
    assert!(once("Content-Type").starts_with("text/plain; charset=utf-8"));
    // Bangla in the subject travels as an RFC 2047 encoded word.
    assert!(once("Subject").to_ascii_lowercase().starts_with("=?utf-8?"));
    // Every header line is ASCII; the body comes back whole, the dot line too.
    let head = m.text().split("\r\n\r\n").next().unwrap().to_owned();
    assert!(head.is_ascii(), "{head}");
    assert_eq!(
        m.body_text().replace("\r\n", "\n").trim_end(),
        "নতুন শাড়ি এসেছে।\n.a line that starts with a dot\nNew saris are in."
    );
    assert_eq!(client.sender_address(), "shop@chotomoni.test");
}

#[tokio::test]
async fn the_password_comes_apart_from_the_url_and_is_used() {
    let s = StandIn::start_with(Options {
        login: Some(("shop@chotomoni.test".into(), "pa:ss w@rd%".into())),
        ..Options::default()
    })
    .await;
    let user = "shop%40chotomoni.test";
    // No password: refused before anything is sent.
    let err = Smtp::new(SmtpConfig {
        url: s.url_with_user(user),
        password: None,
        from: FROM.into(),
    })
    .unwrap_err();
    assert!(matches!(err, MailError::Config(_)), "{err:?}");
    // A password inside the URL is refused: secrets come from the environment.
    let err = Smtp::new(SmtpConfig {
        url: format!("smtp://{user}:secret@127.0.0.1:{}", s.port),
        password: None,
        from: FROM.into(),
    })
    .unwrap_err();
    assert!(err.to_string().contains("CHOTOMONI_SMTP_PASSWORD"), "{err}");
    assert!(!err.to_string().contains("secret"));
    // The wrong password: the server's 535, nothing delivered.
    let err = smtp(s.url_with_user(user), Some("wrong"))
        .send(&mail("rupa@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            MailError::Refused {
                code: 535,
                permanent: true
            }
        ),
        "{err:?}"
    );
    assert!(s.messages().is_empty());
    // The right one.
    let config = SmtpConfig {
        url: s.url_with_user(user),
        password: Some("pa:ss w@rd%".into()),
        from: FROM.into(),
    };
    assert!(!format!("{config:?}").contains("w@rd"));
    Smtp::new(config)
        .unwrap()
        .send(&mail("rupa@example.com"))
        .await
        .unwrap();
    assert_eq!(s.messages()[0].user.as_deref(), Some("shop@chotomoni.test"));
}

#[tokio::test]
async fn a_refused_recipient_is_an_error_without_the_address() {
    let s = StandIn::start_with(Options {
        reject_recipients_containing: Some("nobody".into()),
        ..Options::default()
    })
    .await;
    let err = smtp(s.url(), None)
        .send(&mail("nobody@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            MailError::Refused {
                code: 550,
                permanent: true
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains("nobody"), "{err}");
    assert!(!format!("{err:?}").contains("nobody"));
    assert!(s.messages().is_empty());
}

#[tokio::test]
async fn bad_addresses_and_headers_are_refused_before_sending() {
    let s = StandIn::start().await;
    let client = smtp(s.url(), None);
    let err = client.send(&mail("not an address")).await.unwrap_err();
    assert!(matches!(err, MailError::Address("recipient")), "{err:?}");
    for (name, value) in [
        ("X-Evil", "a\r\nBcc: victim@example.com"),
        ("Bcc", "victim@example.com"),
        ("subject", "again"),
        ("Bad Name", "x"),
        ("List-Unsubscribe", "<https://dup.example/>"),
    ] {
        let mut m = mail("rupa@example.com");
        m.headers.push((name.into(), value.into()));
        let err = client.send(&m).await.unwrap_err();
        assert!(matches!(err, MailError::Header(_)), "{name}: {err:?}");
    }
    assert!(s.messages().is_empty());
    assert!(!format!("{:?}", mail("rupa@example.com")).contains("rupa"));
    assert!(matches!(
        Smtp::new(SmtpConfig {
            url: s.url(),
            password: None,
            from: "nobody".into()
        }),
        Err(MailError::Address("sender"))
    ));
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error() {
    let err = smtp("smtp://127.0.0.1:9".into(), None)
        .send(&mail("rupa@example.com"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Transport(_)), "{err:?}");
    assert!(!err.to_string().contains("rupa"));
}

#[tokio::test]
async fn the_outbox_writes_the_same_message_as_an_eml_file() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = FileOutbox::new(dir.path().join("mail-outbox"), FROM).unwrap();
    outbox.send(&mail("rupa@example.com")).await.unwrap();
    outbox.send(&mail("rina@example.com")).await.unwrap();
    let mut files: Vec<_> = std::fs::read_dir(outbox.dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2);
    for f in &files {
        assert_eq!(f.extension().unwrap(), "eml");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(f).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let m = crate::stand_in::Received {
            mail_from: String::new(),
            rcpt_to: vec![],
            data: std::fs::read(f).unwrap(),
            user: None,
        };
        assert_eq!(m.header_values("List-Unsubscribe").len(), 1);
        assert_eq!(
            m.header_values("List-Unsubscribe-Post"),
            vec!["List-Unsubscribe=One-Click".to_owned()]
        );
        assert!(m.body_text().contains("New saris are in."));
    }
    assert_eq!(outbox.sender_address(), "shop@chotomoni.test");
}

#[tokio::test]
async fn a_plain_ascii_body_goes_as_is_and_its_dot_lines_survive() {
    let s = StandIn::start().await;
    let mut m = mail("rupa@example.com");
    m.text = "Hello.\n.\n..two dots\nBye.".into();
    smtp(s.url(), None).send(&m).await.unwrap();
    let got = &s.messages()[0];
    assert_eq!(got.header_values("Content-Transfer-Encoding"), vec!["7bit"]);
    assert!(
        got.text()
            .contains("\r\n\r\nHello.\r\n.\r\n..two dots\r\nBye."),
        "{}",
        got.text()
    );
}

fn outbox_files(outbox: &FileOutbox) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(outbox.dir())
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[tokio::test]
async fn forgetting_an_address_deletes_its_messages_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = FileOutbox::new(dir.path().join("mail-outbox"), FROM).unwrap();
    outbox.send(&mail("Rupa@Example.com")).await.unwrap();
    outbox.send(&mail("rina@example.com")).await.unwrap();
    outbox.send(&mail("rupa@example.com")).await.unwrap();
    // Another address that merely ends the same way is someone else's.
    outbox.send(&mail("shirupa@example.com")).await.unwrap();

    assert_eq!(outbox.forget("rupa@example.com").await.unwrap(), 2);

    let left: Vec<String> = outbox_files(&outbox)
        .iter()
        .map(|f| String::from_utf8(std::fs::read(f).unwrap()).unwrap())
        .collect();
    assert_eq!(left.len(), 2);
    assert!(left
        .iter()
        .all(|m| !m.to_lowercase().contains("\r\nto: rupa@")));
    assert!(left.iter().any(|m| m.contains("To: rina@example.com")));
    assert_eq!(outbox.forget("rupa@example.com").await.unwrap(), 0);
}

#[tokio::test]
async fn sweeping_deletes_the_messages_written_before_the_cutoff() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = FileOutbox::new(dir.path().join("mail-outbox"), FROM).unwrap();
    // Nothing written yet: nothing to do, and no folder made.
    assert_eq!(outbox.sweep(i64::MAX).await.unwrap(), 0);
    assert_eq!(outbox.forget("rupa@example.com").await.unwrap(), 0);
    outbox.send(&mail("rupa@example.com")).await.unwrap();
    std::fs::write(
        outbox.dir().join("1000-0000abcd.eml"),
        "To: rina@example.com\r\n\r\nold",
    )
    .unwrap();
    // A file the outbox did not write is not its to delete.
    std::fs::write(outbox.dir().join("notes.txt"), "keep me").unwrap();

    assert_eq!(outbox.sweep(2_000).await.unwrap(), 1);
    assert_eq!(outbox_files(&outbox).len(), 2);
    assert!(!outbox.dir().join("1000-0000abcd.eml").exists());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert_eq!(outbox.sweep(now + 1).await.unwrap(), 1);
    assert_eq!(outbox_files(&outbox), vec![outbox.dir().join("notes.txt")]);
}
