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
    #[error("{0}")]
    Internal(String),
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
