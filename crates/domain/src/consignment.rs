//! Consignments: an order's parcel booked with a courier, and the rules by
//! which what a courier says about it moves the order. A courier's word
//! only ever moves a parcel (and its order) forward: a duplicate changes
//! nothing and a late event for an earlier stage is kept for the record
//! but applied to nothing.
use crate::order::{string_enum, OrderStatus};
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

string_enum! {
    /// The couriers Chotomoni books with.
    CourierName { Steadfast = "steadfast", Pathao = "pathao", Redx = "redx" }
}

impl CourierName {
    /// The courier's name as staff and customers know it.
    pub fn label(self) -> &'static str {
        match self {
            CourierName::Steadfast => "Steadfast",
            CourierName::Pathao => "Pathao",
            CourierName::Redx => "RedX",
        }
    }
}

string_enum! {
    /// Where a parcel is, in the shop's words; each courier adapter maps its
    /// courier's statuses onto these.
    ParcelStatus {
        Booked = "booked",
        WithCourier = "with_courier",
        Delivered = "delivered",
        PartlyDelivered = "partly_delivered",
        OnHold = "on_hold",
        Returned = "returned",
        Cancelled = "cancelled",
        Unknown = "unknown",
    }
}

impl ParcelStatus {
    /// How far along a parcel is: an event for an earlier stage than the
    /// one recorded never moves an order back.
    pub fn stage(self) -> u8 {
        match self {
            ParcelStatus::Unknown => 0,
            ParcelStatus::Booked => 1,
            ParcelStatus::WithCourier | ParcelStatus::OnHold => 2,
            ParcelStatus::Delivered
            | ParcelStatus::PartlyDelivered
            | ParcelStatus::Returned
            | ParcelStatus::Cancelled => 3,
        }
    }

    /// Whether the courier is done with it (nothing to ask about any more).
    pub fn is_final(self) -> bool {
        self.stage() == 3
    }

    /// The order status this parcel status means for an order now at
    /// `order`, if any.
    pub fn order_status(self, order: OrderStatus) -> Option<OrderStatus> {
        match self {
            ParcelStatus::WithCourier | ParcelStatus::OnHold => Some(OrderStatus::HandedToCourier),
            ParcelStatus::Delivered | ParcelStatus::PartlyDelivered => Some(OrderStatus::Delivered),
            ParcelStatus::Returned => Some(OrderStatus::Returned),
            // A delivery cancelled once the courier had the parcel (refused
            // at the door) brings it back; cancelled before pickup, the
            // order waits for staff.
            ParcelStatus::Cancelled if order == OrderStatus::HandedToCourier => {
                Some(OrderStatus::Returned)
            }
            ParcelStatus::Booked | ParcelStatus::Cancelled | ParcelStatus::Unknown => None,
        }
    }
}

string_enum! {
    /// Where booking an order's parcel stands.
    ConsignmentState {
        // Sent to the courier; its answer is awaited.
        Booking = "booking",
        Booked = "booked",
        // The courier refused it or did not answer; staff may try again.
        Failed = "failed",
        // Cancelled with the courier after the order was cancelled.
        Cancelled = "cancelled",
    }
}

string_enum! {
    /// What became of one thing a courier said (a webhook or an answer to
    /// our asking).
    EventOutcome {
        // It moved the parcel on.
        Applied = "applied",
        // The parcel was already there.
        Duplicate = "duplicate",
        // It was for an earlier stage than the one recorded.
        Stale = "stale",
        // A status the adapter does not know: kept for staff.
        Noted = "noted",
        // No consignment of ours has that id: kept for staff.
        UnknownConsignment = "unknown_consignment",
    }
}

string_enum! {
    /// How a courier's word reached us.
    EventSource { Webhook = "webhook", Poll = "poll" }
}

/// What a status report does to a parcel now at `current`.
pub fn judge(current: Option<ParcelStatus>, reported: ParcelStatus) -> EventOutcome {
    if reported == ParcelStatus::Unknown {
        return EventOutcome::Noted;
    }
    let Some(current) = current else {
        return EventOutcome::Applied;
    };
    if reported == current {
        return EventOutcome::Duplicate;
    }
    let moves_on = match reported.stage().cmp(&current.stage()) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        // Held and moving again take turns; a delivered parcel may still
        // come back in part; nothing else follows a final status.
        std::cmp::Ordering::Equal => {
            current.stage() == 2
                || (reported == ParcelStatus::Returned
                    && matches!(
                        current,
                        ParcelStatus::Delivered | ParcelStatus::PartlyDelivered
                    ))
        }
    };
    if moves_on {
        EventOutcome::Applied
    } else {
        EventOutcome::Stale
    }
}

