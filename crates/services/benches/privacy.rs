//! Issue 4's privacy benchmarks, on SQLite and PostgreSQL among 1,000,000
//! orders: the access export of a customer with 1,000 orders and 200 proofs,
//! and the erasure of one ordinary customer (about 10 orders) and of that
//! heavy customer. Each is measured next to a baseline taken in the same run
//! that reads the same rows with plain SELECTs and decrypts nothing.
//! Targets: export under 5 s besides copying media bytes (the proofs here
//! are small, so copying them is negligible), erasure under 1 s.
//!
//! ```sh
//! cargo bench -p chotomoni-services --bench privacy
//! PRIVACY_BENCH_ORDERS=100000 cargo bench -p chotomoni-services --bench privacy  # a quick run
//! PRIVACY_BENCH_ENGINES=sqlite ...    # one engine only (sqlite, postgres)
//! PRIVACY_BENCH_WRITE=1 ...           # also appends the tables to docs/benchmarks.md
//! ```
//!
//! PostgreSQL is required (`CHOTOMONI_TEST_POSTGRES`, as for the tests).
//! Built but not run by `cargo test --benches`: without cargo bench's
//! `--bench` argument it only says how to run it.
use bytes::Bytes;
use chotomoni_crypto::MasterKey;
use chotomoni_domain::catalog::{Purpose, Recipient};
use chotomoni_domain::{
    ConsentPurpose, CustomerId, OrderNumber, OrderStatus, PaymentMethod, ProofKind,
};
use chotomoni_services::auth::ClientInfo;
use chotomoni_services::consents::{ConsentChannel, CookieChoice};
use chotomoni_services::erasure::ErasureResult;
use chotomoni_services::orders::{AddressInput, CustomerInput, ItemInput, OrderInput};
use chotomoni_services::policies::Acceptance;
use chotomoni_services::privacy_export::ExportState;
use chotomoni_services::proofs::upload::NewUpload;
use chotomoni_services::{Actor, MediaConfig, Services, Settings};
use chotomoni_storage::blobs::{BlobConfig, BlobStore};
use chotomoni_storage::Db;
use chotomoni_testkit::{Engine, TestDb};
use std::time::{Duration, Instant};

#[path = "privacy/baselines.rs"]
mod baselines;
#[path = "privacy/scene.rs"]
mod scene;
use baselines::*;
use scene::*;

