//! Privacy requests: access, erasure and marketing opt-out. A request is
//! made by the signed-in customer, through the public form (identity
//! confirmed by a one-time code sent to the phone or email on record), or
//! logged by support on the customer's behalf. Each one has a deadline 90
//! days after receipt, a status history and audit entries; a background job
//! carries out verified requests before their deadline, and support can
//! carry one out at once.
mod job;
pub(crate) mod notice;

pub(crate) use notice::ForRequest;
mod public_form;
mod status_link;

use chotomoni_domain::AuditAction;
use status_link::{is_requester, random_token, STATUS_PATH};

use crate::error::{Result, ServiceError};
use crate::{audit, Actor, Services};
use chotomoni_domain::privacy_request::{deadline, is_overdue};
use chotomoni_domain::staff::Permission;
use chotomoni_domain::{
    Email, FieldError, Phone, RequestChannel, RequestKind, RequestStatus, VerifiedBy,
};
use chotomoni_storage::customers as customer_rows;
use chotomoni_storage::privacy_requests::{self as rows, NewRequest, RequestRow, StatusChange};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestEvent {
    pub at: i64,
    pub status: String,
    /// Who moved it, as a reference (`staff:3`, `customer:9`, `system`).
    pub actor: String,
    pub note: String,
}

/// A privacy request as its requester or the back office sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestView {
    pub id: i64,
    pub customer_id: i64,
    pub kind: RequestKind,
    pub channel: RequestChannel,
    pub status: RequestStatus,
    /// How identity was confirmed; `None` while unverified.
    pub verified_by: Option<String>,
    pub received_at: i64,
    /// Received plus 90 days (Unix ms).
    pub deadline: i64,
    pub overdue: bool,
    /// Why the request waits, when held.
    pub hold_reason: Option<String>,
    /// What was done (categories and counts, never personal data).
    #[schema(value_type = Option<Object>)]
    pub outcome: Option<serde_json::Value>,
    pub completed_at: Option<i64>,
    /// The status link, which shows this request without signing in. Only
    /// the requester gets it, once, when they make or renew the request:
    /// it is stored as a hash, and never shown to staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_path: Option<String>,
    pub export_id: Option<i64>,
    pub logged_by: Option<i64>,
    pub history: Vec<RequestEvent>,
}

/// Whether a request was made or an unfinished one of the same kind found.
#[derive(Debug)]
pub struct Logged {
    pub request: RequestView,
    pub created: bool,
}

impl Services {
    /// The signed-in customer asks for themselves.
    pub async fn request_for_self(&self, actor: &Actor, kind: RequestKind) -> Result<Logged> {
        let Actor::Customer(customer) = actor else {
            return Err(ServiceError::Forbidden);
        };
        self.create_request(
            actor,
            customer.0,
            kind,
            RequestChannel::Account,
            Some(VerifiedBy::SignedIn),
        )
        .await
    }

    /// The API's request: staff on a customer's behalf (found by phone), or
    /// a customer for themselves. Staff who give the email the request came
    /// from get it verified when that email is the one on record.
    pub async fn log_request(
        &self,
        actor: &Actor,
        kind: RequestKind,
        phone: &str,
        email: Option<&str>,
    ) -> Result<Logged> {
        let phone = Phone::parse(phone).map_err(|e| FieldError::new("phone", e.message))?;
        let mut conn = self.db.conn().await?;
        let found = customer_rows::find_by_phone_index(&mut conn, &self.vault.phone_index(&phone))
            .await?
            .filter(|c| c.erased_at.is_none());
        match actor {
            Actor::Customer(me) => {
                if found.map(|c| c.id) != Some(me.0) {
                    return Err(ServiceError::Forbidden);
                }
                drop(conn);
                self.create_request(
                    actor,
                    me.0,
                    kind,
                    RequestChannel::Api,
                    Some(VerifiedBy::SignedIn),
                )
                .await
            }
            _ if actor.staff_may(Permission::HandlePrivacyRequests) => {
                let customer = found.ok_or(ServiceError::NotFound("customer"))?;
                let verified = match email.map(str::trim).filter(|e| !e.is_empty()) {
                    Some(e) => {
                        let e = Email::parse(e).map_err(|e| FieldError::new("email", e.message))?;
                        // Only an email the customer proved is theirs verifies.
                        customer_rows::find_by_email_index(&mut conn, &self.vault.email_index(&e))
                            .await?
                            .iter()
                            .any(|c| c.id == customer.id && c.email_verified_at.is_some())
                    }
                    None => false,
                };
                drop(conn);
                self.create_request(
                    actor,
                    customer.id,
                    kind,
                    RequestChannel::SupportEmail,
                    verified.then_some(VerifiedBy::EmailOnRecord),
                )
                .await
            }
            _ => Err(ServiceError::Forbidden),
        }
    }

