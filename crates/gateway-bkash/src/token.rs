//! bKash's id token: granted with the merchant's username and password,
//! kept in memory only, refreshed before it expires.
//!
//! One `tokio::sync::Mutex` guards it, so callers that find it missing or
//! stale at once wait for one grant or refresh instead of each starting
//! their own (bKash limits grants per merchant).
use crate::{answer_of, BkashConfig};
use chotomoni_gateway::GatewayError;
use std::time::{Duration, Instant};

/// How long before its expiry a token is refreshed: a tenth of its life,
/// at most an hour, so bKash's one-hour token is renewed six minutes early
/// and a short-lived one (the stand-in's) still lives most of its time.
pub fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(Duration::from_secs(3600))
}

const YEAR_SECS: f64 = 365.0 * 86_400.0;

/// A token with the two moments that matter, fixed when it is granted.
struct Token {
    id: String,
    refresh: String,
    renew_at: Instant,
    expires_at: Instant,
}

enum Grant<'a> {
    Credentials,
    Refresh(&'a str),
}

#[derive(Default)]
pub(crate) struct Tokens {
    slot: tokio::sync::Mutex<Option<Token>>,
}

impl Tokens {
    /// A usable id token; `stale` is one bKash just refused.
    pub(crate) async fn get(
        &self,
        http: &reqwest::Client,
        config: &BkashConfig,
        stale: Option<&str>,
    ) -> Result<String, GatewayError> {
        let mut slot = self.slot.lock().await;
        let usable = slot
            .as_ref()
            .is_some_and(|t| stale != Some(t.id.as_str()) && Instant::now() < t.expires_at);
        if let Some(t) = slot
            .as_ref()
            .filter(|t| usable && Instant::now() < t.renew_at)
        {
            return Ok(t.id.clone());
        }
        let renewed = match slot.take() {
            // A refused id token says nothing of its refresh token; try it first.
            Some(mut old) => match grant(http, config, Grant::Refresh(&old.refresh)).await {
                Ok(t) => t,
                // bKash could not be asked: its refresh token is kept for
                // the next try, and the id token serves while it is valid.
                Err(e) if e.is_transient() => {
                    if !usable {
                        old.expires_at = Instant::now();
                    }
                    let id = old.id.clone();
                    *slot = Some(old);
                    return if usable { Ok(id) } else { Err(e) };
                }
                // bKash refused the refresh token (expired, revoked): start over.
                Err(_) => grant(http, config, Grant::Credentials).await?,
            },
            None => grant(http, config, Grant::Credentials).await?,
        };
        let id = renewed.id.clone();
        *slot = Some(renewed);
        Ok(id)
    }

    /// Marks `refused` stale without asking bKash now: a call that may
    /// not be repeated was refused with it, and the next call renews it.
    pub(crate) async fn refused(&self, refused: &str) {
        let mut slot = self.slot.lock().await;
        if let Some(t) = slot.as_mut().filter(|t| t.id == refused) {
            t.expires_at = Instant::now();
        }
    }
}

async fn grant(
    http: &reqwest::Client,
    config: &BkashConfig,
    grant: Grant<'_>,
) -> Result<Token, GatewayError> {
    let (path, body) = match grant {
        Grant::Credentials => (
            "token/grant",
            serde_json::json!({"app_key": config.app_key, "app_secret": config.app_secret}),
        ),
        Grant::Refresh(refresh) => (
            "token/refresh",
            serde_json::json!({"app_key": config.app_key, "app_secret": config.app_secret,
                "refresh_token": refresh}),
        ),
    };
    let res = http
        .post(config.url(path))
        .header("username", &config.username)
        .header("password", &config.password)
        .header(reqwest::header::ACCEPT, "application/json")
        .json(&body)
        .send()
        .await
        .map_err(|e| config.transport(e))?;
    let status = res.status().as_u16();
    let bytes = res.bytes().await.map_err(|e| config.transport(e))?;
    if status == 401 || status == 403 {
        return Err(GatewayError::Unauthorized);
    }
    let kept = match answer_of(status, &bytes) {
        Ok(kept) => kept,
        // bKash's own words for the refusal name no one; staff need them to fix the settings.
        Err(GatewayError::Refused { code, message }) => {
            tracing::warn!(path, code, message, "bKash refused a token");
            return Err(GatewayError::Unauthorized);
        }
        Err(e) => return Err(e),
    };
    let (Some(id), Some(refresh), Some(expires_in)) = (
        kept.get("id_token"),
        kept.get("refresh_token"),
        kept.get("expires_in").and_then(|s| s.parse::<f64>().ok()),
    ) else {
        return Err(GatewayError::Protocol(format!(
            "a token answer without a token (HTTP {status})"
        )));
    };
    // A year at most: an absurd answer must not overflow the clock.
    let lifetime = Duration::try_from_secs_f64(expires_in.min(YEAR_SECS)).map_err(|_| {
        GatewayError::Protocol(format!(
            "a token answer with a bad expires_in (HTTP {status})"
        ))
    })?;
    let now = Instant::now();
    Ok(Token {
        id: id.to_owned(),
        refresh: refresh.to_owned(),
        renew_at: now + lifetime - refresh_margin(lifetime),
        expires_at: now + lifetime,
    })
}
