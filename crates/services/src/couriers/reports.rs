//! Receiving courier reports, and the tasks that write them.
//!
//! Couriers send status webhooks in bursts, and want their answer quickly
//! (one they wait too long for is sent again). Receiving a report is one
//! row appended to the inbox (`courier_inbox`); applying it reads its parcel
//! and order and writes half a dozen rows elsewhere ([`super::apply`]). So
//! each server keeps one queue, and a receiving task that runs while
//! reports wait: it puts every report waiting (up to [`MAX_BATCH`]) into the
//! inbox in one transaction, and answers each caller once it is committed
//! (a courier never hears "received" for something a crash could lose).
//! The oldest reports in the inbox are then applied in one transaction,
//! which also takes them out of it: a few ([`APPLY_WHILE_RECEIVING`]) while
//! reports keep coming in, more ([`APPLY_BATCH`]) once they stop, until the
//! inbox is empty. On PostgreSQL an applying task does that beside the
//! receiving one. On a SQLite file, with its one writer, the receiving task
//! does it itself between two batches (two tasks taking turns on the writer
//! answered fewer webhooks, even in the order they asked), each transaction
//! in one blocking task on a connection used in place
//! ([`chotomoni_storage::sqlite_writer`]), not statement by statement
//! through the pool.
//!
//! Nothing waits on a timer: under light load a report is applied a moment
//! after it is answered; under a burst, answers go at the speed of
//! receiving and the applying follows right behind. A server starting and
//! the poll job also have the inbox applied, so reports a server received
//! and did not apply before it stopped are applied by the next one to look.
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
/// Reports applied in one transaction at most while reports keep coming
/// in: on SQLite, where receiving and applying take turns, applying stays
/// a short part of each round, so a burst's callers wait little to be
/// received (the applying catches up when it is over). 8, 16, 24 and 32
/// were measured in the courier benchmark (docs/benchmarks.md).
const APPLY_WHILE_RECEIVING: usize = 16;
/// ... and once they stop: fewer, larger transactions.
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

/// What one transaction of the tasks does.
enum Turn {
    /// Puts these reports in the inbox.
    Receive(Vec<Waiting>),
    /// Applies the oldest reports in the inbox, this many at most.
    Apply(usize),
}

/// This server's reports waiting to be received, and its two tasks.
#[derive(Default)]
pub(crate) struct ReportQueue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    waiting: Vec<Waiting>,
    /// Whether the receiving task is running (it takes batches until
    /// nothing is waiting).
    receiving: bool,
    /// Whether the applying task is running (it applies until the inbox is
    /// empty and nothing came in since it last looked).
    applying: bool,
    /// Whether reports went into the inbox since the applying task last
    /// looked at this.
    received_since: bool,
}

impl ReportQueue {
    fn state(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Ends a task's run if it panics: the next report must start a new one,
/// and the reports left waiting to be received get an error instead of
/// waiting for ever. (A task with nothing left to do ends itself, under the
/// lock.)
struct PanicGuard<'a> {
    queue: &'a ReportQueue,
    receiving: bool,
}

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut state = self.queue.state();
            if self.receiving {
                state.waiting.clear();
                state.receiving = false;
            } else {
                state.applying = false;
            }
        }
    }
}

impl Services {
    /// Receives one courier report: returns once it is committed to the
    /// inbox. It is applied next (recorded, judged against where the parcel
    /// is; when it moves the parcel on, the order follows).
    pub(crate) async fn receive_report(
        &self,
        courier: CourierName,
        report: &StatusReport,
        source: EventSource,
    ) -> Result<()> {
        let (done, received) = oneshot::channel();
        let start = {
            let mut state = self.reports.state();
            state.waiting.push(Waiting {
                courier,
                report: report.clone(),
                source,
                done,
            });
            !std::mem::replace(&mut state.receiving, true)
        };
        if start {
            self.spawn_receiver();
        }
        received
            .await
            .map_err(|_| ServiceError::Internal("the courier report receiver stopped".into()))?
    }

