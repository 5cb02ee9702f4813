//! Who is calling: the session from the bearer token or the session cookie,
//! and the technical data of the request (kept only for security).
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use chotomoni_services::auth::{ClientInfo, Session};
use chotomoni_services::Actor;
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "cm_session";

pub struct Caller {
    pub session: Option<Session>,
    pub client: ClientInfo,
    /// Whether the session came from a cookie (and so needs CSRF checks).
    pub by_cookie: bool,
    /// Whether the client reached us over TLS (configured, or told by a trusted proxy).
    pub tls: bool,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        self.session
            .as_ref()
            .map(|s| s.actor)
            .unwrap_or(Actor::Visitor)
    }

    /// The session cookie for this client: Secure when it came over TLS.
    pub fn session_cookie(&self, token: &str, max_age_secs: i64) -> String {
        session_cookie(token, max_age_secs, self.tls)
    }

    /// A customer or staff; a visitor without a session is 401.
    pub fn require_signed_in(&self) -> Result<Actor, ApiError> {
        match self.actor() {
            Actor::Visitor => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "sign-in required",
            )),
            a => Ok(a),
        }
    }

    pub fn require_staff(&self) -> Result<Actor, ApiError> {
        match self.actor() {
            a @ Actor::Staff { .. } => Ok(a),
            _ => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "staff sign-in required",
            )),
        }
    }
}

pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The peer, when forwarding headers are to be believed from it.
fn trusted_peer(parts: &Parts, config: &crate::WebConfig) -> Option<std::net::IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    (config.trust_forwarded && config.trusted_proxies.contains(peer)).then_some(peer)
}

fn client_info(parts: &Parts, config: &crate::WebConfig) -> ClientInfo {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = match trusted_peer(parts, config) {
        Some(proxy) => {
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok());
            Some(config.trusted_proxies.client(proxy, forwarded))
        }
        None => peer,
    };
    ClientInfo {
        ip: ip.map(|ip| ip.to_string()),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let (token, by_cookie) = match bearer {
            Some(t) => (Some(t), false),
            None => (cookie(parts, SESSION_COOKIE), true),
        };
        let session = match token {
            Some(t) => state.services.session(t).await?,
            None => None,
        };
        if bearer.is_some() && session.is_none() {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "the bearer token is not valid or has expired",
            ));
        }
        // Cross-site writes were already refused (`origin::same_origin_only`).
        let proxied_https = trusted_peer(parts, &state.config).is_some()
            && parts
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|p| p.eq_ignore_ascii_case("https"));
        Ok(Caller {
            session,
            client: client_info(parts, &state.config),
            by_cookie,
            tls: state.config.secure_cookies || proxied_https,
        })
    }
}

/// The `Set-Cookie` value for a session: HttpOnly, SameSite=Lax, Secure behind TLS.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}
