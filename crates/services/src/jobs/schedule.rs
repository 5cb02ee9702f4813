//! The recurring jobs, declared in one place: what runs, how often, and the
//! off switch. Each has one row in `jobs` (its key is its kind's name),
//! queued again for its next run when a run ends, so on several servers it
//! still runs once per period.
use super::rows;
use crate::error::Result;
use crate::Services;
use chotomoni_domain::JobKind;
use chotomoni_storage::jobs::NewJob;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurring {
    pub kind: JobKind,
    pub period: Duration,
    /// Off: its row is removed at start and it never runs.
    pub enabled: bool,
}

const HOUR: Duration = Duration::from_secs(3600);

/// Every recurring job and its default period.
const RECURRING: [(JobKind, Duration); 11] = [
    (JobKind::SweepTechnical, HOUR),
    (JobKind::SweepUploads, HOUR),
    (JobKind::SweepExports, HOUR),
    (JobKind::InspectPending, HOUR),
    (JobKind::PrivacyScan, Duration::from_secs(60)),
    (JobKind::SweepJobs, HOUR),
    (JobKind::ExpireProofs, HOUR),
    (JobKind::CourierPoll, Duration::from_secs(15 * 60)),
    (JobKind::PaymentsQuery, Duration::from_secs(5 * 60)),
    // Hourly, as SQLite advises for long-lived connections: statistics
    // gathered while a table was small make it scan that table once it has
    // grown (an update of 40 parcels by id took 68 ms instead of 0.7), and
    // a run that finds no table grown much analyzes nothing.
    (JobKind::DatabaseOptimize, HOUR),
    (JobKind::RefundsFollow, Duration::from_secs(15 * 60)),
];

/// The recurring jobs, all on, at their default periods.
pub fn default_schedule() -> Vec<Recurring> {
    RECURRING
        .into_iter()
        .map(|(kind, period)| Recurring {
            kind,
            period,
            enabled: true,
        })
        .collect()
}

/// Whether `kind` is one of the recurring ones.
pub fn is_recurring(kind: JobKind) -> bool {
    RECURRING.iter().any(|(k, _)| *k == kind)
}

impl Services {
    /// Puts every enabled recurring job in the queue (a row that is
    /// already there stays as it is) and removes the disabled ones.
    pub async fn declare_schedule(&self) -> Result<()> {
        let mut conn = self.db.conn().await?;
        let now = self.now_ms();
        for r in &self.settings.jobs.schedule {
            let key = r.kind.as_str();
            if !r.enabled {
                rows::remove_queued(&mut conn, key).await?;
                continue;
            }
            rows::enqueue(
                &mut conn,
                &NewJob {
                    kind: r.kind,
                    dedupe_key: key,
                    payload: "{}",
                    sealed: None,
                    run_at: now,
                    max_attempts: i64::MAX,
                },
                now,
            )
            .await?;
        }
        Ok(())
    }

    /// This server's setting for recurring job `kind`, if it is one.
    pub(crate) fn recurring(&self, kind: JobKind) -> Option<&Recurring> {
        self.settings.jobs.schedule.iter().find(|r| r.kind == kind)
    }
}
