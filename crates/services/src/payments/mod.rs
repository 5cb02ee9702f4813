//! Online payments through the gateways (SSLCommerz, bKash): starting one
//! for an unpaid online order (`start`), and finishing it from whatever
//! arrives first: SSLCommerz's IPN, the customer's return, or the
//! background query of payments with no news (`settle`). Only the
//! gateway's status is kept; every payload is read through
//! `chotomoni_gateway::Kept` inside the adapters, so card and wallet data
//! never reach this module, the database or the logs.
use crate::error::Result;
use crate::orders::millis_to_rfc3339;
use crate::{Actor, ServiceError, Services};
use chotomoni_domain::staff::Permission;
use chotomoni_domain::{CustomerId, GatewayName, OrderId, OrderNumber, PaymentState};
use chotomoni_gateway::Gateway;
use chotomoni_storage::payments::{self as rows, PaymentRow};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

mod refund;
mod refund_send;
mod settle;
mod start;

pub use refund::{ManualRefundInput, RefundView};
pub use start::StartedPayment;

/// The gateways this shop takes payments through.
#[derive(Clone, Default)]
pub struct GatewaySet {
    adapters: Vec<(GatewayName, Arc<dyn Gateway>)>,
    /// Started payments with no news for this long are asked about.
    pub silent_after_ms: i64,
}

impl GatewaySet {
    pub fn new() -> GatewaySet {
        GatewaySet {
            adapters: Vec::new(),
            silent_after_ms: 10 * 60_000,
        }
    }

    /// Enables a gateway. Its `name()` must be one of [`GatewayName`].
    pub fn with(mut self, adapter: Arc<dyn Gateway>) -> GatewaySet {
        let name = GatewayName::parse(adapter.name())
            .unwrap_or_else(|| panic!("{} is not a gateway Chotomoni knows", adapter.name()));
        self.adapters.retain(|(n, _)| *n != name);
        self.adapters.push((name, adapter));
        self
    }

    pub fn get(&self, name: GatewayName) -> Option<&Arc<dyn Gateway>> {
        self.adapters
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| a)
    }

    pub fn enabled(&self) -> Vec<GatewayName> {
        self.adapters.iter().map(|(n, _)| *n).collect()
    }
}

/// One payment attempt as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentView {
    pub order: String,
    /// Our id for the attempt, as the gateway knows it.
    pub tran_id: String,
    pub gateway: GatewayName,
    pub status: PaymentState,
    /// Poisha asked for.
    pub amount: i64,
    /// Poisha the gateway confirmed.
    pub paid_amount: Option<i64>,
    pub currency: String,
    /// Why staff must look at it (held payments); staff only.
    pub hold_reason: Option<String>,
    /// SSLCommerz `bank_tran_id` or bKash `trxID`.
    pub gateway_transaction_id: Option<String>,
    /// The gateway's own word for the status.
    pub gateway_status: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
}

fn number(order_id: i64) -> String {
    OrderNumber::from_id(OrderId(order_id)).to_string()
}

pub(crate) fn view(row: PaymentRow, staff: bool) -> PaymentView {
    PaymentView {
        order: number(row.order_id),
        tran_id: row.tran_id,
        gateway: row.gateway,
        status: row.status,
        amount: row.amount,
        paid_amount: row.paid_amount,
        currency: row.currency,
        hold_reason: row.hold_reason.filter(|_| staff),
        gateway_transaction_id: row.gateway_transaction_id,
        gateway_status: row.gateway_status,
        started_at: millis_to_rfc3339(row.started_at),
        finished_at: row.finished_at.map(millis_to_rfc3339),
    }
}

const HELD_LIMIT: i64 = 200;

impl Services {
    pub(crate) fn gateways(&self) -> &GatewaySet {
        &self.gateways
    }

    /// The gateways customers may choose from.
    pub fn payment_choice(&self) -> Vec<GatewayName> {
        self.gateways.enabled()
    }

    fn gateway(&self, name: GatewayName) -> Result<Arc<dyn Gateway>> {
        self.gateways.get(name).cloned().ok_or_else(|| {
            chotomoni_domain::FieldError::new(
                "gateway",
                format!("{} is not set up here", name.label()),
            )
            .into()
        })
    }

    /// An order's payments, oldest first: its customer and staff who see orders.
    pub async fn order_payments(
        &self,
        actor: &Actor,
        number: OrderNumber,
    ) -> Result<Vec<PaymentView>> {
        let id = number.id().0;
        let mut conn = self.db.conn().await?;
        let order = chotomoni_storage::orders::get(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        let staff = match actor {
            Actor::Staff { .. } | Actor::System => {
                actor.require(Permission::ViewOrders)?;
                true
            }
            Actor::Customer(CustomerId(c)) if order.account_owner() == Some(*c) => false,
            _ => return Err(ServiceError::NotFound("order")),
        };
        Ok(rows::of_order(&mut conn, id)
            .await?
            .into_iter()
            .map(|r| view(r, staff))
            .collect())
    }

    /// Payments held for staff (amount, currency or risk), newest first.
    pub async fn held_payments(&self, actor: &Actor) -> Result<Vec<PaymentView>> {
        actor.require(Permission::ViewCustomerContact)?;
        let mut conn = self.db.conn().await?;
        Ok(rows::held(&mut conn, HELD_LIMIT)
            .await?
            .into_iter()
            .map(|r| view(r, true))
            .collect())
    }

    /// Staff accept a held payment after checking it (the amount the
    /// customer meant, a risky card confirmed with them): it pays the order.
    /// Refused unless it is held, and for an order another payment paid.
    pub async fn accept_held_payment(&self, actor: &Actor, tran_id: &str) -> Result<PaymentView> {
        actor.require(Permission::ViewCustomerContact)?;
        let now = self.now_ms();
        let mut tx = self.db.begin().await?;
        let payment = rows::by_tran_id(&mut tx, tran_id)
            .await?
            .ok_or(ServiceError::NotFound("payment"))?;
        if !rows::accept_held(&mut tx, tran_id, now).await? {
            return Err(ServiceError::Conflict(format!(
                "only a held payment is accepted; this one is {}",
                payment.status
            )));
        }
        if !rows::mark_order_paid(&mut tx, payment.order_id, now).await? {
            return Err(ServiceError::Conflict(
                "the order is paid already by another payment: this one is to be refunded, not accepted"
                    .into(),
            ));
        }
        crate::audit::change(
            &mut tx,
            actor,
            chotomoni_domain::AuditAction::PaymentAccept,
            &format!("payment:{tran_id}"),
            payment.hold_reason.as_deref().unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(%tran_id, by = %actor.audit_ref(), "a held payment was accepted");
        let mut conn = self.db.conn().await?;
        rows::by_tran_id(&mut conn, tran_id)
            .await?
            .map(|r| view(r, true))
            .ok_or(ServiceError::NotFound("payment"))
    }

    /// One payment by our transaction id, as the return page shows it.
    pub async fn payment(&self, tran_id: &str) -> Result<PaymentView> {
        let mut conn = self.db.conn().await?;
        rows::by_tran_id(&mut conn, tran_id)
            .await?
            .map(|r| view(r, false))
            .ok_or(ServiceError::NotFound("payment"))
    }
}
