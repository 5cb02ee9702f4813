//! A local stand-in for Twilio's Messages API, for tests. It follows the
//! published API: HTTP Basic auth with the Account SID and Auth Token, the
//! Account SID in the path, form-encoded `To`, `From` or
//! `MessagingServiceSid`, and `Body`; 201 with the Message resource as JSON on
//! success, and Twilio's error JSON (`code`, `message`, `more_info`,
//! `status`) otherwise, e.g. 400 with code 21211 for an invalid `To`.
use crate::TwilioConfig;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use rand::Rng;
use serde_json::json;
use std::sync::{Arc, Mutex};

/// A message the stand-in accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub sid: String,
    pub to: String,
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub body: String,
}

#[derive(Clone)]
struct Shared {
    account_sid: String,
    auth_token: String,
    received: Arc<Mutex<Vec<Received>>>,
}

/// A running stand-in on a random local port; it stops with the runtime.
pub struct StandIn {
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    received: Arc<Mutex<Vec<Received>>>,
}

fn hex32() -> String {
    let mut rng = rand::thread_rng();
    (0..32)
        .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
        .collect()
}

impl StandIn {
    pub async fn start() -> StandIn {
        let shared = Shared {
            account_sid: format!("AC{}", hex32()),
            auth_token: hex32(),
            received: Arc::new(Mutex::new(vec![])),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMS stand-in");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{account_sid}/Messages.json",
                post(create_message),
            )
            .with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandIn {
            base_url,
            account_sid: shared.account_sid,
            auth_token: shared.auth_token,
            received: shared.received,
        }
    }

    /// Client settings that reach this stand-in, sending from `from`.
    pub fn config(&self, from: &str) -> TwilioConfig {
        TwilioConfig {
            base_url: self.base_url.clone(),
            account_sid: self.account_sid.clone(),
            auth_token: self.auth_token.clone(),
            from: from.to_owned(),
        }
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().expect("not poisoned").clone()
    }

    /// The latest message sent to `to`.
    pub fn last_to(&self, to: &str) -> Option<Received> {
        self.messages().into_iter().rev().find(|m| m.to == to)
    }

    /// The parameters of Twilio's inbound-message webhook for an SMS from
    /// `from` to `to` saying `body`, as Twilio sends them (form fields).
    pub fn inbound_sms_params(&self, from: &str, to: &str, body: &str) -> Vec<(String, String)> {
        let sid = format!("SM{}", hex32());
        [
            ("ToCountry", "US"),
            ("ToState", "CA"),
            ("SmsMessageSid", sid.as_str()),
            ("NumMedia", "0"),
            ("ToCity", ""),
            ("FromZip", ""),
            ("SmsSid", sid.as_str()),
            ("FromState", ""),
            ("SmsStatus", "received"),
            ("FromCity", ""),
            ("Body", body),
            ("FromCountry", "BD"),
            ("To", to),
            ("ToZip", ""),
            ("NumSegments", "1"),
            ("MessageSid", sid.as_str()),
            ("AccountSid", self.account_sid.as_str()),
            ("From", from),
            ("ApiVersion", "2010-04-01"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// The `X-Twilio-Signature` Twilio would send for these parameters
    /// posted to `webhook_url` (the URL configured in Twilio).
    pub fn sign(&self, webhook_url: &str, params: &[(String, String)]) -> String {
        crate::webhook::signature(&self.auth_token, webhook_url, params)
    }

    /// Delivers an inbound SMS as Twilio does: a form POST of
    /// [`inbound_sms_params`](Self::inbound_sms_params) signed over
    /// `webhook_url`, sent to `post_to` (the same address in production;
    /// in tests the server may listen elsewhere than its public URL).
    pub async fn deliver_inbound_sms(
        &self,
        webhook_url: &str,
        post_to: &str,
        from: &str,
        body: &str,
    ) -> reqwest::Response {
        let params = self.inbound_sms_params(from, "+15005550006", body);
        let signature = self.sign(webhook_url, &params);
        reqwest::Client::new()
            .post(post_to)
            .header(crate::webhook::SIGNATURE_HEADER, signature)
            .header("I-Twilio-Idempotency-Token", hex32())
            .form(&params)
            .send()
            .await
            .expect("the webhook answers")
    }
}

fn error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        Json(json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status.as_u16(),
        })),
    )
        .into_response()
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
}

async fn create_message(
    State(s): State<Shared>,
    Path(account_sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match basic_credentials(&headers) {
        Some((user, pass)) if user == s.account_sid && pass == s.auth_token => {}
        _ => return error(StatusCode::UNAUTHORIZED, 20003, "Authenticate"),
    }
    if account_sid != s.account_sid {
        return error(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        );
    }
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return error(
            StatusCode::BAD_REQUEST,
            21606,
            "Parameters must be form-encoded",
        );
    }
    let Ok(fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return error(StatusCode::BAD_REQUEST, 21606, "Unreadable parameters");
    };
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let Some(to) = get("To") else {
        return error(
            StatusCode::BAD_REQUEST,
            21604,
            "A 'To' phone number is required.",
        );
    };
    let from = get("From");
    let service = get("MessagingServiceSid");
    if from.is_none() && service.is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            21603,
            "A 'From' phone number is required.",
        );
    }
    let Some(text) = get("Body") else {
        return error(StatusCode::BAD_REQUEST, 21602, "Message body is required.");
    };
    if !is_e164(&to) {
        return error(
            StatusCode::BAD_REQUEST,
            21211,
            &format!("Invalid 'To' Phone Number: {to}"),
        );
    }
    if text.chars().count() > 1600 {
        return error(
            StatusCode::BAD_REQUEST,
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        );
    }
    let sid = format!("SM{}", hex32());
    s.received.lock().expect("not poisoned").push(Received {
        sid: sid.clone(),
        to: to.clone(),
        from: from.clone(),
        messaging_service_sid: service.clone(),
        body: text.clone(),
    });
    let now = "Wed, 25 Nov 2026 10:00:00 +0000";
    (
        StatusCode::CREATED,
        Json(json!({
            "account_sid": s.account_sid,
            "api_version": "2010-04-01",
            "body": text,
            "date_created": now,
            "date_sent": null,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": null,
            "error_message": null,
            "from": from,
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": "1",
            "price": null,
            "price_unit": "USD",
            "sid": sid,
            "status": if service.is_some() { "accepted" } else { "queued" },
            "subresource_uris": {
                "media": format!("/2010-04-01/Accounts/{}/Messages/{sid}/Media.json", s.account_sid)
            },
            "to": to,
            "uri": format!("/2010-04-01/Accounts/{}/Messages/{sid}.json", s.account_sid),
        })),
    )
        .into_response()
}
