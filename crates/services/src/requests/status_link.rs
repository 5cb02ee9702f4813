//! A request's status link: the secret only its requester holds, which
//! shows the request without signing in. It is stored as a SHA-256 hash,
//! handed out when the request is made or asked again (a new link ends the
//! old one), never shown to staff, and stops working 30 days after the
//! request ended.
use super::RequestView;
use crate::error::{Result, ServiceError};
use crate::{Actor, Services};
use chotomoni_storage::privacy_requests as rows;
use rand::RngCore;

pub(super) fn random_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub(crate) const STATUS_PATH: &str = "/privacy/requests/status/";

/// Whether the actor is the person the request is about, who may hold its
/// status link (staff logging it on their behalf never see it).
pub(super) fn is_requester(actor: &Actor) -> bool {
    matches!(actor, Actor::Customer(_) | Actor::Visitor)
}

impl Services {
    /// A new status link for the requester (the old one stops working);
    /// `None` for staff, who never see one.
    pub(super) async fn status_link_for(&self, actor: &Actor, id: i64) -> Result<Option<String>> {
        if !is_requester(actor) {
            return Ok(None);
        }
        Ok(Some(self.new_status_link(id).await?))
    }

    /// Makes a new status link for a request and returns its path.
    pub(crate) async fn new_status_link(&self, id: i64) -> Result<String> {
        let token = random_token();
        let mut conn = self.db.conn().await?;
        rows::set_status_token_hash(&mut conn, id, &crate::auth::token_hash(&token)).await?;
        Ok(format!("{STATUS_PATH}{token}"))
    }

    /// The status page reached by the link given when the request was made.
    pub async fn privacy_request_by_token(&self, token: &str) -> Result<RequestView> {
        if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ServiceError::NotFound("request"));
        }
        let mut conn = self.db.conn().await?;
        let row =
            rows::by_status_token_hash(&mut conn, &crate::auth::token_hash(token), self.now_ms())
                .await?;
        drop(conn);
        self.request_view(row.ok_or(ServiceError::NotFound("request"))?)
            .await
    }
}
