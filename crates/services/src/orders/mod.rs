//! Orders: entry, lookup (by number or scanned code), lists and the status
//! lifecycle. What each actor sees is decided in `visibility`.
use crate::customers::{open_contact, ContactView};
use crate::error::{Result, ServiceError};
use crate::vault::{open_delivery, open_text, Delivery};
use crate::{audit, Actor, Services};
use chotomoni_domain::catalog::bangla_digits;
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::staff::Permission;
use chotomoni_domain::AuditAction;
use chotomoni_domain::{
    CustomerId, FieldError, ItemLine, OrderId, OrderNumber, OrderSource, OrderStatus,
    PaymentMethod, PaymentStatus, Phone,
};
use chotomoni_storage::customers;
use chotomoni_storage::orders::{self as repo, Contact, FullOrder};
use serde::Serialize;
use utoipa::ToSchema;

mod create;
mod fraud;
mod input;
mod list;

pub use fraud::{FraudSignals, PhoneCheck, PhoneCheckView};
pub use input::*;
pub use list::*;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemView {
    pub name: String,
    pub sku: Option<String>,
    pub quantity: i64,
    pub unit_price: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, Default)]
pub struct AddressView {
    /// Hidden from packers.
    pub recipient: Option<String>,
    /// Hidden from packers.
    pub line: Option<String>,
    pub area: Option<String>,
    pub district: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub from: Option<String>,
    pub to: String,
    pub at: String,
    /// `staff:7`, or absent for the customer or the system.
    pub by: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderView {
    /// The human order number, e.g. `CM-000123`.
    pub number: String,
    pub status: OrderStatus,
    pub payment_method: PaymentMethod,
    pub payment_status: PaymentStatus,
    pub source: OrderSource,
    /// Total in poisha.
    pub total: i64,
    pub created_at: String,
    pub items: Vec<ItemView>,
    pub delivery_instructions: Option<String>,
    /// Present only for roles that may see contact details, and the customer.
    pub customer: Option<ContactView>,
    pub address: AddressView,
    /// The statuses this actor may move the order to now.
    pub next_statuses: Vec<OrderStatus>,
    pub history: Vec<EventView>,
    /// True once the customer's data has been erased.
    pub erased: bool,
    /// Placed without signing in and not yet confirmed by a code sent to
    /// its phone: linked to the customer record of that phone, but not in
    /// that customer's history.
    pub unconfirmed: bool,
    /// Fraud signals, only for roles that may see them (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fraud: Option<FraudSignals>,
}

/// How much of an order an actor may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visibility {
    /// Name, phone, email, full address, instructions.
    Full,
    /// The order itself (items, its delivery address and instructions) but
    /// not the customer record its phone leads to: what a guest who placed
    /// or tracks it already knows.
    OrderOnly,
    /// What packing needs: items, instructions, area and district.
    Packing,
}

/// `owner` is the customer whose own order it is, `None` for a guest order
/// not yet confirmed (see `OrderRow::account_owner`).
fn visibility(actor: &Actor, owner: Option<i64>) -> Result<Visibility> {
    match actor {
        Actor::Staff { role, .. } if role.may(Permission::ViewCustomerContact) => {
            Ok(Visibility::Full)
        }
        Actor::Staff { role, .. } if role.may(Permission::ViewOrders) => Ok(Visibility::Packing),
        Actor::Customer(CustomerId(id)) if Some(*id) == owner => Ok(Visibility::Full),
        Actor::System => Ok(Visibility::Full),
        // Someone else's order does not exist, as far as they can tell.
        _ => Err(ServiceError::NotFound("order")),
    }
}

/// What a load brings for this actor: staff who may not see the customer's
/// contact do not have it loaded either, nor does a visitor.
fn contact_to_load(actor: &Actor) -> Contact {
    match actor {
        Actor::Staff { role, .. } if !role.may(Permission::ViewCustomerContact) => Contact::Skip,
        Actor::Visitor => Contact::Skip,
        _ => Contact::Load,
    }
}

pub fn millis_to_rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Dhaka time for pages: `2026-11-25 16:05`, in Bangla digits when asked.
pub fn local_time(ms: i64, bangla: bool) -> String {
    let offset = chrono::FixedOffset::east_opt(6 * 3600).expect("valid offset");
    let text = chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&offset)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    if bangla {
        bangla_digits(text)
    } else {
        text
    }
}

impl Services {
    /// An order with its lines and history, in one query.
    async fn load(&self, id: i64, contact: Contact) -> Result<FullOrder> {
        repo::load_full(&self.db, id, contact)
            .await?
            .ok_or(ServiceError::NotFound("order"))
    }

    /// One order, as this actor may see it. Staff views are audited.
    pub async fn order(&self, actor: &Actor, number: OrderNumber) -> Result<OrderView> {
        let full = self.load(number.id().0, contact_to_load(actor)).await?;
        let vis = visibility(actor, full.order.account_owner())?;
        let mut view = self.view(actor, full, vis)?;
        self.add_signals(actor, &mut view).await?;
        if let Actor::Staff { .. } = actor {
            let fields = match vis {
                Visibility::Full => "name,phone,email,address,instructions",
                Visibility::OrderOnly => "address,instructions",
                Visibility::Packing => "area,district,instructions",
            };
            self.audit
                .view(
                    actor,
                    AuditAction::OrderView,
                    format!("order:{number}"),
                    format!("fields={fields}"),
                )
                .await;
        }
        Ok(view)
    }

