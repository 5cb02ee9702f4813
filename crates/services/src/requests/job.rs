//! Carrying requests out: at once for support, or by their jobs before
//! their deadline; held erasures resumed, exports followed until ready,
//! proofs released from ended holds. A recurring scan queues one job per
//! request that is due, so each runs on one server at a time, and every
//! step moves the request in the same transaction as its effect.
use super::ForRequest;
use crate::consents::ConsentChannel;
use crate::erasure::ErasureResult;
use crate::error::{Result, ServiceError};
use crate::jobs::Job;
use crate::privacy_export::ExportState;
use crate::{Actor, Services};
use chotomoni_domain::{CustomerId, JobKind, RequestKind, RequestStatus};
use chotomoni_storage::privacy_requests::{self as rows, RequestRow};
use std::collections::HashMap;
use std::time::Duration;

const DAY_MS: i64 = 86_400_000;
/// A request this close to its deadline is carried out whatever the review period.
const DEADLINE_MARGIN_MS: i64 = 7 * DAY_MS;

impl Services {
    /// The recurring scan: deletes proofs whose holds ended, forgets old
    /// code tries, and queues a job for each verified request that is due
    /// (one already queued is not queued twice). Returns how many it queued.
    pub async fn scan_privacy_requests(&self) -> Result<usize> {
        self.release_ended_holds().await?;
        let mut conn = self.db.conn().await?;
        rows::sweep_codes(
            &mut conn,
            self.now_ms() - chotomoni_domain::catalog::kept_ms("request_codes"),
        )
        .await?;
        let now = self.now_ms();
        let mut queued = 0;
        for row in rows::unfinished_verified(&mut conn).await? {
            if self.is_due(&row, now)
                && self
                    .enqueue(&mut conn, Job::about(JobKind::PrivacyRequest, row.id))
                    .await?
            {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Whether the job has something to do for `row` now.
    fn is_due(&self, row: &RequestRow, now: i64) -> bool {
        let review = i64::from(self.settings.erasure_review_days) * DAY_MS;
        match row.status {
            RequestStatus::InProgress | RequestStatus::Held => true,
            RequestStatus::Open => {
                row.kind != RequestKind::Erasure
                    || row.received_at + review <= now
                    || row.deadline_at - DEADLINE_MARGIN_MS <= now
            }
            _ => false,
        }
    }

    /// One request's job: carries it out, resumes it or follows its export,
    /// whichever is due (nothing if another server's run got there first).
    pub(crate) async fn run_privacy_request(&self, id: i64) -> Result<()> {
        let mut conn = self.db.conn().await?;
        let Some(row) = rows::get(&mut conn, id).await? else {
            return Ok(());
        };
        drop(conn);
        if !self.is_due(&row, self.now_ms()) {
            return Ok(());
        }
        match row.status {
            RequestStatus::InProgress => self.check_progress(row).await?,
            _ => self.carry_out(&Actor::System, row).await?,
        };
        Ok(())
    }

    /// Runs the scan and the jobs it queued here and now (what the worker
    /// does within a minute), waiting for any that another worker holds.
    /// Returns how many requests changed status.
    pub async fn run_privacy_requests(&self) -> Result<usize> {
        let before = self.unfinished_statuses().await?;
        self.scan_privacy_requests().await?;
        self.run_jobs_of(JobKind::PrivacyRequest).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let mut conn = self.db.conn().await?;
            let mut busy = false;
            for id in before.keys() {
                let key = Job::about(JobKind::PrivacyRequest, *id).key();
                busy |= chotomoni_storage::jobs::active_by_key(&mut conn, &key)
                    .await?
                    .is_some();
            }
            drop(conn);
            if !busy || tokio::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            self.run_jobs_of(JobKind::PrivacyRequest).await?;
        }
        let mut conn = self.db.conn().await?;
        let mut moved = 0;
        for (id, status) in before {
            let now = rows::get(&mut conn, id).await?.map(|r| r.status);
            if now != Some(status) {
                moved += 1;
            }
        }
        Ok(moved)
    }

    async fn unfinished_statuses(&self) -> Result<HashMap<i64, RequestStatus>> {
        let mut conn = self.db.conn().await?;
        Ok(rows::unfinished_verified(&mut conn)
            .await?
            .into_iter()
            .map(|r| (r.id, r.status))
            .collect())
    }

    pub(super) async fn carry_out(&self, actor: &Actor, row: RequestRow) -> Result<RequestRow> {
        let customer = CustomerId(row.customer_id);
        match row.kind {
            RequestKind::MarketingOptOut => {
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
                        c.completed_at = Some(self.now_ms());
                        c.outcome = Some(outcome.to_string());
                    },
                )
                .await
            }
            RequestKind::Erasure => {
                let reach = self.reach_of(customer).await;
                let completes = ForRequest {
                    row: &row,
                    actor,
                    reach,
                };
                match self
                    .erase_customer_for(&acting_as(actor), customer, Some(row.id), Some(completes))
                    .await?
                {
                    // Erased now: the request was completed in the same transaction.
                    ErasureResult::Done(report) if !report.already_erased => {
                        self.request_row(row.id).await
                    }
                    ErasureResult::Done(report) => {
                        let outcome = serde_json::to_string(&report).unwrap_or_default();
                        self.move_request(actor, &row, RequestStatus::Completed, "erased", |c| {
                            c.completed_at = Some(self.now_ms());
                            c.outcome = Some(outcome);
                        })
                        .await
                    }
                    ErasureResult::Postponed { reason } => {
                        if row.status == RequestStatus::Held
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
            RequestKind::Access => {
                // The export, its build job and the request's move commit together.
                let mut tx = self.db.begin().await?;
                let export_id = self
                    .begin_export(&mut tx, &acting_as(actor), customer.0, Some(row.id))
                    .await?;
                self.move_request_in(
                    &mut tx,
                    actor,
                    &row,
                    RequestStatus::InProgress,
                    "export started",
                    |c| c.export_id = Some(export_id),
                )
                .await?;
                tx.commit().await?;
                self.request_row(row.id).await
            }
        }
    }

    pub(super) async fn check_progress(&self, row: RequestRow) -> Result<RequestRow> {
        let Some(export_id) = row.export_id else {
            return Ok(row);
        };
        match self.access_export_state(export_id).await? {
            ExportState::Building => Ok(row),
            // Expired: it was ready, and the person had their copy's link.
            ExportState::Ready | ExportState::Expired => {
                self.move_request(
                    &Actor::System,
                    &row,
                    RequestStatus::Completed,
                    "export ready",
                    |c| {
                        c.completed_at = Some(self.now_ms());
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

    /// Read without an actor: asking `export_status` would hand out the
    /// one-time download link to nobody.
    async fn access_export_state(&self, export_id: i64) -> Result<ExportState> {
        let mut conn = self.db.conn().await?;
        let row = chotomoni_storage::exports::get(&mut conn, export_id)
            .await?
            .ok_or(ServiceError::NotFound("export"))?;
        Ok(crate::privacy_export::state_of(&row, self.now_ms()))
    }
}

/// Who carries a request out: a staff member as themselves; the job, or a
/// visitor confirming the public form, as the system.
fn acting_as(actor: &Actor) -> Actor {
    match actor {
        Actor::Staff { .. } => *actor,
        _ => Actor::System,
    }
}
