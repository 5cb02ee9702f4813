//! A local SMTP stand-in server, for tests. It speaks the part of ESMTP
//! (RFC 5321) a submission client uses: `EHLO`/`HELO`, `AUTH PLAIN` and
//! `AUTH LOGIN` (RFC 4954, offered only when a login is set, and then
//! required before `MAIL`), `MAIL FROM`, `RCPT TO`, `DATA` with the dot
//! terminator and dot-unstuffing, `RSET`, `NOOP` and `QUIT`. It records each
//! message's envelope and the exact bytes of its DATA, so tests assert what
//! really went over the wire.
use base64::Engine as _;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A message the stand-in accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The reverse-path of `MAIL FROM`, without the angle brackets.
    pub mail_from: String,
    /// The forward-paths of every accepted `RCPT TO`.
    pub rcpt_to: Vec<String>,
    /// The DATA as received, dot-unstuffed, without the final `.` line.
    pub data: Vec<u8>,
    /// The user name the client authenticated as, if it did.
    pub user: Option<String>,
}

impl Received {
    /// The DATA as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    /// The header section, one entry per field, unfolded: `(name, value)`.
    pub fn headers(&self) -> Vec<(String, String)> {
        let text = self.text();
        let head = text.split("\r\n\r\n").next().unwrap_or("");
        let mut out: Vec<(String, String)> = vec![];
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some((_, v)) = out.last_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                out.push((name.to_owned(), value.trim().to_owned()));
            }
        }
        out
    }

    /// Every value of the header `name` (any case), unfolded.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers()
            .into_iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .collect()
    }

    /// The body, with its `Content-Transfer-Encoding` (base64,
    /// quoted-printable, 7bit, 8bit) undone.
    pub fn body_text(&self) -> String {
        let text = self.text();
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        let encoding = self
            .header_values("Content-Transfer-Encoding")
            .first()
            .map(|v| v.to_ascii_lowercase())
            .unwrap_or_default();
        match encoding.as_str() {
            "base64" => {
                let compact: String = body.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .unwrap_or_default();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            "quoted-printable" => decode_quoted_printable(body),
            _ => body.to_owned(),
        }
    }
}

fn decode_quoted_printable(text: &str) -> String {
    let bytes = text.replace("=\r\n", "").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How the stand-in behaves.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Offer `AUTH PLAIN LOGIN` and require this user and password.
    pub login: Option<(String, String)>,
    /// Refuse `RCPT TO` for addresses containing this text with 550, whose
    /// text repeats the address (as real servers do).
    pub reject_recipients_containing: Option<String>,
}

#[derive(Clone)]
struct Shared {
    options: Options,
    received: Arc<Mutex<Vec<Received>>>,
}

/// A running stand-in on a random local port; it stops with the runtime.
pub struct StandIn {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl StandIn {
    /// A stand-in that accepts everything, without authentication.
    pub async fn start() -> StandIn {
        StandIn::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMTP stand-in");
        let port = listener.local_addr().expect("local address").port();
        let shared = Shared {
            options,
            received: Arc::new(Mutex::new(vec![])),
        };
        let received = shared.received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = session(stream, shared).await;
                });
            }
        });
        StandIn { port, received }
    }

    /// `smtp://127.0.0.1:PORT` (plain SMTP: it is a local test server).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// `smtp://USER@127.0.0.1:PORT`.
    pub fn url_with_user(&self, user: &str) -> String {
        format!("smtp://{user}@127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().expect("not poisoned").clone()
    }
}

const HOST: &str = "stand-in.invalid";

