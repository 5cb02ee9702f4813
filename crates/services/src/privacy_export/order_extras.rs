//! What an access export shows with each order beyond the order itself:
//! its parcel with a courier, staff's calls to confirm it, and the keyed
//! fingerprints of the client it was placed from (fraud prevention), and
//! its online payment attempts.
use crate::error::Result;
use chotomoni_domain::{OrderId, OrderNumber};
use chotomoni_storage::{consignments, order_signals, payments, Conn};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// An order's parcel with a courier.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Parcel {
    pub courier: String,
    pub consignment_id: Option<String>,
    pub tracking_code: Option<String>,
    pub status: Option<String>,
    /// Poisha to collect on delivery, and what the courier collected.
    pub cash_to_collect: i64,
    pub collected: Option<i64>,
    /// A courier's message about it (a refused booking or cancel).
    pub courier_message: Option<String>,
}

/// A call from staff to confirm the order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhoneCheck {
    pub outcome: String,
    pub note: String,
    pub at: String,
}

/// Keyed fingerprints (hex) of where the order was placed from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientFingerprints {
    pub ip_fingerprint: Option<String>,
    pub browser_fingerprint: Option<String>,
}

/// One online payment attempt: the gateway and how it ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentAttempt {
    pub gateway: String,
    pub status: String,
    /// Poisha asked for, and what the gateway confirmed.
    pub amount: i64,
    pub paid_amount: Option<i64>,
    /// The gateway's reference (bKash trxID, the bank's transaction id).
    pub gateway_reference: Option<String>,
    pub started_at: String,
}

#[derive(Default)]
pub(super) struct Extras {
    pub parcels: HashMap<i64, Parcel>,
    /// By order number.
    pub payments: HashMap<String, Vec<PaymentAttempt>>,
    pub checks: HashMap<i64, Vec<PhoneCheck>>,
    pub clients: HashMap<i64, ClientFingerprints>,
}

/// Reads them for every order of `customer_id`, in four queries.
pub(super) async fn read(
    conn: &mut Conn,
    customer_id: i64,
    order_ids: &[i64],
    when: impl Fn(i64) -> String,
) -> Result<Extras> {
    let mut extras = Extras::default();
    for c in consignments::of_customer(conn, customer_id).await? {
        let parcel = Parcel {
            courier: c.courier.as_str().to_owned(),
            consignment_id: c.consignment_id,
            tracking_code: c.tracking_code,
            status: c.parcel_status.map(|s| s.as_str().to_owned()),
            cash_to_collect: c.cash_to_collect,
            collected: c.collected,
            courier_message: c.error,
        };
        extras.parcels.insert(c.order_id, parcel);
    }
    for c in order_signals::checks_of(conn, order_ids).await? {
        extras
            .checks
            .entry(c.order_id)
            .or_default()
            .push(PhoneCheck {
                outcome: c.outcome,
                note: c.note,
                at: when(c.at),
            });
    }
    for (order_id, ip, device) in order_signals::of_customer(conn, customer_id).await? {
        extras.clients.insert(
            order_id,
            ClientFingerprints {
                ip_fingerprint: ip,
                browser_fingerprint: device,
            },
        );
    }
    for p in payments::of_customer(conn, customer_id).await? {
        let number = OrderNumber::from_id(OrderId(p.order_id)).to_string();
        extras
            .payments
            .entry(number)
            .or_default()
            .push(PaymentAttempt {
                gateway: p.gateway.as_str().to_owned(),
                status: p.status.as_str().to_owned(),
                amount: p.amount,
                paid_amount: p.paid_amount,
                gateway_reference: p.gateway_transaction_id,
                started_at: when(p.started_at),
            });
    }
    Ok(extras)
}