    /// Has what is in the inbox applied (among it, reports a server
    /// received and did not apply before it stopped): starts the task that
    /// applies, if it is not running.
    pub fn apply_received_reports(&self) {
        if self.db.writer.is_some() {
            // On SQLite the receiving task applies them.
            if !std::mem::replace(&mut self.reports.state().receiving, true) {
                self.spawn_receiver();
            }
        } else if !std::mem::replace(&mut self.reports.state().applying, true) {
            let services = self.clone();
            tokio::spawn(async move { services.apply_reports().await });
        }
    }

    /// A task of its own: the caller that started it may be dropped (its
    /// client hung up) while others wait on it.
    fn spawn_receiver(&self) {
        let services = self.clone();
        tokio::spawn(async move { services.receive_reports().await });
    }

    /// The receiving task: puts every report waiting in the inbox, a batch
    /// per transaction, and has them applied. On SQLite, with its one
    /// writer, it applies them itself between two batches (a few while
    /// reports keep coming, more once they stop; it looks at the inbox once
    /// per run); on PostgreSQL the applying task runs beside it.
    async fn receive_reports(&self) {
        let queue = self.reports.clone();
        let _guard = PanicGuard {
            queue: &queue,
            receiving: true,
        };
        let in_place = self.db.writer.is_some();
        // Kept for the whole task; given back when it ends.
        let mut conn: Option<PooledConn> = None;
        let mut inbox_has_reports = in_place;
        loop {
            let batch: Vec<Waiting> = {
                let mut state = queue.state();
                if state.waiting.is_empty() && !inbox_has_reports {
                    // Under the lock `receive_report` pushes under: a
                    // report is either taken here or starts a new task.
                    state.receiving = false;
                    return;
                }
                let n = state.waiting.len().min(MAX_BATCH);
                state.waiting.drain(..n).collect()
            };
            let received_some = !batch.is_empty();
            if received_some && self.receive_batch(&mut conn, batch).await {
                if in_place {
                    inbox_has_reports = true;
                } else {
                    queue.state().received_since = true;
                    self.apply_received_reports();
                }
            }
            if inbox_has_reports {
                let limit = if received_some {
                    APPLY_WHILE_RECEIVING
                } else {
                    APPLY_BATCH
                };
                inbox_has_reports = self.apply_some(&mut conn, limit).await == Some(true);
            }
        }
    }

    /// The applying task, on PostgreSQL: applies the oldest reports in the
    /// inbox, a batch per transaction, beside the receiving task, until the
    /// inbox is empty and nothing came in meanwhile.
    async fn apply_reports(&self) {
        let queue = self.reports.clone();
        let _guard = PanicGuard {
            queue: &queue,
            receiving: false,
        };
        let mut conn: Option<PooledConn> = None;
        let mut limit = APPLY_WHILE_RECEIVING;
        loop {
            let more = self.apply_some(&mut conn, limit).await;
            let mut state = queue.state();
            let received = std::mem::take(&mut state.received_since);
            match more {
                // Failed: the reports stay in the inbox, for the next run.
                None => {
                    state.applying = false;
                    return;
                }
                Some(false) if !received => {
                    state.applying = false;
                    return;
                }
                _ => {}
            }
            limit = if received {
                APPLY_WHILE_RECEIVING
            } else {
                APPLY_BATCH
            };
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
    /// (it took as many as it may), or `None` if it failed.
    async fn apply_some(&self, conn: &mut Option<PooledConn>, limit: usize) -> Option<bool> {
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
                Some(applied.reports.len() == limit)
            }
            Err(e) => {
                // They stay in the inbox, for the next turn.
                tracing::error!(error = %e, "applying courier reports failed; they stay in the inbox, for the next report or the poll job");
                None
            }
        }
    }

    /// Runs `turn` in one transaction: on SQLite's writer in place when
    /// there is one, else on the task's connection (taken from the pool
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
        // A panic in the blocking task goes on up, to end the task that
        // started it (the waiting callers hear that it stopped).
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
