//! Fraud signals from the shop's own history: pure rules from counts to
//! flags. Nothing here bans anyone or refuses an order; a flag is a reason
//! for staff to call the customer before sending a cash-on-delivery parcel.
//!
//! What is counted (the storage layer counts, these rules judge):
//! orders from one phone (one customer record, found by the phone's keyed
//! index) around an order's time; orders from one device (the keyed index
//! of its browser) and one IP address (its keyed index) in the same window;
//! the phone's other orders that came back refused or returned, and those
//! cancelled; several orders in a few minutes; a first order of a high
//! value; online payments the gateway confirmed for another amount than the
//! order asked (the gateway states the amount; no card or wallet data).
use crate::order::{format_taka, string_enum, Poisha};
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

/// The thresholds a flag is raised at; configured in `[fraud]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FraudThresholds {
    /// The window (hours) orders from one phone, device or address are
    /// counted in, on either side of an order's time.
    pub window_hours: u32,
    /// Orders from one phone in the window (this one included).
    pub orders_per_phone: u32,
    /// Orders from one device in the window (this one included).
    pub orders_per_device: u32,
    /// Orders from one IP address in the window (this one included).
    pub orders_per_ip: u32,
    /// The share of the phone's delivered or returned orders that were
    /// refused at the door or returned.
    pub returned_share: f64,
    /// Orders that reached the door before that share counts.
    pub returned_min_orders: u32,
    /// The phone's cancelled orders.
    pub cancellations: u32,
    /// Velocity: orders from one phone within this many minutes ...
    pub velocity_minutes: u32,
    /// ... at least this many (this one included).
    pub velocity_orders: u32,
    /// A phone's first order of at least this total (poisha).
    pub first_order_value: Poisha,
}

impl Default for FraudThresholds {
    fn default() -> Self {
        FraudThresholds {
            window_hours: 24,
            orders_per_phone: 3,
            orders_per_device: 3,
            orders_per_ip: 5,
            returned_share: 0.5,
            returned_min_orders: 2,
            cancellations: 2,
            velocity_minutes: 10,
            velocity_orders: 2,
            first_order_value: 500_000, // ৳5,000
        }
    }
}

impl FraudThresholds {
    pub fn window_ms(&self) -> i64 {
        i64::from(self.window_hours) * 3_600_000
    }

    pub fn velocity_ms(&self) -> i64 {
        i64::from(self.velocity_minutes) * 60_000
    }

    /// Every bound that makes a rule meaningless is refused, naming it.
    pub fn check(&self) -> Result<(), (&'static str, &'static str)> {
        let at_least_one = [
            ("window_hours", self.window_hours),
            ("orders_per_phone", self.orders_per_phone),
            ("orders_per_device", self.orders_per_device),
            ("orders_per_ip", self.orders_per_ip),
            ("returned_min_orders", self.returned_min_orders),
            ("cancellations", self.cancellations),
            ("velocity_minutes", self.velocity_minutes),
            ("velocity_orders", self.velocity_orders),
        ];
        if let Some((key, _)) = at_least_one.iter().find(|(_, v)| *v == 0) {
            return Err((*key, "must be at least 1"));
        }
        if self.window_hours > 24 * 90 {
            return Err(("window_hours", "must be at most 2160 (90 days)"));
        }
        if !(self.returned_share > 0.0 && self.returned_share <= 1.0) {
            return Err(("returned_share", "must be more than 0 and at most 1"));
        }
        if self.first_order_value <= 0 {
            return Err(("first_order_value", "must be a positive amount in poisha"));
        }
        Ok(())
    }
}

string_enum! {
    /// Why an order is flagged.
    FlagKind {
        PhoneOrders = "phone_orders",
        DeviceOrders = "device_orders",
        IpOrders = "ip_orders",
        Returns = "returns",
        Cancellations = "cancellations",
        Velocity = "velocity",
        FirstOrderValue = "first_order_value",
        PaymentMismatch = "payment_mismatch",
    }
}

string_enum! {
    /// What staff learnt calling the customer about a flagged order.
    PhoneCheckOutcome {
        Genuine = "genuine",
        NotGenuine = "not_genuine",
        NoAnswer = "no_answer",
    }
}

