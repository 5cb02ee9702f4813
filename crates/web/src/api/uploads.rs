//! `/api/v1/uploads/`: the tus 1.0.0 resumable upload protocol with the
//! creation, creation-with-upload, termination, expiration and checksum
//! (sha256) extensions, so the official tus clients work unchanged.
//! Protocol headers are parsed here; errors keep the one JSON envelope.
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Path;
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chotomoni_domain::{FieldError, OrderNumber, ProofKind};
use chotomoni_services::proofs::append::Checksum;
use chotomoni_services::proofs::upload::{NewUpload, UploadState};
use chotomoni_services::{Actor, ServiceError, Services};
use std::collections::HashMap;

pub const TUS_VERSION: &str = "1.0.0";
const EXTENSIONS: &str = "creation,creation-with-upload,termination,expiration,checksum";
const OFFSET_CONTENT_TYPE: &str = "application/offset+octet-stream";
const UPLOADS: &str = "/api/v1/uploads/";

static TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
static UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
static UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
static UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
static PROOF_ID: HeaderName = HeaderName::from_static("chotomoni-proof-id");

/// Server capabilities (tus discovery); no session needed.
#[utoipa::path(options, path = "/api/v1/uploads/", responses((status = 204, description = "Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm")))]
pub async fn discover(State(state): State<AppState>) -> Response {
    let max = state.services.proofs().settings.max_upload_bytes;
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    h.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    h.insert("tus-extension", HeaderValue::from_static(EXTENSIONS));
    h.insert("tus-max-size", HeaderValue::from(max));
    h.insert("tus-checksum-algorithm", HeaderValue::from_static("sha256"));
    res
}

/// Starts an upload of a proof file. `Upload-Metadata` names the order
/// (`order`), the proof kind (`kind`: packing, delivery, return, claim), the
/// device's capture time (`captured_at`, RFC 3339), the file name
/// (`filename`) and, for evidence, its claim (`claim`; without it evidence
/// goes to the claim open on the order). With a body (`Content-Type: application/offset+octet-stream`)
/// the first bytes arrive at once (creation-with-upload).
#[utoipa::path(post, path = "/api/v1/uploads/",
    params(("Upload-Length" = u64, Header), ("Upload-Metadata" = String, Header), ("Tus-Resumable" = String, Header)),
    responses((status = 201, description = "Created; Location names the upload"),
        (status = 404, body = ErrorBody, description = "Unknown order, or a claim not on it"),
        (status = 409, body = ErrorBody, description = "Evidence for a claim already decided"),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "An upload quota is used up: `too_many_unfinished_uploads`, `unfinished_upload_bytes`, `claim_uploads_per_day` (with Retry-After)"),
        (status = 400, body = ErrorBody, description = "A tus header is missing or malformed (`invalid_header`)"),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid"),
        (status = 412, body = ErrorBody, description = "Tus-Resumable is not 1.0.0")))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    require_tus(&headers)?;
    let actor = caller.actor();
    let new = new_upload(&headers)?;
    let services = &state.services;
    let created = services.create_upload(&actor, new).await?;
    let location = format!("{UPLOADS}{}", created.id);
    let state_after = if has_offset_body(&headers) {
        receive(
            services,
            actor,
            created.id.clone(),
            0,
            checksum(&headers)?,
            body,
        )
        .await?
    } else {
        created
    };
    let mut res = progress(StatusCode::CREATED, &state_after);
    res.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&location).expect("ASCII id"),
    );
    Ok(res)
}

/// How far an upload got.
#[utoipa::path(head, path = "/api/v1/uploads/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "Upload-Offset and Upload-Length; equal, with Chotomoni-Proof-Id, for an upload that became a proof (until an unfinished one would have expired), so a client that missed the last answer sends nothing again"),
        (status = 404, description = "Unknown, expired or someone else's"),
        (status = 401, description = "The bearer token is not valid"),
        (status = 412, description = "Tus-Resumable is not 1.0.0")))]
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require_tus(&headers)?;
    let upload = state.services.upload_state(&caller.actor(), &id).await?;
    let mut res = progress(StatusCode::OK, &upload);
    let h = res.headers_mut();
    h.insert(UPLOAD_LENGTH.clone(), HeaderValue::from(upload.length));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Appends bytes at `Upload-Offset`. An `Upload-Checksum: sha256 <base64>`
