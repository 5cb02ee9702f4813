//! The job queue's table. A job is claimed by one server at a time: on
//! PostgreSQL with `FOR UPDATE SKIP LOCKED`, on SQLite inside one immediate
//! write transaction (SQLite has one writer at a time). A claim is the
//! state transition that comes before any side effect: it takes a lease
//! and counts the attempt. Every later change is made only by the lease's
//! owner, so a server whose lease ran out (and whose job another server
//! took over) can no longer finish or fail it.
use crate::{duplicate_as, stored, Db, Engine, Result, StorageError};
use chotomoni_domain::{JobKind, JobState};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub id: i64,
    pub kind: JobKind,
    pub dedupe_key: String,
    /// JSON: ids and options, never personal data in clear.
    pub payload: String,
    /// Sealed under the installation's key; cleared once the job is done.
    pub sealed: Option<Vec<u8>>,
    pub state: JobState,
    pub run_at: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

const COLUMNS: &str = "id, kind, dedupe_key, payload, sealed, state, run_at, attempts, \
    max_attempts, lease_owner, lease_until, last_error, created_at, updated_at, finished_at";

impl FromRow<'_, AnyRow> for JobRow {
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error> {
        Ok(JobRow {
            id: row.try_get("id")?,
            kind: stored(row, "jobs", "kind", JobKind::parse)?,
            dedupe_key: row.try_get("dedupe_key")?,
            payload: row.try_get("payload")?,
            sealed: row.try_get("sealed")?,
            state: stored(row, "jobs", "state", JobState::parse)?,
            run_at: row.try_get("run_at")?,
            attempts: row.try_get("attempts")?,
            max_attempts: row.try_get("max_attempts")?,
            lease_owner: row.try_get("lease_owner")?,
            lease_until: row.try_get("lease_until")?,
            last_error: row.try_get("last_error")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            finished_at: row.try_get("finished_at")?,
        })
    }
}

pub struct NewJob<'a> {
    pub kind: JobKind,
    pub dedupe_key: &'a str,
    pub payload: &'a str,
    pub sealed: Option<&'a [u8]>,
    pub run_at: i64,
    pub max_attempts: i64,
}

/// Queues a job unless one with the same key is queued or running; returns
/// the new job's id, `None` when it was already there.
pub async fn enqueue(conn: &mut AnyConnection, job: &NewJob<'_>, now: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO jobs (kind, dedupe_key, payload, sealed, state, run_at, attempts, \
         max_attempts, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'queued', $5, 0, $6, $7, $7) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(job.kind.as_str())
    .bind(job.dedupe_key)
    .bind(job.payload)
    .bind(job.sealed.map(<[u8]>::to_vec))
    .bind(job.run_at)
    .bind(job.max_attempts)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

/// Queues each of `jobs` unless one with its key is queued or running, in
/// few statements (for a write that queues many, such as a batch of courier
/// reports); how many were added.
pub async fn enqueue_many(
    conn: &mut crate::sqlite_writer::WriteConn<'_>,
    engine: Engine,
    jobs: &[NewJob<'_>],
    now: i64,
) -> Result<u64> {
    const COLUMNS: &str = "kind, dedupe_key, payload, sealed, state, run_at, attempts, \
         max_attempts, created_at, updated_at";
    let mut added = 0;
    for chunk in jobs.chunks(64) {
        let mut q = crate::sql::Sql::many(engine, &format!("WITH v ({COLUMNS}, pos) AS (VALUES "));
        q.padded_rows(chunk, |q, job| {
            q.bind(job.kind.as_str())
                .push(", ")
                .bind(job.dedupe_key)
                .push(", ")
                .bind(job.payload)
                .push(", ")
                .bind(job.sealed.map(<[u8]>::to_vec))
                .push(", 'queued', ")
                .bind(job.run_at)
                .push(", 0, ")
                .bind(job.max_attempts)
                .push(", ")
                .bind(now)
                .push(", ")
                .bind(now);
        })
        .push(&format!(
            ") INSERT INTO jobs ({COLUMNS}) SELECT {COLUMNS} FROM v WHERE pos < "
        ))
        .bind_kept(chunk)
        .push(" ORDER BY pos ON CONFLICT DO NOTHING");
        added += conn.execute(q).await?;
    }
    Ok(added)
}

/// Jobs whose runner stopped mid-run and that must not run twice (see
/// `JobKind::at_most_once`) are given up instead of taken over, with why.
pub async fn give_up_lost(db: &Db, kinds: &[JobKind], now: i64) -> Result<u64> {
    if kinds.is_empty() {
        return Ok(0);
    }
    // Looked for first: a server that polls takes SQLite's write lock only
    // when there is something to write, not on every look.
    let mut look = crate::sql::Sql::new("SELECT 1 FROM jobs");
    lost(&mut look, kinds, now).push(" LIMIT 1");
    let (text, args) = look.into_parts();
    if sqlx::query_with(&text, args)
        .fetch_optional(&db.pool)
        .await?
        .is_none()
    {
        return Ok(0);
    }
    let mut sql = crate::sql::Sql::new("UPDATE jobs SET state = 'failed', finished_at = ");
    sql.bind(now).push(", updated_at = ").bind(now).push(
        ", lease_owner = NULL, lease_until = NULL, last_error = 'the server running it stopped \
             before it was known to be done; not run again, so it cannot happen twice (retry it \
             if it did not)'",
    );
    lost(&mut sql, kinds, now);
    let (text, args) = sql.into_parts();
    Ok(sqlx::query_with(&text, args)
        .execute(&db.pool)
        .await?
        .rows_affected())
}

/// The condition of jobs of `kinds` whose lease ran out.
fn lost<'q>(sql: &'q mut crate::sql::Sql, kinds: &[JobKind], now: i64) -> &'q mut crate::sql::Sql {
    sql.push(" WHERE state = 'running' AND lease_until < ")
        .bind(now)
        .push(" AND kind IN (")
        .list(kinds, ", ", |s, k| {
            s.bind(k.as_str());
        })
        .push(")")
}

