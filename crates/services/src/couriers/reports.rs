//! Applying what couriers report, many reports per transaction.
//!
//! Couriers send status webhooks in bursts. Applied one transaction each,
//! every report would pay for a commit (an fsync on SQLite, where writers
//! also queue for the one write lock) and a dozen round trips. Instead each
//! server keeps one queue: a report waits in it, and one writer task at a
//! time takes everything waiting (up to [`MAX_BATCH`]) and applies it in
//! one transaction with a few statements, then answers each caller with
//! its own outcome. Nothing waits on a timer: under light load a batch is
//! one report; under a burst, the reports that arrived during a commit form
//! the next batch. A webhook is answered only after its report is
//! committed, so a courier never hears "received" for something a crash
//! could lose. On a SQLite file the whole transaction runs in one blocking
//! task on a connection used in place ([`chotomoni_storage::sqlite_writer`]),
//! not statement by statement through the pool.
use super::notify::Notice;
use crate::error::Result;
use crate::jobs::Job;
use crate::{Actor, ServiceError, Services};
use chotomoni_courier::StatusReport;
use chotomoni_domain::consignment::{courier_path, judge};
use chotomoni_domain::{
    AuditAction, ConsignmentState, CourierName, EventOutcome, EventSource, OrderId, OrderNumber,
    OrderStatus, ParcelStatus,
};
use chotomoni_storage::audit::{self as audit_rows, Entry};
use chotomoni_storage::consignments::{ConsignmentRow, NewEvent};
use chotomoni_storage::courier_reports::{self as batch, OrderMove, ParcelMove, ParcelRow};
use chotomoni_storage::sqlite_writer::{SqliteWriter, WriteConn};
use chotomoni_storage::PooledConn;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::oneshot;

/// Reports applied in one transaction at most.
const MAX_BATCH: usize = 64;
/// Times a batch is read and judged again when another server moved one of
/// its parcels or orders between our read and our write.
const ATTEMPTS: usize = 5;

struct Waiting {
    courier: CourierName,
    report: StatusReport,
    source: EventSource,
    done: oneshot::Sender<Result<EventOutcome>>,
}

/// What a committed batch did: each report's order (when its parcel is
/// known) and outcome, in the batch's order, and whether it queued notices.
struct Applied {
    outcomes: Vec<(Option<i64>, EventOutcome)>,
    notices: bool,
}

/// This server's reports waiting to be applied.
#[derive(Default)]
pub(crate) struct ReportQueue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    waiting: Vec<Waiting>,
    /// Whether a writer task is running (it takes what is waiting until
    /// nothing is).
    writing: bool,
}

/// Ends the writer's turn if its task panics: the next report must start a
/// new writer, and the reports left waiting get an error instead of waiting
/// for ever. (A writer that finds nothing waiting ends its turn itself,
/// under the lock.)
struct PanicGuard<'a>(&'a ReportQueue);

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut state = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
            state.waiting.clear();
            state.writing = false;
        }
    }
}

impl Services {
    /// Applies one courier report (recorded, judged against where the
    /// parcel is; when it moves the parcel on, the order follows) and
    /// returns what it did, once it is committed.
    pub(crate) async fn apply_report(
        &self,
        courier: CourierName,
        report: &StatusReport,
        source: EventSource,
    ) -> Result<EventOutcome> {
        let (done, outcome) = oneshot::channel();
        let start_writer = {
            let mut state = self.reports.state.lock().unwrap_or_else(|e| e.into_inner());
            state.waiting.push(Waiting {
                courier,
                report: report.clone(),
                source,
                done,
            });
            !std::mem::replace(&mut state.writing, true)
        };
        if start_writer {
            // A task of its own: the caller that started it may be dropped
            // (its client hung up) while others wait on the batch.
            let services = self.clone();
            tokio::spawn(async move { services.write_reports().await });
        }
        outcome
            .await
            .map_err(|_| ServiceError::Internal("the courier report writer stopped".into()))?
    }

    async fn write_reports(&self) {
        let queue = self.reports.clone();
        let _guard = PanicGuard(&queue);
        // Kept for the whole turn; given back when nothing is waiting.
        let mut conn: Option<chotomoni_storage::PooledConn> = None;
        loop {
            let batch: Vec<Waiting> = {
                let mut state = queue.state.lock().unwrap_or_else(|e| e.into_inner());
                let n = state.waiting.len().min(MAX_BATCH);
                state.waiting.drain(..n).collect()
            };
            if batch.is_empty() {
                // Checked and released under the lock `apply_report` pushes
                // under: a report is either taken here or starts a writer.
                let mut state = queue.state.lock().unwrap_or_else(|e| e.into_inner());
                if state.waiting.is_empty() {
                    state.writing = false;
                    return;
                }
                continue;
            }
            let started = std::time::Instant::now();
            let (batch, result) = self.apply_batch_on(&mut conn, batch).await;
            tracing::debug!(
                reports = batch.len(),
                micros = started.elapsed().as_micros() as u64,
                "applied a batch of courier reports"
            );
            match result {
                Ok(applied) => {
                    if applied.notices {
                        self.job_signal.notify_one();
                    }
                    for (waiting, (order_id, outcome)) in batch.into_iter().zip(applied.outcomes) {
                        log_report(&waiting, order_id, outcome);
                        let _ = waiting.done.send(Ok(outcome));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, reports = batch.len(), "applying courier reports failed; each is answered with an error");
                    for waiting in batch {
                        let _ = waiting.done.send(Err(ServiceError::Internal(format!(
                            "recording a courier report: {e}"
                        ))));
                    }
                }
            }
        }
    }

