//! Audit entries. Changes are written in the same transaction as the change
//! itself. Views of personal data, which are far more frequent and change
//! nothing, go through a background writer that commits them in batches at
//! most every `GATHER` (sooner when `flush` is asked for or a batch is full).
//! Every commit to a SQLite database makes every other connection drop its
//! page cache, so committing each view as it came would slow every reader;
//! the price is that a crash can lose the views of the last half second.
use chotomoni_domain::AuditAction;
use chotomoni_storage::sqlite_writer::WriteConn;
use chotomoni_storage::{audit, Db};
use tokio::sync::{mpsc, oneshot};

use crate::Actor;

enum Msg {
    Entry {
        at: i64,
        actor: String,
        action: AuditAction,
        target: String,
        detail: String,
    },
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<Msg>,
}

impl AuditWriter {
    pub fn start(db: Db) -> AuditWriter {
        // Room for the next batch while one is being written.
        let (tx, rx) = mpsc::channel(2 * MAX_BATCH);
        tokio::spawn(run(db, rx));
        AuditWriter { tx }
    }

    /// Records a view; waits only if the writer is far behind.
    pub async fn view(&self, actor: &Actor, action: AuditAction, target: String, detail: String) {
        let msg = Msg::Entry {
            at: crate::now_ms(),
            actor: actor.audit_ref(),
            action,
            target,
            detail,
        };
        if self.tx.send(msg).await.is_err() {
            tracing::error!("audit writer has stopped; a view was not recorded");
        }
    }

    /// Waits until everything recorded so far is committed.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

const GATHER: std::time::Duration = std::time::Duration::from_millis(500);
/// Every batch rewrites the index pages its rows land on (by target, so all
/// over the index): fewer, larger batches write far less. At a busy packing
/// station's peak, half a second of views stays under this.
const MAX_BATCH: usize = 32_768;

async fn run(db: Db, mut rx: mpsc::Receiver<Msg>) {
    while let Some(first) = rx.recv().await {
        let deadline = tokio::time::Instant::now() + GATHER;
        let mut flushing = matches!(first, Msg::Flush(_));
        let mut batch = vec![first];
        while !flushing && batch.len() < MAX_BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(m)) => {
                    flushing = matches!(m, Msg::Flush(_));
                    batch.push(m);
                }
                Ok(None) | Err(_) => break,
            }
        }
        if let Err(e) = write(&db, &batch).await {
            tracing::error!(error = %e, entries = batch.len(), "audit batch failed");
        }
        for m in batch {
            if let Msg::Flush(done) = m {
                let _ = done.send(());
            }
        }
    }
}

async fn write(db: &Db, batch: &[Msg]) -> chotomoni_storage::Result<()> {
    let entries: Vec<audit::Entry> = batch
        .iter()
        .filter_map(|m| match m {
            Msg::Entry {
                at,
                actor,
                action,
                target,
                detail,
            } => Some(audit::Entry {
                at: *at,
                actor,
                action: *action,
                target,
                detail,
            }),
            Msg::Flush(_) => None,
        })
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    audit::append_many(&mut WriteConn::Pool(&mut tx), db.engine, &entries).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes a change's audit entry inside the change's own transaction.
pub async fn change(
    conn: &mut chotomoni_storage::Conn,
    actor: &Actor,
    action: AuditAction,
    target: &str,
    detail: &str,
) -> chotomoni_storage::Result<()> {
    audit::append(
        conn,
        crate::now_ms(),
        &actor.audit_ref(),
        action,
        target,
        detail,
    )
    .await
}