/// that does not match answers 460 and keeps nothing. The request that
/// completes the file answers with `Chotomoni-Proof-Id`. A body that sends
/// nothing for the upload idle timeout is ended: 204 with the offset of what
/// arrived (460 with a checksum), and the client resumes from there.
#[utoipa::path(patch, path = "/api/v1/uploads/{id}", params(("id" = String, Path), ("Upload-Offset" = u64, Header), ("Upload-Checksum" = Option<String>, Header)),
    responses((status = 204, description = "Stored; Upload-Offset is the new offset"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Wrong offset"),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 460, body = ErrorBody, description = "Checksum mismatch"),
        (status = 400, body = ErrorBody, description = "A tus header is missing or malformed (`invalid_header`)"),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid"),
        (status = 412, body = ErrorBody, description = "Tus-Resumable is not 1.0.0")))]
pub async fn append(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    require_tus(&headers)?;
    if !has_offset_body(&headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("PATCH bodies must be sent as {OFFSET_CONTENT_TYPE}"),
        )
        .field("Content-Type"));
    }
    let offset = number_header(&headers, &UPLOAD_OFFSET)?;
    let upload = receive(
        &state.services,
        caller.actor(),
        id,
        offset,
        checksum(&headers)?,
        body,
    )
    .await?;
    Ok(progress(StatusCode::NO_CONTENT, &upload))
}

/// Runs the append in its own task: when the client disconnects, hyper
/// drops this request's future, but what already arrived must still be
/// made durable and recorded (tus expects the offset to move).
async fn receive(
    services: &Services,
    actor: Actor,
    id: String,
    offset: u64,
    checksum: Option<Checksum>,
    body: Body,
) -> ApiResult<UploadState> {
    let services = services.clone();
    let task = tokio::spawn(async move {
        services
            .append_upload(&actor, &id, offset, checksum, body.into_data_stream())
            .await
    });
    match task.await {
        Ok(result) => Ok(result?),
        Err(e) => Err(ServiceError::Internal(format!("an upload task failed: {e}")).into()),
    }
}

/// Cancels an upload and deletes what was received (termination).
#[utoipa::path(delete, path = "/api/v1/uploads/{id}", params(("id" = String, Path)), responses((status = 204),
        (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid"),
        (status = 412, body = ErrorBody, description = "Tus-Resumable is not 1.0.0")))]
