//! A consistent copy of every table, for `chotomoni backup` and `restore`.
//! Each table becomes a JSON-lines file: a header naming the columns, then
//! one array of values per row (integers as numbers, text as strings, bytes
//! as `{"b64": …}`), read inside one snapshot (PostgreSQL: a repeatable-read,
//! read-only transaction; SQLite in WAL mode: one read transaction). The
//! format is the same for both engines, so a backup of one restores into the
//! other. Customers' keys are not in it: see [`crate::key_vault`].
use crate::sql::Sql;
use crate::{Db, Engine, Result};
use base64::Engine as _;
use futures::TryStreamExt;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::io::{BufRead, Write};
use std::path::Path;

/// Every table a backup holds, parents before children (restore order).
pub const TABLES: &[&str] = &[
    "customers",
    "products",
    "staff",
    "orders",
    "order_items",
    "order_events",
    "consignments",
    "courier_events",
    "courier_inbox",
    "courier_payouts",
    "payments",
    "consents",
    "audit_log",
    // Claims hold their order's proofs, and evidence proofs name their claim.
    "legal_holds",
    "claims",
    "claim_items",
    "refunds",
    "claim_packs",
    "proofs",
    "translog_nodes",
    "translog_heads",
    "share_links",
    "policy_versions",
    "policy_acceptances",
    "marketing_suppressions",
    "cookie_choices",
    "disclosures",
    "privacy_requests",
    "privacy_request_events",
    "erasures",
    "exports",
    "order_signals",
    "order_phone_checks",
];

/// Tables a backup leaves out, and why.
pub const LEFT_OUT: &[(&str, &str)] = &[
    (
        "installation",
        "the master key's canary, written anew at the first start after a restore",
    ),
    (
        "customer_keys",
        "kept only in the live database and the key vault, so an erasure reaches every backup at once",
    ),
    (
        "uploads",
        "unfinished uploads: their staged bytes are not in the backup; the station sends them again",
    ),
    (
        "sessions",
        "sign-ins with IP addresses and browsers, kept in clear: a restore signs everyone out",
    ),
    (
        "sign_in_attempts",
        "a day's keyed fingerprints of sign-in attempts, against password guessing",
    ),
    (
        "phone_verifications",
        "one-time codes, valid for minutes",
    ),
    ("request_codes", "one-time codes, valid for minutes"),
    (
        "jobs",
        "background work in progress: recurring jobs are declared anew at start, and the privacy scan and sweeps queue again what a restored database still needs",
    ),
];

/// Columns a backup leaves out, and why. They are rebuilt by a restore.
pub const LEFT_OUT_COLUMNS: &[(&str, &str, &str)] = &[
    (
        "customers",
        "phone_index",
        "keyed under the installation's key, not the person's: a restore rebuilds it from the sealed number",
    ),
    (
        "customers",
        "email_index",
        "keyed under the installation's key, not the person's: a restore rebuilds it from the sealed address",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
    Bytes,
}

/// What one table's file holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TableFile {
    pub table: String,
    pub rows: u64,
    pub sha256: String,
}

async fn columns(
    conn: &mut sqlx::AnyConnection,
    engine: Engine,
    table: &str,
) -> Result<Vec<(String, Kind)>> {
    let sql = match engine {
        Engine::Sqlite => "SELECT name, type FROM pragma_table_info($1) ORDER BY cid",
        Engine::Postgres => {
            "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
        }
    };
    let rows: Vec<(String, String)> = sqlx::query_as(sql).bind(table).fetch_all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(name, ty)| {
            let ty = ty.to_ascii_uppercase();
            let kind = if ty.contains("INT") {
                Kind::Int
            } else if ty.contains("BLOB") || ty.contains("BYTEA") {
                Kind::Bytes
            } else {
                Kind::Text
            };
            (name, kind)
        })
        .collect())
}

fn value_of(row: &AnyRow, i: usize, kind: Kind) -> Result<Value> {
    Ok(match kind {
        Kind::Int => json!(row.try_get::<Option<i64>, _>(i)?),
        Kind::Text => json!(row.try_get::<Option<String>, _>(i)?),
        Kind::Bytes => match row.try_get::<Option<Vec<u8>>, _>(i)? {
            Some(b) => json!({ "b64": base64::engine::general_purpose::STANDARD.encode(b) }),
            None => Value::Null,
        },
    })
}

