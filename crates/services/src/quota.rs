//! Quotas on what one person may start (uploads, access exports), so that
//! one account cannot fill the disk or keep the server busy for everyone.
//! Counts come from the rows themselves; two requests at the same instant
//! may both pass, which only lets a quota be passed by one.
use crate::error::{Result, ServiceError};

pub(crate) const DAY_MS: i64 = 24 * 3_600_000;

/// Refuses when `started` (Unix ms, all within the last 24 hours) already
/// holds `limit` starts, saying when the oldest leaves the window.
pub(crate) fn per_day(
    code: &'static str,
    what: &str,
    started: &[i64],
    limit: u32,
    now: i64,
) -> Result<()> {
    if started.len() < limit as usize {
        return Ok(());
    }
    let oldest = started.iter().copied().min().unwrap_or(now);
    let wait_ms = (oldest + DAY_MS - now).max(1000);
    Err(ServiceError::QuotaExceeded {
        code,
        message: format!("at most {limit} {what} per 24 hours; try again later"),
        retry_after_secs: Some((wait_ms as u64).div_ceil(1000)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_day_says_when_its_oldest_start_leaves_the_window() {
        let now = 10 * DAY_MS;
        assert!(per_day("q", "things", &[now - 1000], 2, now).is_ok());
        match per_day("q", "things", &[now - DAY_MS + 90_000, now - 1000], 2, now) {
            Err(ServiceError::QuotaExceeded {
                retry_after_secs, ..
            }) => assert_eq!(retry_after_secs, Some(90)),
            other => panic!("expected a quota refusal, got {other:?}"),
        }
    }
}
