//! Booking parcels. What goes to a courier is only what delivery needs,
//! each field checked against the data catalog and written to the
//! disclosure log before anything is sent. An order holds at most one
//! consignment: the row is claimed before the call (a second request, on
//! this server or another, finds it taken) and the courier is given the
//! order number as invoice, so a booking whose answer was lost is found
//! again rather than made twice.
use super::CourierSet;
use crate::disclosures::disclose;
use crate::error::Result;
use crate::vault::{open_delivery, open_text};
use crate::{audit, Actor, ServiceError, Services};
use chotomoni_courier::{Booking, CourierError, LocalPhone, Parcel};
use chotomoni_domain::catalog::{sealed, Purpose, Recipient};
use chotomoni_domain::staff::Permission;
use chotomoni_domain::{
    AuditAction, CourierName, FieldError, OrderId, OrderNumber, OrderStatus, PaymentMethod,
    PaymentStatus,
};
use chotomoni_storage::consignments::{self as rows, Attempt, Booked};
use chotomoni_storage::orders::{self as orders_repo, Contact, FullOrder};
use serde::Serialize;
use utoipa::ToSchema;

/// The catalog fields a booking shares, by what the parcel carries.
const ALWAYS_SENT: &[&str] = &[
    // Recipient, address line, area and district.
    "orders.address_enc",
    "customers.phone_enc",
    // The amount to collect and the declared value.
    "orders.total",
    "orders.payment_method",
    "order_items.quantity",
];
const NOTE_SENT: &str = "orders.instructions_enc";

/// How booking the day's packed orders went.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct BulkOutcome {
    /// Order numbers booked now.
    pub booked: Vec<String>,
    /// Order numbers whose booking failed (see each order's consignment).
    pub failed: Vec<String>,
    /// Packed orders left alone: booked already, being booked, or with no
    /// courier configured for their district.
    pub skipped: Vec<String>,
}

/// One order made ready to send.
struct Ready {
    order_id: i64,
    customer_id: i64,
    courier: CourierName,
    parcel: Parcel,
}

fn number(id: i64) -> String {
    OrderNumber::from_id(OrderId(id)).to_string()
}

impl Services {
    /// Books one packed order's parcel with `courier` (or the order's
    /// default). Booking a booked order returns its consignment unchanged.
    pub async fn book_parcel(
        &self,
        actor: &Actor,
        order: OrderNumber,
        courier: Option<CourierName>,
    ) -> Result<super::ConsignmentView> {
        actor.require(Permission::BookParcels)?;
        let id = order.id().0;
        let ready = self.ready_to_book(id, courier).await?;
        if self.claim_booking(actor, &ready).await? {
            let courier = self.courier(ready.courier)?;
            let answer = courier.book(&ready.parcel).await;
            self.record_booking(actor, id, answer).await?;
        } else {
            let mut conn = self.db.conn().await?;
            let row = rows::get(&mut conn, id).await?;
            if row.is_some_and(|r| r.state == chotomoni_domain::ConsignmentState::Booking) {
                return Err(ServiceError::Conflict(
                    "this order's parcel is being booked now; reload in a minute".into(),
                ));
            }
        }
        self.consignment(actor, order)
            .await?
            .ok_or(ServiceError::NotFound("consignment"))
    }

