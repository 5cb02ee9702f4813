//! Fraud signals on orders, from the shop's own history: what an order's
//! phone, device and address have behind them, judged by the configured
//! thresholds (`chotomoni_domain::fraud`). Flags only inform: nothing here
//! refuses an order or bans anyone, and nothing is sent outside the shop.
//! Only staff whose role may see them get them; for anyone else the
//! signals are not read at all, so no answer differs by a flag.
use super::{millis_to_rfc3339, OrderSummary, OrderView};
use crate::auth::ClientInfo;
use crate::error::{Result, ServiceError};
use crate::{audit, Actor, Services};
use chotomoni_domain::error::optional_text;
use chotomoni_domain::fraud::{flags, SignalCounts};
use chotomoni_domain::staff::Permission;
use chotomoni_domain::{AuditAction, FraudFlag, OrderNumber, PhoneCheckOutcome};
use chotomoni_storage::order_signals::{self as repo, CheckRow, NewCheck, Windows};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// An order's flags and the confirmations staff recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FraudSignals {
    /// Empty when nothing stands out.
    pub flags: Vec<FraudFlag>,
    /// Confirmations by phone, oldest first.
    pub phone_checks: Vec<PhoneCheckView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PhoneCheckView {
    pub outcome: PhoneCheckOutcome,
    pub note: String,
    /// The staff member's user name.
    pub by: String,
    pub at: String,
}

/// What staff record after calling a customer.
#[derive(Debug, Clone)]
pub struct PhoneCheck {
    pub outcome: PhoneCheckOutcome,
    pub note: String,
}

impl PhoneCheck {
    pub const MAX_NOTE: usize = 200;

    pub fn parse(outcome: &str, note: &str) -> Result<PhoneCheck> {
        let outcome = PhoneCheckOutcome::parse(outcome).ok_or_else(|| {
            chotomoni_domain::FieldError::new(
                "outcome",
                "must be one of: genuine, not_genuine, no_answer",
            )
        })?;
        let note = optional_text("note", note, Self::MAX_NOTE)?.unwrap_or_default();
        Ok(PhoneCheck { outcome, note })
    }
}

