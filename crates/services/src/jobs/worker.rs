//! A server's worker: claims due jobs one at a time, renews the lease while
//! a job runs, and records how it ended. A job whose lease is lost (its
//! server stalled past the lease, and another took it over) is abandoned
//! here: only the lease's owner may finish it.
use super::rows::{self, JobRow, Outcome};
use crate::error::{chain, Result, ServiceError};
use crate::Services;
use chotomoni_domain::{job::retry_delay, JobKind};
use std::future::Future;
use std::time::Duration;

/// How a claimed job ended on this server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub id: i64,
    pub kind: JobKind,
    /// The error, if it failed (it may still be retried).
    pub error: Option<String>,
}

#[derive(Clone)]
pub struct Worker {
    services: Services,
    owner: String,
}

impl Services {
    /// A worker for this server, named in leases by host, process and a
    /// random part (two workers of one process are two owners).
    pub fn worker(&self) -> Worker {
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_default();
        let tag: u32 = rand::random();
        Worker {
            services: self.clone(),
            owner: format!("{host}:{}:{tag:08x}", std::process::id()),
        }
    }

    /// Runs due jobs of `kind` here until none is left; returns what ran.
    pub async fn run_jobs_of(&self, kind: JobKind) -> Result<Vec<Ran>> {
        let worker = self.worker();
        let mut ran = Vec::new();
        while let Some(r) = worker.run_one(Some(kind)).await? {
            ran.push(r);
        }
        Ok(ran)
    }
}

impl Worker {
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Claims jobs until `shutdown` completes; between jobs it waits for a
    /// job queued here or for the poll interval. A job running at shutdown
    /// is dropped with its lease, which another server takes over.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let poll = self.services.settings.jobs.poll;
        // After a wake-up, a few quick looks: the job was queued inside a
        // transaction that may still be committing.
        let mut quick_looks = 0u32;
        loop {
            let next = tokio::select! {
                _ = &mut shutdown => return,
                r = self.run_one(None) => r,
            };
            match next {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => tracing::error!(error = %chain(&e), "the job queue could not be read"),
            }
            let wait = if quick_looks > 0 {
                quick_looks -= 1;
                Duration::from_millis(20 << (3 - quick_looks.min(3)))
            } else {
                poll
            };
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.services.job_signal.notified() => quick_looks = 4,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Claims one due job (of `only`, if given) and runs it; `None` when
    /// none is due.
    pub async fn run_one(&self, only: Option<JobKind>) -> Result<Option<Ran>> {
        let s = &self.services;
        let lease = s.settings.jobs.lease;
        let now = self.services.now_ms();
        let lost = rows::give_up_lost(&s.db, &at_most_once(), now).await?;
        if lost > 0 {
            tracing::warn!(
                jobs = lost,
                "jobs whose server stopped mid-run were given up, not run twice"
            );
        }
        let Some(job) = rows::claim(&s.db, &self.owner, now + ms(lease), now, only).await? else {
            return Ok(None);
        };
        let started = std::time::Instant::now();
        let Some(result) = self.run_leased(&job).await else {
            tracing::warn!(job = job.id, kind = %job.kind, "lost the lease of a running job; another server has it");
            return Ok(Some(Ran {
                id: job.id,
                kind: job.kind,
                error: Some("lease lost".into()),
            }));
        };
        let error = result.err().map(|e| chain(&e));
        let outcome = self.outcome(&job, error.as_deref());
        let mut conn = s.db.conn().await?;
        if !rows::end(
            &mut conn,
            job.id,
            &self.owner,
            outcome,
            self.services.now_ms(),
        )
        .await?
        {
            tracing::warn!(job = job.id, kind = %job.kind, "a job's lease ran out before it ended");
        }
        let ms = started.elapsed().as_millis() as u64;
        match &error {
            None => tracing::debug!(job = job.id, kind = %job.kind, ms, "job done"),
            Some(e) => {
                tracing::error!(job = job.id, kind = %job.kind, attempt = job.attempts, ms, error = %e, "job failed")
            }
        }
        Ok(Some(Ran {
            id: job.id,
            kind: job.kind,
            error,
        }))
    }

    /// Runs the job on its own task (a panic is an error, not a dead
    /// worker) while renewing the lease; `None` if the lease was lost.
    async fn run_leased(&self, job: &JobRow) -> Option<Result<()>> {
        let s = self.services.clone();
        let lease = s.settings.jobs.lease;
        let owned = job.clone();
        let work = tokio::spawn(async move { s.perform(&owned).await });
        let abort = work.abort_handle();
        let renew = async {
            loop {
                tokio::time::sleep(lease / 3).await;
                let now = self.services.now_ms();
                match rows::renew(&self.services.db, job.id, &self.owner, now + ms(lease), now)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => {
                        tracing::warn!(job = job.id, error = %e, "renewing a job's lease failed")
                    }
                }
            }
        };
        tokio::select! {
            joined = work => Some(joined.unwrap_or_else(|e| {
                Err(ServiceError::Failed {
                    context: "the job stopped",
                    source: Box::new(e),
                })
            })),
            _ = renew => {
                abort.abort();
                None
            }
        }
    }

    /// What becomes of a job after a run: a recurring one is queued for
    /// its next period (sooner after a failure, but never given up); a
    /// one-off one is done, retried with backoff, or given up.
    fn outcome<'a>(&self, job: &JobRow, error: Option<&'a str>) -> Outcome<'a> {
        let now = self.services.now_ms();
        let backoff = retry_delay(u32::try_from(job.attempts).unwrap_or(u32::MAX));
        match (self.services.recurring(job.kind), error) {
            (Some(r), None) if r.enabled => Outcome::Again {
                run_at: now + ms(r.period),
                error: None,
            },
            (Some(r), Some(e)) if r.enabled => Outcome::Again {
                run_at: now + ms(backoff.min(r.period)),
                error: Some(e),
            },
            (_, None) => Outcome::Done,
            (_, Some(e)) if job.attempts >= job.max_attempts => Outcome::Failed { error: e },
            (_, Some(e)) => Outcome::Again {
                run_at: now + ms(backoff),
                error: Some(e),
            },
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

/// Kinds that are given up, not taken over, when their runner vanished.
fn at_most_once() -> Vec<JobKind> {
    JobKind::ALL
        .iter()
        .copied()
        .filter(|k| k.at_most_once())
        .collect()
}
