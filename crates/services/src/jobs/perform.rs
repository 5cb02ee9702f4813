//! What each kind of job does. Handlers are written to be run again: a job
//! whose server died mid-run is run again by another, so each handler
//! makes its state transition before its side effect, or its side effect
//! is one that may be repeated (deleting what is already deleted).
use super::{rows, JobRow};
use crate::error::{Result, ServiceError};
use crate::Services;
use chotomoni_domain::{JobKind, ProofId};

const DAY_MS: i64 = 86_400_000;

#[derive(serde::Deserialize)]
struct Payload {
    subject: Option<i64>,
}

#[derive(serde::Deserialize)]
struct WithDetail<T> {
    detail: T,
}

fn detail<T: serde::de::DeserializeOwned>(job: &JobRow) -> Result<T> {
    serde_json::from_str::<WithDetail<T>>(&job.payload)
        .map(|p| p.detail)
        .map_err(|e| {
            ServiceError::Internal(format!(
                "job {} ({}): its detail does not parse: {e}",
                job.id, job.kind
            ))
        })
}

fn subject(job: &JobRow) -> Result<i64> {
    serde_json::from_str::<Payload>(&job.payload)
        .ok()
        .and_then(|p| p.subject)
        .ok_or_else(|| {
            ServiceError::Internal(format!("job {} ({}) names no subject", job.id, job.kind))
        })
}

impl Services {
    pub(crate) async fn perform(&self, job: &JobRow) -> Result<()> {
        if self.recurring(job.kind).is_some_and(|r| !r.enabled) {
            tracing::info!(kind = %job.kind, "a recurring job switched off here was removed");
            return Ok(());
        }
        match job.kind {
            JobKind::SweepTechnical => {
                let (purged, deleted) = self.sweep().await?;
                tracing::info!(purged, deleted, "swept technical data and expired sessions");
            }
            JobKind::SweepUploads => {
                let n = self.sweep_expired_uploads().await?;
                tracing::info!(uploads = n, "deleted expired unfinished uploads");
            }
            JobKind::SweepExports => {
                let n = self.sweep_expired_exports().await?;
                let packs = self.sweep_expired_packs().await?;
                tracing::info!(
                    exports = n,
                    packs,
                    "deleted expired access exports and claim packs"
                );
            }
            JobKind::InspectPending => {
                let n = self.queue_pending_inspections().await?;
                tracing::info!(proofs = n, "queued inspections of uninspected proofs");
            }
            JobKind::PrivacyScan => {
                let n = self.scan_privacy_requests().await?;
                if n > 0 {
                    tracing::info!(requests = n, "privacy requests queued");
                }
            }
            JobKind::SweepJobs => {
                let now = self.now_ms();
                let keep = i64::from(self.settings.jobs.keep_done_days) * DAY_MS;
                let mut conn = self.db.conn().await?;
                let n = rows::sweep(
                    &mut conn,
                    now - keep,
                    now - chotomoni_domain::catalog::kept_ms("jobs"),
                )
                .await?;
                tracing::info!(jobs = n, "deleted finished jobs");
            }
            JobKind::ExpireProofs => {
                let n = self.expire_proofs().await?;
                if n > 0 {
                    tracing::info!(proofs = n, "deleted proofs past their retention");
                }
            }
            JobKind::ExportBuild => self.build_export(subject(job)?).await,
            JobKind::ProofInspect => self.inspect_proof(ProofId(subject(job)?)).await?,
            JobKind::PrivacyRequest => {
                self.run_privacy_request(subject(job)?).await?;
            }
            JobKind::ErasureNotice => {
                self.send_last_message(job, crate::requests::notice::SUBJECT)
                    .await?
            }
            JobKind::ClaimDecisionNotice => {
                self.send_message(job, crate::claims::DECISION_SUBJECT)
                    .await?;
            }
            JobKind::ErasureCleanup => {
                self.clean_up_after_erasure(&detail(job)?, &self.sealed_contact(job)?)
                    .await?
            }
            JobKind::ClaimPackBuild => self.build_claim_pack(subject(job)?).await,
            JobKind::CourierPoll => {
                let n = self.poll_silent_parcels().await?;
                if n > 0 {
                    tracing::info!(parcels = n, "asked couriers about quiet parcels");
                }
            }
            JobKind::ParcelCancel => self.cancel_parcel(subject(job)?).await?,
            JobKind::DatabaseOptimize => self.db.optimize().await?,
            JobKind::RefundSend => self.send_refund(subject(job)?).await?,
            JobKind::RefundsFollow => {
                let n = self.follow_refunds().await?;
                if n > 0 {
                    tracing::info!(refunds = n, "asked gateways about refunds under way");
                }
            }
            JobKind::PaymentsQuery => {
                let n = self.query_silent_payments().await?;
                if n > 0 {
                    tracing::info!(payments = n, "asked gateways about quiet payments");
                }
            }
            JobKind::ParcelHandedNotice | JobKind::ParcelDeliveredNotice => {
                self.send_parcel_notice(job.kind, subject(job)?).await?
            }
            JobKind::CorrectDurations => {
                let n = self.correct_durations(subject(job)?).await?;
                tracing::info!(proofs = n, "corrected stored video durations");
            }
        }
        Ok(())
    }
}
