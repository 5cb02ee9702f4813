//! The development mail transport: a folder of `.eml` files.
use crate::OutgoingMail;
use crate::{build_message, parse_from, MailError, Mailer, RemoveFuture, SendFuture};
use lettre::message::Mailbox;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Development transport: each message becomes `<unix ms>-<random>.eml`
/// (mode 0600) in a folder, exactly as it would have gone over SMTP.
/// Writing and removing take turns under one lock, so a removal never reads
/// a message half written (within one process, which is all a development
/// server is).
#[derive(Debug, Clone)]
pub struct FileOutbox {
    dir: Arc<PathBuf>,
    from: Mailbox,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl FileOutbox {
    pub fn new(dir: impl Into<PathBuf>, from: &str) -> Result<FileOutbox, MailError> {
        Ok(FileOutbox {
            dir: Arc::new(dir.into()),
            from: parse_from(from)?,
            lock: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    async fn write(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        use rand::Rng;
        let bytes = build_message(&self.from, mail)?.formatted();
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let name = format!("{at}-{:08x}.eml", rand::thread_rng().gen::<u32>());
        let dir = self.dir.clone();
        let _guard = self.lock.lock().await;
        blocking(move || {
            use std::io::Write;
            std::fs::create_dir_all(dir.as_path())?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            options
                .open(dir.join(name))
                .and_then(|mut f| f.write_all(&bytes))
        })
        .await
    }

    /// Deletes the messages `remove` picks (given each one's send time and
    /// bytes) and says how many went. Files this outbox did not write (not
    /// `<unix ms>-….eml`) are left alone.
    async fn remove_messages(
        &self,
        remove: impl Fn(i64, &[u8]) -> bool + Send + 'static,
    ) -> Result<usize, MailError> {
        let _guard = self.lock.lock().await;
        let dir = self.dir.clone();
        blocking(move || {
            let entries = match std::fs::read_dir(dir.as_path()) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
                other => other?,
            };
            let mut removed = 0;
            for entry in entries {
                let path = entry?.path();
                let Some(sent_at) = sent_at(&path) else {
                    continue;
                };
                if remove(sent_at, &std::fs::read(&path)?) {
                    std::fs::remove_file(&path)?;
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
    }
}

/// When a message of this outbox was written, from its file name.
fn sent_at(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_str()?.strip_suffix(".eml")?;
    name.split_once('-')?.0.parse().ok()
}

/// The addresses in a message's `To` field, lower case.
fn recipients(message: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(message);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    // A long field goes on over lines that start with white space.
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded
        .lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("to"))
        .flat_map(|(_, value)| value.split(',').map(bare_address).collect::<Vec<_>>())
        .collect()
}

/// `rupa@example.com` of `Rupa <rupa@example.com>` or of itself.
fn bare_address(mailbox: &str) -> String {
    let bare = match (mailbox.rfind('<'), mailbox.rfind('>')) {
        (Some(open), Some(close)) if open < close => &mailbox[open + 1..close],
        _ => mailbox,
    };
    bare.trim().to_ascii_lowercase()
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, MailError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| MailError::Outbox(e.to_string()))?
        .map_err(|e| MailError::Outbox(e.to_string()))
}

impl Mailer for FileOutbox {
    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> SendFuture<'a> {
        Box::pin(self.write(mail))
    }

    fn sender_address(&self) -> String {
        self.from.email.to_string()
    }

    fn keeps_copies(&self) -> bool {
        true
    }

    fn forget<'a>(&'a self, address: &'a str) -> RemoveFuture<'a> {
        let address = bare_address(address);
        Box::pin(self.remove_messages(move |_, message| recipients(message).contains(&address)))
    }

    fn sweep(&self, sent_before_ms: i64) -> RemoveFuture<'_> {
        Box::pin(self.remove_messages(move |sent_at, _| sent_at < sent_before_ms))
    }
}
