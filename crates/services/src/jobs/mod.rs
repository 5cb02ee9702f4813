//! The one mechanism for background work: a `jobs` table with leases (see
//! `chotomoni_storage::jobs`). One-off jobs are queued where their work
//! arises, in the same transaction as the change that calls for them;
//! recurring ones are declared in [`schedule`]. Every server runs a worker
//! ([`worker`]) that claims due jobs one at a time, so each runs on one
//! server only, and a server that dies mid-run leaves its job to another
//! once the lease runs out.
pub mod perform;
pub mod schedule;
pub mod worker;

use crate::error::{Result, ServiceError};
use crate::{Actor, Services};
use chotomoni_domain::staff::Permission;
use chotomoni_domain::AuditAction;
use chotomoni_domain::{JobKind, JobState};
use chotomoni_storage::jobs::{self as rows, JobRow, NewJob};
use chotomoni_storage::sqlite_writer::WriteConn;
use chotomoni_storage::Conn;
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

pub use schedule::Recurring;

/// How the queue runs on this server.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// How often an idle worker looks for due jobs queued by other servers
    /// (jobs queued here wake it at once).
    pub poll: Duration,
    /// How long a claim lasts without renewal; renewed every third of it.
    pub lease: Duration,
    /// Attempts of a one-off job before it is given up.
    pub max_attempts: u32,
    /// Recurring jobs, their periods and whether they run at all.
    pub schedule: Vec<Recurring>,
    /// Days finished jobs stay listed for admins.
    pub keep_done_days: u32,
    /// Jobs this server runs at once (its workers).
    pub workers: usize,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            poll: Duration::from_secs(5),
            lease: Duration::from_secs(60),
            max_attempts: 5,
            schedule: schedule::default_schedule(),
            keep_done_days: 7,
            workers: 2,
        }
    }
}

/// A job as an admin sees it; no payload (ids only, but not theirs to read).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobView {
    pub id: i64,
    /// What the job does (`export.build`, `privacy.request`, …).
    pub kind: String,
    /// Which piece of work (`export.build:12`).
    pub key: String,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    pub attempts: i64,
    /// When it is given up; `None` for a recurring job, which never is.
    pub max_attempts: Option<i64>,
    /// Unix ms when it is due (queued) or was last due.
    pub run_at: i64,
    /// Which server holds it while it runs.
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    /// The last failure's error.
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

impl From<JobRow> for JobView {
    fn from(r: JobRow) -> Self {
        JobView {
            id: r.id,
            kind: r.kind.as_str().into(),
            key: r.dedupe_key,
            state: r.state.as_str().into(),
            attempts: r.attempts,
            max_attempts: (!schedule::is_recurring(r.kind)).then_some(r.max_attempts),
            run_at: r.run_at,
            lease_owner: r.lease_owner,
            lease_until: r.lease_until,
            last_error: r.last_error,
            created_at: r.created_at,
            updated_at: r.updated_at,
            finished_at: r.finished_at,
        }
    }
}

/// The admin's view of the queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueView {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
    pub jobs: Vec<JobView>,
}

/// One job to queue.
pub(crate) struct Job<'a> {
    pub kind: JobKind,
    /// The piece of work it is about (an export's id, a request's id).
    pub subject: Option<i64>,
    pub sealed: Option<&'a [u8]>,
    /// What else the job needs, never personal data (`payload.detail`).
    pub detail: Option<serde_json::Value>,
    /// How long after now it is due.
    pub after_ms: i64,
}

impl Job<'_> {
    pub fn about(kind: JobKind, subject: i64) -> Job<'static> {
        Job {
            kind,
            subject: Some(subject),
            sealed: None,
            detail: None,
            after_ms: 0,
        }
    }

    pub fn key(&self) -> String {
        match self.subject {
            Some(id) => format!("{}:{id}", self.kind),
            None => self.kind.as_str().to_owned(),
        }
    }

    fn keyed(&self) -> Keyed {
        let payload = match &self.detail {
            None => serde_json::json!({ "subject": self.subject }),
            Some(detail) => serde_json::json!({ "subject": self.subject, "detail": detail }),
        };
        Keyed {
            key: self.key(),
            payload: payload.to_string(),
        }
    }
}

