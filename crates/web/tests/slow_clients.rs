//! Slow clients against a server with a small blocking pool, on both
//! engines: dozens of downloads nobody reads (proof content, share links)
//! and uploads whose bodies trickle must not stop others from signing in,
//! reading a proof or asking `/healthz`. Also: an upload body that falls
//! silent is ended keeping what arrived, and headers that never finish
//! lose their connection.
#[path = "app/common/mod.rs"]
mod common;

use chotomoni_domain::Role;
use chotomoni_services::proofs::{ProofSettings, UploadQuotas};
use chotomoni_testkit::{fake_mp4, Engine};
use chotomoni_web::serve::ConnectionTimeouts;
use chotomoni_web::WebConfig;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Each test on each engine in a runtime whose blocking pool is small, as
/// a busy server's effectively is: a request that pins a thread per slow
/// client exhausts it here with a few dozen.
macro_rules! small_pool {
    ($name:ident, $body:path) => {
        mod $name {
            fn run(engine: chotomoni_testkit::Engine) {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .max_blocking_threads(12)
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on($body(engine))
            }
            #[test]
            fn sqlite() {
                run(chotomoni_testkit::Engine::Sqlite)
            }
            #[test]
            fn postgres() {
                run(chotomoni_testkit::Engine::Postgres)
            }
        }
    };
}

const SOON: Duration = Duration::from_secs(20);

async fn spawn(engine: Engine) -> common::TestApp {
    let proofs = ProofSettings {
        body_idle_timeout: Duration::from_secs(3),
        quotas: UploadQuotas {
            unfinished_uploads: 100,
            ..Default::default()
        },
        ..Default::default()
    };
    let web = WebConfig {
        timeouts: ConnectionTimeouts {
            header_read: Duration::from_secs(2),
            send_idle: Duration::from_secs(120),
        },
        ..Default::default()
    };
    common::spawn_with_limits(engine, Default::default(), proofs, web).await
}

/// A connection with a tiny receive window, so the server cannot push a
/// large response into socket buffers and be done with it.
async fn connect(app: &common::TestApp) -> TcpStream {
    let addr: std::net::SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(addr).await.unwrap()
}

/// Sends a request and reads only the start of the answer, then holds the
/// connection without reading: returns the head that was read.
async fn unread_download(app: &common::TestApp, path: &str, token: &str) -> (TcpStream, String) {
    let mut s = connect(app).await;
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = vec![0u8; 512];
    let n = tokio::time::timeout(SOON, s.read(&mut head))
        .await
        .expect("a download starts while others are held")
        .unwrap();
    (s, String::from_utf8_lossy(&head[..n]).into_owned())
}

/// Starts a PATCH whose body will be `declared` bytes, sends `first` of
/// them at once; the caller trickles the rest.
async fn patch_start(
    app: &common::TestApp,
    token: &str,
    path: &str,
    declared: usize,
    first: &[u8],
) -> TcpStream {
    let mut s = connect(app).await;
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n\
         Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {declared}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(first).await.unwrap();
    s
}

/// The server, an order's number and a packer's token.
async fn with_order(engine: Engine) -> (common::TestApp, String, String) {
    let app = spawn(engine).await;
    let body = common::order_body("Shapla Akter", "01711000111");
    let (_, order) = app.post("/api/v1/orders", None, &body).await;
    let number = order["number"].as_str().unwrap().to_owned();
    let packer = app.staff("packer", Role::Packer).await;
    (app, number, packer)
}

