//! Couriers: booking an order's parcel (`book`), following it by webhook
//! and by asking (`follow`), and what staff see of it here: the
//! consignment on an order, the "needs attention" list and the cash each
//! courier collected. The couriers themselves are adapters behind
//! [`chotomoni_courier::Courier`], configured by the CLI.
use crate::error::Result;
use crate::{Actor, ServiceError, Services};
use chotomoni_courier::Courier;
use chotomoni_domain::consignment::CashOnDelivery;
use chotomoni_domain::staff::Permission;
use chotomoni_domain::{
    AuditAction, ConsignmentState, CourierName, FieldError, OrderId, OrderNumber, ParcelStatus,
};
use chotomoni_storage::consignments::{self as rows, ConsignmentRow, EventRow};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

mod apply;
mod book;
mod follow;
mod notify;
mod reports;

pub use book::BulkOutcome;
pub use follow::WebhookCall;
pub use notify::NOTICE_SUBJECT;
pub(crate) use reports::ReportQueue;

/// The couriers this shop books with, and which one an order gets unless
/// staff choose another.
#[derive(Clone, Default)]
pub struct CourierSet {
    adapters: Vec<(CourierName, Arc<dyn Courier>)>,
    /// The courier for an order whose district has none of its own.
    pub default: Option<CourierName>,
    /// District (as written on orders, compared without case) → courier.
    pub by_district: Vec<(String, CourierName)>,
    /// Booked parcels with no news for this long are asked about.
    pub silent_after_ms: i64,
    /// What a parcel weighs unless told (couriers price by weight).
    pub parcel_grams: u32,
}

impl CourierSet {
    pub fn new() -> CourierSet {
        CourierSet {
            silent_after_ms: 6 * 3_600_000,
            parcel_grams: 500,
            ..CourierSet::default()
        }
    }

    /// Enables a courier. Its `name()` must be one of [`CourierName`].
    pub fn with(mut self, adapter: Arc<dyn Courier>) -> CourierSet {
        let name = CourierName::parse(adapter.name())
            .unwrap_or_else(|| panic!("{} is not a courier Chotomoni knows", adapter.name()));
        self.adapters.retain(|(n, _)| *n != name);
        self.adapters.push((name, adapter));
        self
    }

    pub fn get(&self, name: CourierName) -> Option<&Arc<dyn Courier>> {
        self.adapters
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| a)
    }

    pub fn enabled(&self) -> Vec<CourierName> {
        self.adapters.iter().map(|(n, _)| *n).collect()
    }

    /// The courier an order to `district` gets unless staff choose.
    pub fn default_for(&self, district: &str) -> Option<CourierName> {
        let district = district.trim();
        self.by_district
            .iter()
            .find(|(d, _)| d.eq_ignore_ascii_case(district))
            .map(|(_, c)| *c)
            .or(self.default)
            .filter(|c| self.get(*c).is_some())
    }
}

/// An order's parcel as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsignmentView {
    pub order: String,
    pub courier: CourierName,
    pub state: ConsignmentState,
    pub consignment_id: Option<String>,
    pub tracking_code: Option<String>,
    /// Where the customer follows it.
    pub tracking_url: Option<String>,
    /// Poisha.
    pub delivery_fee: Option<i64>,
    pub cash_to_collect: i64,
    pub collected: Option<i64>,
    pub parcel_status: Option<ParcelStatus>,
    /// The courier's own word for it.
    pub courier_status: Option<String>,
    /// Why booking failed, in the courier's words when it gave any (it may
    /// repeat the address: absent for roles that may not see contact details).
    pub error: Option<String>,
    pub attempts: i64,
    pub booked_at: Option<String>,
    pub news_at: Option<String>,
    /// Whether staff may book it (again) now.
    pub may_book: bool,
}

/// One thing a courier said that needs staff.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnknownParcelView {
    pub id: i64,
    pub courier: CourierName,
    pub consignment_id: String,
    pub parcel_status: ParcelStatus,
    pub courier_status: String,
    pub received_at: String,
}

/// One thing a courier said about an order's parcel, and what it did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ParcelEventView {
    pub parcel_status: ParcelStatus,
    /// The courier's own word for it.
    pub courier_status: String,
    pub source: chotomoni_domain::EventSource,
    /// Whether it moved the parcel on, was a duplicate, came late or was not understood.
    pub outcome: chotomoni_domain::EventOutcome,
    pub received_at: String,
}