    /// What a barcode scan resolves to.
    pub async fn order_by_code(&self, actor: &Actor, scanned: &str) -> Result<OrderView> {
        let number = OrderNumber::from_scan(scanned)?;
        self.order(actor, number).await
    }

    /// Public tracking: the order number and the phone it was placed with must
    /// both match; otherwise it is simply not found. It shows that one order
    /// as it was placed, never the customer record behind the phone.
    pub async fn track(&self, number: &str, phone: &str) -> Result<OrderView> {
        let not_found = || ServiceError::NotFound("order");
        let number = OrderNumber::from_scan(number).map_err(|_| not_found())?;
        let phone = Phone::parse(phone).map_err(|_| not_found())?;
        let full = self.load(number.id().0, Contact::Skip).await?;
        let mut conn = self.db.conn().await?;
        let owner =
            customers::find_by_phone_index(&mut conn, &self.vault.phone_index(&phone)).await?;
        if owner.map(|c| c.id) != Some(full.order.customer_id) {
            return Err(not_found());
        }
        self.view(&Actor::Visitor, full, Visibility::OrderOnly)
    }

    /// Moves an order along its lifecycle. Illegal moves are a conflict (409).
    pub async fn change_status(
        &self,
        actor: &Actor,
        number: OrderNumber,
        to: OrderStatus,
    ) -> Result<OrderView> {
        let id = number.id().0;
        let mut tx = self.db.begin().await?;
        let row = repo::get(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        let vis = visibility(actor, row.account_owner())?;
        let from = row.status;
        if !may_set(actor, from, to) {
            return Err(ServiceError::Forbidden);
        }
        from.transition(to).map_err(ServiceError::Conflict)?;
        let at = self.now_ms();
        if !repo::compare_and_set_status(&mut tx, id, from, to, at).await? {
            return Err(ServiceError::Conflict(
                "the order changed meanwhile; reload and try again".into(),
            ));
        }
        repo::insert_event(&mut tx, id, Some(from), to, actor.staff_id(), at).await?;
        if to == OrderStatus::Cancelled {
            self.queue_parcel_cancel(&mut tx, id).await?;
        }
        audit::change(
            &mut tx,
            actor,
            AuditAction::OrderStatus,
            &format!("order:{number}"),
            &format!("{from}->{to}"),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(order = %number, %from, %to, "status changed");
        let full = self.load(id, contact_to_load(actor)).await?;
        self.view(actor, full, vis)
    }

    fn view(&self, actor: &Actor, full: FullOrder, vis: Visibility) -> Result<OrderView> {
        let FullOrder {
            order: row,
            items,
            events,
        } = full;
        // No key: erased (erasure destroys it). A key that does not open is
        // an error (the wrong master key), never taken for an erasure.
        let key = match row.wrapped_key.as_deref() {
            Some(wrapped) => Some(self.vault.customer_key(row.customer_id, Some(wrapped))?),
            None => None,
        };
        let (delivery, instructions, contact) = match &key {
            Some(k) => (
                open_delivery(k, row.id, row.address_enc.as_deref())?,
                open_text(
                    k,
                    sealed::ORDER_INSTRUCTIONS,
                    row.id,
                    row.instructions_enc.as_deref(),
                )?,
                match vis {
                    Visibility::Full => Some(open_contact(
                        k,
                        row.customer_id,
                        row.name_enc.as_deref(),
                        row.phone_enc.as_deref(),
                        row.email_enc.as_deref(),
                    )?),
                    Visibility::OrderOnly | Visibility::Packing => None,
                },
            ),
            None => (None, None, None),
        };
        let status = row.status;
        Ok(OrderView {
            number: OrderNumber::from_id(OrderId(row.id)).to_string(),
            status,
            payment_method: row.payment_method,
            payment_status: row.payment_status,
            source: row.source,
            total: row.total,
            created_at: millis_to_rfc3339(row.created_at),
            items: items
                .into_iter()
                .map(|i| ItemView {
                    name: i.name,
                    sku: i.sku,
                    quantity: i.quantity,
                    unit_price: i.unit_price,
                })
                .collect(),
            delivery_instructions: instructions,
            customer: contact,
            address: address_view(delivery, vis),
            next_statuses: status
                .next()
                .iter()
                .copied()
                .filter(|to| may_set(actor, status, *to))
                .collect(),
            history: events
                .into_iter()
                .map(|e| EventView {
                    from: e.from_status.map(|s| s.as_str().to_owned()),
                    to: e.to_status.as_str().to_owned(),
                    at: millis_to_rfc3339(e.at),
                    by: e.staff_id.map(|s| format!("staff:{s}")),
                })
                .collect(),
            erased: row.erased_at.is_some(),
            unconfirmed: row.unconfirmed != 0,
            fraud: None,
        })
    }
}

fn may_set(actor: &Actor, from: OrderStatus, to: OrderStatus) -> bool {
    match actor {
        Actor::Staff { role, .. } => role.may_set_status(to),
        // A customer may cancel their own order until it is confirmed.
        Actor::Customer(_) => from == OrderStatus::Placed && to == OrderStatus::Cancelled,
        Actor::System => true,
        Actor::Visitor => false,
    }
}

fn address_view(d: Option<Delivery>, vis: Visibility) -> AddressView {
    let Some(d) = d else {
        return AddressView::default();
    };
    match vis {
        Visibility::Full | Visibility::OrderOnly => AddressView {
            recipient: Some(d.recipient),
            line: Some(d.line),
            area: Some(d.area),
            district: Some(d.district),
        },
        Visibility::Packing => AddressView {
            recipient: None,
            line: None,
            area: Some(d.area),
            district: Some(d.district),
        },
    }
}
