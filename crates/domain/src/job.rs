//! Background work: what kinds of jobs exist, the states a job moves
//! through, and how long a failed one waits before its next attempt. The
//! queue itself (leases, claims) lives in storage and services.
use std::fmt;
use std::time::Duration;

/// Every kind of background job. A kind's name is what the `jobs` table
/// stores and what an admin sees; an unknown name read back is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// Technical data past its retention, expired sign-ins.
    SweepTechnical,
    /// Unfinished uploads past their expiry.
    SweepUploads,
    /// Access exports past their link's life; builds a lost server left.
    SweepExports,
    /// Proofs a crash or an error left uninspected.
    InspectPending,
    /// Privacy requests that are due, held or waiting on an export; holds that ended.
    PrivacyScan,
    /// Finished jobs past their keeping time.
    SweepJobs,
    /// Proofs past their kind's retention period that no hold keeps.
    ExpireProofs,
    /// One access export's archive.
    ExportBuild,
    /// One proof's duration, size and poster.
    ProofInspect,
    /// One privacy request carried out or followed.
    PrivacyRequest,
    /// The last message to an erased person.
    ErasureNotice,
    /// A claim's decision, told to its customer.
    ClaimDecisionNotice,
    /// What an erasure leaves outside the database: proof and export files,
    /// staging files, the key in the key vault. Done right after the
    /// erasure commits; this job repeats it later, so a server that stopped
    /// in between, or a store that was down, leaves nothing behind.
    ErasureCleanup,
    /// Stored videos' durations read again from their own bytes, a batch
    /// of proofs a run, each run queueing the next: queued once by a
    /// migration, for proofs inspected before browsers' live-written
    /// recordings were measured right.
    CorrectDurations,
    /// One claim pack's ZIP: originals, excerpts cut with ffmpeg, receipts.
    ClaimPackBuild,
    /// Booked parcels with no news for a while, asked about.
    CourierPoll,
    /// A cancelled order's consignment, cancelled with its courier.
    ParcelCancel,
    /// The customer told their parcel is with the courier (tracking link).
    ParcelHandedNotice,
    /// The customer told their parcel was delivered.
    ParcelDeliveredNotice,
    /// Online payments with no news for a while, asked about at their gateway.
    PaymentsQuery,
    /// The query planner's statistics kept current (SQLite does not gather
    /// them by itself).
    DatabaseOptimize,
    /// One refund asked of the gateway its order was paid through.
    RefundSend,
    /// Refunds a gateway is still processing, asked about until final.
    RefundsFollow,
}

impl JobKind {
    pub const ALL: &'static [JobKind] = &[
        JobKind::SweepTechnical,
        JobKind::SweepUploads,
        JobKind::SweepExports,
        JobKind::InspectPending,
        JobKind::PrivacyScan,
        JobKind::SweepJobs,
        JobKind::ExpireProofs,
        JobKind::ExportBuild,
        JobKind::ProofInspect,
        JobKind::PrivacyRequest,
        JobKind::ErasureNotice,
        JobKind::ClaimDecisionNotice,
        JobKind::ErasureCleanup,
        JobKind::CorrectDurations,
        JobKind::ClaimPackBuild,
        JobKind::CourierPoll,
        JobKind::ParcelCancel,
        JobKind::ParcelHandedNotice,
        JobKind::ParcelDeliveredNotice,
        JobKind::PaymentsQuery,
        JobKind::DatabaseOptimize,
        JobKind::RefundSend,
        JobKind::RefundsFollow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::SweepTechnical => "sweep.technical",
            JobKind::SweepUploads => "sweep.uploads",
            JobKind::SweepExports => "sweep.exports",
            JobKind::InspectPending => "proofs.inspect_pending",
            JobKind::PrivacyScan => "privacy.scan",
            JobKind::SweepJobs => "sweep.jobs",
            JobKind::ExpireProofs => "proofs.expire",
            JobKind::ExportBuild => "export.build",
            JobKind::ProofInspect => "proof.inspect",
            JobKind::PrivacyRequest => "privacy.request",
            JobKind::ErasureNotice => "message.erasure_notice",
            JobKind::ClaimDecisionNotice => "message.claim_decision",
            JobKind::ErasureCleanup => "erasure.cleanup",
            JobKind::CorrectDurations => "proofs.correct_durations",
            JobKind::ClaimPackBuild => "claim_pack.build",
            JobKind::CourierPoll => "couriers.poll",
            JobKind::ParcelCancel => "parcel.cancel",
            JobKind::ParcelHandedNotice => "message.parcel_handed",
            JobKind::ParcelDeliveredNotice => "message.parcel_delivered",
            JobKind::PaymentsQuery => "payments.query",
            JobKind::DatabaseOptimize => "database.optimize",
            JobKind::RefundSend => "refund.send",
            JobKind::RefundsFollow => "refunds.follow",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// A message is not sent again once an attempt may have reached the
    /// provider: a second copy is worse than an error an admin retries.
    pub fn at_most_once(self) -> bool {
        matches!(
            self,
            JobKind::ErasureNotice
                | JobKind::ClaimDecisionNotice
                | JobKind::ParcelHandedNotice
                | JobKind::ParcelDeliveredNotice
        )
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    /// Given up after its last attempt; an admin may retry it.
    Failed,
}

impl JobState {
    pub const ALL: &'static [JobState] = &[
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long a job waits after its `attempt`th failure (1-based): 30 s,
/// doubling, at most an hour, so a provider that is down is not hammered
/// and one that comes back is tried again soon.
pub fn retry_delay(attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    Duration::from_secs((30u64 << exp).min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_distinct() {
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(*k));
        }
        let mut names: Vec<_> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), JobKind::ALL.len());
        assert_eq!(JobKind::parse("export.built"), None);
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(*s));
        }
        assert_eq!(JobState::parse("open"), None);
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_delay(1), Duration::from_secs(30));
        assert_eq!(retry_delay(2), Duration::from_secs(60));
        assert_eq!(retry_delay(5), Duration::from_secs(480));
        assert_eq!(retry_delay(8), Duration::from_secs(3600));
        assert_eq!(retry_delay(400), Duration::from_secs(3600));
    }
}
