//! Privacy requests: access, erasure and marketing opt-out. A request is
//! made by the signed-in customer, through the public form (identity
//! confirmed by a one-time code sent to the phone or email on record), or
//! logged by support on the customer's behalf. Each one has a deadline 90
//! days after receipt, a status history and audit entries; a background job
//! carries out verified requests before their deadline, and support can
//! carry one out at once.
use crate::accounts::{CODE_EXPIRED, CODE_TOO_MANY, CODE_VALID_MS, CODE_WRONG, MAX_CODE_ATTEMPTS};
use crate::auth::ClientInfo;
use crate::consents::ConsentChannel;
use crate::erasure::ErasureResult;
use crate::error::{Result, ServiceError};
use crate::{audit, now_ms, Actor, Services};
use chotomoni_domain::privacy_request::{deadline, is_overdue};
use chotomoni_domain::staff::Permission;
use chotomoni_domain::{
    CustomerId, Email, FieldError, Phone, RequestChannel, RequestKind, RequestStatus,
};
use chotomoni_storage::privacy_requests::{self as rows, NewRequest, RequestRow, StatusChange};
use chotomoni_storage::{customers as customer_rows, Conn};
use rand::{Rng, RngCore};
use serde::Serialize;
use utoipa::ToSchema;

const DAY_MS: i64 = 86_400_000;
/// A request this close to its deadline is carried out whatever the review period.
const DEADLINE_MARGIN_MS: i64 = 7 * DAY_MS;

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
    #[schema(value_type = Object)]
    pub outcome: Option<serde_json::Value>,
    pub completed_at: Option<i64>,
    /// Shows this request's status without signing in.
    pub status_path: String,
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

/// What the public form confirms a code against: a phone or an email.
enum Address {
    Phone(Phone),
    Email(Email),
}

impl Address {
    fn parse(input: &str) -> Result<Address> {
        let input = input.trim();
        if input.contains('@') {
            Email::parse(input).map(Address::Email).map_err(|_| {
                FieldError::new(
                    "address",
                    "must be an email address or a Bangladeshi mobile number",
                )
                .into()
            })
        } else {
            Phone::parse(input).map(Address::Phone).map_err(|_| {
                FieldError::new(
                    "address",
                    "must be a Bangladeshi mobile number such as 01712345678, or an email address",
                )
                .into()
            })
        }
    }