/// What was counted for one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignalCounts {
    /// Orders from the same phone in the window, this one included.
    pub phone_in_window: i64,
    /// Orders from the same phone within the velocity minutes, this one included.
    pub phone_in_burst: i64,
    /// Orders from the same device in the window; `None` when the order
    /// recorded no device (entered by staff, or past the technical period).
    pub device_in_window: Option<i64>,
    pub ip_in_window: Option<i64>,
    /// The phone's orders placed before this one.
    pub earlier: i64,
    /// The phone's other orders delivered, and returned (refused at the door).
    pub delivered: i64,
    pub returned: i64,
    /// The phone's other orders cancelled.
    pub cancelled: i64,
    /// This order's total.
    pub total: Poisha,
    /// This order's online payments the gateway confirmed for another amount.
    pub mismatched_payments: i64,
}

/// One raised flag: its kind, the number behind it, and a reason for staff.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FraudFlag {
    pub kind: FlagKind,
    /// The count the flag is about (orders, or poisha for a first order's value).
    pub count: i64,
    /// The reason in English with its counts; pages word it per language
    /// from `kind`, `count`, `out_of` and `within`.
    pub reason: String,
    /// For returns: how many orders reached the door.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_of: Option<i64>,
    /// The window the count was taken in: hours, or minutes for velocity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within: Option<u32>,
}