    /// Applies `batch` in one transaction, read and judged again if another
    /// server moved one of its parcels or orders meanwhile: on SQLite's
    /// writer in place when there is one, else on the writer's connection
    /// (taken from the pool if it has none). A pooled connection that
    /// failed otherwise is given back, not used again. Hands the batch back
    /// with what came of it.
    async fn apply_batch_on(
        &self,
        conn: &mut Option<PooledConn>,
        batch: Vec<Waiting>,
    ) -> (Vec<Waiting>, Result<Applied>) {
        if let Some(writer) = self.db.writer.clone() {
            return self.apply_batch_in_place(writer, batch).await;
        }
        for attempt in 1.. {
            let held = match conn {
                Some(held) => held,
                None => match self.db.conn().await {
                    Ok(taken) => conn.insert(taken),
                    Err(e) => return (batch, Err(e.into())),
                },
            };
            match self.apply_batch_on_pool(held, &batch).await {
                Err(ServiceError::Conflict(_)) if attempt < ATTEMPTS => {}
                Err(e) => {
                    *conn = None;
                    return (batch, Err(e));
                }
                done => return (batch, done),
            }
        }
        unreachable!("the last attempt returns")
    }

    async fn apply_batch_on_pool(
        &self,
        conn: &mut PooledConn,
        batch: &[Waiting],
    ) -> Result<Applied> {
        let mut tx = self.db.begin_on(conn).await?;
        let applied = self
            .apply_batch(&mut WriteConn::Pool(&mut tx), batch)
            .await?;
        tx.commit().await?;
        Ok(applied)
    }

    /// [`Self::apply_batch`] in a blocking task, on SQLite's writer: its
    /// statements never wait, so the future is run to its end right there.
    /// Once: the transaction holds SQLite's one write lock from before its
    /// read, so nothing can move a parcel or an order between its read and
    /// its write (the pool's retries are for PostgreSQL).
    async fn apply_batch_in_place(
        &self,
        writer: std::sync::Arc<SqliteWriter>,
        batch: Vec<Waiting>,
    ) -> (Vec<Waiting>, Result<Applied>) {
        let services = self.clone();
        let runtime = tokio::runtime::Handle::current();
        let task = tokio::task::spawn_blocking(move || {
            let result =
                writer.transaction(|tx| runtime.block_on(services.apply_batch(tx, &batch)));
            (batch, result)
        });
        // A panic in the task is the writer's: it goes on up, to end the
        // writer's turn (the batch's callers hear that it stopped).
        task.await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// Applies `batch` in one transaction; its outcomes in its order.
    /// The caller commits it.
    async fn apply_batch(&self, tx: &mut WriteConn<'_>, batch: &[Waiting]) -> Result<Applied> {
        let now = self.now_ms();
        let engine = self.db.engine;
        let mut parcels: HashMap<(CourierName, &str), Parcel> = HashMap::new();
        let mut couriers: Vec<CourierName> = batch.iter().map(|w| w.courier).collect();
        couriers.sort_by_key(|c| c.as_str());
        couriers.dedup();
        for courier in couriers {
            let mut ids: Vec<&str> = batch
                .iter()
                .filter(|w| w.courier == courier)
                .map(|w| w.report.consignment_id.as_str())
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
        for w in batch {
            let parcel = parcels.get_mut(&(w.courier, w.report.consignment_id.as_str()));
            let (order_id, outcome) = match parcel {
                Some(p) => (Some(p.row.order_id), p.hear(&w.report)),
                None => (None, EventOutcome::UnknownConsignment),
            };
            events.push(NewEvent {
                courier: w.courier,
                consignment_id: &w.report.consignment_id,
                order_id,
                parcel_status: w.report.status,
                courier_status: &w.report.courier_status,
                collected: w.report.collected,
                delivery_fee: w.report.delivery_fee,
                courier_at: w.report.at.as_deref(),
                source: w.source,
                outcome,
                at: now,
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
        Ok(Applied {
            outcomes: events.iter().map(|e| (e.order_id, e.outcome)).collect(),
            notices,
        })
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
fn log_report(w: &Waiting, order_id: Option<i64>, outcome: EventOutcome) {
    match order_id {
        Some(order_id) => {
            tracing::info!(courier = %w.courier, order = %OrderNumber::from_id(OrderId(order_id)), status = %w.report.status, outcome = %outcome, "courier report")
        }
        None => {
            tracing::warn!(courier = %w.courier, consignment = %w.report.consignment_id, "a courier reported on a consignment we do not know; kept for staff")
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
    fn hear(&mut self, report: &'a StatusReport) -> EventOutcome {
        let mut outcome = judge(self.at, report.status);
        if self.row.state != ConsignmentState::Booked && outcome == EventOutcome::Applied {
            outcome = EventOutcome::Noted;
        }
        if outcome == EventOutcome::Applied {
            self.at = Some(report.status);
            self.applied.push(report.status);
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