    /// Books every packed order not yet booked, with each order's default
    /// courier or `courier` for all, through each courier's bulk endpoint
    /// where it has one.
    pub async fn book_packed(
        &self,
        actor: &Actor,
        courier: Option<CourierName>,
    ) -> Result<BulkOutcome> {
        actor.require(Permission::BookParcels)?;
        let mut outcome = BulkOutcome::default();
        let ids = {
            let mut conn = self.db.conn().await?;
            rows::packed_unbooked(&mut conn, 500).await?
        };
        let mut groups: Vec<(CourierName, Vec<Ready>)> = Vec::new();
        for id in ids {
            let ready = match self.ready_to_book(id, courier).await {
                Ok(r) => r,
                Err(ServiceError::Invalid(_)) | Err(ServiceError::Conflict(_)) => {
                    outcome.skipped.push(number(id));
                    continue;
                }
                Err(e) => return Err(e),
            };
            if !self.claim_booking(actor, &ready).await? {
                outcome.skipped.push(number(id));
                continue;
            }
            match groups.iter_mut().find(|(c, _)| *c == ready.courier) {
                Some((_, list)) => list.push(ready),
                None => groups.push((ready.courier, vec![ready])),
            }
        }
        for (name, list) in groups {
            let parcels: Vec<Parcel> = list.iter().map(|r| r.parcel.clone()).collect();
            let answers = match self.courier(name)?.book_all(&parcels).await {
                Ok(answers) => answers,
                Err(e) => list.iter().map(|_| Err(e.clone())).collect(),
            };
            for (ready, answer) in list.iter().zip(answers) {
                let booked = answer.is_ok();
                self.record_booking(actor, ready.order_id, answer).await?;
                let n = number(ready.order_id);
                if booked {
                    outcome.booked.push(n);
                } else {
                    outcome.failed.push(n);
                }
            }
        }
        tracing::info!(
            booked = outcome.booked.len(),
            failed = outcome.failed.len(),
            skipped = outcome.skipped.len(),
            "booked the packed orders"
        );
        Ok(outcome)
    }

    fn courier(
        &self,
        name: CourierName,
    ) -> Result<&std::sync::Arc<dyn chotomoni_courier::Courier>> {
        self.couriers().get(name).ok_or_else(|| {
            FieldError::new("courier", format!("{} is not set up here", name.label())).into()
        })
    }

    /// The order's parcel as the courier will get it, or why it cannot go.
    async fn ready_to_book(&self, id: i64, chosen: Option<CourierName>) -> Result<Ready> {
        let full = orders_repo::load_full(&self.db, id, Contact::Load)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        if full.order.status != OrderStatus::Packed {
            return Err(ServiceError::Conflict(format!(
                "only a packed order is booked with a courier; this one is {}",
                full.order.status
            )));
        }
        let Some(wrapped) = full.order.wrapped_key.clone() else {
            return Err(ServiceError::Conflict(
                "the customer's data was erased: there is no address to send".into(),
            ));
        };
        let key = self
            .vault
            .customer_key(full.order.customer_id, Some(&wrapped))?;
        let delivery = open_delivery(&key, id, full.order.address_enc.as_deref())?
            .ok_or_else(|| FieldError::new("address", "the order has no delivery address"))?;
        let courier = match chosen {
            Some(c) => c,
            None => self
                .couriers()
                .default_for(&delivery.district)
                .ok_or_else(|| {
                    FieldError::new(
                        "courier",
                        "no courier is set up for this district; choose one",
                    )
                })?,
        };
        self.courier(courier)?;
        let phone = open_text(
            &key,
            sealed::CUSTOMER_PHONE,
            full.order.customer_id,
            full.order.phone_enc.as_deref(),
        )?
        .and_then(|p| LocalPhone::parse(&p))
        .ok_or_else(|| {
            FieldError::new(
                "phone",
                "the customer's phone is not an 11-digit Bangladeshi mobile number, which couriers need",
            )
        })?;
        let note = open_text(
            &key,
            sealed::ORDER_INSTRUCTIONS,
            id,
            full.order.instructions_enc.as_deref(),
        )?;
        Ok(Ready {
            order_id: id,
            customer_id: full.order.customer_id,
            courier,
            parcel: parcel_of(&full, delivery, phone, note, self.couriers()),
        })
    }

