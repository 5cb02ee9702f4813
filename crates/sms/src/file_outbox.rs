//! The development SMS transport: a text file, one message a line.
use crate::{RemoveFuture, SendFuture, SmsError, SmsSender};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Development transport: appends each message to a file, one per line:
/// `<unix ms>\t<to>\t<text with newlines as spaces>`. Sending, forgetting
/// and sweeping take turns under one lock, so a message sent while the file
/// is rewritten is not lost; that holds within one process, which is all a
/// development server is.
#[derive(Debug, Clone)]
pub struct FileOutbox {
    path: Arc<PathBuf>,
    lock: Arc<tokio::sync::Mutex<()>>,
}

/// One line of the outbox, as far as forgetting and sweeping read it.
struct Line<'a> {
    sent_at: i64,
    to: &'a str,
}

impl<'a> Line<'a> {
    fn parse(line: &'a str) -> Option<Line<'a>> {
        let mut parts = line.splitn(3, '\t');
        let sent_at = parts.next()?.parse().ok()?;
        let to = parts.next()?;
        Some(Line { sent_at, to })
    }
}

impl FileOutbox {
    pub fn new(path: impl Into<PathBuf>) -> FileOutbox {
        FileOutbox {
            path: Arc::new(path.into()),
            lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn append(&self, to: &str, text: &str) -> Result<(), SmsError> {
        let _guard = self.lock.lock().await;
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let line = format!(
            "{at}\t{}\t{}\n",
            to.replace(['\t', '\n', '\r'], " "),
            text.replace(['\t', '\n', '\r'], " ")
        );
        let path = self.path.clone();
        blocking(move || {
            use std::io::Write;
            private_file(std::fs::OpenOptions::new().create(true).append(true))
                .open(path.as_path())
                .and_then(|mut f| f.write_all(line.as_bytes()))
        })
        .await
    }

    /// Keeps the lines `remove` does not pick and says how many went. A
    /// line that does not read is kept: it is not known to be either.
    async fn remove_lines(
        &self,
        remove: impl Fn(&Line) -> bool + Send + 'static,
    ) -> Result<usize, SmsError> {
        let _guard = self.lock.lock().await;
        let path = self.path.clone();
        blocking(move || {
            let text = match std::fs::read_to_string(path.as_path()) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
                other => other?,
            };
            let mut kept = String::with_capacity(text.len());
            let mut removed = 0;
            for line in text.lines() {
                if Line::parse(line).is_some_and(|l| remove(&l)) {
                    removed += 1;
                } else {
                    kept.push_str(line);
                    kept.push('\n');
                }
            }
            if removed > 0 {
                replace(&path, kept.as_bytes())?;
            }
            Ok(removed)
        })
        .await
    }
}

/// Writes `bytes` beside `path` and renames the new file over it, so a
/// crash leaves the old file or the new one, never half of either, and
/// what was removed is not left in a leftover copy.
fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".rewrite");
    let temporary = path.with_file_name(name);
    let written = private_file(
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true),
    )
    .open(&temporary)
    .and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    })
    .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Only the server's user may read the outbox: it holds numbers and codes.
fn private_file(options: &mut std::fs::OpenOptions) -> &mut std::fs::OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, SmsError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SmsError::Outbox(e.to_string()))?
        .map_err(|e| SmsError::Outbox(e.to_string()))
}

impl SmsSender for FileOutbox {
    fn send<'a>(&'a self, to_e164: &'a str, text: &'a str) -> SendFuture<'a> {
        Box::pin(self.append(to_e164, text))
    }

    fn keeps_copies(&self) -> bool {
        true
    }

    fn forget<'a>(&'a self, to_e164: &'a str) -> RemoveFuture<'a> {
        let to = to_e164.replace(['\t', '\n', '\r'], " ");
        Box::pin(self.remove_lines(move |l| l.to == to))
    }

    fn sweep(&self, sent_before_ms: i64) -> RemoveFuture<'_> {
        Box::pin(self.remove_lines(move |l| l.sent_at < sent_before_ms))
    }
}
