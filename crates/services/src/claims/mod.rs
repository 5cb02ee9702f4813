//! Claims settled with proof: a customer (or support for them, or a
//! marketplace or courier) says something was wrong, missing or damaged
//! with a delivered order; the desk decides with the proof the shop
//! recorded. Filing places a hold on the order's proof, deciding moves the
//! hold's end to the appeal period's end, and the customer is told.
mod decide;
mod file;
pub mod guest;
pub mod pack;
pub mod story;

use crate::error::{Result, ServiceError};
use crate::orders::millis_to_rfc3339;
use crate::vault::open_text;
use crate::{Actor, Services};
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::staff::Permission;
use chotomoni_domain::AuditAction;
use chotomoni_domain::{
    ClaimKind, ClaimStatus, CustomerId, Decision, OrderId, OrderNumber, RaisedBy,
};
use chotomoni_storage::claims::{self as rows, ClaimRow, QueueFilter};
use chotomoni_storage::orders::Contact;
use chotomoni_storage::Conn;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use decide::{DecisionInput, DECISION_SUBJECT};
pub use file::{ClaimInput, ClaimItemInput};

/// One claimed line of the order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct ClaimItemView {
    pub line_no: i64,
    pub name: String,
    pub quantity: i64,
}

/// A claim as its customer or the desk sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClaimView {
    pub id: i64,
    /// The order it is about (`CM-000123`).
    pub order: String,
    pub kind: ClaimKind,
    pub raised_by: RaisedBy,
    /// The marketplace's or courier's own reference.
    pub reference: Option<String>,
    /// The customer's words.
    pub description: Option<String>,
    pub status: ClaimStatus,
    pub items: Vec<ClaimItemView>,
    /// The customer's evidence: proofs of kind `claim` (see `/api/v1/proofs/{id}`).
    pub evidence: Vec<i64>,
    pub filed_at: String,
    pub first_response_due_at: String,
    pub decision_due_at: String,
    /// True while undecided and past a due time.
    pub overdue: bool,
    pub decision: Option<Decision>,
    /// Poisha refunded, for a refund.
    pub refund_amount: Option<i64>,
    /// The desk's reason, which the customer reads.
    pub reason: Option<String>,
    /// The replacement order, for a replacement.
    pub replacement_order: Option<String>,
    pub decided_at: Option<String>,
    /// The refund a refund decision opened, and how it stands.
    pub refund: Option<crate::payments::RefundView>,
}

/// The desk's queue filters.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClaimQuery {
    /// `open`, `in_review` or `decided`.
    pub status: Option<ClaimStatus>,
    pub kind: Option<ClaimKind>,
    /// Only claims filed at least this many days ago.
    #[param(minimum = 0, maximum = 3650)]
    pub older_than_days: Option<u32>,
}

const DAY_MS: i64 = 86_400_000;
const QUEUE_LIMIT: i64 = 200;

impl Services {
    /// The desk's queue, overdue claims first.
    pub async fn claims_queue(&self, actor: &Actor, q: &ClaimQuery) -> Result<Vec<ClaimView>> {
        if !actor.staff_may(Permission::HandleClaims) {
            return Err(ServiceError::Forbidden);
        }
        let now = self.now_ms();
        if q.older_than_days.is_some_and(|d| d > 3650) {
            return Err(chotomoni_domain::FieldError::new(
                "older_than_days",
                "must be at most 3650",
            )
            .into());
        }
        let filter = QueueFilter {
            status: q.status,
            kind: q.kind,
            filed_before: q.older_than_days.map(|d| now - i64::from(d) * DAY_MS),
            limit: QUEUE_LIMIT,
        };
        let mut conn = self.db.conn().await?;
        let claims = rows::queue(&mut conn, &filter, now).await?;
        let mut out = Vec::with_capacity(claims.len());
        for c in claims {
            out.push(self.claim_view(&mut conn, c, now).await?);
        }
        Ok(out)
    }

    /// One claim: the desk, or the customer whose claim it is. Anyone else
    /// is told it does not exist.
    pub async fn claim(&self, actor: &Actor, id: i64) -> Result<ClaimView> {
        let mut conn = self.db.conn().await?;
        let row = self.claim_for(&mut conn, actor, id).await?;
        if actor.staff_id().is_some() {
            self.audit
                .view(
                    actor,
                    AuditAction::ClaimView,
                    format!("claim:{id}"),
                    String::new(),
                )
                .await;
        }
        self.claim_view(&mut conn, row, self.now_ms()).await
    }

