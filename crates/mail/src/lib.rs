//! Sending email. One trait, [`Mailer`], and its transports:
//!
//! - [`Smtp`]: SMTP submission through `lettre` (tokio, rustls; no OpenSSL),
//!   configured by a URL such as `smtps://shop@mail.example.com` (TLS from
//!   the first byte, port 465) or `smtp://mail.example.com:587?tls=required`
//!   (STARTTLS). The password is never part of the URL: it is given apart
//!   (from an environment variable), so configuration files hold no secret.
//! - [`FileOutbox`]: writes each message as an `.eml` file into a folder; a
//!   development transport, never for production. What it holds is personal
//!   data: [`Mailer::forget`] and [`Mailer::sweep`] remove it on erasure and
//!   after the technical-data period.
//! - `stand_in` (feature `stand-in`, and in this crate's tests): a local SMTP
//!   server that records what it receives, byte for byte, for tests.
//!
//! Both transports build the message the same way ([`build_message`]):
//! `From`, `To`, `Subject`, `Date`, `Message-ID`, a UTF-8 `text/plain` body,
//! and the caller's extra headers, each exactly once. Addresses and message
//! texts are never logged, and errors carry only the server's reply code.
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use thiserror::Error;

mod outbox;
pub use outbox::FileOutbox;

#[cfg(any(test, feature = "stand-in"))]
pub mod stand_in;

#[cfg(test)]
mod tests;

/// One message to one person.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// The recipient's address (`name@example.com`).
    pub to: String,
    pub subject: String,
    /// The plain-text body (UTF-8; Bangla is fine).
    pub text: String,
    /// Extra header fields, such as `List-Unsubscribe`. Names the transport
    /// sets itself (`From`, `To`, `Subject`, `Date`, …) are refused.
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for OutgoingMail {
    // Debug output can end up in logs: the address and the text stay out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingMail")
            .field("to", &"<hidden>")
            .field("subject_chars", &self.subject.chars().count())
            .field("text_chars", &self.text.chars().count())
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// What sending returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), MailError>> + Send + 'a>>;

/// Sends one message.
pub trait Mailer: Send + Sync {
    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> SendFuture<'a>;

    /// The bare address messages come from (`shop@example.com`), for
    /// `mailto:` links.
    fn sender_address(&self) -> String;

    /// Whether this transport keeps a copy of what it sends on this
    /// machine (a development outbox), which erasure and the technical
    /// sweep must then reach.
    fn keeps_copies(&self) -> bool {
        false
    }

    /// Removes every message kept on this machine that went to `address`
    /// (an erasure). An SMTP server keeps nothing here: nothing to do.
    fn forget<'a>(&'a self, _address: &'a str) -> RemoveFuture<'a> {
        Box::pin(std::future::ready(Ok(0)))
    }

    /// Removes the messages kept on this machine that were sent before
    /// `sent_before_ms` (Unix ms): the technical-data period has passed.
    fn sweep(&self, _sent_before_ms: i64) -> RemoveFuture<'_> {
        Box::pin(std::future::ready(Ok(0)))
    }
}

/// What forgetting and sweeping return: how many messages went.
pub type RemoveFuture<'a> = Pin<Box<dyn Future<Output = Result<usize, MailError>> + Send + 'a>>;

#[derive(Debug, Error)]
pub enum MailError {
    /// The recipient's or the sender's address is not an email address.
    /// Which one is said; the address itself never is.
    #[error("the {0} address is not a valid email address")]
    Address(&'static str),
    /// An extra header with a reserved or malformed name, or a value with a
    /// line break (header injection).
    #[error("the extra header {0:?} is not allowed or is malformed")]
    Header(String),
    /// The SMTP server answered with an error. Its text may repeat the
    /// address, so only the reply code is kept.
    #[error("the SMTP server refused the message (reply code {code}{})", if *permanent { ", permanent" } else { ", try again later" })]
    Refused { code: u16, permanent: bool },
    /// The SMTP server could not be reached, or the conversation broke off.
    #[error("the SMTP server could not be reached: {0}")]
    Transport(String),
    /// The development outbox could not be written or cleared.
    #[error("the mail outbox could not be written: {0}")]
    Outbox(String),
    /// The transport's settings are unusable.
    #[error("mail settings: {0}")]
    Config(String),
}

/// Header names the transport writes itself; an extra header may not repeat them.
const RESERVED: &[&str] = &[
    "from",
    "sender",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

fn header_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
        && !RESERVED.contains(&name.to_ascii_lowercase().as_str())
}

/// Parses a sender such as `Chotomoni <shop@example.com>` or `shop@example.com`.
pub fn parse_from(from: &str) -> Result<Mailbox, MailError> {
    from.trim()
        .parse::<Mailbox>()
        .map_err(|_| MailError::Address("sender"))
}

/// The message both transports send: the same bytes whichever way it goes.
pub fn build_message(from: &Mailbox, mail: &OutgoingMail) -> Result<Message, MailError> {
    let to: Mailbox = mail
        .to
        .trim()
        .parse()
        .map_err(|_| MailError::Address("recipient"))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(message_id(from)))
        .date_now();
    let mut seen: Vec<String> = vec![];
    for (name, value) in &mail.headers {
        let lower = name.to_ascii_lowercase();
        if !header_name_ok(name) || value.contains(['\r', '\n']) || seen.contains(&lower) {
            return Err(MailError::Header(name.clone()));
        }
        seen.push(lower);
        let header_name = HeaderName::new_from_ascii(name.clone())
            .map_err(|_| MailError::Header(name.clone()))?;
        builder = builder.raw_header(HeaderValue::new(header_name, value.clone()));
    }
    builder
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.clone())
        .map_err(|e| MailError::Config(e.to_string()))
}

