//! Steadfast's delivery statuses in the shop's words.
use chotomoni_courier::ParcelStatus;

/// Maps one of Steadfast's statuses (any case) to a [`ParcelStatus`].
///
/// The `*_approval_pending` statuses are a rider's report that Steadfast
/// has not confirmed yet; they stay with the courier, since an order's
/// final stage never moves back if the approval is refused. Steadfast's
/// `cancelled` is a delivery the customer refused or Steadfast stopped: the
/// parcel comes back, which is the shop's `Cancelled`.
pub fn parcel_status(steadfast: &str) -> ParcelStatus {
    match steadfast.trim().to_ascii_lowercase().as_str() {
        "in_review" => ParcelStatus::Booked,
        "pending"
        | "delivered_approval_pending"
        | "partial_delivered_approval_pending"
        | "cancelled_approval_pending"
        | "unknown_approval_pending" => ParcelStatus::WithCourier,
        "delivered" => ParcelStatus::Delivered,
        "partial_delivered" => ParcelStatus::PartlyDelivered,
        "cancelled" => ParcelStatus::Cancelled,
        "hold" => ParcelStatus::OnHold,
        _ => ParcelStatus::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_published_status_is_mapped() {
        let expected = [
            ("pending", ParcelStatus::WithCourier),
            ("delivered_approval_pending", ParcelStatus::WithCourier),
            (
                "partial_delivered_approval_pending",
                ParcelStatus::WithCourier,
            ),
            ("cancelled_approval_pending", ParcelStatus::WithCourier),
            ("unknown_approval_pending", ParcelStatus::WithCourier),
            ("delivered", ParcelStatus::Delivered),
            ("partial_delivered", ParcelStatus::PartlyDelivered),
            ("cancelled", ParcelStatus::Cancelled),
            ("hold", ParcelStatus::OnHold),
            ("in_review", ParcelStatus::Booked),
            ("unknown", ParcelStatus::Unknown),
        ];
        for (word, status) in expected {
            assert_eq!(parcel_status(word), status, "{word}");
        }
        assert_eq!(parcel_status("Delivered"), ParcelStatus::Delivered);
        assert_eq!(parcel_status("lost_in_space"), ParcelStatus::Unknown);
    }
}
