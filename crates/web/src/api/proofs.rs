//! Proofs: their descriptions, their bytes (with HTTP Range, so a browser
//! video seeks), posters, receipts, share links, and the public side of the
//! transparency log (signed tree heads, consistency proofs, the log key).
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Path, Query};
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chotomoni_domain::{OrderNumber, ProofId, SharePurpose};
use chotomoni_services::proofs::read::PlainStream;
use chotomoni_services::proofs::retention::StorageUse;
use chotomoni_services::proofs::share::ShareLink;
use chotomoni_services::proofs::view::ProofView;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use utoipa::{IntoParams, ToSchema};

/// The proofs of one order, oldest first.
#[utoipa::path(get, path = "/api/v1/orders/{number}/proofs",
    security(("bearer" = []), ("session_cookie" = [])), params(super::orders::OrderPath),
    responses((status = 200, body = [ProofView]), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn of_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> ApiResult<axum::Json<Vec<ProofView>>> {
    let number = OrderNumber::parse(&number).map_err(|_| ApiError::not_found("order"))?;
    Ok(axum::Json(
        state
            .services
            .proofs_of_order(&caller.actor(), number)
            .await?,
    ))
}

/// One proof's description: hashes, times, uploader, media facts.
#[utoipa::path(get, path = "/api/v1/proofs/{id}",
    security(("bearer" = []), ("session_cookie" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ProofView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<ProofView>> {
    Ok(axum::Json(
        state.services.proof(&caller.actor(), ProofId(id)).await?,
    ))
}

/// The proof file itself, decrypted and checked as it is read. Supports
/// `Range: bytes=…` (206 Partial Content).
#[utoipa::path(get, path = "/api/v1/proofs/{id}/content",
    security(("bearer" = []), ("session_cookie" = [])), params(("id" = i64, Path), ("Range" = Option<String>, Header)),
    responses((status = 200, description = "The whole file"),
        (status = 206, description = "The requested range"), (status = 416, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid"),
        (status = 403, body = ErrorBody, description = "Not allowed to this role")))]
pub async fn content(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let actor = caller.actor();
    let view = state.services.proof(&actor, ProofId(id)).await?;
    let range = requested_range(&headers, view.size)?;
    let stream = state
        .services
        .proof_content(&actor, ProofId(id), range.clone().unwrap_or(0..view.size))
        .await?;
    Ok(media_response(&view, range, stream))
}

/// The poster frame (or a photo's thumbnail) as JPEG.
#[utoipa::path(get, path = "/api/v1/proofs/{id}/poster",
    security(("bearer" = []), ("session_cookie" = [])), params(("id" = i64, Path)),
    responses((status = 200, content_type = "image/jpeg"), (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid"),
        (status = 403, body = ErrorBody, description = "Not allowed to this role")))]
pub async fn poster(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let jpeg = state
        .services
        .proof_poster(&caller.actor(), ProofId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("poster"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        jpeg,
    )
        .into_response())
}

/// The proof's receipt: its log leaf, inclusion proof and the signed tree
/// head, to be checked offline with `chotomoni verify FILE RECEIPT`.
#[utoipa::path(get, path = "/api/v1/proofs/{id}/receipt",
    security(("bearer" = []), ("session_cookie" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "Receipt JSON"), (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid"),
        (status = 403, body = ErrorBody, description = "Not allowed to this role")))]
pub async fn receipt(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let receipt = state
        .services
        .proof_receipt(&caller.actor(), ProofId(id))
        .await?;
    let mut res = axum::Json(receipt).into_response();
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"proof-{id}.receipt.json\""))
            .expect("ASCII"),
    );
    Ok(res)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShareLink {
    pub purpose: SharePurpose,
}

/// A link showing this one proof to a courier or marketplace, until it
/// expires or is revoked (support and admin).
#[utoipa::path(post, path = "/api/v1/proofs/{id}/share-links",
    security(("bearer" = []), ("session_cookie" = [])), params(("id" = i64, Path)), request_body = NewShareLink,
    responses((status = 201, body = ShareLink), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid")))]
pub async fn share(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    crate::json::Json(input): crate::json::Json<NewShareLink>,
) -> ApiResult<(StatusCode, axum::Json<ShareLink>)> {
    let link = state
        .services
        .create_share_link(&caller.actor(), ProofId(id), input.purpose)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(link)))
}