/// What staff should look at.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttentionView {
    /// Failed bookings, parcels on hold, returned or cancelled by the courier.
    pub parcels: Vec<ConsignmentView>,
    /// Events for consignments we do not know.
    pub unknown: Vec<UnknownParcelView>,
}

/// Cash on delivery with one courier.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CashView {
    pub courier: CourierName,
    pub parcels: i64,
    /// Poisha collected from customers.
    pub collected: i64,
    /// Poisha the courier charged.
    pub delivery_charges: i64,
    /// Poisha the courier has paid the shop.
    pub paid_out: i64,
    /// Collected, less charges, less what it paid: what it still owes the shop.
    pub due_to_shop: i64,
}

const ATTENTION_LIMIT: i64 = 200;

impl Services {
    pub(crate) fn couriers(&self) -> &CourierSet {
        &self.couriers
    }

    /// How long a booking sent without an answer recorded is waited for
    /// before it may be sent again: longer than any courier call lasts.
    fn abandoned_before(&self, now: i64) -> i64 {
        now - 5 * 60_000
    }

    pub(crate) fn consignment_view(&self, row: ConsignmentRow, now: i64) -> ConsignmentView {
        let tracking_url = row.consignment_id.as_deref().and_then(|id| {
            self.couriers
                .get(row.courier)
                .and_then(|c| c.tracking_url(id, row.tracking_code.as_deref()))
        });
        let may_book = row.state == ConsignmentState::Failed
            || (row.state == ConsignmentState::Booking
                && row.booking_started_at < self.abandoned_before(now));
        ConsignmentView {
            order: OrderNumber::from_id(OrderId(row.order_id)).to_string(),
            courier: row.courier,
            state: row.state,
            consignment_id: row.consignment_id,
            tracking_code: row.tracking_code,
            tracking_url,
            delivery_fee: row.delivery_fee,
            cash_to_collect: row.cash_to_collect,
            collected: row.collected,
            parcel_status: row.parcel_status,
            courier_status: row.courier_status,
            error: row.error,
            attempts: row.attempts,
            booked_at: row.booked_at.map(crate::orders::millis_to_rfc3339),
            news_at: row.news_at.map(crate::orders::millis_to_rfc3339),
            may_book,
        }
    }

    /// An order's consignment, if it has one.
    pub async fn consignment(
        &self,
        actor: &Actor,
        number: OrderNumber,
    ) -> Result<Option<ConsignmentView>> {
        actor.require(Permission::ViewOrders)?;
        let mut conn = self.db.conn().await?;
        let now = self.now_ms();
        // A courier's message may repeat the address, which packers may not see.
        let may_read_message = actor.staff_may(Permission::ViewCustomerContact);
        Ok(rows::get(&mut conn, number.id().0).await?.map(|row| {
            let mut view = self.consignment_view(row, now);
            if !may_read_message {
                view.error = None;
            }
            view
        }))
    }

    /// What couriers said about an order's parcel, oldest first.
    pub async fn parcel_history(
        &self,
        actor: &Actor,
        number: OrderNumber,
    ) -> Result<Vec<ParcelEventView>> {
        actor.require(Permission::ViewOrders)?;
        let mut conn = self.db.conn().await?;
        Ok(rows::events_of(&mut conn, number.id().0)
            .await?
            .into_iter()
            .map(|e| ParcelEventView {
                parcel_status: e.parcel_status,
                courier_status: e.courier_status,
                source: e.source,
                outcome: e.outcome,
                received_at: crate::orders::millis_to_rfc3339(e.received_at),
            })
            .collect())
    }

    /// The couriers staff may choose from, and the one `district` gets.
    pub fn courier_choice(
        &self,
        district: Option<&str>,
    ) -> (Vec<CourierName>, Option<CourierName>) {
        let set = self.couriers();
        (
            set.enabled(),
            district.and_then(|d| set.default_for(d)).or(set.default),
        )
    }

    /// Failed bookings, parcels on hold or back, and news about parcels we
    /// do not know.
    pub async fn needs_attention(&self, actor: &Actor) -> Result<AttentionView> {
        actor.require(Permission::BookParcels)?;
        let now = self.now_ms();
        let mut conn = self.db.conn().await?;
        let parcels =
            rows::needing_attention(&mut conn, self.abandoned_before(now), ATTENTION_LIMIT).await?;
        let unknown = rows::unknown_unseen(&mut conn, ATTENTION_LIMIT).await?;
        Ok(AttentionView {
            parcels: parcels
                .into_iter()
                .map(|r| self.consignment_view(r, now))
                .collect(),
            unknown: unknown.into_iter().map(unknown_view).collect(),
        })
    }