/// Claims the next due job (or one whose lease ran out) for `owner` until
/// `lease_until`, counting the attempt; only of kind `only` if given.
pub async fn claim(
    db: &Db,
    owner: &str,
    lease_until: i64,
    now: i64,
    only: Option<JobKind>,
) -> Result<Option<JobRow>> {
    let lock = match db.engine {
        Engine::Postgres => " FOR UPDATE SKIP LOCKED",
        Engine::Sqlite => "",
    };
    const DUE: &str =
        "((state = 'queued' AND run_at <= $1) OR (state = 'running' AND lease_until < $1)) \
         AND ($2 IS NULL OR kind = $2)";
    // Looked for first, outside a write transaction: an idle server's
    // workers take SQLite's write lock only when a job is due.
    let due: Option<i64> = sqlx::query_scalar(&format!("SELECT 1 FROM jobs WHERE {DUE} LIMIT 1"))
        .bind(now)
        .bind(only.map(JobKind::as_str))
        .fetch_optional(&db.pool)
        .await?;
    if due.is_none() {
        return Ok(None);
    }
    // The same condition and its parameters ($1, $2) as the look above.
    let text = format!(
        "UPDATE jobs SET state = 'running', lease_owner = $3, lease_until = $4, \
         attempts = attempts + 1, updated_at = $1 \
         WHERE id = (SELECT id FROM jobs WHERE {DUE} ORDER BY run_at, id LIMIT 1{lock}) \
         RETURNING {COLUMNS}"
    );
    let mut tx = db.begin().await?;
    let row = sqlx::query_as(&text)
        .bind(now)
        .bind(only.map(JobKind::as_str))
        .bind(owner)
        .bind(lease_until)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(row)
}

/// Extends a lease; `false` when it is no longer the owner's.
pub async fn renew(db: &Db, id: i64, owner: &str, until: i64, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET lease_until = $1, updated_at = $2 \
         WHERE id = $3 AND lease_owner = $4 AND state = 'running'",
    )
    .bind(until)
    .bind(now)
    .bind(id)
    .bind(owner)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What the owner of a lease makes of its job when it ends.
pub enum Outcome<'a> {
    Done,
    /// Queued again (a recurring job's next run, or a retry) at this time.
    Again {
        run_at: i64,
        error: Option<&'a str>,
    },
    /// Given up, with the error kept.
    Failed {
        error: &'a str,
    },
}

