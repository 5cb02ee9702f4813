//! Following parcels: what couriers tell us by webhook, and what we ask
//! them about parcels that went quiet. Either way one report goes through
//! [`Services::apply_report`]: recorded, judged against where the parcel
//! is (duplicates and late events move nothing), and, when it moves the
//! parcel on, the order follows along its lifecycle in the same
//! transaction.
use super::notify::Notice;
use crate::error::Result;
use crate::jobs::Job;
use crate::{audit, Actor, ServiceError, Services};
use chotomoni_courier::{StatusReport, WebhookAnswer, WebhookError, WebhookEvent};
use chotomoni_domain::consignment::{courier_path, judge};
use chotomoni_domain::{
    AuditAction, ConsignmentState, CourierName, EventOutcome, EventSource, FieldError, JobKind,
    OrderId, OrderNumber, OrderStatus, ParcelStatus,
};
use chotomoni_storage::consignments::{self as rows, ConsignmentRow, NewEvent, Progress};
use chotomoni_storage::orders as orders_repo;

/// Parcels asked about per run of the poll job.
const POLL_BATCH: i64 = 50;

/// One webhook call as the HTTP layer got it.
pub struct WebhookCall<'a> {
    /// Header names in lower case.
    pub headers: &'a [(String, String)],
    pub query: &'a str,
    pub body: &'a [u8],
}

impl Services {
    /// Authenticates and applies one courier webhook call; the answer is
    /// what that courier expects back. A call that does not authenticate
    /// changes nothing and is `Unauthenticated`.
    pub async fn courier_webhook(
        &self,
        courier: CourierName,
        call: &WebhookCall<'_>,
    ) -> Result<WebhookAnswer> {
        let adapter = self
            .couriers()
            .get(courier)
            .ok_or(ServiceError::NotFound("courier"))?
            .clone();
        let event = match adapter.read_webhook(call.headers, call.query, call.body) {
            Ok(event) => event,
            Err(WebhookError::Unauthenticated) => {
                tracing::warn!(%courier, "refused a courier webhook call without its secret");
                return Err(ServiceError::Unauthenticated);
            }
            Err(WebhookError::Malformed(why)) => {
                return Err(FieldError::new("body", why).into());
            }
        };
        if let WebhookEvent::Status(report) = &event {
            self.apply_report(courier, report, EventSource::Webhook)
                .await?;
        }
        Ok(adapter.webhook_answer(&event))
    }

    /// Records one status report and applies it if it moves the parcel on.
    pub(crate) async fn apply_report(
        &self,
        courier: CourierName,
        report: &StatusReport,
        source: EventSource,
    ) -> Result<EventOutcome> {
        let now = self.now_ms();
        let mut tx = self.db.begin().await?;
        let row = rows::by_consignment_id(&mut tx, courier, &report.consignment_id).await?;
        let event = |order_id, outcome| NewEvent {
            courier,
            consignment_id: &report.consignment_id,
            order_id,
            parcel_status: report.status,
            courier_status: &report.courier_status,
            collected: report.collected,
            delivery_fee: report.delivery_fee,
            courier_at: report.at.as_deref(),
            source,
            outcome,
            at: now,
        };
        let Some(row) = row else {
            rows::record_event(&mut tx, &event(None, EventOutcome::UnknownConsignment)).await?;
            tx.commit().await?;
            tracing::warn!(%courier, consignment = %report.consignment_id, "a courier reported on a consignment we do not know; kept for staff");
            return Ok(EventOutcome::UnknownConsignment);
        };
        let order_id = row.order_id;
        let mut outcome = judge(row.parcel_status, report.status);
        if row.state != ConsignmentState::Booked && outcome == EventOutcome::Applied {
            // A cancelled consignment's news is kept, not applied.
            outcome = EventOutcome::Noted;
        }
        if outcome == EventOutcome::Applied {
            let moved = rows::advance(
                &mut tx,
                order_id,
                &Progress {
                    from: row.parcel_status,
                    to: report.status,
                    courier_status: &report.courier_status,
                    collected: report.collected,
                    delivery_fee: report.delivery_fee,
                    at: now,
                },
            )
            .await?;
            if !moved {
                // Another report moved it meanwhile: judged again, afresh.
                drop(tx);
                return Box::pin(self.apply_report(courier, report, source)).await;
            }
            self.follow_order(&mut tx, &row, report.status, now).await?;
        } else {
            rows::heard(&mut tx, order_id, now).await?;
        }
        rows::record_event(&mut tx, &event(Some(order_id), outcome)).await?;
        tx.commit().await?;
        tracing::info!(%courier, order = %OrderNumber::from_id(OrderId(order_id)), status = %report.status, %outcome, "courier report");
        Ok(outcome)
    }

