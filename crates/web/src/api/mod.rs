//! The JSON API. Each route is registered with its OpenAPI description, so
//! `/api/openapi.json` is generated from the router itself.
mod claim_packs;
mod claims;
mod couriers;
pub mod exports;
mod fraud;
mod jobs;
mod orders;
pub mod payments;
mod policies;
mod privacy;
pub mod proofs;
mod refunds;
mod requests;
mod session;
pub mod uploads;
pub mod webhooks;

use crate::error::{ErrorBody, ErrorDetail};
use crate::AppState;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Chotomoni API", description = "Orders, proof and customer data of a small shop. Errors always use the envelope {\"error\": {\"code\", \"message\", \"field\"}}."),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

/// How a caller is signed in: the bearer token of `POST /api/v1/session`, or
/// the same value as the session cookie (browsers, and customers who sign in
/// on the pages). Operations that refuse visitors name both.
impl utoipa::Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::caller::SESSION_COOKIE,
            ))),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(session::sign_in, session::sign_out))
        .routes(routes!(orders::create, orders::list))
        .routes(routes!(orders::get_one))
        .routes(routes!(orders::by_code))
        .routes(routes!(orders::set_status))
        .routes(routes!(fraud::phone_check))
        .routes(routes!(privacy::catalog))
        .routes(routes!(webhooks::twilio_inbound))
        .routes(routes!(couriers::webhook))
        .routes(routes!(couriers::book, couriers::consignment))
        .routes(routes!(couriers::book_packed))
        .routes(routes!(couriers::attention))
        .routes(routes!(couriers::unknown_seen))
        .routes(routes!(couriers::cash))
        .routes(routes!(couriers::payout))
        .routes(routes!(payments::start, payments::of_order))
        .routes(routes!(payments::held))
        .routes(routes!(payments::accept))
        .routes(routes!(payments::refund_held))
        .routes(routes!(payments::notice))
        .routes(routes!(refunds::to_pay))
        .routes(routes!(refunds::record_manual))
        .routes(routes!(exports::start))
        .routes(routes!(exports::status))
        .routes(routes!(exports::new_link))
        .routes(routes!(exports::download))
        .routes(routes!(requests::create, requests::queue))
        .routes(routes!(requests::one))
        .routes(routes!(requests::complete))
        .routes(routes!(requests::verify))
        .routes(routes!(requests::reject))
        .routes(routes!(requests::place_hold))
        .routes(routes!(requests::release_hold))
        .routes(routes!(policies::list, policies::publish))
        .routes(routes!(policies::one))
        .routes(routes!(proofs::of_order))
        .routes(routes!(proofs::storage))
        .routes(routes!(proofs::one))
        .routes(routes!(proofs::content))
        .routes(routes!(proofs::poster))
        .routes(routes!(proofs::receipt))
        .routes(routes!(proofs::share, proofs::share_links))
        .routes(routes!(proofs::revoke))
        .routes(routes!(proofs::checkpoint))
        .routes(routes!(proofs::consistency))
        .routes(routes!(proofs::log_key))
        .routes(routes!(claims::file, claims::of_order))
        .routes(routes!(claims::queue))
        .routes(routes!(claims::one))
        .routes(routes!(claims::review))
        .routes(routes!(claims::decide))
        .routes(routes!(claim_packs::make, claim_packs::list))
        .routes(routes!(claim_packs::content))
        .routes(routes!(claim_packs::revoke))
        .routes(routes!(claim_packs::shared))
        .routes(routes!(jobs::queue))
        .routes(routes!(jobs::retry))
        .merge(tus_router())
}

fn tus_router() -> OpenApiRouter<AppState> {
    use axum::routing::post;
    OpenApiRouter::new()
        .routes(routes!(uploads::discover, uploads::create))
        .routes(routes!(
            uploads::status,
            uploads::append,
            uploads::terminate
        ))
        .route(
            "/api/v1/uploads",
            post(uploads::create).options(uploads::discover),
        )
        .route(
            "/api/v1/uploads/{id}",
            post(uploads::overridden).options(uploads::discover),
        )
        .layer(axum::middleware::from_fn(uploads::tus_header))
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "Up"),
        (status = 503, description = "Database unreachable")))]
async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.services.db().ping().await {
        Ok(()) => (axum::http::StatusCode::OK, "ok").into_response(),
        Err(_) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "database unreachable",
        )
            .into_response(),
    }
}
