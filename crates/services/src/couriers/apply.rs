//! Applying courier reports from the inbox, many per transaction: the
//! parcels they are about are read at once, each report is judged in turn
//! against where its parcel is (duplicates and late news move nothing), and
//! the parcels and orders that moved, the order history, the audit log,
//! the customer's notices and every report with its outcome are each
//! written with one statement.
use super::notify::Notice;
use crate::error::Result;
use crate::jobs::Job;
use crate::{Actor, ServiceError, Services};
use chotomoni_domain::consignment::{courier_path, judge};
use chotomoni_domain::{
    AuditAction, ConsignmentState, CourierName, EventOutcome, OrderId, OrderNumber, OrderStatus,
    ParcelStatus,
};
use chotomoni_storage::audit::{self as audit_rows, Entry};
use chotomoni_storage::consignments::{ConsignmentRow, NewEvent};
use chotomoni_storage::courier_reports::{
    self as batch, OrderMove, ParcelMove, ParcelRow, Received,
};
use chotomoni_storage::sqlite_writer::WriteConn;
use std::collections::HashMap;

/// What a committed batch did: the reports it took from the inbox, each
/// one's order (when its parcel is known) and outcome, and whether it
/// queued notices.
#[derive(Default)]
pub(super) struct Applied {
    pub reports: Vec<Received>,
    pub outcomes: Vec<(Option<i64>, EventOutcome)>,
    pub notices: bool,
}

impl Services {
    /// Applies the oldest reports in the inbox (up to `limit`) and takes
    /// them out of it, in the caller's transaction, which commits it; what
    /// each did, in their order. None means the inbox is empty.
    pub(super) async fn apply_oldest(
        &self,
        tx: &mut WriteConn<'_>,
        limit: usize,
    ) -> Result<Applied> {
        let received = batch::oldest(tx, self.db.engine, limit).await?;
        if received.is_empty() {
            return Ok(Applied::default());
        }
        let (outcomes, notices) = self.apply_batch(tx, &received).await?;
        let ids: Vec<i64> = received.iter().map(|r| r.id).collect();
        batch::remove(tx, self.db.engine, &ids).await?;
        Ok(Applied {
            reports: received,
            outcomes,
            notices,
        })
    }

    /// Applies `batch`; each report's order (when its parcel is known) and
    /// outcome, in its order, and whether it queued notices.
    async fn apply_batch(
        &self,
        tx: &mut WriteConn<'_>,
        batch: &[Received],
    ) -> Result<(Vec<(Option<i64>, EventOutcome)>, bool)> {
        let now = self.now_ms();
        let engine = self.db.engine;
        let mut parcels: HashMap<(CourierName, &str), Parcel> = HashMap::new();
        let mut couriers: Vec<CourierName> = batch.iter().map(|r| r.courier).collect();
        couriers.sort_by_key(|c| c.as_str());
        couriers.dedup();
        for courier in couriers {
            let mut ids: Vec<&str> = batch
                .iter()
                .filter(|r| r.courier == courier)
                .map(|r| r.consignment_id.as_str())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            for row in batch::parcels(tx, engine, courier, &ids).await? {
                // The key borrows the batch's id, which equals the row's.
                let Some(id) = ids
                    .iter()
                    .find(|id| row.parcel.consignment_id.as_deref() == Some(**id))
                else {
                    continue;
                };
                parcels.insert((courier, *id), Parcel::new(row));
            }
        }
        // Judged one after another, in the order they came.
        let mut events = Vec::with_capacity(batch.len());
        for received in batch {
            let parcel = parcels.get_mut(&(received.courier, received.consignment_id.as_str()));
            let (order_id, outcome) = match parcel {
                Some(p) => (Some(p.row.order_id), p.hear(received)),
                None => (None, EventOutcome::UnknownConsignment),
            };
            events.push(NewEvent {
                report: received.report(),
                order_id,
                outcome,
            });
        }

        // In order of order id: two servers writing the same rows take
        // their locks in the same order, so neither waits on the other.
        let mut touched: Vec<&Parcel> = parcels.values().collect();
        touched.sort_by_key(|p| p.row.order_id);
        let (moved, still): (Vec<&Parcel>, Vec<&Parcel>) =
            touched.into_iter().partition(|p| !p.applied.is_empty());
        let moves: Vec<ParcelMove> = moved.iter().map(|p| p.movement()).collect();
        if batch::advance(tx, engine, &moves, now).await? != moves.len() as u64 {
            return Err(ServiceError::Conflict("a parcel moved meanwhile".into()));
        }
        let still: Vec<i64> = still.iter().map(|p| p.row.order_id).collect();
        batch::heard(tx, engine, &still, now).await?;
        let notices = self.follow_orders(tx, &moved, now).await?;
        batch::record(tx, engine, &events).await?;
        let outcomes = events.iter().map(|e| (e.order_id, e.outcome)).collect();
        Ok((outcomes, notices))
    }

