//! Sending SMS. One trait, [`SmsSender`], and its transports:
//!
//! - [`Twilio`]: Twilio's Programmable Messaging REST API
//!   (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded
//!   `To`, `From` or `MessagingServiceSid`, `Body`; HTTP Basic auth with the
//!   Account SID and Auth Token; JSON answers with `sid` and `status`, errors
//!   as JSON with `code` and `message`). The base URL is configurable.
//! - [`FileOutbox`]: appends each message to a file; a development transport
//!   (`serve --demo`), never for production. What it holds is personal data
//!   (numbers, codes): [`SmsSender::forget`] and [`SmsSender::sweep`] remove
//!   it on erasure and after the technical-data period.
//! - `stand_in` (feature `stand-in`, and in this crate's tests): a local
//!   server that answers as the published API does, for tests, and sends
//!   signed inbound-SMS webhooks as Twilio does.
//!
//! [`webhook`] checks the `X-Twilio-Signature` of Twilio's webhooks and
//! knows the opt-out keywords of an incoming SMS.
//!
//! Phone numbers and message texts are never logged: texts carry one-time
//! codes, and errors carry only the provider's status and error code.
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use thiserror::Error;

mod file_outbox;
pub use file_outbox::FileOutbox;

#[cfg(any(test, feature = "stand-in"))]
pub mod stand_in;

pub mod webhook;

#[cfg(test)]
mod tests;

/// What sending returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SmsError>> + Send + 'a>>;

/// What forgetting and sweeping return: how many messages went.
pub type RemoveFuture<'a> = Pin<Box<dyn Future<Output = Result<usize, SmsError>> + Send + 'a>>;

/// Sends one text message to one number (E.164, e.g. `+8801712345678`).
pub trait SmsSender: Send + Sync {
    fn send<'a>(&'a self, to_e164: &'a str, text: &'a str) -> SendFuture<'a>;

    /// Whether this transport keeps a copy of what it sends on this
    /// machine (a development outbox), which erasure and the technical
    /// sweep must then reach.
    fn keeps_copies(&self) -> bool {
        false
    }

    /// Removes every message kept on this machine that went to `to_e164`
    /// (an erasure). A provider's API keeps nothing here: nothing to do.
    fn forget<'a>(&'a self, _to_e164: &'a str) -> RemoveFuture<'a> {
        Box::pin(std::future::ready(Ok(0)))
    }

    /// Removes the messages kept on this machine that were sent before
    /// `sent_before_ms` (Unix ms): the technical-data period has passed.
    fn sweep(&self, _sent_before_ms: i64) -> RemoveFuture<'_> {
        Box::pin(std::future::ready(Ok(0)))
    }
}

#[derive(Debug, Error)]
pub enum SmsError {
    /// The provider refused the credentials (HTTP 401).
    #[error("the SMS provider refused the credentials (HTTP {status}, code {code})")]
    Unauthorized { status: u16, code: i64 },
    /// The provider refused the message. `message` is the provider's text,
    /// which may repeat the phone number: it is kept out of `Display`.
    #[error("the SMS provider refused the message (HTTP {status}, code {code})")]
    Api {
        status: u16,
        code: i64,
        message: String,
    },
    /// The provider could not be reached, or answered something unreadable.
    #[error("the SMS provider could not be reached: {0}")]
    Transport(String),
    /// The development outbox file could not be written or rewritten.
    #[error("the SMS outbox could not be written: {0}")]
    Outbox(String),
}

/// Twilio's documented error body.
#[derive(Debug, serde::Deserialize)]
struct ApiErrorBody {
    code: Option<i64>,
    message: Option<String>,
}

/// Twilio's documented Message resource, as far as it is read here.
#[derive(Debug, serde::Deserialize)]
struct MessageBody {
    sid: String,
    status: String,
}

/// Settings of the Twilio transport. `Debug` never shows the auth token.
#[derive(Clone)]
pub struct TwilioConfig {
    /// `https://api.twilio.com` in production.
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    /// A sender number (`+1…`), an alphanumeric sender ID, or a Messaging
    /// Service SID (`MG…`, sent as `MessagingServiceSid`).
    pub from: String,
}

pub const TWILIO_BASE_URL: &str = "https://api.twilio.com";

impl std::fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"***")
            .field("from", &self.from)
            .finish()
    }
}

/// The Twilio Programmable Messaging client.
#[derive(Debug, Clone)]
pub struct Twilio {
    config: TwilioConfig,
    http: reqwest::Client,
}

impl Twilio {
    pub fn new(config: TwilioConfig) -> Result<Twilio, SmsError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| SmsError::Transport(e.to_string()))?;
        Ok(Twilio { config, http })
    }

    fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.config.base_url.trim_end_matches('/'),
            self.config.account_sid
        )
    }

    async fn send_now(&self, to: &str, text: &str) -> Result<(), SmsError> {
        let sender_field = if self.config.from.starts_with("MG") {
            "MessagingServiceSid"
        } else {
            "From"
        };
        let form = [
            ("To", to),
            (sender_field, self.config.from.as_str()),
            ("Body", text),
        ];
        let res = self
            .http
            .post(self.messages_url())
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token))
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            // Without the URL: it names the account, and errors get logged.
            .map_err(|e| SmsError::Transport(e.without_url().to_string()))?;
        let status = res.status();
        let bytes = res
            .bytes()
            .await
            .map_err(|e| SmsError::Transport(e.without_url().to_string()))?;
        if status.is_success() {
            let msg: MessageBody = serde_json::from_slice(&bytes).map_err(|_| {
                SmsError::Transport(format!("unreadable answer (HTTP {})", status.as_u16()))
            })?;
            if msg.status == "failed" || msg.status == "undelivered" {
                return Err(SmsError::Api {
                    status: status.as_u16(),
                    code: 0,
                    message: format!("message {} is {}", msg.sid, msg.status),
                });
            }
            tracing::debug!(sid = %msg.sid, status = %msg.status, "SMS accepted by Twilio");
            return Ok(());
        }
        let body: ApiErrorBody = serde_json::from_slice(&bytes).unwrap_or(ApiErrorBody {
            code: None,
            message: None,
        });
        let code = body.code.unwrap_or(0);
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(SmsError::Unauthorized {
                status: status.as_u16(),
                code,
            });
        }
        Err(SmsError::Api {
            status: status.as_u16(),
            code,
            message: body.message.unwrap_or_default(),
        })
    }
}

impl SmsSender for Twilio {
    fn send<'a>(&'a self, to_e164: &'a str, text: &'a str) -> SendFuture<'a> {
        Box::pin(self.send_now(to_e164, text))
    }
}
