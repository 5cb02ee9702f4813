//! Proof of packing and delivery: what kind a proof is, and why a link to
//! one was shared.
use crate::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct ProofId(pub i64);

impl std::fmt::Display for ProofId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The moment a proof records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProofKind {
    Packing,
    Delivery,
    Return,
    Claim,
}

impl ProofKind {
    pub const ALL: [ProofKind; 4] = [
        ProofKind::Packing,
        ProofKind::Delivery,
        ProofKind::Return,
        ProofKind::Claim,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProofKind::Packing => "packing",
            ProofKind::Delivery => "delivery",
            ProofKind::Return => "return",
            ProofKind::Claim => "claim",
        }
    }

    pub fn parse(field: &str, text: &str) -> Result<ProofKind, FieldError> {
        ProofKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| FieldError::new(field, "must be packing, delivery, return or claim"))
    }
}

/// Who a share link is for; both are recipients the policy allows
/// ("courier services … and service providers strictly for order fulfillment").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SharePurpose {
    CourierClaim,
    MarketplaceClaim,
}

impl SharePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            SharePurpose::CourierClaim => "courier_claim",
            SharePurpose::MarketplaceClaim => "marketplace_claim",
        }
    }

    pub fn parse(text: &str) -> Option<SharePurpose> {
        [SharePurpose::CourierClaim, SharePurpose::MarketplaceClaim]
            .into_iter()
            .find(|p| p.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_from_their_names_only() {
        for k in ProofKind::ALL {
            assert_eq!(ProofKind::parse("kind", k.as_str()), Ok(k));
        }
        let err = ProofKind::parse("metadata.kind", "selfie").unwrap_err();
        assert_eq!(err.field, "metadata.kind");
        assert_eq!(
            SharePurpose::parse("courier_claim"),
            Some(SharePurpose::CourierClaim)
        );
        assert_eq!(SharePurpose::parse("friend"), None);
    }
}