/// Ends the owner's run of job `id`; `false` when the lease was lost.
pub async fn end(
    conn: &mut AnyConnection,
    id: i64,
    owner: &str,
    outcome: Outcome<'_>,
    now: i64,
) -> Result<bool> {
    let (state, run_at, error, finished, keep_sealed, attempts) = match outcome {
        Outcome::Done => ("done", None, None, Some(now), false, None),
        // A recurring job's attempts count its failures in a row.
        Outcome::Again {
            run_at,
            error: None,
        } => ("queued", Some(run_at), None, None, true, Some(0_i64)),
        Outcome::Again {
            run_at,
            error: Some(e),
        } => ("queued", Some(run_at), Some(e), None, true, None),
        Outcome::Failed { error } => ("failed", None, Some(error), Some(now), true, None),
    };
    let done = sqlx::query(
        "UPDATE jobs SET state = $1, run_at = COALESCE($2, run_at), last_error = $3, \
         finished_at = $4, sealed = CASE WHEN $5 = 1 THEN sealed END, \
         attempts = COALESCE($6, attempts), lease_owner = NULL, lease_until = NULL, \
         updated_at = $7 WHERE id = $8 AND lease_owner = $9 AND state = 'running'",
    )
    .bind(state)
    .bind(run_at)
    .bind(error.map(|e| truncated(e, 2000)))
    .bind(finished)
    .bind(i64::from(keep_sealed))
    .bind(attempts)
    .bind(now)
    .bind(id)
    .bind(owner)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn truncated(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<JobRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// The queued or running job with this key, if any.
pub async fn active_by_key(conn: &mut AnyConnection, key: &str) -> Result<Option<JobRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM jobs WHERE dedupe_key = $1 AND state IN ('queued', 'running')"
    ))
    .bind(key)
    .fetch_optional(conn)
    .await?)
}

/// The newest jobs, optionally only those in `state`.
pub async fn list(
    conn: &mut AnyConnection,
    state: Option<JobState>,
    limit: i64,
) -> Result<Vec<JobRow>> {
    let filter = if state.is_some() {
        "WHERE state = $2"
    } else {
        "WHERE $2 IS NULL"
    };
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM jobs {filter} ORDER BY updated_at DESC, id DESC LIMIT $1"
    ))
    .bind(limit)
    .bind(state.map(JobState::as_str))
    .fetch_all(conn)
    .await?)
}

/// How many jobs are in each state.
pub async fn counts(conn: &mut AnyConnection) -> Result<Vec<(JobState, i64)>> {
    let rows: Vec<AnyRow> =
        sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state ORDER BY state")
            .fetch_all(conn)
            .await?;
    rows.iter()
        .map(|r| {
            Ok((
                stored(r, "jobs", "state", JobState::parse)?,
                r.try_get("n")?,
            ))
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(StorageError::Database)
}

/// Queues a failed job again with its attempts reset; `false` if it is not
/// failed; `Duplicate` if the same work is queued again meanwhile.
pub async fn retry(conn: &mut AnyConnection, id: i64, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'queued', run_at = $1, attempts = 0, finished_at = NULL, \
         updated_at = $1 WHERE id = $2 AND state = 'failed'",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await
    .map_err(duplicate_as("job"))?;
    Ok(done.rows_affected() == 1)
}

/// Removes a recurring job's row (its off switch): it is not claimed again.
pub async fn remove_queued(conn: &mut AnyConnection, key: &str) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM jobs WHERE dedupe_key = $1 AND state = 'queued'")
            .bind(key)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Deletes finished jobs older than `done_before`, and clears what failed
/// ones still hold sealed once it is older than `sealed_before`.
pub async fn sweep(conn: &mut AnyConnection, done_before: i64, sealed_before: i64) -> Result<u64> {
    let deleted = sqlx::query("DELETE FROM jobs WHERE state = 'done' AND finished_at < $1")
        .bind(done_before)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    sqlx::query(
        "UPDATE jobs SET sealed = NULL WHERE sealed IS NOT NULL AND state <> 'running' \
         AND created_at < $1",
    )
    .bind(sealed_before)
    .execute(conn)
    .await?;
    Ok(deleted)
}