/// A job's key and payload as its row stores them.
struct Keyed {
    key: String,
    payload: String,
}

impl Services {
    /// Queues `job` on `conn` (usually the transaction of the change that
    /// calls for it, so the two commit together); `false` when the same
    /// work is already queued or running. The worker here is woken.
    pub(crate) async fn enqueue(&self, conn: &mut Conn, job: Job<'_>) -> Result<bool> {
        let now = self.now_ms();
        let keyed = job.keyed();
        let added = rows::enqueue(conn, &self.job_row(&job, &keyed, now), now).await?;
        // After the caller's commit, ideally; the worker polls anyway.
        self.job_signal.notify_one();
        Ok(added.is_some())
    }

    /// [`Self::enqueue`] for many jobs, in few statements; how many were
    /// added. The caller wakes the worker after its commit.
    pub(crate) async fn enqueue_many(
        &self,
        conn: &mut WriteConn<'_>,
        jobs: &[Job<'_>],
    ) -> Result<u64> {
        let now = self.now_ms();
        let keyed: Vec<Keyed> = jobs.iter().map(Job::keyed).collect();
        let rows: Vec<NewJob> = jobs
            .iter()
            .zip(&keyed)
            .map(|(job, keyed)| self.job_row(job, keyed, now))
            .collect();
        Ok(rows::enqueue_many(conn, self.db.engine, &rows, now).await?)
    }

    fn job_row<'a>(&self, job: &'a Job<'_>, keyed: &'a Keyed, now: i64) -> NewJob<'a> {
        NewJob {
            kind: job.kind,
            dedupe_key: &keyed.key,
            payload: &keyed.payload,
            sealed: job.sealed,
            run_at: now + job.after_ms,
            max_attempts: i64::from(self.settings.jobs.max_attempts.max(1)),
        }
    }

    /// The queue for admins: counts, and the newest jobs (of one state).
    pub async fn job_queue(&self, actor: &Actor, state: Option<&str>) -> Result<QueueView> {
        if !actor.staff_may(Permission::Administer) {
            return Err(ServiceError::Forbidden);
        }
        let state = match state {
            None | Some("") => None,
            Some(s) => Some(JobState::parse(s).ok_or_else(|| {
                chotomoni_domain::FieldError::new(
                    "state",
                    "must be one of queued, running, done, failed",
                )
            })?),
        };
        let mut conn = self.db.conn().await?;
        let mut view = QueueView {
            queued: 0,
            running: 0,
            done: 0,
            failed: 0,
            jobs: Vec::new(),
        };
        for (s, n) in rows::counts(&mut conn).await? {
            *match s {
                JobState::Queued => &mut view.queued,
                JobState::Running => &mut view.running,
                JobState::Done => &mut view.done,
                JobState::Failed => &mut view.failed,
            } = n;
        }
        view.jobs = rows::list(&mut conn, state, 200)
            .await?
            .into_iter()
            .map(JobView::from)
            .collect();
        Ok(view)
    }

    /// An admin queues a failed job again, its attempts counted anew.
    pub async fn retry_job(&self, actor: &Actor, id: i64) -> Result<JobView> {
        if !actor.staff_may(Permission::Administer) {
            return Err(ServiceError::Forbidden);
        }
        let mut tx = self.db.begin().await?;
        let row = rows::get(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("job"))?;
        match rows::retry(&mut tx, id, self.now_ms()).await {
            Ok(true) => {}
            Ok(false) => {
                return Err(ServiceError::Conflict(format!(
                    "only a failed job can be retried; this one is {}",
                    row.state
                )))
            }
            Err(chotomoni_storage::StorageError::Duplicate(_)) => {
                return Err(ServiceError::Conflict(
                    "the same work is already queued or running".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        }
        crate::audit::change(
            &mut tx,
            actor,
            AuditAction::JobRetry,
            &format!("job:{id}"),
            row.kind.as_str(),
        )
        .await?;
        let row = rows::get(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("job"))?;
        tx.commit().await?;
        self.job_signal.notify_one();
        Ok(row.into())
    }
}