    /// Claims the order's booking and writes what is about to be shared to
    /// the disclosure log, in one transaction; false if it is booked or
    /// being booked already.
    async fn claim_booking(&self, actor: &Actor, ready: &Ready) -> Result<bool> {
        let now = self.now_ms();
        let mut tx = self.db.begin().await?;
        let claimed = rows::start_booking(
            &mut tx,
            &Attempt {
                order_id: ready.order_id,
                courier: ready.courier,
                cash_to_collect: ready.parcel.cash_to_collect,
                by: actor.staff_id(),
                at: now,
                abandoned_before: self.abandoned_before(now),
            },
        )
        .await?;
        if !claimed {
            return Ok(false);
        }
        let mut fields = ALWAYS_SENT.to_vec();
        if ready.parcel.note.is_some() {
            fields.push(NOTE_SENT);
        }
        // The catalog refuses a field couriers may not have: nothing is sent.
        disclose(
            &mut tx,
            ready.customer_id,
            Some(ready.order_id),
            Recipient::Courier,
            &fields,
            Purpose::Fulfilment,
        )
        .await?;
        audit::change(
            &mut tx,
            actor,
            AuditAction::ParcelBook,
            &format!("order:{}", number(ready.order_id)),
            &format!("courier={}", ready.courier),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn record_booking(
        &self,
        actor: &Actor,
        order_id: i64,
        answer: std::result::Result<Booking, CourierError>,
    ) -> Result<()> {
        let now = self.now_ms();
        match answer {
            Ok(b) => {
                let mut tx = self.db.begin().await?;
                let recorded = rows::set_booked(
                    &mut tx,
                    order_id,
                    &Booked {
                        consignment_id: &b.consignment_id,
                        tracking_code: b.tracking_code.as_deref(),
                        delivery_fee: b.delivery_fee,
                        at: now,
                    },
                )
                .await?;
                if !recorded {
                    tracing::warn!(order = %number(order_id), consignment = %b.consignment_id, "a booking's answer came after it was given up; the courier's consignment is not recorded");
                }
                // Cancelled while the courier was answering: cancel it there too.
                let cancelled = orders_repo::get(&mut tx, order_id)
                    .await?
                    .is_some_and(|o| o.status == OrderStatus::Cancelled);
                if recorded && cancelled {
                    self.queue_parcel_cancel(&mut tx, order_id).await?;
                }
                tx.commit().await?;
                tracing::info!(order = %number(order_id), "parcel booked");
            }
            Err(e) => {
                let text = failure_text(&e);
                let mut conn = self.db.conn().await?;
                rows::set_failed(&mut conn, order_id, &text, now).await?;
                // The courier's own message may repeat the address: not logged.
                tracing::warn!(order = %number(order_id), error = %e, by = %actor.audit_ref(), "booking a parcel failed");
            }
        }
        Ok(())
    }
}

/// What staff read about a failed booking: the courier's own message when
/// it gave one, else what went wrong.
fn failure_text(e: &CourierError) -> String {
    let text = match e.courier_message() {
        Some(m) if !m.trim().is_empty() => m.trim().to_owned(),
        _ => e.to_string(),
    };
    let text = match e {
        CourierError::Timeout(_) | CourierError::Unreachable(_) => format!(
            "{text}. The courier may have booked it anyway: booking again finds it by the order number"
        ),
        _ => text,
    };
    text.chars().take(500).collect()
}

fn parcel_of(
    full: &FullOrder,
    delivery: crate::vault::Delivery,
    phone: LocalPhone,
    note: Option<String>,
    couriers: &CourierSet,
) -> Parcel {
    let row = &full.order;
    let unpaid =
        row.payment_method == PaymentMethod::Cod && row.payment_status != PaymentStatus::Paid;
    let item_count: i64 = full.items.iter().map(|i| i.quantity).sum();
    Parcel {
        invoice: number(row.id),
        recipient_name: delivery.recipient,
        recipient_phone: phone,
        address: [delivery.line.as_str(), &delivery.area, &delivery.district]
            .iter()
            .filter(|p| !p.trim().is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(", "),
        area: Some(delivery.area).filter(|a| !a.trim().is_empty()),
        district: Some(delivery.district).filter(|d| !d.trim().is_empty()),
        cash_to_collect: if unpaid { row.total } else { 0 },
        note: note.filter(|n| !n.trim().is_empty()),
        item_count: u32::try_from(item_count.max(1)).unwrap_or(u32::MAX),
        weight_grams: couriers.parcel_grams,
        value: row.total,
    }
}
