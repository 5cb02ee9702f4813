use chotomoni_domain::FieldError;
use chotomoni_storage::StorageError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServiceError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A request that conflicts with the current state (an illegal status change).
    #[error("{0}")]
    Conflict(String),
    #[error("sign-in required")]
    Unauthenticated,
    #[error("not allowed for your role")]
    Forbidden,
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    /// Too many password checks at once: refused now rather than queued.
    #[error("the server is busy; try again in {retry_after_secs} seconds")]
    Busy { retry_after_secs: u64 },
    /// A per-person quota is used up (429); `code` names which.
    #[error("{message}")]
    QuotaExceeded {
        code: &'static str,
        message: String,
        retry_after_secs: Option<u64>,
    },
    #[error("wrong user name or password")]
    BadCredentials,
    /// More bytes than allowed (413).
    #[error("{0}")]
    TooLarge(String),
    /// A file that is not a photo or video we accept (415).
    #[error("{0}")]
    UnsupportedMedia(String),
    /// The bytes do not match the checksum the client sent (tus: 460).
    #[error("the data does not match its Upload-Checksum; nothing was stored")]
    ChecksumMismatch,
    /// A stored file failed its integrity check: it was changed or damaged.
    #[error("{0}")]
    Tampered(String),
    #[error("stored personal data could not be opened")]
    Sealed,
    /// The master key is not the one this database was made with.
    #[error(
        "the master key does not match this database: it was made with another key. \
         Start with the key it was made with (CHOTOMONI_MASTER_KEY or master_key_file); \
         a new key cannot read any customer's data"
    )]
    WrongMasterKey,
    #[error(transparent)]
    Storage(StorageError),
    /// A payment gateway refused what it was told or asked (422); `code`
    /// names why (`bad_signature`, `payment_not_confirmed`, …).
    #[error("{message}")]
    Gateway { code: &'static str, message: String },
    /// A payment gateway could not be reached or did not answer in time (503).
    #[error("{0}")]
    GatewayUnavailable(String),
    #[error("{0}")]
    Internal(String),
    /// Something on our side failed while doing `context`; `source` says
    /// why and is kept, so the log shows the whole chain.
    #[error("{context}")]
    Failed {
        context: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

/// `.context("storing a proof")`: an error from below, kept as the source
/// of a [`ServiceError::Failed`] that says what was being done.
pub trait Context<T> {
    fn context(self, what: &'static str) -> Result<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> Context<T> for std::result::Result<T, E> {
    fn context(self, what: &'static str) -> Result<T> {
        self.map_err(|e| ServiceError::Failed {
            context: what,
            source: Box::new(e),
        })
    }
}

/// An error with its causes, outermost first (`storing a proof: I/O: disk full`).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

impl From<StorageError> for ServiceError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => ServiceError::NotFound("record"),
            other => ServiceError::Storage(other),
        }
    }
}

impl From<chotomoni_storage::SqlxError> for ServiceError {
    fn from(e: chotomoni_storage::SqlxError) -> Self {
        ServiceError::Storage(StorageError::Database(e))
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_keeps_its_cause_for_the_log() {
        let io = std::io::Error::other("disk full");
        let e = Err::<(), _>(io).context("storing a proof").unwrap_err();
        assert_eq!(e.to_string(), "storing a proof");
        assert_eq!(chain(&e), "storing a proof: disk full");
        let source = std::error::Error::source(&e).expect("the cause is kept");
        assert_eq!(source.to_string(), "disk full");
    }
}
