//! Following parcels: what couriers tell us by webhook, and what we ask
//! them about parcels that went quiet. Either way each report is received
//! into the inbox ([`Services::receive_report`], see `reports`) and then
//! applied (`apply`): recorded, judged against where the parcel is
//! (duplicates and late events move nothing), and, when it moves the
//! parcel on, the order follows along its lifecycle in the same
//! transaction.
use crate::error::Result;
use crate::jobs::Job;
use crate::{audit, Actor, ServiceError, Services};
use chotomoni_courier::{WebhookAnswer, WebhookError, WebhookEvent};
use chotomoni_domain::{
    AuditAction, ConsignmentState, CourierName, EventSource, FieldError, JobKind, OrderId,
    OrderNumber, ParcelStatus,
};
use chotomoni_storage::consignments as rows;
use chotomoni_storage::sqlite_writer::WriteConn;

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
            self.receive_report(courier, report, EventSource::Webhook)
                .await?;
        }
        Ok(adapter.webhook_answer(&event))
    }

    /// The poll job (`couriers.poll`): asks each courier about booked
    /// parcels with no news for the configured time, so a missed webhook
    /// leaves no order stuck. Returns how many it asked about.
    pub async fn poll_silent_parcels(&self) -> Result<usize> {
        // Reports a stopped server received and did not apply.
        self.apply_received_reports();
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
                    self.receive_report(row.courier, &report, EventSource::Poll)
                        .await?;
                }
                Err(e) => {
                    // Asked again after the silent period, not on every run.
                    tracing::warn!(courier = %row.courier, consignment = %id, error = %e, "asking a courier about a parcel failed");
                    let mut conn = self.db.conn().await?;
                    chotomoni_storage::courier_reports::heard(
                        &mut WriteConn::Pool(&mut conn),
                        self.db.engine,
                        &[row.order_id],
                        now,
                    )
                    .await?;
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
