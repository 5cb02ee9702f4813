//! Receiving courier reports, and the writer that applies them.
//!
//! Couriers send status webhooks in bursts, and want their answer quickly
//! (one they wait too long for is sent again). Receiving a report is one
//! row appended to the inbox (`courier_inbox`); applying it reads its parcel
//! and order and writes half a dozen rows elsewhere ([`super::apply`]). So
//! each server keeps one queue, and one writer task at a time takes turns:
//! - every report waiting (up to [`MAX_BATCH`]) goes into the inbox in one
//!   transaction, and each caller is answered once it is committed: a
//!   courier never hears "received" for something a crash could lose;
//! - then the oldest reports in the inbox are applied in one transaction,
//!   which also takes them out of it: a few ([`APPLY_WHILE_RECEIVING`]) on
//!   a turn that received some, more ([`APPLY_BATCH`]) on one that did not;
//!
//! and so on until nothing waits and the inbox is empty. Nothing waits on
//! a timer: under light load a report is applied a moment after it is
//! answered; under a burst, answers go at the speed of receiving and the
//! applying follows right behind. Every turn begins by looking at the
//! inbox, so reports a server received and could not apply (it stopped)
//! are applied by the next turn of any server's writer, and the poll job
//! starts a turn. On a SQLite file each transaction runs in one blocking
//! task on a connection used in place ([`chotomoni_storage::sqlite_writer`]),
//! not statement by statement through the pool.
use super::apply::{log_report, Applied};
use crate::error::Result;
use crate::{ServiceError, Services};
use chotomoni_courier::StatusReport;
use chotomoni_domain::{CourierName, EventSource};
use chotomoni_storage::courier_reports::{self as inbox, Report};
use chotomoni_storage::sqlite_writer::{SqliteWriter, WriteConn};
use chotomoni_storage::PooledConn;
use std::sync::Mutex;
use tokio::sync::oneshot;

/// Reports received in one transaction at most.
const MAX_BATCH: usize = 64;
/// Reports applied in one transaction at most on a turn that also received
/// some: applying stays a short part of each turn, so a burst's callers
/// wait little to be received (applying follows when it is over). 8, 16,
/// 24 and 32 measured in the courier benchmark (docs/benchmarks.md).
const APPLY_WHILE_RECEIVING: usize = 16;
/// ... and on a turn that received none: fewer, larger transactions.
const APPLY_BATCH: usize = 64;
/// Times a transaction is tried again when another server moved one of its
/// parcels or orders between its read and its write (PostgreSQL).
const ATTEMPTS: usize = 5;

struct Waiting {
    courier: CourierName,
    report: StatusReport,
    source: EventSource,
    done: oneshot::Sender<Result<()>>,
}

/// One turn of the writer, in a transaction of its own.
enum Turn {
    /// Puts these reports in the inbox.
    Receive(Vec<Waiting>),
    /// Applies the oldest reports in the inbox, this many at most.
    Apply(usize),
}

/// This server's reports waiting to be received.
#[derive(Default)]
pub(crate) struct ReportQueue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    waiting: Vec<Waiting>,
    /// Whether a writer task is running (it takes turns until nothing is
    /// waiting and the inbox is empty).
    writing: bool,
}