    async fn create_request(
        &self,
        actor: &Actor,
        customer_id: i64,
        kind: RequestKind,
        channel: RequestChannel,
        verified_by: Option<VerifiedBy>,
    ) -> Result<Logged> {
        let mut tx = self.db.begin().await?;
        if let Some(existing) = rows::pending_of_kind(&mut tx, customer_id, kind).await? {
            drop(tx);
            if existing.status == RequestStatus::Unverified && verified_by.is_some() {
                let request = self
                    .move_request(
                        actor,
                        &existing,
                        RequestStatus::Open,
                        "identity confirmed",
                        |c| c.verified_by = verified_by,
                    )
                    .await?;
                let mut logged = self.after_create(request, false).await?;
                logged.request.status_path = self.status_link_for(actor, existing.id).await?;
                return Ok(logged);
            }
            let mut request = self.request_view(existing).await?;
            request.status_path = self.status_link_for(actor, request.id).await?;
            return Ok(Logged {
                request,
                created: false,
            });
        }
        let now = self.now_ms();
        let status = if verified_by.is_some() {
            RequestStatus::Open
        } else {
            RequestStatus::Unverified
        };
        let token = random_token();
        let id = rows::insert(
            &mut tx,
            &NewRequest {
                customer_id,
                kind,
                channel,
                status,
                verified_by,
                received_at: now,
                deadline_at: deadline(now),
                status_token_hash: &crate::auth::token_hash(&token),
                logged_by: actor.staff_id(),
            },
        )
        .await?;
        rows::add_event(
            &mut tx,
            id,
            now,
            status,
            &actor.audit_ref(),
            channel.as_str(),
        )
        .await?;
        audit::change(
            &mut tx,
            actor,
            AuditAction::PrivacyRequestCreate,
            &format!("privacy_request:{id}"),
            &format!(
                "customer:{customer_id} kind={} channel={}",
                kind.as_str(),
                channel.as_str()
            ),
        )
        .await?;
        tx.commit().await?;
        let row = self.request_row(id).await?;
        let mut logged = self.after_create(row, true).await?;
        logged.request.status_path = is_requester(actor).then(|| format!("{STATUS_PATH}{token}"));
        Ok(logged)
    }

    /// Opt-outs and access copies need no review: they are carried out at once.
    async fn after_create(&self, row: RequestRow, created: bool) -> Result<Logged> {
        let row = if row.status == RequestStatus::Open && row.kind != RequestKind::Erasure {
            self.carry_out(&Actor::System, row).await?
        } else {
            row
        };
        Ok(Logged {
            request: self.request_view(row).await?,
            created,
        })
    }

    async fn request_row(&self, id: i64) -> Result<RequestRow> {
        let mut conn = self.db.conn().await?;
        rows::get(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("request"))
    }

    /// A request its own customer or the back office may see.
    pub async fn privacy_request(&self, actor: &Actor, id: i64) -> Result<RequestView> {
        let mut conn = self.db.conn().await?;
        let row = rows::get(&mut conn, id).await?;
        drop(conn);
        let row = row
            .filter(|r| match actor {
                Actor::Customer(c) => c.0 == r.customer_id,
                _ => actor.staff_may(Permission::HandlePrivacyRequests),
            })
            .ok_or(ServiceError::NotFound("request"))?;
        if matches!(actor, Actor::Staff { .. }) {
            self.audit
                .view(
                    actor,
                    AuditAction::PrivacyRequestView,
                    format!("privacy_request:{id}"),
                    String::new(),
                )
                .await;
        }
        self.request_view(row).await
    }

    pub async fn my_privacy_requests(&self, actor: &Actor) -> Result<Vec<RequestView>> {
        let Actor::Customer(customer) = actor else {
            return Err(ServiceError::Forbidden);
        };
        let mut conn = self.db.conn().await?;
        let found = rows::for_customer(&mut conn, customer.0).await?;
        drop(conn);
        self.request_views(found).await
    }

    /// The back-office queue: overdue first, then by deadline.
    pub async fn privacy_request_queue(&self, actor: &Actor) -> Result<Vec<RequestView>> {
        if !actor.staff_may(Permission::HandlePrivacyRequests) {
            return Err(ServiceError::Forbidden);
        }
        let mut conn = self.db.conn().await?;
        let found = rows::queue(&mut conn, 500).await?;
        drop(conn);
        self.audit
            .view(
                actor,
                AuditAction::PrivacyRequestQueue,
                "privacy_requests".into(),
                String::new(),
            )
            .await;
        self.request_views(found).await
    }

    /// Staff confirm an unverified request's identity (or the customer does,
    /// signed in).
    pub async fn verify_request(&self, actor: &Actor, id: i64) -> Result<RequestView> {
        let row = self.request_row(id).await?;
        let how = match actor {
            Actor::Customer(c) if c.0 == row.customer_id => VerifiedBy::SignedIn,
            _ if actor.staff_may(Permission::HandlePrivacyRequests) => VerifiedBy::StaffCheck,
            Actor::Customer(_) => return Err(ServiceError::NotFound("request")),
            _ => return Err(ServiceError::Forbidden),
        };
        if row.status != RequestStatus::Unverified {
            return Err(ServiceError::Conflict(format!(
                "the request is {}, not unverified",
                row.status.as_str()
            )));
        }
        let row = self
            .move_request(
                actor,
                &row,
                RequestStatus::Open,
                "identity confirmed",
                |c| c.verified_by = Some(how),
            )
            .await?;
        Ok(self.after_create(row, false).await?.request)
    }

