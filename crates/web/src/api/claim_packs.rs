//! Claim packs: support makes one for a marketplace or courier; a job
//! builds it; the recipient opens it through its link until the link
//! expires or is revoked.
use crate::caller::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Path;
use crate::json::Json;
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chotomoni_services::claims::pack::{PackRequest, PackView};
use chotomoni_services::proofs::read::PlainStream;

/// Starts a claim pack: the order's original proofs, an excerpt of each
/// video (from the chosen start, at most 60 s and 30 MB, H.264 and AAC,
/// order number and capture time drawn), posters, receipts, the log's key,
/// `verify.html` and a bilingual summary. Built in the background: poll the
/// claim's packs until `status` is `ready`.
#[utoipa::path(post, path = "/api/v1/claims/{id}/packs", params(("id" = i64, Path, description = "the claim")),
    security(("bearer" = []), ("session_cookie" = [])), request_body = PackRequest,
    responses((status = 202, body = PackView, description = "Queued; `status` is `building`"),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Staff only"),
        (status = 403, body = ErrorBody, description = "A role that does not handle claims"),
        (status = 404, body = ErrorBody, description = "No such claim"),
        (status = 422, body = ErrorBody, description = "An excerpt start beyond its video's length (`excerpts[i].start_ms`), a proof not of this order (`excerpts[i].proof`), or contact the catalog does not allow for this recipient (`include_contact`)")))]
pub async fn make(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<PackRequest>,
) -> ApiResult<(StatusCode, axum::Json<PackView>)> {
    let actor = caller.require_staff()?;
    let view = state.services.make_claim_pack(&actor, id, &input).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(view)))
}

/// A claim's packs, newest first, with their links.
#[utoipa::path(get, path = "/api/v1/claims/{id}/packs", params(("id" = i64, Path, description = "the claim")),
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = Vec<PackView>),
        (status = 401, body = ErrorBody, description = "Staff only"),
        (status = 403, body = ErrorBody, description = "A role that does not handle claims"),
        (status = 404, body = ErrorBody, description = "No such claim")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Vec<PackView>>> {
    let actor = caller.require_staff()?;
    Ok(axum::Json(state.services.claim_packs(&actor, id).await?))
}

/// The pack's ZIP, for the desk.
#[utoipa::path(get, path = "/api/v1/claim-packs/{id}/content", params(("id" = i64, Path, description = "the pack")),
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, content_type = "application/zip", description = "The ZIP, as an attachment"),
        (status = 401, body = ErrorBody, description = "Staff only"),
        (status = 403, body = ErrorBody, description = "A role that does not handle claims"),
        (status = 404, body = ErrorBody, description = "No such pack"),
        (status = 409, body = ErrorBody, description = "Still building, or failed")))]
pub async fn content(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let actor = caller.require_staff()?;
    let (view, stream) = state.services.claim_pack_content(&actor, id).await?;
    Ok(zip_response(&view, stream))
}

/// Ends a pack's link at once.
#[utoipa::path(post, path = "/api/v1/claim-packs/{id}/revoke", params(("id" = i64, Path, description = "the pack")),
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 204, description = "Revoked"),
        (status = 401, body = ErrorBody, description = "Staff only"),
        (status = 403, body = ErrorBody, description = "A role that does not handle claims"),
        (status = 404, body = ErrorBody, description = "No such pack, or revoked already")))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let actor = caller.require_staff()?;
    state.services.revoke_claim_pack(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the recipient's link opens: the pack's ZIP. A forged, expired or
/// revoked link, or a pack not built, is 404 alike.
#[utoipa::path(get, path = "/share/packs/{token}", params(("token" = String, Path, description = "the link's secret")),
    responses((status = 200, content_type = "application/zip", description = "The ZIP, as an attachment"),
        (status = 404, body = ErrorBody, description = "No such live pack")))]
pub async fn shared(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Response> {
    let (view, stream) = state.services.shared_claim_pack(&token).await?;
    Ok(zip_response(&view, stream))
}

fn zip_response(view: &PackView, stream: PlainStream) -> Response {
    crate::download::attachment(
        Body::from_stream(stream),
        "application/zip",
        view.size.map(|s| s.max(0) as u64),
        &format!("claim-{}-pack-{}.zip", view.claim, view.id),
    )
}