/// `<random@sender's domain>`: says nothing about the machine it came from.
fn message_id(from: &Mailbox) -> String {
    use rand::RngCore;
    let mut raw = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    format!("<{hex}@{}>", from.email.domain())
}

/// Settings of the SMTP transport. `Debug` never shows the password.
#[derive(Clone)]
pub struct SmtpConfig {
    /// `smtps://user@host[:465]`, `smtp://user@host:587?tls=required`, or
    /// `smtp://host:25` (no TLS: only for a relay on the same machine or
    /// network). Without a password; a path names the EHLO domain.
    pub url: String,
    /// The password of the URL's user (from `CHOTOMONI_SMTP_PASSWORD`).
    pub password: Option<String>,
    /// `Chotomoni <shop@example.com>` or `shop@example.com`.
    pub from: String,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("url", &self.url)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .finish()
    }
}

/// The SMTP transport (a pool of connections, 15 s timeout per command).
#[derive(Clone)]
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("from", &self.from.email.to_string())
            .finish_non_exhaustive()
    }
}

impl Smtp {
    pub fn new(config: SmtpConfig) -> Result<Smtp, MailError> {
        let from = parse_from(&config.from)?;
        let url = url::Url::parse(config.url.trim())
            .map_err(|e| MailError::Config(format!("smtp_url: {e}")))?;
        if url.password().is_some() {
            return Err(MailError::Config(
                "smtp_url must not contain the password; give it in CHOTOMONI_SMTP_PASSWORD".into(),
            ));
        }
        let mut url = url;
        match (url.username().is_empty(), &config.password) {
            // lettre reads (and percent-decodes) the user and password from
            // the URL; the password is put there only here, in memory.
            (false, Some(password)) => url
                .set_password(Some(password))
                .map_err(|()| MailError::Config("smtp_url cannot carry a user".into()))?,
            (false, None) => {
                return Err(MailError::Config(
                    "smtp_url names a user: set CHOTOMONI_SMTP_PASSWORD".into(),
                ))
            }
            (true, Some(_)) => {
                return Err(MailError::Config(
                    "a password is set but smtp_url names no user (smtp://USER@host)".into(),
                ))
            }
            (true, None) => {}
        }
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.as_str())
            .map_err(|e| MailError::Config(format!("smtp_url: {e}")))?
            .timeout(Some(Duration::from_secs(15)));
        Ok(Smtp {
            transport: builder.build(),
            from,
        })
    }

    async fn send_now(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = build_message(&self.from, mail)?;
        match self.transport.send(message).await {
            Ok(response) => {
                tracing::debug!(code = %response.code(), "message accepted by the SMTP server");
                Ok(())
            }
            Err(e) => Err(smtp_error(&e)),
        }
    }
}

/// An SMTP error without the server's text, which may repeat the address.
fn smtp_error(e: &lettre::transport::smtp::Error) -> MailError {
    if let Some(code) = e.status() {
        let code = code.to_string().parse().unwrap_or(0);
        return MailError::Refused {
            code,
            permanent: e.is_permanent(),
        };
    }
    let what = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_tls() {
        "TLS failed".to_owned()
    } else if e.is_client() || e.is_response() {
        "the conversation failed".to_owned()
    } else {
        // Connection and network errors: an I/O error, no personal data.
        e.to_string()
    };
    MailError::Transport(what)
}

impl Mailer for Smtp {
    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> SendFuture<'a> {
        Box::pin(self.send_now(mail))
    }

    fn sender_address(&self) -> String {
        self.from.email.to_string()
    }
}