/// Ends the writer's turn if its task panics: the next report must start a
/// new writer, and the reports left waiting get an error instead of waiting
/// for ever. (A writer that finds nothing to do ends its turn itself,
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
    /// Receives one courier report: returns once it is committed to the
    /// inbox. This server's writer applies it next (recorded, judged
    /// against where the parcel is; when it moves the parcel on, the order
    /// follows).
    pub(crate) async fn receive_report(
        &self,
        courier: CourierName,
        report: &StatusReport,
        source: EventSource,
    ) -> Result<()> {
        let (done, received) = oneshot::channel();
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
            self.spawn_writer();
        }
        received
            .await
            .map_err(|_| ServiceError::Internal("the courier report writer stopped".into()))?
    }

    /// Starts the writer, if it is not running, to apply what is in the
    /// inbox: reports a server received and did not apply before it
    /// stopped.
    pub(crate) fn apply_received_reports(&self) {
        let start_writer = {
            let mut state = self.reports.state.lock().unwrap_or_else(|e| e.into_inner());
            !std::mem::replace(&mut state.writing, true)
        };
        if start_writer {
            self.spawn_writer();
        }
    }

    /// A task of its own: the caller that started it may be dropped (its
    /// client hung up) while others wait on the turn.
    fn spawn_writer(&self) {
        let services = self.clone();
        tokio::spawn(async move { services.write_reports().await });
    }

    async fn write_reports(&self) {
        let queue = self.reports.clone();
        let _guard = PanicGuard(&queue);
        // Kept for the whole task; given back when it ends.
        let mut conn: Option<PooledConn> = None;
        // Whether the inbox may hold reports: looked at once per task.
        let mut inbox_has_reports = true;
        loop {
            let batch: Vec<Waiting> = {
                let mut state = queue.state.lock().unwrap_or_else(|e| e.into_inner());
                let n = state.waiting.len().min(MAX_BATCH);
                state.waiting.drain(..n).collect()
            };
            let received_some = !batch.is_empty();
            if received_some && self.receive_batch(&mut conn, batch).await {
                inbox_has_reports = true;
            }
            if inbox_has_reports {
                let limit = if received_some {
                    APPLY_WHILE_RECEIVING
                } else {
                    APPLY_BATCH
                };
                inbox_has_reports = self.apply_some(&mut conn, limit).await;
            }
            if !received_some && !inbox_has_reports {
                // Checked and released under the lock `receive_report`
                // pushes under: a report is either taken here or starts a
                // writer.
                let mut state = queue.state.lock().unwrap_or_else(|e| e.into_inner());
                if state.waiting.is_empty() {
                    state.writing = false;
                    return;
                }
            }
        }
    }

    /// Puts `batch` in the inbox and answers each caller; whether it went in.
    async fn receive_batch(&self, conn: &mut Option<PooledConn>, batch: Vec<Waiting>) -> bool {
        let (turn, result) = self.take_turn(conn, Turn::Receive(batch)).await;
        let Turn::Receive(batch) = turn else {
            unreachable!("a turn is handed back as it was given")
        };
        match result {
            Ok(_) => {
                for waiting in batch {
                    let _ = waiting.done.send(Ok(()));
                }
                true
            }
            Err(e) => {
                tracing::error!(error = %e, reports = batch.len(), "receiving courier reports failed; each is answered with an error");
                for waiting in batch {
                    let _ = waiting.done.send(Err(ServiceError::Internal(format!(
                        "recording a courier report: {e}"
                    ))));
                }
                false
            }
        }
    }

    /// Applies the oldest reports in the inbox; whether more may be left
    /// (it took as many as it may).
    async fn apply_some(&self, conn: &mut Option<PooledConn>, limit: usize) -> bool {
        let started = std::time::Instant::now();
        match self.take_turn(conn, Turn::Apply(limit)).await.1 {
            Ok(applied) => {
                tracing::debug!(
                    reports = applied.reports.len(),
                    micros = started.elapsed().as_micros() as u64,
                    "applied a batch of courier reports"
                );
                if applied.notices {
                    self.job_signal.notify_one();
                }
                for (report, (order_id, outcome)) in applied.reports.iter().zip(applied.outcomes) {
                    log_report(report, order_id, outcome);
                }
                applied.reports.len() == limit
            }
            Err(e) => {
                // They stay in the inbox, for the next turn.
                tracing::error!(error = %e, "applying courier reports failed; they are tried again on the writer's next turn");
                false
            }
        }
    }

    /// Runs `turn` in one transaction: on SQLite's writer in place when
    /// there is one, else on the writer's connection (taken from the pool
    /// if it has none), tried again if another server moved one of its
    /// parcels or orders meanwhile. A pooled connection that failed
    /// otherwise is given back, not used again. Hands the turn back with
    /// what came of it.
    async fn take_turn(
        &self,
        conn: &mut Option<PooledConn>,
        turn: Turn,
    ) -> (Turn, Result<Applied>) {
        if let Some(writer) = self.db.writer.clone() {
            return self.take_turn_in_place(writer, turn).await;
        }
        for attempt in 1.. {
            let held = match conn {
                Some(held) => held,
                None => match self.db.conn().await {
                    Ok(taken) => conn.insert(taken),
                    Err(e) => return (turn, Err(e.into())),
                },
            };
            match self.take_turn_on_pool(held, &turn).await {
                Err(ServiceError::Conflict(_)) if attempt < ATTEMPTS => {}
                Err(e) => {
                    *conn = None;
                    return (turn, Err(e));
                }
                done => return (turn, done),
            }
        }
        unreachable!("the last attempt returns")
    }

    async fn take_turn_on_pool(&self, conn: &mut PooledConn, turn: &Turn) -> Result<Applied> {
        let mut tx = self.db.begin_on(conn).await?;
        let done = self.run_turn(&mut WriteConn::Pool(&mut tx), turn).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// [`Self::run_turn`] in a blocking task, on SQLite's writer: its
    /// statements never wait, so the future is run to its end right there.
    /// Once: the transaction holds SQLite's one write lock from before its
    /// read, so nothing can move a parcel or an order between its read and
    /// its write (the pool's retries are for PostgreSQL).
    async fn take_turn_in_place(
        &self,
        writer: std::sync::Arc<SqliteWriter>,
        turn: Turn,
    ) -> (Turn, Result<Applied>) {
        let services = self.clone();
        let runtime = tokio::runtime::Handle::current();
        let task = tokio::task::spawn_blocking(move || {
            let result = writer.transaction(|tx| runtime.block_on(services.run_turn(tx, &turn)));
            (turn, result)
        });
        // A panic in the task is the writer's: it goes on up, to end the
        // writer's task (the waiting callers hear that it stopped).
        task.await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// What a turn writes, in the caller's transaction.
    async fn run_turn(&self, tx: &mut WriteConn<'_>, turn: &Turn) -> Result<Applied> {
        match turn {
            Turn::Receive(batch) => {
                let at = self.now_ms();
                let reports: Vec<Report> = batch
                    .iter()
                    .map(|w| Report {
                        courier: w.courier,
                        consignment_id: &w.report.consignment_id,
                        parcel_status: w.report.status,
                        courier_status: &w.report.courier_status,
                        collected: w.report.collected,
                        delivery_fee: w.report.delivery_fee,
                        courier_at: w.report.at.as_deref(),
                        source: w.source,
                        received_at: at,
                    })
                    .collect();
                inbox::receive(tx, self.db.engine, &reports).await?;
                Ok(Applied::default())
            }
            Turn::Apply(limit) => self.apply_oldest(tx, *limit).await,
        }
    }
}
