//! The access token: issued with the password grant, refreshed with the
//! refresh grant before it expires, kept in memory only.
use crate::{refusal, CourierError, Pathao};
use serde::Deserialize;
use std::time::{Duration, Instant};

/// How long before its expiry a token is refreshed: a tenth of its life,
/// at most an hour, so a five-day token is renewed an hour early and a
/// short-lived one (the stand-in's) still lives most of its time.
pub fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(Duration::from_secs(3600))
}

pub(crate) struct Token {
    pub(crate) access: String,
    pub(crate) refresh: String,
    lifetime: Duration,
    issued: Instant,
}

impl Token {
    fn expired(&self) -> bool {
        self.issued.elapsed() >= self.lifetime
    }

    fn fresh(&self) -> bool {
        self.issued.elapsed() + refresh_margin(self.lifetime) < self.lifetime
    }
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    refresh_token: String,
    expires_in: u64,
}

enum Grant<'a> {
    Password,
    Refresh(&'a str),
}

impl Pathao {
    async fn grant(&self, grant: Grant<'_>) -> Result<Token, CourierError> {
        let c = &self.config;
        let body = match grant {
            Grant::Password => serde_json::json!({
                "client_id": c.client_id, "client_secret": c.client_secret,
                "grant_type": "password", "username": c.username, "password": c.password,
            }),
            Grant::Refresh(refresh) => serde_json::json!({
                "client_id": c.client_id, "client_secret": c.client_secret,
                "grant_type": "refresh_token", "refresh_token": refresh,
            }),
        };
        let res = self
            .http
            .post(self.url("issue-token"))
            .json(&body)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = res.status().as_u16();
        let bytes = res.bytes().await.map_err(|e| self.transport(e))?;
        // A refused grant is 400 or 401 from an OAuth server; both mean the credentials.
        if status == 400 || status == 401 {
            return Err(CourierError::Unauthorized { status });
        }
        if !(200..300).contains(&status) {
            return Err(refusal(status, &bytes));
        }
        let t: TokenBody = serde_json::from_slice(&bytes).map_err(|_| {
            CourierError::Protocol(format!("unreadable token answer (HTTP {status})"))
        })?;
        Ok(Token {
            access: t.access_token,
            refresh: t.refresh_token,
            lifetime: Duration::from_secs(t.expires_in),
            issued: Instant::now(),
        })
    }

    /// A usable access token; `stale` is one the API just refused.
    pub(crate) async fn access_token(&self, stale: Option<&str>) -> Result<String, CourierError> {
        let mut slot = self.token.lock().await;
        let usable = slot
            .as_ref()
            .is_some_and(|t| stale != Some(t.access.as_str()) && !t.expired());
        if let Some(t) = slot.as_ref().filter(|t| usable && t.fresh()) {
            return Ok(t.access.clone());
        }
        let renewed = match slot.take() {
            // A refused access token says nothing of its refresh token; try it first.
            Some(old) => match self.grant(Grant::Refresh(&old.refresh)).await {
                Ok(t) => t,
                Err(CourierError::Unauthorized { .. }) => self.grant(Grant::Password).await?,
                // Refreshing early failed for now: the old token still serves.
                Err(e) if usable && e.is_transient() => {
                    let access = old.access.clone();
                    *slot = Some(old);
                    return Ok(access);
                }
                Err(e) => return Err(e),
            },
            None => self.grant(Grant::Password).await?,
        };
        let access = renewed.access.clone();
        *slot = Some(renewed);
        Ok(access)
    }
}
