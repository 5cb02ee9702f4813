//! The `[jobs]` table: the background queue on this server, and the off
//! switch and period of each recurring job. Every server of one shop
//! should have the same schedule: the one that runs a recurring job last
//! decides when it runs next.
use anyhow::{bail, Context, Result};
use chotomoni_domain::JobKind;
use chotomoni_services::jobs::{schedule, JobSettings};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct JobsFile {
    /// Jobs this server runs at once.
    pub workers: Option<usize>,
    pub poll_seconds: Option<u64>,
    pub lease_seconds: Option<u64>,
    pub max_attempts: Option<u32>,
    pub keep_done_days: Option<u32>,
    /// Recurring jobs switched off, by name (`sweep.uploads`).
    pub off: Option<Vec<String>>,
    /// Periods of recurring jobs in seconds, by name.
    pub every_seconds: Option<BTreeMap<String, u64>>,
}

/// The queue's settings on this server.
pub fn jobs(file: Option<JobsFile>, env: &dyn Fn(&str) -> Option<String>) -> Result<JobSettings> {
    let f = file.unwrap_or_default();
    let mut s = JobSettings::default();
    let secs = |name: &str, from_file: Option<u64>| -> Result<Option<u64>> {
        match env(name) {
            Some(v) => Ok(Some(
                v.trim()
                    .parse()
                    .with_context(|| format!("{name}: a number of seconds"))?,
            )),
            None => Ok(from_file),
        }
    };
    if let Some(p) = secs("CHOTOMONI_JOBS_POLL_SECONDS", f.poll_seconds)? {
        s.poll = Duration::from_secs(p.max(1));
    }
    if let Some(l) = secs("CHOTOMONI_JOBS_LEASE_SECONDS", f.lease_seconds)? {
        if l < 3 {
            bail!("jobs.lease_seconds must be at least 3");
        }
        s.lease = Duration::from_secs(l);
    }
    if let Some(m) = f.max_attempts {
        s.max_attempts = m.max(1);
    }
    if let Some(d) = f.keep_done_days {
        s.keep_done_days = d;
    }
    let off: Vec<String> = match env("CHOTOMONI_JOBS_OFF") {
        Some(v) => v
            .split(',')
            .map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
            .collect(),
        None => f.off.unwrap_or_default(),
    };
    for name in &off {
        recurring_named(name)?;
        s.schedule
            .iter_mut()
            .filter(|r| r.kind.as_str() == name)
            .for_each(|r| r.enabled = false);
    }
    for (name, every) in f.every_seconds.unwrap_or_default() {
        let kind = recurring_named(&name)?;
        if every == 0 {
            bail!("jobs.every_seconds.{name} must be at least 1 (use jobs.off to switch it off)");
        }
        s.schedule
            .iter_mut()
            .filter(|r| r.kind == kind)
            .for_each(|r| r.period = Duration::from_secs(every));
    }
    if let Some(workers) = f.workers {
        if workers == 0 {
            bail!("jobs.workers must be at least 1: without one, exports, inspections and privacy requests never run");
        }
        s.workers = workers;
    }
    Ok(s)
}

fn recurring_named(name: &str) -> Result<JobKind> {
    match JobKind::parse(name) {
        Some(k) if schedule::is_recurring(k) => Ok(k),
        _ => {
            let names: Vec<_> = schedule::default_schedule()
                .iter()
                .map(|r| r.kind.as_str())
                .collect();
            bail!(
                "{name:?} is not a recurring job; they are: {}",
                names.join(", ")
            )
        }
    }
}
