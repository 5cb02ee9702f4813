//! The one error envelope: `{"error": {"code", "message", "field"}}`. Every
//! failure of every route is mapped to it here, and only here.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chotomoni_services::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_field`, `not_found`.
    pub code: String,
    pub message: String,
    /// The request field at fault, as a path (`items[0].quantity`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(f) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                format!("{} {}", f.field, f.message),
            )
            .field(f.field),
            ServiceError::NotFound(what) => ApiError::not_found(what),
            ServiceError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            ServiceError::Unauthenticated => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in first")
            }
            ServiceError::BadCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", e.to_string())
            }
            ServiceError::Forbidden => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            ServiceError::RateLimited { retry_after_secs } => ApiError {
                retry_after: Some(retry_after_secs),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", e.to_string())
            },
            ServiceError::Busy { retry_after_secs } => ApiError {
                retry_after: Some(retry_after_secs),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string())
            },
            ServiceError::QuotaExceeded {
                code,
                message,
                retry_after_secs,
            } => ApiError {
                retry_after: retry_after_secs,
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, message)
            },
            ServiceError::Storage(chotomoni_storage::StorageError::Duplicate(f)) => ApiError::new(
                StatusCode::CONFLICT,
                "duplicate",
                format!("{f} already exists; try again"),
            )
            .field(f),
            ServiceError::TooLarge(m) => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", m)
            }
            ServiceError::UnsupportedMedia(m) => {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media", m)
            }
            ServiceError::ChecksumMismatch => ApiError::new(
                StatusCode::from_u16(460).expect("valid status"),
                "checksum_mismatch",
                e.to_string(),
            )
            .field("Upload-Checksum"),
            ServiceError::Gateway { code, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            ServiceError::GatewayUnavailable(m) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "gateway_unavailable", m)
            }
            ServiceError::Tampered(m) => {
                tracing::error!(error = %m, "a stored proof failed its integrity check");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "integrity_check_failed",
                    m,
                )
            }
            ServiceError::Sealed
            | ServiceError::WrongMasterKey
            | ServiceError::Storage(_)
            | ServiceError::Internal(_)
            | ServiceError::Failed { .. } => {
                tracing::error!(error = %chotomoni_services::error::chain(&e), "request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side",
                )
            }
        }
    }
}

impl From<chotomoni_domain::FieldError> for ApiError {
    fn from(f: chotomoni_domain::FieldError) -> Self {
        ServiceError::Invalid(f).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.into(),
                message: self.message,
                field: self.field,
            },
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