async fn slow_clients(engine: Engine) {
    let (app, number, packer) = with_order(engine).await;
    let support = app.staff("support", Role::Support).await;
    let big = fake_mp4(12 * 1024 * 1024);
    let big_id = app
        .upload_proof(&packer, &number, &big, 4 * 1024 * 1024)
        .await;
    let small = fake_mp4(5_000);
    let small_id = app
        .upload_proof(&packer, &number, &small, small.len())
        .await;
    let (status, link) = app
        .post(
            &format!("/api/v1/proofs/{big_id}/share-links"),
            Some(&support),
            &json!({"purpose": "courier_claim"}),
        )
        .await;
    assert_eq!(status, 201, "{link}");
    let share = link["token"].as_str().unwrap().to_owned();

    // The attack: 24 proof downloads and 8 share-link downloads left unread,
    // 16 uploads whose bodies trickle a byte at a time after a first block.
    let mut held = vec![];
    for i in 0..32 {
        let path = match i % 4 {
            0 => format!("/share/{share}/content"),
            _ => format!("/api/v1/proofs/{big_id}/content"),
        };
        let (s, head) = unread_download(&app, &path, &support).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
        held.push(s);
    }
    let mut tricklers = vec![];
    for _ in 0..16 {
        let path = app.tus_start(&packer, &number, big.len() as u64).await;
        let mut s = patch_start(&app, &packer, &path, big.len(), &big[..300 * 1024]).await;
        tricklers.push(tokio::spawn(async move {
            for b in big_tail() {
                if s.write_all(&[b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Everyone else is still answered: new clients, on new connections (a
    // connection the client kept from before may have been closed by the
    // server's idle timeout meanwhile, and reusing it fails in the client).
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let health = tokio::time::timeout(SOON, fresh.get(app.url("/healthz")).send())
        .await
        .expect("healthz answers while slow clients are held")
        .unwrap();
    assert_eq!(health.status(), 200);
    let sign_in = fresh
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "packer", "password": "correct horse battery"}));
    let signed = tokio::time::timeout(SOON, sign_in.send())
        .await
        .expect("sign-in answers while slow clients are held")
        .unwrap();
    assert_eq!(signed.status(), 200);
    let read = tokio::time::timeout(SOON, async {
        let res = fresh
            .get(app.url(&format!("/api/v1/proofs/{small_id}/content")))
            .bearer_auth(&support)
            .send()
            .await
            .unwrap();
        res.bytes().await.unwrap()
    })
    .await
    .expect("a proof read answers while slow clients are held");
    assert_eq!(&read[..], &small[..]);
    assert!(
        tricklers.iter().all(|t| !t.is_finished()),
        "the slow uploads were still being held"
    );
    for t in tricklers {
        t.abort();
    }
    drop(held);
}
small_pool!(slow_clients_leave_the_server_answering, super::slow_clients);

/// Bytes a trickler sends after its first block (more than the test lasts).
fn big_tail() -> impl Iterator<Item = u8> {
    std::iter::repeat_n(7u8, 1_000)
}

async fn silence(engine: Engine) {
    let (app, number, packer) = with_order(engine).await;
    let file = fake_mp4(400_000);
    let path = app.tus_start(&packer, &number, file.len() as u64).await;
    // The body stops after 100,000 of its 400,000 bytes and the phone stays
    // connected: the server ends it after the idle timeout and keeps them.
    let mut s = patch_start(&app, &packer, &path, file.len(), &file[..100_000]).await;
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(SOON, s.read(&mut answer))
        .await
        .expect("the server ends a silent body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 204"), "{answer}");
    assert!(answer.contains("upload-offset: 100000"), "{answer}");
    let head = app.tus_head(&packer, &path).await;
    assert_eq!(head.offset(), 100_000);
    // The client resumes from there and the file is whole.
    let done = app
        .tus_patch(&packer, &path, 100_000, &file[100_000..], None)
        .await;
    assert!(done.header("chotomoni-proof-id").is_some(), "{}", done.body);

    // Headers that never finish lose their connection.
    let mut s = connect(&app).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHo").await.unwrap();
    let mut rest = vec![0u8; 1024];
    let closed = tokio::time::timeout(SOON, async {
        loop {
            match s.read(&mut rest).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {} // a 408, then the close
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the connection was closed after the header read timeout"
    );
}
small_pool!(
    a_silent_body_or_unfinished_headers_are_ended,
    super::silence
);