impl Services {
    /// Keeps keyed fingerprints of the client an order was placed from.
    /// Only the customer's own client counts: an order staff entered came
    /// from the shop's own computer.
    pub(crate) async fn record_order_client(
        &self,
        actor: &Actor,
        number: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        if !matches!(actor, Actor::Visitor | Actor::Customer(_)) {
            return Ok(());
        }
        let Ok(number) = OrderNumber::parse(number) else {
            return Ok(());
        };
        let ring = self.vault.keyring();
        let index = |purpose: &str, value: Option<&str>| {
            value
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| hex::encode(ring.blind_index(purpose, v)))
        };
        let ip = index("order-ip", client.ip.as_deref());
        let device = index("order-device", client.user_agent.as_deref());
        let mut conn = self.db.conn().await?;
        repo::record(
            &mut conn,
            number.id().0,
            ip.as_deref(),
            device.as_deref(),
            self.now_ms(),
        )
        .await?;
        Ok(())
    }

    /// The signals of several orders, in a few queries whatever their number.
    async fn signals_of(&self, ids: &[i64]) -> Result<HashMap<i64, FraudSignals>> {
        let t = &self.settings.fraud;
        let windows = Windows {
            window_ms: t.window_ms(),
            burst_ms: t.velocity_ms(),
        };
        let mut conn = self.db.conn().await?;
        let phones = repo::phone_counts(&mut conn, ids, windows).await?;
        let clients = repo::client_counts(&mut conn, ids, windows.window_ms).await?;
        let checks = repo::checks_of(&mut conn, ids).await?;
        let mismatched = chotomoni_storage::payments::mismatched_counts(&mut conn, ids).await?;
        drop(conn);
        let mut out = HashMap::with_capacity(ids.len());
        for p in phones {
            let client = clients.iter().find(|c| c.order_id == p.order_id);
            let counts = SignalCounts {
                phone_in_window: p.in_window,
                phone_in_burst: p.in_burst,
                device_in_window: client.and_then(|c| c.device),
                ip_in_window: client.and_then(|c| c.ip),
                earlier: p.earlier,
                delivered: p.delivered,
                returned: p.returned,
                cancelled: p.cancelled,
                total: p.total,
                mismatched_payments: mismatched
                    .iter()
                    .find(|(order, _)| *order == p.order_id)
                    .map_or(0, |(_, n)| *n),
            };
            let phone_checks = checks
                .iter()
                .filter(|c| c.order_id == p.order_id)
                .map(check_view)
                .collect::<Result<_>>()?;
            out.insert(
                p.order_id,
                FraudSignals {
                    flags: flags(&counts, t),
                    phone_checks,
                },
            );
        }
        Ok(out)
    }

    /// Adds the signals to an order's view, for a role that may see them.
    pub(super) async fn add_signals(&self, actor: &Actor, view: &mut OrderView) -> Result<()> {
        if !actor.staff_may(Permission::ViewFraudSignals) {
            return Ok(());
        }
        let id = OrderNumber::parse(&view.number)?.id().0;
        view.fraud = self.signals_of(&[id]).await?.remove(&id);
        Ok(())
    }

    /// Adds the flags to a page of orders, for a role that may see them.
    pub(super) async fn add_flags(&self, actor: &Actor, orders: &mut [OrderSummary]) -> Result<()> {
        if !actor.staff_may(Permission::ViewFraudSignals) || orders.is_empty() {
            return Ok(());
        }
        let ids = orders
            .iter()
            .map(|o| -> Result<i64> { Ok(OrderNumber::parse(&o.number)?.id().0) })
            .collect::<Result<Vec<i64>>>()?;
        let mut signals = self.signals_of(&ids).await?;
        for (o, id) in orders.iter_mut().zip(ids) {
            let s = signals.remove(&id);
            o.phone_check = s
                .as_ref()
                .and_then(|s| s.phone_checks.last().map(|c| c.outcome));
            o.fraud_flags = Some(s.map(|s| s.flags).unwrap_or_default());
        }
        Ok(())
    }

    /// Records what staff learnt calling the customer about an order.
    pub async fn record_phone_check(
        &self,
        actor: &Actor,
        number: OrderNumber,
        check: &PhoneCheck,
    ) -> Result<FraudSignals> {
        let staff_id = match actor {
            Actor::Staff { .. } if actor.staff_may(Permission::ViewFraudSignals) => {
                actor.staff_id().unwrap_or_default()
            }
            Actor::Staff { .. } => return Err(ServiceError::Forbidden),
            _ => return Err(ServiceError::Unauthenticated),
        };
        let id = number.id().0;
        let mut tx = self.db.begin().await?;
        chotomoni_storage::orders::get(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        repo::add_check(
            &mut tx,
            &NewCheck {
                order_id: id,
                staff_id,
                outcome: check.outcome.as_str(),
                note: &check.note,
                at: self.now_ms(),
            },
        )
        .await?;
        // The note stays out of the log: it may say something about the person.
        audit::change(
            &mut tx,
            actor,
            AuditAction::FraudPhoneCheck,
            &format!("order:{number}"),
            &format!("outcome={}", check.outcome),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(order = %number, outcome = check.outcome.as_str(), "phone check recorded");
        Ok(self
            .signals_of(&[id])
            .await?
            .remove(&id)
            .unwrap_or(FraudSignals {
                flags: vec![],
                phone_checks: vec![],
            }))
    }
}

fn check_view(c: &CheckRow) -> Result<PhoneCheckView> {
    let outcome = PhoneCheckOutcome::parse(&c.outcome).ok_or_else(|| {
        ServiceError::Internal(format!(
            "order_phone_checks.outcome holds {:?}, not an outcome",
            c.outcome
        ))
    })?;
    Ok(PhoneCheckView {
        outcome,
        note: c.note.clone(),
        by: c.username.clone(),
        at: millis_to_rfc3339(c.at),
    })
}