    fn normalized(&self) -> String {
        match self {
            Address::Phone(p) => p.as_e164().to_owned(),
            Address::Email(e) => e.normalized(),
        }
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn code_message(code: &str) -> String {
    format!(
        "ছোটমনি: আপনার গোপনীয়তা অনুরোধের কোড {code}। ১০ মিনিট কাজ করবে। \
         Chotomoni: your privacy request code is {code}. It works for 10 minutes."
    )
}

impl Services {
    fn address_index(&self, a: &Address) -> Vec<u8> {
        match a {
            Address::Phone(p) => self.vault.phone_index(p),
            Address::Email(e) => self.vault.email_index(e),
        }
    }

    fn request_code_hash(&self, a: &Address, kind: RequestKind, code: &str) -> Vec<u8> {
        self.vault.keyring().blind_index(
            "request-code",
            &format!("{}\u{0}{}\u{0}{code}", a.normalized(), kind.as_str()),
        )
    }

    /// The live customer a phone or email belongs to, if any.
    async fn customer_at(&self, conn: &mut Conn, a: &Address) -> Result<Option<i64>> {
        Ok(match a {
            Address::Phone(p) => {
                customer_rows::find_by_phone_index(conn, &self.vault.phone_index(p))
                    .await?
                    .filter(|c| c.erased_at.is_none())
                    .map(|c| c.id)
            }
            Address::Email(e) => {
                customer_rows::find_by_email_index(conn, &self.vault.email_index(e))
                    .await?
                    .into_iter()
                    .find(|c| c.erased_at.is_none())
                    .map(|c| c.id)
            }
        })
    }

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
            Some("signed_in"),
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
                self.create_request(actor, me.0, kind, RequestChannel::Api, Some("signed_in"))
                    .await
            }
            _ if actor.staff_may(Permission::HandlePrivacyRequests) => {
                let customer = found.ok_or(ServiceError::NotFound("customer"))?;
                let verified = match email.map(str::trim).filter(|e| !e.is_empty()) {
                    Some(e) => {
                        let e = Email::parse(e).map_err(|e| FieldError::new("email", e.message))?;
                        customer_rows::find_by_email_index(&mut conn, &self.vault.email_index(&e))
                            .await?
                            .iter()
                            .any(|c| c.id == customer.id)
                    }
                    None => false,
                };
                drop(conn);
                self.create_request(
                    actor,
                    customer.id,
                    kind,
                    RequestChannel::SupportEmail,
                    verified.then_some("email_on_record"),
                )
                .await
            }
            _ => Err(ServiceError::Forbidden),
        }
    }

    /// Public form, step one: sends a code to the phone or email when it
    /// belongs to a customer. The answer is the same either way.
    pub async fn start_public_request(
        &self,
        kind: RequestKind,
        address: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let address = Address::parse(address)?;
        let keys = self.rate_keys(&format!("privacy-request:{}", address.normalized()), client);
        self.check_rate(&keys).await?;
        self.record_attempt(&keys, false).await?;
        let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32));
        let at = now_ms();
        let mut conn = self.db.conn().await?;
        rows::insert_code(
            &mut conn,
            &self.address_index(&address),
            kind.as_str(),
            &self.request_code_hash(&address, kind, &code),
            at,
            at + CODE_VALID_MS,
        )
        .await?;
        let Some(customer) = self.customer_at(&mut conn, &address).await? else {
            return Ok(());
        };
        drop(conn);
        let sent = match &address {
            Address::Phone(p) => match &self.sms {
                Some(sms) => sms
                    .send(p.as_e164(), &code_message(&code))
                    .await
                    .map_err(|e| e.to_string()),
                None => Err("no SMS transport is configured".into()),
            },
            Address::Email(_) => {
                self.send_code_by_email(customer, &code_message(&code))
                    .await
            }
        };
        if let Err(e) = sent {
            // Not told to the visitor: that would say the address is a customer's.
            tracing::error!(error = %e, "a privacy request code could not be sent");
        }
        Ok(())
    }

    /// Public form, step two: the code makes the request.
    pub async fn confirm_public_request(
        &self,
        kind: RequestKind,
        address: &str,
        code: &str,
    ) -> Result<Logged> {
        let address = Address::parse(address)?;
        let code = code.trim();
        let index = self.address_index(&address);
        let mut tx = self.db.begin().await?;
        let row = rows::latest_code(&mut tx, &index, kind.as_str()).await?;
        let Some(row) = row.filter(|r| r.expires_at > now_ms()) else {
            return Err(FieldError::new("code", CODE_EXPIRED).into());
        };
        if row.attempts >= MAX_CODE_ATTEMPTS {
            return Err(FieldError::new("code", CODE_TOO_MANY).into());
        }
        rows::count_code_attempt(&mut tx, row.id).await?;
        let right = code.len() == 6
            && code.bytes().all(|b| b.is_ascii_digit())
            && same(
                &self.request_code_hash(&address, kind, code),
                &row.code_hash,
            );
        let customer = if right {
            self.customer_at(&mut tx, &address).await?
        } else {
            None
        };
        let Some(customer) = customer else {
            tx.commit().await?;
            return Err(FieldError::new("code", CODE_WRONG).into());
        };
        if !rows::use_code(&mut tx, row.id).await? {
            return Err(FieldError::new("code", CODE_EXPIRED).into());
        }
        tx.commit().await?;
        let how = match address {
            Address::Phone(_) => "one_time_code_sms",
            Address::Email(_) => "one_time_code_email",
        };
        self.create_request(
            &Actor::Visitor,
            customer,
            kind,
            RequestChannel::PublicForm,
            Some(how),
        )
        .await
    }

    async fn create_request(
        &self,
        actor: &Actor,
        customer_id: i64,
        kind: RequestKind,
        channel: RequestChannel,
        verified_by: Option<&str>,
    ) -> Result<Logged> {
        let mut tx = self.db.begin().await?;
        if let Some(existing) = rows::pending_of_kind(&mut tx, customer_id, kind.as_str()).await? {
            drop(tx);
            if existing.status == RequestStatus::Unverified.as_str() && verified_by.is_some() {
                let request = self
                    .move_request(
                        actor,
                        &existing,
                        RequestStatus::Open,
                        "identity confirmed",
                        |c| c.verified_by = verified_by.map(str::to_owned),
                    )
                    .await?;
                return self.after_create(request, false).await;
            }
            return Ok(Logged {
                request: self.request_view(existing).await?,
                created: false,
            });
        }
        let now = now_ms();
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
                kind: kind.as_str(),
                channel: channel.as_str(),
                status: status.as_str(),
                verified_by,
                received_at: now,
                deadline_at: deadline(now),
                status_token: &token,
                logged_by: actor.staff_id(),
            },
        )
        .await?;
        rows::add_event(
            &mut tx,
            id,
            now,
            status.as_str(),
            &actor.audit_ref(),
            channel.as_str(),
        )
        .await?;
        audit::change(
            &mut tx,
            actor,
            "privacy_request.create",
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
        self.after_create(row, true).await
    }

    /// Opt-outs and access copies need no review: they are carried out at once.
    async fn after_create(&self, row: RequestRow, created: bool) -> Result<Logged> {
        let kind = RequestKind::parse(&row.kind).unwrap_or(RequestKind::Access);
        let row = if row.status == RequestStatus::Open.as_str() && kind != RequestKind::Erasure {
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
                    "privacy_request.view",
                    format!("privacy_request:{id}"),
                    String::new(),
                )
                .await;
        }
        self.request_view(row).await
    }

    /// The status page reached by the link given when the request was made.
    pub async fn privacy_request_by_token(&self, token: &str) -> Result<RequestView> {
        if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ServiceError::NotFound("request"));
        }
        let mut conn = self.db.conn().await?;
        let row = rows::by_status_token(&mut conn, token).await?;
        drop(conn);
        self.request_view(row.ok_or(ServiceError::NotFound("request"))?)
            .await
    }

    pub async fn my_privacy_requests(&self, actor: &Actor) -> Result<Vec<RequestView>> {
        let Actor::Customer(customer) = actor else {
            return Err(ServiceError::Forbidden);
        };
        let mut conn = self.db.conn().await?;
        let found = rows::for_customer(&mut conn, customer.0).await?;
        drop(conn);
        let mut out = Vec::with_capacity(found.len());
        for row in found {
            out.push(self.request_view(row).await?);
        }
        Ok(out)
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
                "privacy_request.queue",
                "privacy_requests".into(),
                String::new(),
            )
            .await;
        let mut out = Vec::with_capacity(found.len());
        for row in found {
            out.push(self.request_view(row).await?);
        }
        Ok(out)
    }

    /// Staff confirm an unverified request's identity (or the customer does,
    /// signed in).
    pub async fn verify_request(&self, actor: &Actor, id: i64) -> Result<RequestView> {
        let row = self.request_row(id).await?;
        let how = match actor {
            Actor::Customer(c) if c.0 == row.customer_id => "signed_in",
            _ if actor.staff_may(Permission::HandlePrivacyRequests) => "staff_check",
            Actor::Customer(_) => return Err(ServiceError::NotFound("request")),
            _ => return Err(ServiceError::Forbidden),
        };
        if row.status != RequestStatus::Unverified.as_str() {
            return Err(ServiceError::Conflict(format!(
                "the request is {}, not unverified",
                row.status
            )));
        }
        let row = self
            .move_request(
                actor,
                &row,
                RequestStatus::Open,
                "identity confirmed",
                |c| c.verified_by = Some(how.into()),
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
        let reason = chotomoni_domain::error::required_text("reason", reason, 200)?;
        let row = self.request_row(id).await?;
        let row = self
            .move_request(actor, &row, RequestStatus::Rejected, &reason, |c| {
                c.completed_at = Some(now_ms())
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
        let status = RequestStatus::parse(&row.status).unwrap_or(RequestStatus::Open);
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

    /// The background job: carries out verified requests that are due,
    /// resumes held ones, finishes exports, and deletes proofs whose holds
    /// ended. Returns how many requests moved.
    pub async fn run_privacy_requests(&self) -> Result<usize> {
        self.release_ended_holds().await?;
        let mut conn = self.db.conn().await?;
        rows::sweep_codes(&mut conn, now_ms()).await?;
        let due = rows::unfinished_verified(&mut conn).await?;
        drop(conn);
        let now = now_ms();
        let review = i64::from(self.settings.erasure_review_days) * DAY_MS;
        let mut moved = 0;
        for row in due {
            let before = row.status.clone();
            let after = match RequestStatus::parse(&row.status) {
                Some(RequestStatus::InProgress) => self.check_progress(row).await,
                Some(RequestStatus::Held) => self.carry_out(&Actor::System, row).await,
                Some(RequestStatus::Open)
                    if row.kind != RequestKind::Erasure.as_str()
                        || row.received_at + review <= now
                        || row.deadline_at - DEADLINE_MARGIN_MS <= now =>
                {
                    self.carry_out(&Actor::System, row).await
                }
                _ => continue,
            };
            match after {
                Ok(r) if r.status != before => moved += 1,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "a privacy request could not be carried out"),
            }
        }
        Ok(moved)
    }

    async fn carry_out(&self, actor: &Actor, row: RequestRow) -> Result<RequestRow> {
        let customer = CustomerId(row.customer_id);
        match RequestKind::parse(&row.kind) {
            Some(RequestKind::MarketingOptOut) => {
                self.withdraw_marketing_of(actor, customer, ConsentChannel::PrivacyRequest)
                    .await?;
                let outcome =
                    serde_json::json!({"marketing": "stopped", "channels": ["sms", "email"]});
                self.move_request(
                    actor,
                    &row,
                    RequestStatus::Completed,
                    "marketing stopped",
                    |c| {
                        c.completed_at = Some(now_ms());
                        c.outcome = Some(outcome.to_string());
                    },
                )
                .await
            }
            Some(RequestKind::Erasure) => match self
                .erase_customer(&erasing_actor(actor), customer, Some(row.id))
                .await?
            {
                ErasureResult::Done(report) => {
                    let outcome = serde_json::to_string(&report).unwrap_or_default();
                    let note = if report.held.is_empty() {
                        "erased".to_owned()
                    } else {
                        format!(
                            "erased; proofs of {} kept under a hold",
                            held_orders(&report)
                        )
                    };
                    self.move_request(actor, &row, RequestStatus::Completed, &note, |c| {
                        c.completed_at = Some(now_ms());
                        c.outcome = Some(outcome);
                    })
                    .await
                }
                ErasureResult::Postponed { reason } => {
                    if row.status == RequestStatus::Held.as_str()
                        && row.hold_reason.as_deref() == Some(reason.as_str())
                    {
                        return Ok(row);
                    }
                    self.move_request(actor, &row, RequestStatus::Held, &reason, |c| {
                        c.hold_reason = Some(reason.clone())
                    })
                    .await
                }
            },
            Some(RequestKind::Access) => {
                let export_id = self.start_access_export(actor, customer, row.id).await?;
                self.move_request(
                    actor,
                    &row,
                    RequestStatus::InProgress,
                    "export started",
                    |c| c.export_id = Some(export_id),
                )
                .await
            }
            None => Err(ServiceError::Internal(format!(
                "unknown request kind {}",
                row.kind
            ))),
        }
    }

    async fn check_progress(&self, row: RequestRow) -> Result<RequestRow> {
        let Some(export_id) = row.export_id else {
            return Ok(row);
        };
        match self.access_export_state(export_id).await? {
            ExportState::Building => Ok(row),
            ExportState::Ready => {
                self.move_request(
                    &Actor::System,
                    &row,
                    RequestStatus::Completed,
                    "export ready",
                    |c| {
                        c.completed_at = Some(now_ms());
                        c.outcome = Some(serde_json::json!({"export_id": export_id}).to_string());
                    },
                )
                .await
            }
            ExportState::Failed => {
                self.move_request(
                    &Actor::System,
                    &row,
                    RequestStatus::Open,
                    "export failed; will retry",
                    |_| {},
                )
                .await
            }
        }
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
        let from = RequestStatus::parse(&row.status).unwrap_or(RequestStatus::Open);
        if from != to && !from.may_become(to) {
            return Err(ServiceError::Conflict(format!(
                "a request that is {} cannot become {}",
                from.as_str(),
                to.as_str()
            )));
        }
        let mut change = StatusChange {
            status: to.as_str().into(),
            ..Default::default()
        };
        fill(&mut change);
        let mut tx = self.db.begin().await?;
        if !rows::change_status(&mut tx, row.id, &row.status, &change).await? {
            return Err(ServiceError::Conflict(
                "the request was changed by someone else; reload it".into(),
            ));
        }
        rows::add_event(
            &mut tx,
            row.id,
            now_ms(),
            to.as_str(),
            &actor.audit_ref(),
            note,
        )
        .await?;
        audit::change(
            &mut tx,
            actor,
            "privacy_request.status",
            &format!("privacy_request:{}", row.id),
            &format!("{}->{}", from.as_str(), to.as_str()),
        )
        .await?;
        let row = rows::get(&mut tx, row.id)
            .await?
            .ok_or(ServiceError::NotFound("request"))?;
        tx.commit().await?;
        Ok(row)
    }

    async fn request_view(&self, row: RequestRow) -> Result<RequestView> {
        let mut conn = self.db.conn().await?;
        let history = rows::events(&mut conn, row.id)
            .await?
            .into_iter()
            .map(|e| RequestEvent {
                at: e.at,
                status: e.status,
                actor: e.actor,
                note: e.note,
            })
            .collect();
        let status = RequestStatus::parse(&row.status).unwrap_or(RequestStatus::Open);
        Ok(RequestView {
            id: row.id,
            customer_id: row.customer_id,
            kind: RequestKind::parse(&row.kind).unwrap_or(RequestKind::Access),
            channel: RequestChannel::parse(&row.channel).unwrap_or(RequestChannel::Api),
            status,
            verified_by: row.verified_by,
            received_at: row.received_at,
            deadline: row.deadline_at,
            overdue: is_overdue(status, row.deadline_at, now_ms()),
            hold_reason: row.hold_reason,
            outcome: row
                .outcome
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok()),
            completed_at: row.completed_at,
            status_path: format!("/privacy/requests/status/{}", row.status_token),
            export_id: row.export_id,
            logged_by: row.logged_by,
            history,
        })
    }
}

/// Where an access export stands, for the request that asked for it.
pub(crate) enum ExportState {
    Building,
    Ready,
    Failed,
}

/// The job acts as the system; a person who carries a request out acts as themselves.
fn erasing_actor(actor: &Actor) -> Actor {
    match actor {
        Actor::Staff { .. } => *actor,
        _ => Actor::System,
    }
}

fn held_orders(report: &crate::erasure::ErasureReport) -> String {
    report
        .held
        .iter()
        .map(|h| h.order.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

// The mail transport and the access export, as privacy requests use them.
impl Services {
    /// Sends to the address on record, as it was given, not as typed now.
    async fn send_code_by_email(
        &self,
        customer: i64,
        text: &str,
    ) -> std::result::Result<(), String> {
        let Some(mail) = &self.mail else {
            return Err("no mail transport is configured".into());
        };
        let on_record = async {
            let mut conn = self.db.conn().await?;
            let row = customer_rows::get(&mut conn, customer)
                .await?
                .ok_or(ServiceError::NotFound("customer"))?;
            let key = self
                .vault
                .customer_key(row.id, row.wrapped_key.as_deref())?;
            crate::vault::open_text(&key, "customers.email", row.id, row.email_enc.as_deref())
        };
        let to = match on_record.await {
            Ok(Some(to)) => to,
            Ok(None) => return Err("the customer has no email on record".into()),
            Err(e) => return Err(e.to_string()),
        };
        let message = chotomoni_mail::OutgoingMail {
            to,
            subject: "ছোটমনি: গোপনীয়তা অনুরোধের কোড / Chotomoni: your privacy request code".into(),
            text: text.to_owned(),
            headers: Vec::new(),
        };
        mail.send(&message).await.map_err(|e| e.to_string())
    }

    async fn start_access_export(
        &self,
        actor: &Actor,
        customer: CustomerId,
        request: i64,
    ) -> Result<i64> {
        let by = match actor {
            Actor::Staff { .. } => *actor,
            _ => Actor::System,
        };
        Ok(self.start_export(&by, customer.0, Some(request)).await?.id)
    }

    /// Read without an actor: asking `export_status` would hand out the
    /// one-time download link to nobody.
    async fn access_export_state(&self, export_id: i64) -> Result<ExportState> {
        let mut conn = self.db.conn().await?;
        let row = chotomoni_storage::exports::get(&mut conn, export_id)
            .await?
            .ok_or(ServiceError::NotFound("export"))?;
        Ok(match row.status.as_str() {
            "ready" | "expired" => ExportState::Ready,
            "failed" => ExportState::Failed,
            _ => ExportState::Building,
        })
    }
}
