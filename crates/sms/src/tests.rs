//! The Twilio client against the stand-in, and the file outbox.
use crate::stand_in::StandIn;
use crate::{FileOutbox, SmsError, SmsSender, Twilio, TwilioConfig};

#[tokio::test]
async fn sends_a_message_that_arrives_whole() {
    let s = StandIn::start().await;
    let client = Twilio::new(s.config("+15005550006")).unwrap();
    client
        .send("+8801712345678", "আপনার কোড 123456 & more")
        .await
        .unwrap();
    let got = s.last_to("+8801712345678").expect("arrived");
    assert_eq!(got.body, "আপনার কোড 123456 & more");
    assert_eq!(got.from.as_deref(), Some("+15005550006"));
    assert!(got.sid.starts_with("SM"));
}

#[tokio::test]
async fn a_messaging_service_sid_is_sent_as_such() {
    let s = StandIn::start().await;
    let client = Twilio::new(s.config("MG0123456789abcdef0123456789abcdef")).unwrap();
    client.send("+8801812345678", "hello").await.unwrap();
    let got = s.last_to("+8801812345678").unwrap();
    assert_eq!(got.from, None);
    assert_eq!(
        got.messaging_service_sid.as_deref(),
        Some("MG0123456789abcdef0123456789abcdef")
    );
}

#[tokio::test]
async fn wrong_credentials_are_unauthorized() {
    let s = StandIn::start().await;
    let config = TwilioConfig {
        auth_token: "wrong".into(),
        ..s.config("+15005550006")
    };
    let err = Twilio::new(config)
        .unwrap()
        .send("+8801712345678", "x")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SmsError::Unauthorized {
                status: 401,
                code: 20003
            }
        ),
        "{err:?}"
    );
    assert!(s.messages().is_empty());
}

#[tokio::test]
async fn api_errors_map_to_sms_error_without_the_number() {
    let s = StandIn::start().await;
    let client = Twilio::new(s.config("+15005550006")).unwrap();
    let err = client.send("01712345678", "x").await.unwrap_err();
    match &err {
        SmsError::Api { status, code, .. } => assert_eq!((*status, *code), (400, 21211)),
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("01712345678"));
    let err = Twilio::new(s.config(""))
        .unwrap()
        .send("+8801712345678", "x")
        .await
        .unwrap_err();
    assert!(matches!(err, SmsError::Api { code: 21603, .. }), "{err:?}");
    assert!(s.messages().is_empty());
}

#[tokio::test]
async fn an_unreachable_provider_is_a_transport_error() {
    let config = TwilioConfig {
        base_url: "http://127.0.0.1:9".into(),
        account_sid: "AC0".into(),
        auth_token: "secret-token".into(),
        from: "+15005550006".into(),
    };
    assert!(!format!("{config:?}").contains("secret-token"));
    let err = Twilio::new(config)
        .unwrap()
        .send("+8801712345678", "x")
        .await
        .unwrap_err();
    assert!(matches!(err, SmsError::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn the_file_outbox_appends_one_line_per_message() {
    let t = TempOutbox::new("append");
    t.outbox.send("+8801712345678", "one\ntwo").await.unwrap();
    t.outbox.send("+8801812345678", "three").await.unwrap();
    let lines = t.lines();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].ends_with("\t+8801712345678\tone two"));
    assert!(lines[1].ends_with("\t+8801812345678\tthree"));
}

#[tokio::test]
async fn the_stand_in_signs_inbound_webhooks_as_twilio_does() {
    let s = StandIn::start().await;
    let url = "https://shop.example/webhooks/sms/twilio";
    let params = s.inbound_sms_params("+8801712345678", "+15005550006", "STOP");
    let signature = s.sign(url, &params);
    assert!(crate::webhook::verify(
        &s.auth_token,
        url,
        &params,
        &signature
    ));
    assert!(!crate::webhook::verify(
        "another token",
        url,
        &params,
        &signature
    ));
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("From"), Some("+8801712345678"));
    assert_eq!(get("Body"), Some("STOP"));
    assert_eq!(get("AccountSid"), Some(s.account_sid.as_str()));
    assert!(get("MessageSid").unwrap().starts_with("SM"));
}

/// An outbox in a fresh folder, removed when dropped.
struct TempOutbox {
    dir: std::path::PathBuf,
    outbox: FileOutbox,
}

impl TempOutbox {
    fn new(name: &str) -> TempOutbox {
        let dir = std::env::temp_dir().join(format!("cm-sms-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let outbox = FileOutbox::new(dir.join("sms-outbox.txt"));
        TempOutbox { dir, outbox }
    }

    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.outbox.path())
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for TempOutbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn forgetting_a_number_removes_its_messages_and_keeps_the_others() {
    let t = TempOutbox::new("forget");
    let outbox = &t.outbox;
    outbox.send("+8801712345678", "code 111111").await.unwrap();
    outbox.send("+8801812345678", "code 222222").await.unwrap();
    outbox.send("+8801712345678", "code 333333").await.unwrap();

    assert_eq!(outbox.forget("+8801712345678").await.unwrap(), 2);

    let lines = t.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].ends_with("\t+8801812345678\tcode 222222"));
    // Nothing of the forgotten number is left beside the file either.
    let names: Vec<_> = std::fs::read_dir(&t.dir).unwrap().collect();
    assert_eq!(names.len(), 1, "{names:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(outbox.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The outbox goes on working; forgetting again finds nothing.
    outbox.send("+8801912345678", "hello").await.unwrap();
    assert_eq!(outbox.forget("+8801712345678").await.unwrap(), 0);
    assert_eq!(t.lines().len(), 2);
}

#[tokio::test]
async fn an_outbox_never_written_has_nothing_to_forget_or_sweep() {
    let t = TempOutbox::new("absent");
    assert_eq!(t.outbox.forget("+8801712345678").await.unwrap(), 0);
    assert_eq!(t.outbox.sweep(i64::MAX).await.unwrap(), 0);
    assert!(!t.outbox.path().exists());
}

#[tokio::test]
async fn sweeping_removes_the_messages_sent_before_the_cutoff() {
    let t = TempOutbox::new("sweep");
    std::fs::write(
        t.outbox.path(),
        "1000\t+8801712345678\told code\n2000\t+8801812345678\tolder news\n",
    )
    .unwrap();
    t.outbox.send("+8801912345678", "new code").await.unwrap();

    assert_eq!(t.outbox.sweep(1_500).await.unwrap(), 1);
    assert_eq!(t.lines().len(), 2);
    assert_eq!(t.outbox.sweep(3_000).await.unwrap(), 1);
    let lines = t.lines();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].ends_with("\t+8801912345678\tnew code"));
}

#[tokio::test]
async fn messages_sent_while_a_number_is_forgotten_are_all_kept() {
    let t = TempOutbox::new("race");
    for i in 0..20 {
        t.outbox
            .send("+8801712345678", &format!("old {i}"))
            .await
            .unwrap();
    }
    let sends: Vec<_> = (0..40)
        .map(|i| {
            let outbox = t.outbox.clone();
            tokio::spawn(async move { outbox.send("+8801812345678", &format!("m {i}")).await })
        })
        .collect();
    let forgotten = t.outbox.forget("+8801712345678").await.unwrap();
    for s in sends {
        s.await.unwrap().unwrap();
    }
    assert_eq!(forgotten, 20);
    let lines = t.lines();
    assert_eq!(lines.len(), 40, "{lines:?}");
    assert!(lines.iter().all(|l| l.contains("\t+8801812345678\tm ")));
}
