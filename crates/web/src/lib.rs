//! HTTP: the JSON API under `/api/v1` (with its OpenAPI document) and the
//! server-rendered pages. Handlers parse input at the edge, call a service,
//! and map errors through the one envelope in `error`.

pub mod api;
pub mod assets;
pub mod caller;
mod download;
pub mod error;
pub mod extract;
pub mod json;
pub mod logging;
pub mod openapi;
pub mod origin;
pub mod pages;
pub mod proxies;
pub mod serve;

use axum::Router;
use chotomoni_services::Services;
use tower_http::trace::TraceLayer;

#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies Secure (the server is reached over TLS).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` and TLS from
    /// `X-Forwarded-Proto`, when the connection comes from `trusted_proxies`.
    pub trust_forwarded: bool,
    /// The proxies whose forwarding headers count (default: loopback).
    pub trusted_proxies: proxies::TrustedProxies,
    /// Size and bit rate of the station's recordings.
    pub station_video: pages::station::StationVideo,
    /// Checks the signatures of Twilio's webhooks (SMS STOP); `None`
    /// refuses them.
    pub twilio_auth_token: Option<api::webhooks::TwilioAuthToken>,
    /// Header read and send idle timeouts of every connection.
    pub timeouts: serve::ConnectionTimeouts,
}

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub config: WebConfig,
}

pub fn router(state: AppState) -> Router {
    let (api, openapi) = openapi::api();
    let openapi = std::sync::Arc::new(openapi);
    Router::new()
        .merge(api)
        .merge(pages::router())
        .merge(assets::router())
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .layer(axum::middleware::from_fn(origin::same_origin_only))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let timeouts = state.config.timeouts;
    serve::accept_loop(listener, router(state), timeouts, shutdown).await
}