    pub async fn reject_request(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> Result<RequestView> {
        if !actor.staff_may(Permission::HandlePrivacyRequests) {
            return Err(ServiceError::Forbidden);
        }
        let reason = chotomoni_domain::error::required_text(
            "reason",
            reason,
            chotomoni_domain::privacy_request::MAX_REJECTION_REASON,
        )?;
        let row = self.request_row(id).await?;
        let row = self
            .move_request(actor, &row, RequestStatus::Rejected, &reason, |c| {
                c.completed_at = Some(self.now_ms())
            })
            .await?;
        self.request_view(row).await
    }

    /// Support carries out a verified request now.
    pub async fn complete_request(&self, actor: &Actor, id: i64) -> Result<RequestView> {
        if !actor.staff_may(Permission::HandlePrivacyRequests) {
            return Err(ServiceError::Forbidden);
        }
        let row = self.request_row(id).await?;
        let status = row.status;
        let row = match status {
            RequestStatus::Unverified => {
                return Err(ServiceError::Conflict(
                    "the requester's identity is not confirmed yet; verify the request first"
                        .into(),
                ))
            }
            RequestStatus::Open | RequestStatus::Held => self.carry_out(actor, row).await?,
            RequestStatus::InProgress => self.check_progress(row).await?,
            RequestStatus::Completed | RequestStatus::Rejected => row,
        };
        self.request_view(row).await
    }

    /// Moves a request to `to`, with its history and audit entries.
    async fn move_request(
        &self,
        actor: &Actor,
        row: &RequestRow,
        to: RequestStatus,
        note: &str,
        fill: impl FnOnce(&mut StatusChange),
    ) -> Result<RequestRow> {
        let mut tx = self.db.begin().await?;
        self.move_request_in(&mut tx, actor, row, to, note, fill)
            .await?;
        let row = rows::get(&mut tx, row.id)
            .await?
            .ok_or(ServiceError::NotFound("request"))?;
        tx.commit().await?;
        Ok(row)
    }

    /// Moves a request in the caller's transaction, if it is still as
    /// `row` says (someone else's change in between is a conflict).
    async fn move_request_in(
        &self,
        tx: &mut chotomoni_storage::Conn,
        actor: &Actor,
        row: &RequestRow,
        to: RequestStatus,
        note: &str,
        fill: impl FnOnce(&mut StatusChange),
    ) -> Result<()> {
        let from = row.status;
        if from != to && !from.may_become(to) {
            return Err(ServiceError::Conflict(format!(
                "a request that is {} cannot become {}",
                from.as_str(),
                to.as_str()
            )));
        }
        let mut change = StatusChange::default();
        fill(&mut change);
        if !rows::change_status(tx, row.id, row.status, to, &change).await? {
            return Err(ServiceError::Conflict(
                "the request was changed by someone else; reload it".into(),
            ));
        }
        rows::add_event(tx, row.id, self.now_ms(), to, &actor.audit_ref(), note).await?;
        audit::change(
            tx,
            actor,
            AuditAction::PrivacyRequestStatus,
            &format!("privacy_request:{}", row.id),
            &format!("{}->{}", from.as_str(), to.as_str()),
        )
        .await?;
        Ok(())
    }

    async fn request_view(&self, row: RequestRow) -> Result<RequestView> {
        let mut views = self.request_views(vec![row]).await?;
        views.pop().ok_or(ServiceError::NotFound("request"))
    }

    /// Views of several requests, their histories read in one query.
    async fn request_views(&self, found: Vec<RequestRow>) -> Result<Vec<RequestView>> {
        let ids: Vec<i64> = found.iter().map(|r| r.id).collect();
        let mut events = rows::events_of(&mut *self.db.conn().await?, &ids).await?;
        let now = self.now_ms();
        Ok(found
            .into_iter()
            .map(|row| {
                let history = events
                    .iter_mut()
                    .filter(|(id, _)| *id == row.id)
                    .map(|(_, e)| RequestEvent {
                        at: e.at,
                        status: e.status.as_str().to_owned(),
                        actor: std::mem::take(&mut e.actor),
                        note: std::mem::take(&mut e.note),
                    })
                    .collect();
                view_of(row, history, now)
            })
            .collect())
    }
}

fn view_of(row: RequestRow, history: Vec<RequestEvent>, now: i64) -> RequestView {
    let status = row.status;
    RequestView {
        id: row.id,
        customer_id: row.customer_id,
        kind: row.kind,
        channel: row.channel,
        status,
        verified_by: row.verified_by.map(|v| v.as_str().to_owned()),
        received_at: row.received_at,
        deadline: row.deadline_at,
        overdue: is_overdue(status, row.deadline_at, now),
        hold_reason: row.hold_reason,
        outcome: row
            .outcome
            .as_deref()
            .and_then(|o| serde_json::from_str(o).ok()),
        completed_at: row.completed_at,
        status_path: None,
        export_id: row.export_id,
        logged_by: row.logged_by,
        history,
    }
}
