//! Carrying requests out: at once for support, or by the background job
//! before their deadline; held erasures resumed, exports followed until
//! ready, proofs released from ended holds.
use crate::consents::ConsentChannel;
use crate::erasure::ErasureResult;
use crate::error::{Result, ServiceError};
use crate::{now_ms, Actor, Services};
use chotomoni_domain::{CustomerId, RequestChannel, RequestKind, RequestStatus};
use chotomoni_storage::privacy_requests::{self as rows, RequestRow};

const DAY_MS: i64 = 86_400_000;
/// A request this close to its deadline is carried out whatever the review period.
const DEADLINE_MARGIN_MS: i64 = 7 * DAY_MS;

impl Services {
    /// The background job: carries out verified requests that are due,
    /// resumes held ones, finishes exports, and deletes proofs whose holds
    /// ended. Returns how many requests moved.
    pub async fn run_privacy_requests(&self) -> Result<usize> {
        self.release_ended_holds().await?;
        let mut conn = self.db.conn().await?;
        rows::sweep_codes(&mut conn, now_ms() - crate::accounts::CODE_TRIES_WINDOW_MS).await?;
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

    pub(super) async fn carry_out(&self, actor: &Actor, row: RequestRow) -> Result<RequestRow> {
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
            Some(RequestKind::Erasure) => {
                let reach = self.reach_of(customer).await;
                match self
                    .erase_customer(&acting_as(actor), customer, Some(row.id))
                    .await?
                {
                    ErasureResult::Done(report) => {
                        if !report.already_erased {
                            // The stored link is only a hash. A request support logged
                            // gave its requester no link yet: the notice carries one.
                            // Anyone else holds theirs, which must keep working.
                            let link = if row.channel == RequestChannel::SupportEmail.as_str() {
                                self.new_status_link(row.id).await.ok()
                            } else {
                                None
                            };
                            self.tell_erased(reach, &report, link.as_deref()).await;
                        }
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
                }
            }
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

    pub(super) async fn check_progress(&self, row: RequestRow) -> Result<RequestRow> {
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

    async fn start_access_export(
        &self,
        actor: &Actor,
        customer: CustomerId,
        request: i64,
    ) -> Result<i64> {
        Ok(self
            .start_export(&acting_as(actor), customer.0, Some(request))
            .await?
            .id)
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

/// Where an access export stands, for the request that asked for it.
pub(crate) enum ExportState {
    Building,
    Ready,
    Failed,
}

/// Who carries a request out: a staff member as themselves; the job, or a
/// visitor confirming the public form, as the system.
fn acting_as(actor: &Actor) -> Actor {
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