    /// Moves each parcel's order to where its new statuses take it, through
    /// the statuses between, if it is behind (an order staff cancelled or
    /// moved past stays), and tells the customer when it reaches the
    /// courier and when it is delivered (a job each, which writes the
    /// message when it runs); whether it queued any.
    async fn follow_orders(
        &self,
        tx: &mut WriteConn<'_>,
        moved: &[&Parcel<'_>],
        now: i64,
    ) -> Result<bool> {
        let engine = self.db.engine;
        let mut order_moves = Vec::new();
        let mut notices = Vec::new();
        for parcel in moved {
            let id = parcel.row.order_id;
            let mut at = parcel.order_status;
            let mut steps = Vec::new();
            for &status in &parcel.applied {
                let Some(target) = status.order_status(at) else {
                    continue;
                };
                for step in courier_path(at, target) {
                    steps.push((at, step));
                    if let Some(notice) = Notice::on_reaching(step) {
                        notices.push(Job::about(notice.job(), id));
                    }
                    at = step;
                }
            }
            if !steps.is_empty() {
                order_moves.push(OrderMove { id, steps });
            }
        }
        if batch::move_orders(tx, engine, &order_moves, now).await? != order_moves.len() as u64 {
            return Err(ServiceError::Conflict("an order changed meanwhile".into()));
        }
        let actor = Actor::System.audit_ref();
        let audited = crate::now_ms();
        let details: Vec<(String, String)> = order_moves
            .iter()
            .flat_map(|m| {
                let target = format!("order:{}", OrderNumber::from_id(OrderId(m.id)));
                m.steps
                    .iter()
                    .map(move |(from, to)| (target.clone(), format!("{from}->{to} by=courier")))
            })
            .collect();
        let entries: Vec<Entry> = details
            .iter()
            .map(|(target, detail)| Entry {
                at: audited,
                actor: &actor,
                action: AuditAction::OrderStatus,
                target,
                detail,
            })
            .collect();
        audit_rows::append_many(tx, engine, &entries).await?;
        if notices.is_empty() || !self.can_tell() {
            return Ok(false);
        }
        self.enqueue_many(tx, &notices).await?;
        Ok(true)
    }
}

/// The server's log line of a committed report.
pub(super) fn log_report(r: &Received, order_id: Option<i64>, outcome: EventOutcome) {
    match order_id {
        Some(order_id) => {
            tracing::info!(courier = %r.courier, order = %OrderNumber::from_id(OrderId(order_id)), status = %r.parcel_status, outcome = %outcome, "courier report")
        }
        None => {
            tracing::warn!(courier = %r.courier, consignment = %r.consignment_id, "a courier reported on a consignment we do not know; kept for staff")
        }
    }
}

/// A parcel as the batch's reports leave it.
struct Parcel<'a> {
    row: ConsignmentRow,
    /// Where its order was when read (moved by the compare-and-set).
    order_status: OrderStatus,
    at: Option<ParcelStatus>,
    /// The statuses reports moved it to, in order.
    applied: Vec<ParcelStatus>,
    courier_status: Option<&'a str>,
    collected: Option<i64>,
    delivery_fee: Option<i64>,
}

impl<'a> Parcel<'a> {
    fn new(read: ParcelRow) -> Parcel<'a> {
        let row = read.parcel;
        Parcel {
            at: row.parcel_status,
            order_status: read.order_status,
            row,
            applied: Vec::new(),
            courier_status: None,
            collected: None,
            delivery_fee: None,
        }
    }

    /// Judges `report` against where the parcel is now, and moves it on if
    /// the report does. A cancelled consignment's news is kept, not applied.
    fn hear(&mut self, report: &'a Received) -> EventOutcome {
        let mut outcome = judge(self.at, report.parcel_status);
        if self.row.state != ConsignmentState::Booked && outcome == EventOutcome::Applied {
            outcome = EventOutcome::Noted;
        }
        if outcome == EventOutcome::Applied {
            self.at = Some(report.parcel_status);
            self.applied.push(report.parcel_status);
            self.courier_status = Some(&report.courier_status);
            self.collected = report.collected.or(self.collected);
            self.delivery_fee = report.delivery_fee.or(self.delivery_fee);
        }
        outcome
    }

    fn movement(&self) -> ParcelMove<'a> {
        ParcelMove {
            order_id: self.row.order_id,
            from: self.row.parcel_status,
            to: self.at.expect("a parcel that moved has a status"),
            courier_status: self.courier_status.unwrap_or_default(),
            collected: self.collected,
            delivery_fee: self.delivery_fee,
        }
    }
}
