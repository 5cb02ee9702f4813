//! The time the services go by. Every rule that depends on the time (a
//! request's deadline, a code's ten minutes, a link's expiry, a job's
//! lease) reads it from here, so a test can move it on instead of
//! rewriting times in the database.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The system's time, plus whatever a test moved it on by. Clones share it,
/// so servers made from one another keep one time.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    ahead_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        crate::now_ms() + self.ahead_ms.load(Ordering::Relaxed)
    }

    /// Moves this clock (and every clone of it) on by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
        self.ahead_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_is_ahead_in_every_clone() {
        let clock = Clock::default();
        let twin = clock.clone();
        let before = clock.now_ms();
        twin.advance(Duration::from_secs(86_400));
        let after = clock.now_ms();
        assert!(after - before >= 86_400_000, "{before} -> {after}");
        assert!(after - before < 86_400_000 + 60_000);
    }
}