    /// The claims on one order, for the desk or the order's customer.
    pub async fn order_claims(&self, actor: &Actor, number: OrderNumber) -> Result<Vec<ClaimView>> {
        let mut conn = self.db.conn().await?;
        let order = chotomoni_storage::orders::get(&mut conn, number.id().0)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        may_see_claims_of(actor, order.account_owner()).map_err(|e| match e {
            ServiceError::NotFound(_) => ServiceError::NotFound("order"),
            e => e,
        })?;
        let now = self.now_ms();
        let mut out = Vec::new();
        for c in rows::of_order(&mut conn, order.id).await? {
            out.push(self.claim_view(&mut conn, c, now).await?);
        }
        Ok(out)
    }

    /// A customer's own claims (their account page).
    pub async fn my_claims(&self, actor: &Actor) -> Result<Vec<ClaimView>> {
        let Actor::Customer(CustomerId(id)) = actor else {
            return Err(ServiceError::Unauthenticated);
        };
        let mut conn = self.db.conn().await?;
        let now = self.now_ms();
        let mut out = Vec::new();
        for c in rows::of_customer(&mut conn, *id).await? {
            out.push(self.claim_view(&mut conn, c, now).await?);
        }
        Ok(out)
    }

    /// The claim if this actor may see it; `NotFound` otherwise, the same
    /// answer as for a claim that does not exist.
    pub(crate) async fn claim_for(
        &self,
        conn: &mut Conn,
        actor: &Actor,
        id: i64,
    ) -> Result<ClaimRow> {
        let row = rows::get(conn, id)
            .await?
            .ok_or(ServiceError::NotFound("claim"))?;
        may_see_claims_of(actor, Some(row.customer_id))?;
        Ok(row)
    }

    pub(crate) async fn claim_view(
        &self,
        conn: &mut Conn,
        c: ClaimRow,
        now: i64,
    ) -> Result<ClaimView> {
        let full = chotomoni_storage::orders::load_full(&self.db, c.order_id, Contact::Skip)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        let claimed = rows::items(conn, c.id).await?;
        let items = claimed
            .into_iter()
            .map(|(line_no, quantity)| ClaimItemView {
                line_no,
                name: full
                    .items
                    .iter()
                    .find(|i| i.line_no == line_no)
                    .map(|i| i.name.clone())
                    .unwrap_or_default(),
                quantity,
            })
            .collect();
        let description = match &c.description_enc {
            Some(sealed) => {
                let key = self.claimant_key(conn, c.customer_id).await?;
                open_text(&key, sealed::CLAIM_DESCRIPTION, c.id, Some(sealed))?
            }
            None => None,
        };
        let undecided = !c.status.is_closed();
        let overdue = undecided
            && (c.decision_due_at < now
                || (c.first_response_at.is_none() && c.first_response_due_at < now));
        Ok(ClaimView {
            id: c.id,
            order: number(c.order_id),
            kind: c.kind,
            raised_by: c.raised_by,
            reference: c.reference,
            description,
            status: c.status,
            items,
            evidence: rows::evidence(conn, c.id).await?,
            filed_at: millis_to_rfc3339(c.filed_at),
            first_response_due_at: millis_to_rfc3339(c.first_response_due_at),
            decision_due_at: millis_to_rfc3339(c.decision_due_at),
            overdue,
            decision: c.decision,
            refund_amount: c.refund_amount,
            reason: c.reason,
            replacement_order: c.replacement_order_id.map(number),
            decided_at: c.decided_at.map(millis_to_rfc3339),
            refund: self.claim_refund(conn, c.id).await?,
        })
    }
}

/// Staff who handle claims see every claim; a customer sees the claims on
/// their own orders; anyone else sees none, as if there were none.
impl Services {
    /// The key of the customer a claim is about.
    pub(crate) async fn claimant_key(
        &self,
        conn: &mut Conn,
        customer_id: i64,
    ) -> Result<chotomoni_crypto::SealKey> {
        let row = chotomoni_storage::customers::get(conn, customer_id)
            .await?
            .ok_or(ServiceError::NotFound("customer"))?;
        self.vault.customer_key(row.id, row.wrapped_key.as_deref())
    }
}

fn may_see_claims_of(actor: &Actor, owner: Option<i64>) -> Result<()> {
    match actor {
        _ if actor.staff_may(Permission::HandleClaims) => Ok(()),
        Actor::Staff { .. } => Err(ServiceError::Forbidden),
        Actor::Customer(CustomerId(id)) if Some(*id) == owner => Ok(()),
        _ => Err(ServiceError::NotFound("claim")),
    }
}

fn number(order_id: i64) -> String {
    OrderNumber::from_id(OrderId(order_id)).to_string()
}
