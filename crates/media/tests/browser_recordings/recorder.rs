//! Recordings made by Chromium's MediaRecorder at test time: a headless
//! Chromium with its fake camera (a moving test picture) and microphone (a
//! beep) opens a page served from here, records, and posts the files back.
//! Nothing is committed: the recordings are as the installed browser
//! makes them. A missing Chromium fails the tests, it does not skip them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const PAGE: &str = include_str!("page.html");
/// Debian's Chromium; `CHROMIUM` overrides it.
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// Starting Chromium on a busy machine, recording and posting.
const RECORDING_TIMEOUT: Duration = Duration::from_secs(90);

/// One file as MediaRecorder made it.
pub struct Recording {
    pub mime_type: &'static str,
    pub bytes: Vec<u8>,
    /// How long it recorded, by the page's clock.
    pub recorded_ms: u64,
}

enum Posted {
    Recording {
        index: usize,
        bytes: Vec<u8>,
        recorded_ms: u64,
    },
    Error(String),
}

/// Records `record_ms` of the fake camera in each of `mime_types` at once.
pub fn record(mime_types: &[&'static str], record_ms: u64) -> Vec<Recording> {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port for the recording page");
    let port = listener.local_addr().unwrap().port();
    let (posted, received) = mpsc::channel();
    std::thread::spawn(move || {
        // A failed connection is not the end: Chromium opens speculative
        // sockets it closes unused, and the page's request may come next.
        for stream in listener.incoming().flatten() {
            let _ = serve(stream, &posted);
        }
    });

    let profile = tempfile::tempdir().unwrap();
    let mut url = format!("http://127.0.0.1:{port}/?ms={record_ms}");
    for mime_type in mime_types {
        url.push_str("&type=");
        url.push_str(&mime_type.replace(';', "%3B").replace(',', "%2C"));
    }
    let chromium = Browser(start_chromium(profile.path(), &url));

    let mut recordings: Vec<Option<Recording>> = mime_types.iter().map(|_| None).collect();
    while recordings.iter().any(Option::is_none) {
        match received.recv_timeout(RECORDING_TIMEOUT) {
            Ok(Posted::Recording {
                index,
                bytes,
                recorded_ms,
            }) => {
                recordings[index] = Some(Recording {
                    mime_type: mime_types[index],
                    bytes,
                    recorded_ms,
                })
            }
            Ok(Posted::Error(message)) => panic!("the recording page failed: {message}"),
            Err(_) => panic!("Chromium posted no recordings within {RECORDING_TIMEOUT:?}"),
        }
    }
    drop(chromium);
    recordings.into_iter().map(Option::unwrap).collect()
}

fn start_chromium(profile: &std::path::Path, url: &str) -> Child {
    let program = std::env::var("CHROMIUM").unwrap_or_else(|_| DEFAULT_CHROMIUM.to_owned());
    Command::new(&program)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            "--autoplay-policy=no-user-gesture-required",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} could not start ({e}); install Debian's chromium"))
}

/// Stops Chromium however the test ends.
struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Answers one request: the page, or a posted recording or error.
fn serve(stream: TcpStream, posted: &mpsc::Sender<Posted>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut content_length = 0;
    let mut recorded_ms = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        match name.to_ascii_lowercase().as_str() {
            "content-length" => content_length = value.trim().parse().unwrap_or(0),
            "x-recorded-ms" => recorded_ms = value.trim().parse().unwrap_or(0),
            _ => {}
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (content_type, answer) = if let Some(index) = path.strip_prefix("/recording/") {
        let index = index.parse().expect("the page posts recordings by index");
        let recording = Posted::Recording {
            index,
            bytes: body,
            recorded_ms,
        };
        posted.send(recording).map_err(std::io::Error::other)?;
        ("text/plain", "")
    } else if path == "/error" {
        let message = String::from_utf8_lossy(&body).into_owned();
        posted
            .send(Posted::Error(message))
            .map_err(std::io::Error::other)?;
        ("text/plain", "")
    } else {
        ("text/html; charset=utf-8", PAGE)
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    )
}