/// Writes every table of [`TABLES`] into `dir` from one snapshot, and hands
/// each customer key seen in that snapshot to `key` (for the key vault).
pub async fn dump(
    db: &Db,
    dir: &Path,
    mut key: impl FnMut(i64, Vec<u8>),
) -> Result<Vec<TableFile>> {
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tx = db.pool.begin().await?;
    if db.engine == Engine::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
    }
    let mut out = Vec::new();
    for table in TABLES {
        let cols: Vec<(String, Kind)> = columns(&mut tx, db.engine, table)
            .await?
            .into_iter()
            .filter(|(c, _)| {
                !LEFT_OUT_COLUMNS
                    .iter()
                    .any(|(t, lc, _)| t == table && lc == c)
            })
            .collect();
        let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
        let path = dir.join(format!("{table}.jsonl"));
        let file = std::fs::File::create(&path).map_err(io)?;
        let mut w = HashingWriter::new(std::io::BufWriter::new(file));
        writeln!(w, "{}", json!({ "columns": names })).map_err(io)?;
        let order = if names.contains(&"id") {
            " ORDER BY id"
        } else {
            ""
        };
        let sql = format!("SELECT {} FROM {table}{order}", names.join(", "));
        let mut rows = sqlx::query(&sql).fetch(&mut *tx);
        let mut count = 0u64;
        while let Some(row) = rows.try_next().await? {
            let values = cols
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| value_of(&row, i, *kind))
                .collect::<Result<Vec<_>>>()?;
            writeln!(w, "{}", Value::Array(values)).map_err(io)?;
            count += 1;
        }
        drop(rows);
        out.push(TableFile {
            table: (*table).into(),
            rows: count,
            sha256: w.finish().map_err(io)?,
        });
    }
    let keys: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT customer_id, wrapped_key FROM customer_keys ORDER BY customer_id")
            .fetch_all(&mut *tx)
            .await?;
    for (id, wrapped) in keys {
        key(id, wrapped);
    }
    tx.commit().await?;
    Ok(out)
}

/// Loads a dump into an empty, migrated database in one transaction, and
/// moves PostgreSQL's id sequences past the restored ids.
pub async fn load(db: &Db, dir: &Path, files: &[TableFile]) -> Result<()> {
    let mut tx = db.begin().await?;
    for f in files {
        let path = dir.join(format!("{}.jsonl", f.table));
        let reader = std::io::BufReader::new(std::fs::File::open(&path).map_err(io)?);
        let mut lines = reader.lines();
        let header: Value = match lines.next() {
            Some(line) => serde_json::from_str(&line.map_err(io)?).map_err(bad)?,
            None => return Err(bad(format!("{} is empty", path.display()))),
        };
        let names: Vec<String> = serde_json::from_value(header["columns"].clone()).map_err(bad)?;
        let live = columns(&mut tx, db.engine, &f.table).await?;
        let kinds: Vec<Kind> = names
            .iter()
            .map(|n| {
                live.iter()
                    .find(|(l, _)| l == n)
                    .map(|(_, k)| *k)
                    .ok_or_else(|| bad(format!("{}.{n} is not in this database's schema", f.table)))
            })
            .collect::<Result<_>>()?;
        let mut batch: Vec<Vec<Value>> = Vec::new();
        for line in lines {
            let row: Vec<Value> = serde_json::from_str(&line.map_err(io)?).map_err(bad)?;
            batch.push(row);
            if batch.len() == 64 {
                insert(&mut tx, &f.table, &names, &kinds, &batch).await?;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            insert(&mut tx, &f.table, &names, &kinds, &batch).await?;
        }
        let int_id = names
            .iter()
            .zip(&kinds)
            .any(|(n, k)| n == "id" && *k == Kind::Int);
        if db.engine == Engine::Postgres && int_id {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {t} \
                 WHERE pg_get_serial_sequence('{t}', 'id') IS NOT NULL",
                t = f.table
            ))
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

async fn insert(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    names: &[String],
    kinds: &[Kind],
    rows: &[Vec<Value>],
) -> Result<()> {
    let mut sql = Sql::new(&format!(
        "INSERT INTO {table} ({}) VALUES ",
        names.join(", ")
    ));
    for (r, row) in rows.iter().enumerate() {
        if row.len() != kinds.len() {
            return Err(bad(format!(
                "a row of {table} has {} values for {} columns",
                row.len(),
                kinds.len()
            )));
        }
        sql.push(if r == 0 { "(" } else { ", (" });
        for (i, (v, kind)) in row.iter().zip(kinds).enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            match kind {
                Kind::Int => sql.bind(v.as_i64()),
                Kind::Text => sql.bind(v.as_str().map(str::to_owned)),
                Kind::Bytes => sql.bind(match v.get("b64").and_then(Value::as_str) {
                    Some(b) => Some(
                        base64::engine::general_purpose::STANDARD
                            .decode(b)
                            .map_err(bad)?,
                    ),
                    None => None,
                }),
            };
        }
        sql.push(")");
    }
    let (text, args) = sql.into_parts();
    sqlx::query_with(&text, args).execute(conn).await?;
    Ok(())
}

fn io(e: std::io::Error) -> crate::StorageError {
    crate::StorageError::Backup(e.to_string())
}

fn bad(e: impl std::fmt::Display) -> crate::StorageError {
    crate::StorageError::Backup(e.to_string())
}

/// Writes through, hashing what passes.
struct HashingWriter<W: Write> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hash: Sha256::new(),
        }
    }

    fn finish(mut self) -> std::io::Result<String> {
        self.inner.flush()?;
        Ok(hex::encode(self.hash.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The SHA-256 of a file, to check a backup before restoring it.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut hash = Sha256::new();
    let mut f = std::fs::File::open(path)?;
    std::io::copy(&mut f, &mut hash)?;
    Ok(hex::encode(hash.finalize()))
}