pub async fn terminate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    require_tus(&headers)?;
    state
        .services
        .terminate_upload(&caller.actor(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST` with `X-HTTP-Method-Override` (for clients behind proxies that
/// drop PATCH or DELETE, as tus allows).
pub async fn overridden(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let method = headers
        .get("x-http-method-override")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match method.to_ascii_uppercase().as_str() {
        "PATCH" => append(state, caller, id, headers, body).await,
        "DELETE" => terminate(state, caller, id, headers)
            .await
            .map(IntoResponse::into_response),
        "HEAD" => status(state, caller, id, headers).await,
        _ => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "POST to an upload needs X-HTTP-Method-Override: PATCH, HEAD or DELETE",
        )),
    }
}

/// Adds `Tus-Resumable` to every response of the upload routes, errors included.
pub async fn tus_header(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut res = next.run(req).await;
    res.headers_mut()
        .insert(TUS_RESUMABLE.clone(), HeaderValue::from_static(TUS_VERSION));
    res
}

fn progress(status: StatusCode, upload: &UploadState) -> Response {
    let mut res = status.into_response();
    let h = res.headers_mut();
    h.insert(UPLOAD_OFFSET.clone(), HeaderValue::from(upload.offset));
    if let Some(expires) = http_date(upload.expires_at) {
        h.insert(UPLOAD_EXPIRES.clone(), expires);
    }
    if let Some(proof) = upload.proof {
        h.insert(PROOF_ID.clone(), HeaderValue::from(proof.0));
    }
    res
}

fn require_tus(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(&TUS_RESUMABLE).and_then(|v| v.to_str().ok()) {
        Some(TUS_VERSION) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "unsupported_tus_version",
            format!("this server speaks tus {TUS_VERSION}; send Tus-Resumable: {TUS_VERSION}"),
        )
        .field("Tus-Resumable")),
    }
}

fn has_offset_body(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or("").trim() == OFFSET_CONTENT_TYPE)
}

fn number_header(headers: &HeaderMap, name: &HeaderName) -> Result<u64, ApiError> {
    let value = headers
        .get(name)
        .ok_or_else(|| bad_header(name, "is required"))?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| bad_header(name, "must be a whole number of bytes"))
}

fn bad_header(name: &HeaderName, message: &str) -> ApiError {
    let field = header_label(name);
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_header",
        format!("{field} {message}"),
    )
    .field(field)
}

/// `upload-offset` → `Upload-Offset`, as the tus specification spells it.
fn header_label(name: &HeaderName) -> String {
    name.as_str()
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn checksum(headers: &HeaderMap) -> Result<Option<Checksum>, ApiError> {
    let name = HeaderName::from_static("upload-checksum");
    let Some(value) = headers.get(&name) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| bad_header(&name, "is not text"))?;
    let (algorithm, digest) = text
        .trim()
        .split_once(' ')
        .ok_or_else(|| bad_header(&name, "must be `sha256 <base64 digest>`"))?;
    if algorithm != "sha256" {
        return Err(bad_header(
            &name,
            "uses an algorithm this server does not support (only sha256)",
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(digest.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| bad_header(&name, "must carry a base64 SHA-256 digest (32 bytes)"))?;
    Ok(Some(Checksum(bytes)))
}

/// `Upload-Length` and `Upload-Metadata` → what the service needs.
fn new_upload(headers: &HeaderMap) -> Result<NewUpload, ApiError> {
    if headers.contains_key("upload-defer-length") {
        return Err(bad_header(
            &UPLOAD_LENGTH,
            "must be given at creation (deferred lengths are not supported)",
        ));
    }
    let length = number_header(headers, &UPLOAD_LENGTH)?;
    let raw = headers
        .get("upload-metadata")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let meta = parse_metadata(raw)?;
    let text = |key: &str| meta.get(key).map(String::as_str).filter(|v| !v.is_empty());
    let order = OrderNumber::parse(
        text("order").ok_or_else(|| FieldError::new("metadata.order", "is required"))?,
    )
    .map_err(|e| FieldError::new("metadata.order", e.message))?;
    let kind = ProofKind::parse("metadata.kind", text("kind").unwrap_or("packing"))?;
    let captured_at = text("captured_at")
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|d| d.timestamp_millis())
                .map_err(|_| {
                    FieldError::new(
                        "metadata.captured_at",
                        "must be an RFC 3339 time, e.g. 2026-11-25T14:03:07+06:00",
                    )
                })
        })
        .transpose()?;
    let claim = text("claim")
        .map(|c| {
            c.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| FieldError::new("metadata.claim", "must be a claim's number"))
        })
        .transpose()?;
    Ok(NewUpload {
        order,
        kind,
        length,
        captured_at,
        file_name: text("filename").map(str::to_owned),
        claim,
    })
}

/// tus metadata: comma-separated `key base64value` pairs (the value may be absent).
fn parse_metadata(raw: &str) -> Result<HashMap<String, String>, ApiError> {
    let mut out = HashMap::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                ApiError::from(FieldError::new(
                    format!("metadata.{key}"),
                    "must be base64-encoded UTF-8",
                ))
            })?;
        out.insert(key.to_owned(), decoded);
    }
    Ok(out)
}

fn http_date(ms: i64) -> Option<HeaderValue> {
    let t = chrono::DateTime::from_timestamp_millis(ms)?;
    HeaderValue::from_str(&t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_pairs_decode_and_bad_ones_name_their_key() {
        let m = parse_metadata("order Q00tMDAwMTIz,kind cGFja2luZw==,empty").unwrap();
        assert_eq!(m["order"], "CM-000123");
        assert_eq!(m["kind"], "packing");
        assert_eq!(m["empty"], "");
        let err = parse_metadata("filename %%%").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("metadata.filename"));
    }

    #[test]
    fn header_labels_are_spelled_as_in_the_specification() {
        assert_eq!(header_label(&UPLOAD_OFFSET), "Upload-Offset");
        assert_eq!(http_date(0).unwrap(), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
