//! Claim packs: what a marketplace or courier is sent to settle a claim.
//! Marketplaces (Daraz, Shopee and others) take continuous, unedited video
//! of about a minute and 30 MB at most, so every video in a pack comes with
//! an excerpt cut to those limits from a start support chooses; the rules
//! for that start are here.
use crate::error::FieldError;
use crate::order::string_enum;
use crate::ProofId;
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

string_enum! {
    /// Where a pack's build stands. A failed one says why and is made again.
    PackStatus { Building = "building", Ready = "ready", Failed = "failed" }
}

/// An excerpt is at most this long.
pub const MAX_EXCERPT_MS: u64 = 60_000;
/// An excerpt is at most this large (bytes).
pub const MAX_EXCERPT_BYTES: u64 = 30_000_000;

/// Where one video's excerpt starts, as support chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExcerptStart {
    pub proof: ProofId,
    /// Milliseconds from the start of the video (no proof video is a day long).
    #[schema(minimum = 0, maximum = 86_400_000)]
    pub start_ms: u64,
}

impl ExcerptStart {
    /// The start must fall inside the video, or the excerpt would be empty.
    /// `field` names the start in the request (`excerpts[1].start_ms`).
    pub fn check(&self, duration_ms: Option<u64>, field: &str) -> Result<(), FieldError> {
        match duration_ms {
            Some(length) if self.start_ms < length => Ok(()),
            Some(length) => Err(FieldError::new(
                field,
                format!(
                    "the excerpt would start at {} s but video {} is only {} s long",
                    seconds(self.start_ms),
                    self.proof,
                    seconds(length)
                ),
            )),
            None => Err(FieldError::new(
                field,
                format!(
                    "proof {} is not a video whose length is known, so it has no excerpt",
                    self.proof
                ),
            )),
        }
    }

    /// How long the excerpt runs: to the limit or the end of the video.
    pub fn length_ms(&self, duration_ms: u64) -> u64 {
        duration_ms
            .saturating_sub(self.start_ms)
            .min(MAX_EXCERPT_MS)
    }
}

fn seconds(ms: u64) -> String {
    format!("{:.1}", ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_must_fall_inside_the_video() {
        let start = |ms| ExcerptStart {
            proof: ProofId(4),
            start_ms: ms,
        };
        assert!(start(0).check(Some(9_500), "s").is_ok());
        assert!(start(9_499).check(Some(9_500), "s").is_ok());
        let beyond = start(9_500)
            .check(Some(9_500), "excerpts[0].start_ms")
            .unwrap_err();
        assert_eq!(beyond.field, "excerpts[0].start_ms");
        assert!(beyond.message.contains("9.5 s long"), "{}", beyond.message);
        assert!(start(0).check(None, "s").is_err());
    }

    #[test]
    fn an_excerpt_runs_to_the_limit_or_the_end() {
        let at = |ms| ExcerptStart {
            proof: ProofId(1),
            start_ms: ms,
        };
        assert_eq!(at(0).length_ms(200_000), MAX_EXCERPT_MS);
        assert_eq!(at(190_000).length_ms(200_000), 10_000);
        assert_eq!(at(0).length_ms(9_500), 9_500);
    }
}
