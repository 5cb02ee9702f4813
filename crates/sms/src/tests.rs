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
    let dir = std::env::temp_dir().join(format!("cm-sms-outbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("outbox.txt");
    let _ = std::fs::remove_file(&path);
    let outbox = FileOutbox::new(&path);
    outbox.send("+8801712345678", "one\ntwo").await.unwrap();
    outbox.send("+8801812345678", "three").await.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].ends_with("\t+8801712345678\tone two"));
    assert!(lines[1].ends_with("\t+8801812345678\tthree"));
    let _ = std::fs::remove_dir_all(&dir);
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