/// The steps that take an order from `from` to `to` along its lifecycle
/// through the courier's statuses only (never through a cancellation or
/// back to confirmed): Packed → HandedToCourier → Delivered → Returned.
/// Empty when `to` cannot be reached that way (or is where it is).
pub fn courier_path(from: OrderStatus, to: OrderStatus) -> Vec<OrderStatus> {
    const CHAIN: [OrderStatus; 4] = [
        OrderStatus::Packed,
        OrderStatus::HandedToCourier,
        OrderStatus::Delivered,
        OrderStatus::Returned,
    ];
    let (Some(start), Some(end)) = (
        CHAIN.iter().position(|s| *s == from),
        CHAIN.iter().position(|s| *s == to),
    ) else {
        return Vec::new();
    };
    if end <= start {
        return Vec::new();
    }
    // A parcel that comes back without being delivered skips "delivered".
    let mut path: Vec<OrderStatus> = CHAIN[start + 1..=end].to_vec();
    if to == OrderStatus::Returned && path.len() > 1 {
        path.retain(|s| *s != OrderStatus::Delivered);
    }
    let mut at = from;
    for step in &path {
        debug_assert!(at.can_become(*step), "{at} cannot become {step}");
        at = *step;
    }
    path
}

/// What a courier's delivery charge and collected cash add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CashOnDelivery {
    pub parcels: i64,
    pub collected: i64,
    pub delivery_charges: i64,
}

impl CashOnDelivery {
    /// What the courier still owes the shop: collected, less its charges.
    pub fn due_to_shop(&self) -> i64 {
        self.collected - self.delivery_charges
    }
}

impl fmt::Display for CashOnDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} parcels, {} collected, {} charges",
            self.parcels, self.collected, self.delivery_charges
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ParcelStatus::*;

    #[test]
    fn duplicates_and_late_events_change_nothing() {
        assert_eq!(judge(None, Booked), EventOutcome::Applied);
        assert_eq!(judge(Some(Booked), WithCourier), EventOutcome::Applied);
        assert_eq!(
            judge(Some(WithCourier), WithCourier),
            EventOutcome::Duplicate
        );
        assert_eq!(judge(Some(Delivered), WithCourier), EventOutcome::Stale);
        assert_eq!(judge(Some(Delivered), Booked), EventOutcome::Stale);
        assert_eq!(judge(Some(WithCourier), OnHold), EventOutcome::Applied);
        assert_eq!(judge(Some(OnHold), WithCourier), EventOutcome::Applied);
        assert_eq!(judge(Some(Delivered), Returned), EventOutcome::Applied);
        assert_eq!(judge(Some(Returned), Delivered), EventOutcome::Stale);
        assert_eq!(judge(Some(Cancelled), Delivered), EventOutcome::Stale);
        assert_eq!(judge(Some(Booked), Unknown), EventOutcome::Noted);
    }

    #[test]
    fn orders_follow_their_parcel_forward_only() {
        use OrderStatus::*;
        assert_eq!(
            courier_path(Packed, Delivered),
            [HandedToCourier, Delivered]
        );
        assert_eq!(courier_path(Packed, Returned), [HandedToCourier, Returned]);
        assert_eq!(courier_path(HandedToCourier, Returned), [Returned]);
        assert_eq!(courier_path(Delivered, Returned), [Returned]);
        assert!(courier_path(Delivered, HandedToCourier).is_empty());
        assert!(courier_path(Cancelled, Delivered).is_empty());
        assert!(courier_path(Confirmed, Delivered).is_empty());
        assert!(courier_path(Delivered, Delivered).is_empty());
    }

    #[test]
    fn a_refused_delivery_brings_the_order_back() {
        use OrderStatus as O;
        assert_eq!(
            Cancelled.order_status(O::HandedToCourier),
            Some(O::Returned)
        );
        assert_eq!(Cancelled.order_status(O::Packed), None);
        assert_eq!(OnHold.order_status(O::Packed), Some(O::HandedToCourier));
        assert_eq!(
            PartlyDelivered.order_status(O::HandedToCourier),
            Some(O::Delivered)
        );
    }

    #[test]
    fn names_round_trip() {
        for s in ParcelStatus::ALL {
            assert_eq!(ParcelStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(CourierName::parse("redx"), Some(CourierName::Redx));
        assert_eq!(
            CashOnDelivery {
                parcels: 2,
                collected: 300_000,
                delivery_charges: 12_000
            }
            .due_to_shop(),
            288_000
        );
    }
}