    /// Moves the order to where `status` takes it, through the statuses
    /// between, if it is behind it (an order staff cancelled or moved past stays), and
    /// tells the customer when it reaches the courier and when delivered.
    async fn follow_order(
        &self,
        tx: &mut chotomoni_storage::Conn,
        parcel: &ConsignmentRow,
        status: ParcelStatus,
        now: i64,
    ) -> Result<()> {
        let order_id = parcel.order_id;
        let Some(order) = orders_repo::get(tx, order_id).await? else {
            return Ok(());
        };
        let Some(target) = status.order_status(order.status) else {
            return Ok(());
        };
        let mut at = order.status;
        let number = OrderNumber::from_id(OrderId(order_id));
        for step in courier_path(at, target) {
            if !orders_repo::compare_and_set_status(tx, order_id, at, step, now).await? {
                return Err(ServiceError::Conflict("the order changed meanwhile".into()));
            }
            orders_repo::insert_event(tx, order_id, Some(at), step, None, now).await?;
            audit::change(
                tx,
                &Actor::System,
                AuditAction::OrderStatus,
                &format!("order:{number}"),
                &format!("{at}->{step} by=courier"),
            )
            .await?;
            let notice = match step {
                OrderStatus::HandedToCourier => Some(Notice::Handed),
                OrderStatus::Delivered => Some(Notice::Delivered),
                _ => None,
            };
            if let Some(notice) = notice {
                self.queue_parcel_notice(tx, notice, parcel, order.customer_id)
                    .await?;
            }
            at = step;
        }
        Ok(())
    }

    /// The poll job (`couriers.poll`): asks each courier about booked
    /// parcels with no news for the configured time, so a missed webhook
    /// leaves no order stuck. Returns how many it asked about.
    pub async fn poll_silent_parcels(&self) -> Result<usize> {
        let now = self.now_ms();
        let silent = {
            let mut conn = self.db.conn().await?;
            rows::silent(&mut conn, now - self.couriers().silent_after_ms, POLL_BATCH).await?
        };
        let mut asked = 0;
        for row in silent {
            let (Some(adapter), Some(id)) = (self.couriers().get(row.courier), row.consignment_id)
            else {
                continue;
            };
            asked += 1;
            match adapter.status(&id).await {
                Ok(report) => {
                    self.apply_report(row.courier, &report, EventSource::Poll)
                        .await?;
                }
                Err(e) => {
                    // Asked again after the silent period, not on every run.
                    tracing::warn!(courier = %row.courier, consignment = %id, error = %e, "asking a courier about a parcel failed");
                    let mut conn = self.db.conn().await?;
                    rows::heard(&mut conn, row.order_id, now).await?;
                }
            }
        }
        Ok(asked)
    }

    /// Queues cancelling the order's consignment, on the transaction that
    /// cancels the order.
    pub(crate) async fn queue_parcel_cancel(
        &self,
        tx: &mut chotomoni_storage::Conn,
        order_id: i64,
    ) -> Result<()> {
        if rows::get(tx, order_id)
            .await?
            .is_some_and(|r| r.state == ConsignmentState::Booked)
        {
            self.enqueue(tx, Job::about(JobKind::ParcelCancel, order_id))
                .await?;
        } else {
            rows::forget_failed(tx, order_id).await?;
        }
        Ok(())
    }

    /// The cancel job: tells the courier, where its API allows; where it
    /// does not, the consignment says so for staff to do by hand.
    pub(crate) async fn cancel_parcel(&self, order_id: i64) -> Result<()> {
        let mut conn = self.db.conn().await?;
        let Some(row) = rows::get(&mut conn, order_id).await? else {
            return Ok(());
        };
        let (ConsignmentState::Booked, Some(id)) = (row.state, row.consignment_id.as_deref())
        else {
            return Ok(());
        };
        if row.parcel_status.is_some_and(ParcelStatus::is_final) {
            return Ok(());
        }
        let adapter = self
            .couriers()
            .get(row.courier)
            .ok_or_else(|| ServiceError::Internal(format!("{} is not set up here", row.courier)))?;
        let now = self.now_ms();
        match adapter.cancel(id, "the order was cancelled").await {
            Ok(()) => {
                rows::set_cancelled(&mut conn, order_id, now).await?;
                audit::change(
                    &mut conn,
                    &Actor::System,
                    AuditAction::ParcelCancel,
                    &format!("order:{}", OrderNumber::from_id(OrderId(order_id))),
                    &format!("courier={}", row.courier),
                )
                .await?;
            }
            Err(e) if e.is_transient() => {
                return Err(ServiceError::Internal(format!(
                    "cancelling with {}: {e}",
                    row.courier
                )))
            }
            Err(e) => {
                let text = format!(
                    "the order was cancelled but {} did not cancel the parcel ({}); cancel it in its panel",
                    row.courier.label(),
                    e.courier_message().unwrap_or(&e.to_string())
                );
                rows::note_error(&mut conn, order_id, &text, now).await?;
            }
        }
        Ok(())
    }
}
