//! Access exports: start one, follow its progress, renew its link, and the
//! download itself (a ZIP, decrypted and checked as it streams). Errors of
//! the download are the JSON envelope, or a page for a browser that asks
//! for HTML, since the link is opened by people.
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Path;
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chotomoni_domain::catalog::Lang;
use chotomoni_services::privacy_export::{Download, ExportStatus};
use chotomoni_services::Actor;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExport {
    /// Whose data (staff); a customer may leave it out for their own.
    pub customer_id: Option<i64>,
}

/// Starts building an access export in the background (the customer
/// themself, support or admin). The answer is `building`; follow it at
/// `GET /api/v1/privacy/exports/{id}`.
#[utoipa::path(post, path = "/api/v1/privacy/exports",
    security(("bearer" = []), ("session_cookie" = [])), request_body(content = NewExport, description = "Optional for a customer exporting their own data"),
    responses((status = 202, body = ExportStatus), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "The customer's export quota is used up (`exports_per_day`, with Retry-After; `export_running`)")))]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, axum::Json<ExportStatus>)> {
    let input: NewExport = if body.iter().all(u8::is_ascii_whitespace) {
        NewExport::default()
    } else {
        crate::json::require_json(&headers)?;
        crate::json::parse_body(&body)?
    };
    let actor = caller.actor();
    let customer_id = match (actor, input.customer_id) {
        (_, Some(id)) => id,
        (Actor::Customer(me), None) => me.0,
        (Actor::Visitor, None) => {
            return Err(chotomoni_services::ServiceError::Unauthenticated.into())
        }
        (_, None) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "customer_id is required",
            )
            .field("customer_id"))
        }
    };
    let status = state
        .services
        .start_export(&actor, customer_id, None)
        .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(status)))
}

/// An export's status and progress. The first answer once it is ready
/// carries `download` (its link, shown once); later answers say
/// `link_shown`, and `POST …/link` makes a new link.
#[utoipa::path(get, path = "/api/v1/privacy/exports/{id}",
    security(("bearer" = []), ("session_cookie" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ExportStatus), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let status = state.services.export_status(&caller.actor(), id).await?;
    Ok(no_store(axum::Json(status).into_response()))
}

/// A new download link for a ready export; the previous one stops working.
#[utoipa::path(post, path = "/api/v1/privacy/exports/{id}/link",
    security(("bearer" = []), ("session_cookie" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ExportStatus), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not ready, or expired"),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid"),
        (status = 403, body = ErrorBody, description = "Not allowed to this role")))]
pub async fn new_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let status = state.services.new_export_link(&caller.actor(), id).await?;
    Ok(no_store(axum::Json(status).into_response()))
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The export's ZIP. An unknown link is 404; an expired one is 410 and
/// says so; another customer's is 404.
#[utoipa::path(get, path = "/privacy/exports/download/{token}", params(("token" = String, Path)),
    responses((status = 200, content_type = "application/zip", description = "The ZIP, as an attachment"),
              (status = 404, body = ErrorBody),
        (status = 410, body = ErrorBody, description = "The link expired"),
        (status = 401, body = ErrorBody, description = "Not signed in, or the bearer token is not valid"),
        (status = 403, body = ErrorBody, description = "Signed in as someone who may not download this export")))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Path(token): Path<String>,
) -> Response {
    let wants_page = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let asked = serde_urlencoded::from_str::<Vec<(String, String)>>(uri.query().unwrap_or(""))
        .ok()
        .and_then(|q| q.into_iter().find(|(k, _)| k == "lang"))
        .and_then(|(_, v)| Lang::parse(&v));
    let lang = asked
        .or_else(|| caller.session.as_ref().map(|s| s.lang))
        .unwrap_or(Lang::Bn);
    let refuse = |e: ApiError, key: &'static str| -> Response {
        if wants_page {
            crate::pages::PageError::new(lang, e.status, key).into_response()
        } else {
            e.into_response()
        }
    };
    match state
        .services
        .open_export_download(&caller.actor(), &token)
        .await
    {
        Ok(Download::Ready(file)) => crate::download::attachment(
            Body::from_stream(file.stream),
            "application/zip",
            Some(file.size),
            &file.file_name,
        ),
        Ok(Download::Expired { expired_at }) => refuse(
            ApiError::new(
                StatusCode::GONE,
                "expired",
                format!(
                    "this download link expired at {expired_at} and the file has been deleted; \
                     start a new export from your account page or ask support"
                ),
            ),
            "export-link-expired",
        ),
        Err(e) => {
            let key = match &e {
                chotomoni_services::ServiceError::NotFound(_) => "export-link-not-found",
                chotomoni_services::ServiceError::Forbidden => "err-forbidden",
                _ => "err-generic",
            };
            let mut res = refuse(ApiError::from(e), key);
            res.headers_mut().insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            res
        }
    }
}