/// The flags these counts raise, in a fixed order.
pub fn flags(c: &SignalCounts, t: &FraudThresholds) -> Vec<FraudFlag> {
    let mut out = Vec::new();
    let mut raise = |kind: FlagKind, count: i64, reason: String| {
        let within = match kind {
            FlagKind::PhoneOrders | FlagKind::DeviceOrders | FlagKind::IpOrders => {
                Some(t.window_hours)
            }
            FlagKind::Velocity => Some(t.velocity_minutes),
            _ => None,
        };
        let out_of = (kind == FlagKind::Returns).then_some(c.delivered + c.returned);
        out.push(FraudFlag {
            kind,
            count,
            reason,
            out_of,
            within,
        })
    };
    let hours = t.window_hours;
    if c.phone_in_window >= i64::from(t.orders_per_phone) {
        let n = c.phone_in_window;
        raise(
            FlagKind::PhoneOrders,
            n,
            format!("{n} orders from this phone within {hours} h"),
        );
    }
    if let Some(n) = c
        .device_in_window
        .filter(|n| *n >= i64::from(t.orders_per_device))
    {
        raise(
            FlagKind::DeviceOrders,
            n,
            format!("{n} orders from this device within {hours} h"),
        );
    }
    if let Some(n) = c.ip_in_window.filter(|n| *n >= i64::from(t.orders_per_ip)) {
        raise(
            FlagKind::IpOrders,
            n,
            format!("{n} orders from this IP address within {hours} h"),
        );
    }
    let reached = c.delivered + c.returned;
    if reached >= i64::from(t.returned_min_orders)
        && reached > 0
        && c.returned as f64 / reached as f64 >= t.returned_share
    {
        let n = c.returned;
        raise(
            FlagKind::Returns,
            n,
            format!("{n} of {reached} delivered orders of this phone were refused or returned"),
        );
    }
    if c.cancelled >= i64::from(t.cancellations) {
        let n = c.cancelled;
        raise(
            FlagKind::Cancellations,
            n,
            format!("{n} cancelled orders from this phone"),
        );
    }
    if c.phone_in_burst >= i64::from(t.velocity_orders) {
        let (n, m) = (c.phone_in_burst, t.velocity_minutes);
        raise(
            FlagKind::Velocity,
            n,
            format!("{n} orders from this phone within {m} minutes"),
        );
    }
    if c.mismatched_payments > 0 {
        let n = c.mismatched_payments;
        raise(
            FlagKind::PaymentMismatch,
            n,
            format!("{n} online payment(s) of this order confirmed for another amount"),
        );
    }
    if c.earlier == 0 && c.total >= t.first_order_value {
        let v = format_taka(c.total);
        raise(
            FlagKind::FirstOrderValue,
            c.total,
            format!("first order from this phone, of {v}"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(c: &SignalCounts) -> Vec<FlagKind> {
        flags(c, &FraudThresholds::default())
            .iter()
            .map(|f| f.kind)
            .collect()
    }

    fn usual() -> SignalCounts {
        SignalCounts {
            phone_in_window: 1,
            phone_in_burst: 1,
            device_in_window: Some(1),
            ip_in_window: Some(1),
            earlier: 3,
            delivered: 3,
            total: 120_000,
            ..Default::default()
        }
    }

    #[test]
    fn a_payment_confirmed_for_another_amount_is_flagged() {
        let c = SignalCounts {
            mismatched_payments: 1,
            ..usual()
        };
        let f = flags(&c, &FraudThresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, FlagKind::PaymentMismatch);
        assert_eq!(f[0].count, 1);
    }

    #[test]
    fn an_ordinary_order_raises_nothing() {
        assert!(kinds(&usual()).is_empty());
        // No device or address recorded: nothing about them either.
        let c = SignalCounts {
            device_in_window: None,
            ip_in_window: None,
            ..usual()
        };
        assert!(kinds(&c).is_empty());
    }

    #[test]
    fn three_orders_from_one_phone_in_a_day_are_flagged_with_the_count() {
        let c = SignalCounts {
            phone_in_window: 3,
            ..usual()
        };
        let f = flags(&c, &FraudThresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, FlagKind::PhoneOrders);
        assert_eq!(f[0].count, 3);
        assert_eq!(f[0].reason, "3 orders from this phone within 24 h");
        let two = SignalCounts {
            phone_in_window: 2,
            ..usual()
        };
        assert!(kinds(&two).is_empty());
    }

    #[test]
    fn device_and_address_have_their_own_thresholds() {
        let c = SignalCounts {
            device_in_window: Some(3),
            ip_in_window: Some(4),
            ..usual()
        };
        assert_eq!(kinds(&c), [FlagKind::DeviceOrders]);
        let c = SignalCounts {
            ip_in_window: Some(5),
            ..usual()
        };
        assert_eq!(kinds(&c), [FlagKind::IpOrders]);
    }

    #[test]
    fn returns_count_as_a_share_once_enough_orders_reached_the_door() {
        let one_of_one = SignalCounts {
            delivered: 0,
            returned: 1,
            ..usual()
        };
        assert!(kinds(&one_of_one).is_empty(), "one order is not a history");
        let half = SignalCounts {
            delivered: 2,
            returned: 2,
            ..usual()
        };
        let f = flags(&half, &FraudThresholds::default());
        assert_eq!(f[0].kind, FlagKind::Returns);
        assert_eq!(f[0].count, 2);
        assert!(f[0].reason.contains("2 of 4"), "{}", f[0].reason);
        let third = SignalCounts {
            delivered: 2,
            returned: 1,
            ..usual()
        };
        assert!(kinds(&third).is_empty());
    }

    #[test]
    fn cancellations_velocity_and_a_costly_first_order() {
        let c = SignalCounts {
            cancelled: 2,
            phone_in_burst: 2,
            phone_in_window: 2,
            ..usual()
        };
        assert_eq!(kinds(&c), [FlagKind::Cancellations, FlagKind::Velocity]);
        let first = SignalCounts {
            earlier: 0,
            delivered: 0,
            total: 500_000,
            ..usual()
        };
        let f = flags(&first, &FraudThresholds::default());
        assert_eq!(f[0].kind, FlagKind::FirstOrderValue);
        assert_eq!(f[0].reason, "first order from this phone, of ৳5,000.00");
        let cheaper = SignalCounts {
            total: 499_999,
            ..first
        };
        assert!(kinds(&cheaper).is_empty());
        let not_first = SignalCounts {
            total: 900_000,
            ..usual()
        };
        assert!(kinds(&not_first).is_empty());
    }

    #[test]
    fn thresholds_change_the_outcome_and_are_checked() {
        let c = SignalCounts {
            phone_in_window: 2,
            ..usual()
        };
        let t = FraudThresholds {
            orders_per_phone: 2,
            ..Default::default()
        };
        assert_eq!(flags(&c, &t)[0].kind, FlagKind::PhoneOrders);
        assert!(FraudThresholds::default().check().is_ok());
        let bad = FraudThresholds {
            orders_per_ip: 0,
            ..Default::default()
        };
        assert_eq!(bad.check().unwrap_err().0, "orders_per_ip");
        let bad = FraudThresholds {
            returned_share: 1.5,
            ..Default::default()
        };
        assert_eq!(bad.check().unwrap_err().0, "returned_share");
    }
}