async fn session(stream: TcpStream, shared: Shared) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let reply = |text: String| format!("{text}\r\n");
    write
        .write_all(reply(format!("220 {HOST} ESMTP Chotomoni stand-in")).as_bytes())
        .await?;
    let mut authed: Option<String> = None;
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = vec![];
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_owned();
        let upper = text.to_ascii_uppercase();
        let verb = upper.split(' ').next().unwrap_or("");
        let answer: String = match verb {
            "EHLO" => {
                mail_from = None;
                rcpt_to.clear();
                let mut lines = vec![
                    format!("250-{HOST} greets you"),
                    "250-8BITMIME".to_owned(),
                    "250-SMTPUTF8".to_owned(),
                ];
                if shared.options.login.is_some() {
                    lines.push("250-AUTH PLAIN LOGIN".to_owned());
                }
                lines.push("250 SIZE 10485760".to_owned());
                lines.join("\r\n")
            }
            "HELO" => format!("250 {HOST}"),
            "AUTH" => {
                let Some((user, password)) = &shared.options.login else {
                    write
                        .write_all(reply("502 5.5.1 AUTH not offered".into()).as_bytes())
                        .await?;
                    continue;
                };
                let parts: Vec<&str> = text.split(' ').collect();
                let mechanism = parts.get(1).map(|m| m.to_ascii_uppercase());
                let given = match mechanism.as_deref() {
                    Some("PLAIN") => {
                        let initial = match parts.get(2) {
                            Some(i) => i.to_string(),
                            None => {
                                write.write_all(reply("334 ".into()).as_bytes()).await?;
                                next_line(&mut read).await?
                            }
                        };
                        decode(&initial).and_then(|plain| {
                            let mut fields = plain.split('\0');
                            let _authzid = fields.next()?;
                            Some((fields.next()?.to_owned(), fields.next()?.to_owned()))
                        })
                    }
                    Some("LOGIN") => {
                        write
                            .write_all(reply("334 VXNlcm5hbWU6".into()).as_bytes())
                            .await?;
                        let u = next_line(&mut read).await?;
                        write
                            .write_all(reply("334 UGFzc3dvcmQ6".into()).as_bytes())
                            .await?;
                        let p = next_line(&mut read).await?;
                        decode(&u).zip(decode(&p))
                    }
                    _ => {
                        write
                            .write_all(reply("504 5.5.4 Unrecognized mechanism".into()).as_bytes())
                            .await?;
                        continue;
                    }
                };
                match given {
                    Some((u, p)) if &u == user && &p == password => {
                        authed = Some(u);
                        "235 2.7.0 Authentication successful".into()
                    }
                    _ => "535 5.7.8 Authentication credentials invalid".into(),
                }
            }
            "MAIL" => {
                if shared.options.login.is_some() && authed.is_none() {
                    "530 5.7.0 Authentication required".into()
                } else if let Some(path) = angle_path(&text, "MAIL FROM:") {
                    mail_from = Some(path);
                    rcpt_to.clear();
                    "250 2.1.0 Ok".into()
                } else {
                    "501 5.5.4 Syntax: MAIL FROM:<address>".into()
                }
            }
            "RCPT" => match (&mail_from, angle_path(&text, "RCPT TO:")) {
                (None, _) => "503 5.5.1 Need MAIL first".into(),
                (_, None) => "501 5.5.4 Syntax: RCPT TO:<address>".into(),
                (Some(_), Some(path)) => {
                    let refused = shared
                        .options
                        .reject_recipients_containing
                        .as_deref()
                        .is_some_and(|r| path.contains(r));
                    if refused {
                        format!("550 5.1.1 <{path}>: Recipient address rejected")
                    } else {
                        rcpt_to.push(path);
                        "250 2.1.5 Ok".into()
                    }
                }
            },
            "DATA" => {
                if mail_from.is_none() || rcpt_to.is_empty() {
                    "503 5.5.1 Need RCPT first".into()
                } else {
                    write
                        .write_all(reply("354 End data with <CR><LF>.<CR><LF>".into()).as_bytes())
                        .await?;
                    let data = read_data(&mut read).await?;
                    shared
                        .received
                        .lock()
                        .expect("not poisoned")
                        .push(Received {
                            mail_from: mail_from.take().unwrap_or_default(),
                            rcpt_to: std::mem::take(&mut rcpt_to),
                            data,
                            user: authed.clone(),
                        });
                    "250 2.0.0 Ok: queued".into()
                }
            }
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                "250 2.0.0 Ok".into()
            }
            "NOOP" => "250 2.0.0 Ok".into(),
            "QUIT" => {
                write
                    .write_all(reply("221 2.0.0 Bye".into()).as_bytes())
                    .await?;
                return Ok(());
            }
            _ => "502 5.5.2 Command not recognized".into(),
        };
        write.write_all(reply(answer).as_bytes()).await?;
    }
}

async fn next_line<R: tokio::io::AsyncBufRead + Unpin>(read: &mut R) -> std::io::Result<String> {
    let mut line = Vec::new();
    read.read_until(b'\n', &mut line).await?;
    Ok(String::from_utf8_lossy(&line)
        .trim_end_matches(['\r', '\n'])
        .to_owned())
}

fn decode(b64: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// `MAIL FROM:<a@b> SIZE=1` → `a@b` (the prefix in any case).
fn angle_path(line: &str, prefix: &str) -> Option<String> {
    let head = line.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = line[prefix.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_owned())
}

/// Reads DATA up to the `.` line, undoing dot-stuffing (RFC 5321 4.5.2).
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(read: &mut R) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(data);
        }
        if line.starts_with(b".") {
            data.extend_from_slice(&line[1..]);
        } else {
            data.extend_from_slice(&line);
        }
    }
}