    /// Staff looked at news about a parcel we do not know.
    pub async fn dismiss_unknown_parcel(&self, actor: &Actor, event_id: i64) -> Result<()> {
        actor.require(Permission::BookParcels)?;
        let mut conn = self.db.conn().await?;
        if !rows::mark_seen(&mut conn, event_id, self.now_ms()).await? {
            return Err(ServiceError::NotFound("courier event"));
        }
        crate::audit::change(
            &mut conn,
            actor,
            AuditAction::ParcelUnknownSeen,
            &format!("courier_event:{event_id}"),
            "",
        )
        .await?;
        Ok(())
    }

    /// Per courier: parcels delivered or back, cash collected, charges,
    /// what it paid the shop, and what it still owes.
    pub async fn cash_on_delivery(&self, actor: &Actor) -> Result<Vec<CashView>> {
        actor.require(Permission::BookParcels)?;
        let mut conn = self.db.conn().await?;
        let paid = rows::paid_out(&mut conn).await?;
        let mut sums: Vec<(CourierName, CashOnDelivery)> = rows::cash_on_delivery(&mut conn)
            .await?
            .into_iter()
            .map(|(courier, parcels, collected, delivery_charges)| {
                let sum = CashOnDelivery {
                    parcels,
                    collected,
                    delivery_charges,
                    paid_out: 0,
                };
                (courier, sum)
            })
            .collect();
        for (courier, amount) in paid {
            match sums.iter_mut().find(|(c, _)| *c == courier) {
                Some((_, sum)) => sum.paid_out = amount,
                None => sums.push((
                    courier,
                    CashOnDelivery {
                        paid_out: amount,
                        ..CashOnDelivery::default()
                    },
                )),
            }
        }
        sums.sort_by_key(|(c, _)| c.as_str());
        Ok(sums
            .into_iter()
            .map(|(courier, sum)| CashView {
                courier,
                parcels: sum.parcels,
                collected: sum.collected,
                delivery_charges: sum.delivery_charges,
                paid_out: sum.paid_out,
                due_to_shop: sum.due_to_shop(),
            })
            .collect())
    }

    /// Records a payment a courier made to the shop of the cash it collected.
    pub async fn record_payout(&self, actor: &Actor, payout: &PayoutInput) -> Result<()> {
        actor.require(Permission::BookParcels)?;
        let by = actor.staff_id().ok_or(ServiceError::Forbidden)?;
        if !(1..=100_000_000_000).contains(&payout.amount) {
            return Err(FieldError::new("amount", "must be a positive amount in poisha").into());
        }
        let reference = chotomoni_domain::error::required_text(
            "reference",
            &payout.reference,
            PAYOUT_REFERENCE_CHARS,
        )?;
        let mut tx = self.db.begin().await?;
        let id = rows::record_payout(
            &mut tx,
            &rows::NewPayout {
                courier: payout.courier,
                amount: payout.amount,
                reference: &reference,
                by,
                at: self.now_ms(),
            },
        )
        .await?;
        crate::audit::change(
            &mut tx,
            actor,
            AuditAction::ParcelPayout,
            &format!("courier_payout:{id}"),
            &format!("courier={} amount={}", payout.courier, payout.amount),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

const PAYOUT_REFERENCE_CHARS: usize = 100;

/// A courier's payment to the shop, as staff record it.
#[derive(Debug, Clone, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutInput {
    pub courier: CourierName,
    /// Poisha.
    #[schema(minimum = 1, maximum = 100000000000_i64)]
    pub amount: i64,
    /// The courier's reference for the payment.
    #[schema(schema_with = chotomoni_domain::schema::text::<{ PAYOUT_REFERENCE_CHARS }>)]
    pub reference: String,
}

fn unknown_view(e: EventRow) -> UnknownParcelView {
    UnknownParcelView {
        id: e.id,
        courier: e.courier,
        consignment_id: e.consignment_id,
        parcel_status: e.parcel_status,
        courier_status: e.courier_status,
        received_at: crate::orders::millis_to_rfc3339(e.received_at),
    }
}
