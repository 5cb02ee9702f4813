//! A JSON body extractor whose errors name the offending field, in the
//! error envelope: malformed JSON is 400, a wrong or unknown field is 422.
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

pub struct Json<T>(pub T);

/// Largest JSON body accepted.
const MAX_BODY: usize = 256 * 1024;

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        require_json(req.headers())?;
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| too_large())?;
        parse_body(&bytes).map(Json)
    }
}

/// Refuses a body that is not declared as JSON (415), before it is read.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ))
    }
}

/// Refuses a body longer than a JSON body may be (a webhook's, read raw).
pub fn within_limit(bytes: &[u8]) -> Result<(), ApiError> {
    if bytes.len() > MAX_BODY {
        return Err(too_large());
    }
    Ok(())
}

/// A JSON body of at most `MAX_BODY` bytes, its errors naming the field.
/// Every request body of this API is an object: serde would also read a
/// struct from an array of its fields in order (`[null]` as `{}`), which
/// the contract does not allow, so anything else is refused here.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    within_limit(bytes)?;
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | None => {}
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "the body must be a JSON object",
            ))
        }
    }
    match with_whole_floats_as_integers(bytes) {
        Some(rewritten) => parse(&rewritten),
        None => parse(bytes),
    }
}

/// JSON Schema counts `3.0` as the integer 3, and so does the OpenAPI
/// document, but serde does not: a body with such numbers is rewritten
/// with them as integers. `None` when there are none (or the JSON is
/// malformed, which `parse` reports).
fn with_whole_floats_as_integers(bytes: &[u8]) -> Option<Vec<u8>> {
    use serde_json::{Number, Value};
    fn rewrite(v: &mut Value) -> bool {
        match v {
            Value::Number(n) if n.is_f64() => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                // Beyond 2^53 a float no longer names one integer.
                if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 {
                    *n = if f < 0.0 {
                        Number::from(f as i64)
                    } else {
                        Number::from(f as u64)
                    };
                    return true;
                }
                false
            }
            Value::Array(items) => items.iter_mut().fold(false, |any, i| rewrite(i) | any),
            Value::Object(fields) => fields.values_mut().fold(false, |any, f| rewrite(f) | any),
            _ => false,
        }
    }
    let mut value: Value = serde_json::from_slice(bytes).ok()?;
    rewrite(&mut value).then(|| serde_json::to_vec(&value).expect("a parsed value serializes"))
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the body must be at most {MAX_BODY} bytes"),
    )
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {inner}"),
            );
        }
        let mut path = e.path().to_string();
        let message = inner.to_string();
        // serde reports a missing field at its parent; name the field itself.
        for prefix in ["unknown field `", "missing field `"] {
            if let Some(name) = message
                .strip_prefix(prefix)
                .and_then(|m| m.split('`').next())
            {
                if path == "." {
                    path = name.to_owned();
                } else if !path.ends_with(name) {
                    path = format!("{path}.{name}");
                }
            }
        }
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("{path}: {message}"),
        )
        .field(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: i64,
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse::<Outer>(br#"{"inner": {"n": 1, "x": 2}}"#).unwrap_err();
        assert_eq!(
            (e.status, e.field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("inner.x"))
        );
        let e = parse::<Outer>(br#"{"inner": {"n": "one"}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner.n"));
        let e = parse::<Outer>(br#"{"inner": {}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner.n"));
        let e = parse::<Outer>(br#"{"inner": "#).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_body_is_an_object_never_an_array_of_fields() {
        let e = parse_body::<Inner>(b" [1]").unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(parse_body::<Inner>(br#" {"n": 1}"#).unwrap().n, 1);
    }

    #[test]
    fn whole_floats_are_integers_as_the_schema_says() {
        let n = |body: &[u8]| parse_body::<Outer>(body).map(|o| o.inner.n);
        assert_eq!(n(br#"{"inner": {"n": 0.0}}"#).unwrap(), 0);
        assert_eq!(n(br#"{"inner": {"n": -3e2}}"#).unwrap(), -300);
        let e = n(br#"{"inner": {"n": 1.5}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner.n"));
        let e = n(br#"{"inner": {"n": 1e300}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner.n"));
    }
}
