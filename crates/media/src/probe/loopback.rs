//! A seekable view of media that must not touch the disk in clear, for
//! ffmpeg: an HTTP server on the loopback interface that answers ranged
//! GETs for one unguessable path with bytes from a [`RangeSource`].
//!
//! A pipe cannot seek, so ffmpeg reading `pipe:0` must decode everything
//! before an excerpt's start, and cannot read an MP4 whose index comes
//! after its media data at all. Over HTTP with ranges, ffmpeg seeks as it
//! does in a file.
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Bytes of the media from an offset to its end.
pub type RangeReader = Pin<Box<dyn AsyncRead + Send>>;

/// Media that can be read from any offset (a decrypting reader over a
/// stored proof, a file).
pub trait RangeSource: Send + Sync + 'static {
    /// The length in bytes.
    fn size(&self) -> u64;
    /// A reader from `offset` to the end.
    fn open_at(
        &self,
        offset: u64,
    ) -> Pin<Box<dyn Future<Output = io::Result<RangeReader>> + Send + '_>>;
}

/// Media already in memory (small files, tests).
impl RangeSource for Vec<u8> {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn open_at(
        &self,
        offset: u64,
    ) -> Pin<Box<dyn Future<Output = io::Result<RangeReader>> + Send + '_>> {
        let start = (offset as usize).min(self.len());
        let rest = self[start..].to_vec();
        Box::pin(async move { Ok(Box::pin(io::Cursor::new(rest)) as RangeReader) })
    }
}

/// Request heads longer than this are refused; ffmpeg's are a few hundred bytes.
const MAX_HEAD: usize = 8 * 1024;

/// A running server; it stops when dropped.
pub struct Loopback {
    pub url: String,
    task: JoinHandle<()>,
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Loopback {
    /// Serves `source` at a random path of a random port on 127.0.0.1.
    /// Any local process could connect to the port; the 128-bit path keeps
    /// it from reading what it has not been told.
    pub async fn serve(source: Arc<dyn RangeSource>) -> io::Result<Loopback> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let path = format!("/{:032x}", rand::random::<u128>());
        let url = format!("http://127.0.0.1:{port}{path}");
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let (source, path) = (source.clone(), path.clone());
                connections.spawn(async move {
                    // A seeking ffmpeg drops connections mid-body; that is
                    // how it asks for another range, not a failure.
                    let _ = answer(stream, &*source, &path).await;
                });
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Loopback { url, task })
    }
}

async fn answer(stream: TcpStream, source: &dyn RangeSource, path: &str) -> io::Result<()> {
    let mut stream = BufReader::new(stream);
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let read = stream.read_until(b'\n', &mut head).await?;
        if read == 0 || head.len() > MAX_HEAD {
            return Ok(());
        }
        if head[before..] == *b"\r\n" || head[before..] == *b"\n" {
            break;
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.lines();
    let request = lines.next().unwrap_or_default();
    let mut words = request.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let len = source.size();
    let range_start = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("range")
            .then(|| parse_range_start(value.trim()))
    });
    let stream = stream.get_mut();
    if target != path || !(method == "GET" || method == "HEAD") {
        return respond(stream, "404 Not Found", &[("Content-Length", "0".into())]).await;
    }
    let start = match range_start {
        None => None,
        Some(Some(start)) if start < len || (start == 0 && len == 0) => Some(start),
        Some(_) => {
            return respond(
                stream,
                "416 Range Not Satisfiable",
                &[
                    ("Content-Range", format!("bytes */{len}")),
                    ("Content-Length", "0".into()),
                ],
            )
            .await
        }
    };
    let from = start.unwrap_or(0);
    let mut headers = vec![
        ("Accept-Ranges", "bytes".to_owned()),
        ("Content-Type", "application/octet-stream".to_owned()),
        ("Content-Length", (len - from).to_string()),
    ];
    let status = if start.is_some() {
        headers.push((
            "Content-Range",
            format!("bytes {from}-{}/{len}", len.saturating_sub(1)),
        ));
        "206 Partial Content"
    } else {
        "200 OK"
    };
    respond(stream, status, &headers).await?;
    if method == "HEAD" {
        return Ok(());
    }
    let mut body = source.open_at(from).await?;
    tokio::io::copy(&mut body, stream).await?;
    stream.flush().await
}

/// The start of `bytes=N-` or `bytes=N-M` (ffmpeg asks for open ranges;
/// an end is served as open, which HTTP allows a server to do). `None`
/// for anything else, answered 416.
fn parse_range_start(value: &str) -> Option<u64> {
    let spec = value.strip_prefix("bytes=")?;
    let (start, _end) = spec.split_once('-')?;
    start.trim().parse().ok()
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn get(url: &str, extra: &str) -> String {
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_at(rest.find('/').unwrap());
        let mut s = TcpStream::connect(host).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn serves_ranges_of_one_secret_path_only() {
        let server = Loopback::serve(Arc::new(b"0123456789".to_vec()))
            .await
            .unwrap();
        let whole = get(&server.url, "").await;
        assert!(whole.starts_with("HTTP/1.1 200 OK"), "{whole}");
        assert!(whole.ends_with("\r\n\r\n0123456789"), "{whole}");
        let tail = get(&server.url, "Range: bytes=7-\r\n").await;
        assert!(tail.starts_with("HTTP/1.1 206"), "{tail}");
        assert!(tail.contains("Content-Range: bytes 7-9/10\r\n"), "{tail}");
        assert!(tail.ends_with("\r\n\r\n789"), "{tail}");
        let beyond = get(&server.url, "Range: bytes=10-\r\n").await;
        assert!(beyond.starts_with("HTTP/1.1 416"), "{beyond}");
        // One character off the secret path (never the same character).
        let last = if server.url.ends_with('0') { '1' } else { '0' };
        let guessed = format!("{}{last}", &server.url[..server.url.len() - 1]);
        assert!(get(&guessed, "").await.starts_with("HTTP/1.1 404"));
    }
}