/// Orders of the heavy customer, and proofs on them (two on each of the first 100).
const HEAVY_ORDERS: usize = 1_000;
const HEAVY_PROOFS: usize = 200;
/// Bytes of each proof: a fake MP4, small enough that copying media is negligible.
const PROOF_BYTES: usize = 20 * 1024;
const HEAVY_PHONE: &str = "01711000444";
/// Exports of the heavy customer timed; the median is reported.
const EXPORT_ROUNDS: usize = 3;
/// Ordinary customers erased; the median and the slowest are reported.
const ERASURES: usize = 5;
const BASELINE_ROUNDS: usize = 5;
const EXPORT_TARGET: Duration = Duration::from_secs(5);
const ERASURE_TARGET: Duration = Duration::from_secs(1);

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "privacy: a benchmark; run it with `cargo bench -p chotomoni-services --bench privacy`"
        );
        return;
    }
    let orders: usize = std::env::var("PRIVACY_BENCH_ORDERS")
        .ok()
        .map(|v| {
            v.replace(['_', ','], "")
                .parse()
                .expect("PRIVACY_BENCH_ORDERS: a number")
        })
        .unwrap_or(1_000_000);
    let engines: Vec<Engine> = std::env::var("PRIVACY_BENCH_ENGINES")
        .unwrap_or_else(|_| "sqlite,postgres".into())
        .split(',')
        .map(|e| match e.trim() {
            "sqlite" => Engine::Sqlite,
            "postgres" | "postgresql" => Engine::Postgres,
            other => panic!("PRIVACY_BENCH_ENGINES: unknown engine {other:?}"),
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut sections = Vec::new();
    for engine in engines {
        let section = runtime.block_on(bench_engine(engine, orders));
        println!("\n{section}");
        sections.push(section);
    }
    if std::env::var("PRIVACY_BENCH_WRITE").is_ok_and(|v| v == "1") {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/benchmarks.md");
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let day = chrono::Utc::now().format("%Y-%m-%d");
        let text = format!(
            "\n## Access export and erasure ({day}, {cores} cores, {} orders)\n\n\
             `cargo bench -p chotomoni-services --bench privacy`\n\n{}",
            thousands(orders as u64),
            sections.join("\n")
        );
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .expect("append to docs/benchmarks.md");
        println!("appended to docs/benchmarks.md");
    }
}

async fn bench_engine(engine: Engine, orders: usize) -> String {
    let name = match engine {
        Engine::Sqlite => "SQLite",
        Engine::Postgres => "PostgreSQL",
    };
    eprintln!("== {name}");
    let t = TestDb::fresh(engine).await;
    let services = services_over(&t).await;

    let started = Instant::now();
    chotomoni_services::seed::seed_bulk(&services, orders, |done| {
        if done % 200_000 == 0 {
            eprintln!(
                "  seeded {done} orders, {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    })
    .await
    .expect("seed");
    let seed_time = started.elapsed();
    eprintln!("  seed: {orders} orders in {}", show(seed_time));

    let started = Instant::now();
    let heavy = heavy_customer(&services).await;
    let heavy_time = started.elapsed();
    eprintln!(
        "  heavy customer {}: {HEAVY_ORDERS} orders and {HEAVY_PROOFS} proofs in {}",
        heavy.id,
        show(heavy_time)
    );
    settle(&services).await;

    // The export: baseline reads first, then the exports, the baseline again.
    let mut export_base = Vec::new();
    for _ in 0..BASELINE_ROUNDS {
        export_base.push(export_baseline(services.db(), heavy.id).await);
    }
    let mut exports = Vec::new();
    for round in 0..EXPORT_ROUNDS {
        let e = time_export(&services, heavy.id).await;
        eprintln!("  export {}: {} ({})", round + 1, show(e.time), e.stages);
        exports.push(e);
    }
    for _ in 0..BASELINE_ROUNDS {
        export_base.push(export_baseline(services.db(), heavy.id).await);
    }
    exports.sort_by_key(|e| e.time);
    let export = &exports[exports.len() / 2];
    let export_base = median(&mut export_base);

    // Erasure of ordinary customers: each one's baseline just before it.
    let chosen = ordinary_customers(services.db(), heavy.id, ERASURES).await;
    let mut erase_times = Vec::new();
    let mut erase_bases = Vec::new();
    for (id, n_orders) in &chosen {
        let base = erasure_baseline(services.db(), *id).await;
        let time = time_erasure(&services, *id).await;
        eprintln!(
            "  erase customer {id} ({n_orders} orders): {} (baseline {})",
            show(time),
            show(base)
        );
        erase_times.push(time);
        erase_bases.push(base);
    }
    let erase_max = *erase_times.iter().max().expect("erasures");
    let erase_max_base = erase_bases[erase_times.iter().position(|t| *t == erase_max).unwrap()];
    let erase_median = median(&mut erase_times.clone());
    let erase_base = median(&mut erase_bases);
    let order_counts: Vec<String> = chosen.iter().map(|(_, n)| n.to_string()).collect();

    // Erasure of the heavy customer (their exports go too).
    let heavy_base = erasure_baseline(services.db(), heavy.id).await;
    let heavy_erase = time_erasure(&services, heavy.id).await;
    eprintln!(
        "  erase heavy customer: {} (baseline {})",
        show(heavy_erase),
        show(heavy_base)
    );

    let rows = [
        Row {
            operation: format!(
                "export, {} orders + {HEAVY_PROOFS} proofs (median of {EXPORT_ROUNDS})",
                thousands(HEAVY_ORDERS as u64)
            ),
            time: export.time,
            baseline: export_base,
            target: EXPORT_TARGET,
        },
        Row {
            operation: format!(
                "erasure, ordinary customer ({} orders), median of {ERASURES}",
                order_counts.join("/")
            ),
            time: erase_median,
            baseline: erase_base,
            target: ERASURE_TARGET,
        },
        Row {
            operation: format!("erasure, ordinary customer, slowest of {ERASURES}"),
            time: erase_max,
            baseline: erase_max_base,
            target: ERASURE_TARGET,
        },
        Row {
            operation: format!(
                "erasure, the export's customer ({} orders, {HEAVY_PROOFS} proofs, {EXPORT_ROUNDS} exports)",
                thousands(HEAVY_ORDERS as u64)
            ),
            time: heavy_erase,
            baseline: heavy_base,
            target: ERASURE_TARGET,
        },
    ];
    let mut out = format!(
        "### {name}, {} orders\n\n\
         | operation | time | baseline: same rows, plain SELECTs | ratio | target | met |\n\
         |---|---|---|---|---|---|\n",
        thousands(orders as u64)
    );
    for r in &rows {
        let ratio = r.time.as_secs_f64() / r.baseline.as_secs_f64().max(1e-9);
        out.push_str(&format!(
            "| {} | {} | {} | {} | < {} s | {} |\n",
            r.operation,
            show(r.time),
            show(r.baseline),
            if ratio < 10.0 {
                format!("{ratio:.1}×")
            } else {
                format!("{ratio:.0}×")
            },
            r.target.as_secs(),
            if r.time < r.target { "yes" } else { "**no**" }
        ));
    }
    out.push_str(&format!(
        "\nSeed {} orders: {}. The heavy customer ({} orders through `create_order`, {HEAVY_PROOFS} \
         proofs through `create_upload` + `append_upload`, sessions, consents, cookie choices, \
         policy acceptances, disclosures): {}. Export ZIP {} bytes, of which proof media {} bytes; \
         stages of the median export, when the 20 ms poll first saw them: {}.\n",
        thousands(orders as u64),
        show(seed_time),
        thousands(HEAVY_ORDERS as u64),
        show(heavy_time),
        thousands(export.zip_bytes),
        thousands(heavy.media_bytes),
        export.stages,
    ));
    drop(services);
    out
}

struct Row {
    operation: String,
    time: Duration,
    baseline: Duration,
    target: Duration,
}

struct ExportRun {
    time: Duration,
    zip_bytes: u64,
    /// When each stage was first seen, from the start.
    stages: String,
}

/// From `start_export` until `export_status` says ready, polling every 20 ms.
async fn time_export(s: &Services, customer_id: i64) -> ExportRun {
    let started = Instant::now();
    let status = s
        .start_export(&Actor::System, customer_id, None)
        .await
        .expect("start export");
    let mut stages: Vec<(String, Duration)> = vec![(status.stage.clone(), started.elapsed())];
    loop {
        let status = s
            .export_status(&Actor::System, status.id)
            .await
            .expect("export status");
        let now = started.elapsed();
        if stages
            .last()
            .is_none_or(|(stage, _)| *stage != status.stage)
        {
            stages.push((status.stage.clone(), now));
        }
        match status.status {
            ExportState::Ready => {
                return ExportRun {
                    time: now,
                    zip_bytes: status.size.unwrap_or(0) as u64,
                    stages: stages
                        .iter()
                        .map(|(stage, at)| format!("{stage} {}", show(*at)))
                        .collect::<Vec<_>>()
                        .join(", "),
                };
            }
            ExportState::Building => {}
            other => panic!("the export ended {other:?}: {:?}", status.error),
        }
        assert!(
            now < Duration::from_secs(600),
            "the export took over 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn time_erasure(s: &Services, id: i64) -> Duration {
    let started = Instant::now();
    let result = s
        .erase_customer(&Actor::System, CustomerId(id), None)
        .await
        .expect("erasure");
    let time = started.elapsed();
    match result {
        ErasureResult::Done(report) => assert!(!report.already_erased),
        ErasureResult::Postponed { reason } => panic!("erasure postponed: {reason}"),
    }
    time
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn show(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
