//! Pathao's statuses in the shop's words. The info endpoint's
//! `order_status_slug` (`Pickup_Cancelled`, `In_Transit`…) and the webhook
//! events (`order.pickup-cancelled`…) name the same stages differently;
//! both are brought to one spelling first.
use chotomoni_courier::ParcelStatus;

/// `order.In_Transit`, `In Transit` and `in-transit` all become `in-transit`.
fn normalized(said: &str) -> String {
    said.trim()
        .trim_start_matches("order.")
        .chars()
        .map(|c| match c {
            '_' | ' ' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The shop's status for a Pathao status slug or `order.*` event.
pub fn status_of(said: &str) -> ParcelStatus {
    match normalized(said).as_str() {
        "pending" | "created" | "order-created" | "pickup-requested" | "assigned-for-pickup"
        // A failed pickup leaves the parcel at the shop, still booked.
        | "pickup-failed" => ParcelStatus::Booked,
        "picked" | "at-the-sorting-hub" | "in-transit" | "received-at-last-mile-hub"
        | "assigned-for-delivery" => ParcelStatus::WithCourier,
        "delivered" => ParcelStatus::Delivered,
        "partial-delivery" | "partial-delivered" => ParcelStatus::PartlyDelivered,
        "returned" | "return" | "paid-return" => ParcelStatus::Returned,
        "on-hold" | "hold" | "delivery-failed" => ParcelStatus::OnHold,
        "pickup-cancelled" | "pickup-cancel" | "cancelled" => ParcelStatus::Cancelled,
        // `exchanged` and anything new stay for staff to read.
        _ => ParcelStatus::Unknown,
    }
}