/// The share links made for a proof.
#[utoipa::path(get, path = "/api/v1/proofs/{id}/share-links",
    security(("bearer" = []), ("session_cookie" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = [ShareLink]), (status = 403, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid")))]
pub async fn share_links(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Vec<ShareLink>>> {
    Ok(axum::Json(
        state
            .services
            .share_links(&caller.actor(), ProofId(id))
            .await?,
    ))
}

/// Revokes a share link at once.
#[utoipa::path(post, path = "/api/v1/share-links/{id}/revoke",
    security(("bearer" = []), ("session_cookie" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid")))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    state
        .services
        .revoke_share_link(&caller.actor(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Proofs and their encrypted bytes per kind and month received, newest
/// month first (staff who may watch proofs).
#[utoipa::path(get, path = "/api/v1/proofs/storage",
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = Vec<StorageUse>), (status = 401, body = ErrorBody, description = "Staff only"),
        (status = 403, body = ErrorBody)))]
pub async fn storage(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<StorageUse>>> {
    let actor = caller.require_staff()?;
    Ok(axum::Json(state.services.proof_storage(&actor).await?))
}

/// The newest signed tree head of the proof log (C2SP checkpoint, signed note).
#[utoipa::path(get, path = "/api/v1/log/checkpoint", responses((status = 200, content_type = "text/plain"),
        (status = 404, body = ErrorBody)))]
pub async fn checkpoint(State(state): State<AppState>) -> ApiResult<Response> {
    let note = state
        .services
        .log_head()
        .await?
        .ok_or_else(|| ApiError::not_found("signed tree head (the log is empty)"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        note,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ConsistencyQuery {
    /// The older tree size.
    #[param(minimum = 1)]
    pub from: u64,
    /// The newer tree size, at least `from`.
    #[param(minimum = 1)]
    pub to: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    /// The signed tree heads of both sizes.
    pub from_checkpoint: String,
    pub to_checkpoint: String,
    /// RFC 6962 consistency proof, base64 hashes.
    pub proof: Vec<String>,
}

/// Proof that the log of size `to` extends the one of size `from`: nothing
/// logged was changed or removed.
#[utoipa::path(get, path = "/api/v1/log/consistency", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn consistency(
    State(state): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<axum::Json<ConsistencyProof>> {
    let c = state.services.log_consistency(q.from, q.to).await?;
    Ok(axum::Json(ConsistencyProof {
        from: q.from,
        to: q.to,
        from_checkpoint: c.old.signed_note,
        to_checkpoint: c.new.signed_note,
        proof: c
            .proof
            .iter()
            .map(|h| base64::engine::general_purpose::STANDARD.encode(h))
            .collect(),
    }))
}

/// The public key that signs the log's tree heads (signed-note verifier key).
#[utoipa::path(get, path = "/.well-known/chotomoni-log-key", responses((status = 200, content_type = "text/plain")))]
pub async fn log_key(State(state): State<AppState>) -> Response {
    let key = state.services.proofs().log_verifier_key();
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{key}\n"),
    )
        .into_response()
}

/// Parses `Range: bytes=a-b | a- | -n` against a file of `size` bytes.
/// `None` means the whole file; several ranges are answered whole too.
pub fn requested_range(headers: &HeaderMap, size: u64) -> Result<Option<Range<u64>>, ApiError> {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let unsatisfiable = || {
        ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range_not_satisfiable",
            format!("the file has {size} bytes"),
        )
        .field("Range")
    };
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (start, end) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let parse = |s: &str| s.trim().parse::<u64>().map_err(|_| unsatisfiable());
    let range = match (start.trim().is_empty(), end.trim().is_empty()) {
        (true, false) => {
            let n = parse(end)?.min(size);
            size - n..size
        }
        (false, true) => parse(start)?..size,
        (false, false) => parse(start)?..parse(end)?.saturating_add(1).min(size),
        (true, true) => return Err(unsatisfiable()),
    };
    if range.start >= range.end || range.start >= size {
        return Err(unsatisfiable());
    }
    Ok(Some(range))
}

/// A proof's bytes as a response: 200 whole, or 206 with Content-Range.
pub fn media_response(
    view: &ProofView,
    range: Option<Range<u64>>,
    stream: PlainStream,
) -> Response {
    let (status, len) = match &range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r.end - r.start),
        None => (StatusCode::OK, view.size),
    };
    let mut res = Response::new(Body::from_stream(stream));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&view.media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if let Some(r) = range {
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("bytes {}-{}/{}", r.start, r.end - 1, view.size))
                .expect("ASCII"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(value: &str, size: u64) -> Result<Option<Range<u64>>, StatusCode> {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(value).unwrap());
        requested_range(&h, size).map_err(|e| e.status)
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(range("bytes=0-99", 1000), Ok(Some(0..100)));
        assert_eq!(range("bytes=900-", 1000), Ok(Some(900..1000)));
        assert_eq!(range("bytes=-100", 1000), Ok(Some(900..1000)));
        assert_eq!(range("bytes=990-5000", 1000), Ok(Some(990..1000)));
        assert_eq!(range("bytes=0-1,5-6", 1000), Ok(None));
        assert_eq!(
            range("bytes=1000-", 1000),
            Err(StatusCode::RANGE_NOT_SATISFIABLE)
        );
        assert_eq!(
            range("bytes=5-2", 1000),
            Err(StatusCode::RANGE_NOT_SATISFIABLE)
        );
        assert_eq!(
            range("bytes=x-", 1000),
            Err(StatusCode::RANGE_NOT_SATISFIABLE)
        );
    }
}
