//! Query-string and path extractors whose refusals are the error envelope,
//! like `json::Json`: axum's own answer a plain-text 400 that no API client
//! can read the way it reads every other error. A parameter that is missing,
//! unknown or of the wrong type is 422 `invalid_field`, naming it.
use crate::error::ApiError;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or("")).map(Query)
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let message = e.inner().to_string();
        // serde names a missing or unknown field in its message, at the root.
        let named = ["unknown field `", "missing field `"]
            .iter()
            .find_map(|p| message.strip_prefix(p))
            .and_then(|m| m.split('`').next());
        let field = match (e.path().to_string(), named) {
            (_, Some(name)) => name.to_owned(),
            (path, None) => path,
        };
        invalid(field, &message)
    })
}

pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        // A lone parameter's parse error does not say its name; the route does.
        let lone = match RawPathParams::from_request_parts(parts, state).await {
            Ok(raw) if raw.iter().count() == 1 => raw.iter().next().map(|(k, _)| k.to_owned()),
            _ => None,
        };
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let message = e.body_text();
                Err(match e.into_kind() {
                    ErrorKind::ParseErrorAtKey {
                        key, expected_type, ..
                    } => invalid(key, &format!("must be {}", article(expected_type))),
                    ErrorKind::ParseError { expected_type, .. } => match lone {
                        Some(key) => invalid(key, &format!("must be {}", article(expected_type))),
                        None => ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "invalid_field",
                            message,
                        ),
                    },
                    ErrorKind::InvalidUtf8InPathParam { key } => invalid(key, "is not UTF-8"),
                    ErrorKind::DeserializeError { key, message, .. } => invalid(key, &message),
                    _ => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message),
                })
            }
            // The route and the handler disagree: our bug, not the client's.
            Err(e) => {
                tracing::error!(error = %e.body_text(), "path parameters do not fit the handler");
                Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side",
                ))
            }
        }
    }
}

/// `i64` → `an integer (i64)`: what a client can act on.
fn article(rust_type: &str) -> String {
    match rust_type {
        "i64" | "u64" | "i32" | "u32" => format!("an integer ({rust_type})"),
        other => format!("a {other}"),
    }
}

fn invalid(field: String, message: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        format!("{field}: {message}"),
    )
    .field(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Range {
        from: u64,
        to: Option<u64>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let field = |q: &str| parse_query::<Range>(q).unwrap_err().field;
        assert_eq!(field("to=3").as_deref(), Some("from"));
        assert_eq!(field("from=x").as_deref(), Some("from"));
        assert_eq!(field("from=1&other=2").as_deref(), Some("other"));
        assert_eq!(parse_query::<Range>("from=1&to=2").unwrap().to, Some(2));
        let e = parse_query::<Range>("").unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}
