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
        export_base.push(export_baseline(&services.db, heavy.id).await);
    }
    let mut exports = Vec::new();
    for round in 0..EXPORT_ROUNDS {
        let e = time_export(&services, heavy.id).await;
        eprintln!("  export {}: {} ({})", round + 1, show(e.time), e.stages);
        exports.push(e);
    }
    for _ in 0..BASELINE_ROUNDS {
        export_base.push(export_baseline(&services.db, heavy.id).await);
    }
    exports.sort_by_key(|e| e.time);
    let export = &exports[exports.len() / 2];
    let export_base = median(&mut export_base);

    // Erasure of ordinary customers: each one's baseline just before it.
    let chosen = ordinary_customers(&services.db, heavy.id, ERASURES).await;
    let mut erase_times = Vec::new();
    let mut erase_bases = Vec::new();
    for (id, n_orders) in &chosen {
        let base = erasure_baseline(&services.db, *id).await;
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
    let heavy_base = erasure_baseline(&services.db, heavy.id).await;
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

/// Like `services_over` in crates/web/tests/common: media in a folder beside
/// the database, a key vault, a fresh master key; 16 connections, the server's default.
async fn services_over(t: &TestDb) -> Services {
    let db = Db::connect(&t.url, 16).await.expect("connect");
    db.migrate().await.expect("migrate");
    let media = MediaConfig {
        blobs: BlobStore::open(&BlobConfig::Local {
            root: t.dir.path().join("media"),
        })
        .expect("media store"),
        staging_dir: t.dir.path().join("uploads"),
        settings: Default::default(),
        key_vault: Some(
            BlobStore::open(&BlobConfig::Local {
                root: t.dir.path().join("key-vault"),
            })
            .expect("key vault"),
        ),
    };
    let services = Services::new(
        db,
        MasterKey::generate().keyring(),
        Settings::default(),
        media,
    )
    .expect("services");
    services
        .ensure_first_policy()
        .await
        .expect("policy version 1");
    services
}

struct Heavy {
    id: i64,
    media_bytes: u64,
}

/// One customer with 1,000 orders entered by the system (the same phone
/// number each time, so the same customer), 200 proofs, 20 sessions, consent
/// changes, cookie choices, policy acceptances and 100 disclosures.
async fn heavy_customer(s: &Services) -> Heavy {
    let mut numbers = Vec::with_capacity(HEAVY_ORDERS);
    for n in 0..HEAVY_ORDERS {
        let input = OrderInput {
            customer: CustomerInput {
                name: "Tahmina Zerin Akhtaruzzaman".into(),
                phone: HEAVY_PHONE.into(),
                email: Some("tahmina.bench@example.com".into()),
            },
            address: AddressInput {
                line: format!("House {}, Lake View Road {}", n % 7 + 1, n % 3 + 1),
                area: "Dhanmondi".into(),
                district: "Dhaka".into(),
            },
            items: vec![
                ItemInput {
                    name: "Jamdani saree, Dhakai".into(),
                    sku: Some("SAR-JAM-01".into()),
                    quantity: 1,
                    unit_price: 850_000,
                },
                ItemInput {
                    name: "Sylhet tea, 500 g".into(),
                    sku: Some("TEA-SYL-05".into()),
                    quantity: (n % 3 + 1) as i64,
                    unit_price: 45_000,
                },
            ],
            delivery_instructions: (n % 2 == 0).then(|| "গেটে দুইবার বেল দিন, call first".into()),
            payment_method: if n % 4 == 0 {
                PaymentMethod::Online
            } else {
                PaymentMethod::Cod
            },
            source: None,
            marketing_opt_in: n == 0,
        };
        let view = s.create_order(&Actor::System, &input).await.expect("order");
        numbers.push(OrderNumber::parse(&view.number).expect("number"));
    }
    let id: i64 = sqlx::query_scalar("SELECT customer_id FROM orders WHERE id = $1")
        .bind(numbers[0].id().0)
        .fetch_one(&s.db.pool)
        .await
        .expect("the customer");
    let me = Actor::Customer(CustomerId(id));

    let mut media_bytes = 0u64;
    for p in 0..HEAVY_PROOFS {
        let order = numbers[p / 2];
        let file = fake_mp4(PROOF_BYTES + p);
        let upload = s
            .create_upload(
                &Actor::System,
                NewUpload {
                    order,
                    kind: if p % 2 == 0 {
                        ProofKind::Packing
                    } else {
                        ProofKind::Delivery
                    },
                    length: file.len() as u64,
                    captured_at: Some(chotomoni_services::now_ms() - 60_000),
                    file_name: Some(format!("proof-{p}.mp4")),
                },
            )
            .await
            .expect("upload");
        media_bytes += file.len() as u64;
        let body = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from(file))]);
        let done = s
            .append_upload(&Actor::System, &upload.id, 0, None, body)
            .await
            .expect("append");
        assert!(done.proof.is_some(), "the upload finished as a proof");
    }

    let client = ClientInfo {
        ip: Some("203.0.113.77".into()),
        user_agent: Some("Mozilla/5.0 (Linux; Android 14) Mobile".into()),
    };
    for _ in 0..20 {
        s.open_session(me, "bn", &client).await.expect("session");
    }
    for (i, purpose) in ConsentPurpose::ALL.into_iter().enumerate() {
        s.set_consent(&me, purpose, i % 2 == 0, ConsentChannel::AccountPage)
            .await
            .expect("consent");
    }
    for i in 0..3 {
        s.record_cookie_choice(
            &me,
            CookieChoice {
                functional: true,
                analytics: i % 2 == 0,
            },
        )
        .await
        .expect("cookie choice");
        s.accept_policy(&me, 1, Acceptance::Notice)
            .await
            .expect("policy acceptance");
    }
    let mut tx = s.db.begin().await.expect("transaction");
    for number in numbers.iter().take(100) {
        chotomoni_services::disclosures::disclose(
            &mut tx,
            id,
            Some(number.id().0),
            Recipient::Courier,
            &[
                "customers.name_enc",
                "customers.phone_enc",
                "orders.address_enc",
            ],
            Purpose::Fulfilment,
        )
        .await
        .expect("disclosure");
    }
    tx.commit().await.expect("commit");
    Heavy { id, media_bytes }
}

/// The first bytes of an MP4 (an `ftyp` box), then noise; like the tests' `fake_mp4`.
fn fake_mp4(len: usize) -> Vec<u8> {
    let mut out = vec![0, 0, 0, 0x18];
    out.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2");
    let mut state: u32 = len as u32 ^ 0x9e37_79b9;
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        out.push(state as u8);
    }
    out.truncate(len);
    out
}

/// Lets background work end before measuring: proof inspections (ffprobe on
/// each new proof), PostgreSQL's autovacuum after the bulk load (done now,
/// by hand), SQLite's write-ahead log from the load (checkpointed).
async fn settle(s: &Services) {
    let started = Instant::now();
    loop {
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM proofs WHERE probed_at IS NULL")
            .fetch_one(&s.db.pool)
            .await
            .expect("count");
        if left == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{left} proofs still uninspected"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    match s.db.engine {
        chotomoni_storage::Engine::Postgres => {
            sqlx::query("VACUUM ANALYZE")
                .execute(&s.db.pool)
                .await
                .expect("vacuum");
        }
        chotomoni_storage::Engine::Sqlite => {
            assert!(s.db.truncate_wal().await.expect("checkpoint"), "checkpoint");
        }
    }
    eprintln!("  settled in {}", show(started.elapsed()));
}

/// What the export reads about the customer, as plain SELECTs over one
/// connection: the customer with their key and indexes, orders with items
/// and events, sessions, cookie choices, consents, policy acceptances,
/// disclosures, proofs and unfinished uploads. Nothing is opened.
async fn export_baseline(db: &Db, id: i64) -> Duration {
    const QUERIES: &[&str] = &[
        "SELECT c.id, c.name_enc, c.phone_enc, c.email_enc, c.password_hash, c.created_at, \
         c.erased_at, k.wrapped_key FROM customers c LEFT JOIN customer_keys k \
         ON k.customer_id = c.id WHERE c.id = $1",
        "SELECT wrapped_key FROM customer_keys WHERE customer_id = $1",
        "SELECT phone_index, email_index FROM customers WHERE id = $1",
        "SELECT id, status, payment_method, payment_status, source, total, address_enc, \
         instructions_enc, created_at, updated_at FROM orders WHERE customer_id = $1 ORDER BY id",
        "SELECT i.order_id, i.line_no, i.sku, i.name, i.quantity, i.unit_price \
         FROM order_items i JOIN orders o ON o.id = i.order_id \
         WHERE o.customer_id = $1 ORDER BY i.order_id, i.line_no",
        "SELECT e.order_id, e.from_status, e.to_status, e.staff_id, e.at \
         FROM order_events e JOIN orders o ON o.id = e.order_id \
         WHERE o.customer_id = $1 ORDER BY e.order_id, e.id",
        "SELECT kind, lang, cart, ip_address, user_agent, device_kind, created_at, last_seen_at, \
         expires_at FROM sessions WHERE customer_id = $1 ORDER BY created_at",
        "SELECT id, functional, analytics, policy_version, at FROM cookie_choices \
         WHERE customer_id = $1 ORDER BY at",
        "SELECT purpose, granted, channel, policy_version, wording, at FROM consents \
         WHERE customer_id = $1 ORDER BY id",
        "SELECT version, channel, at FROM policy_acceptances WHERE customer_id = $1 ORDER BY id",
        "SELECT order_id, recipient, fields, purpose, at FROM disclosures \
         WHERE customer_id = $1 ORDER BY id",
        "SELECT id, order_id, customer_id, kind, media_type, size, sha256, blob_key, \
         stored_size, poster_key, proof_key_enc, file_name_enc, uploader, captured_at, \
         received_at, duration_ms, width, height, has_audio, probed_at, probe_error, log_index, \
         leaf FROM proofs WHERE customer_id = $1 ORDER BY order_id, id",
        "SELECT id, order_id, kind, length, upload_offset, media_type, file_name_enc, \
         captured_at, created_at, expires_at FROM uploads WHERE customer_id = $1 \
         ORDER BY created_at",
    ];
    let mut conn = db.conn().await.expect("connection");
    let started = Instant::now();
    let mut rows = 0;
    for q in QUERIES {
        rows += sqlx::query(q)
            .bind(id)
            .fetch_all(&mut *conn)
            .await
            .expect("baseline query")
            .len();
    }
    let time = started.elapsed();
    assert!(
        rows > HEAVY_ORDERS * 4,
        "the baseline read the customer's rows ({rows})"
    );
    time
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

/// Seeded customers with about ten orders and none out for delivery (an
/// erasure waits for those), spread over the id range.
async fn ordinary_customers(db: &Db, heavy: i64, wanted: usize) -> Vec<(i64, i64)> {
    let max: i64 = sqlx::query_scalar("SELECT MAX(id) FROM customers WHERE id < $1")
        .bind(heavy)
        .fetch_one(&db.pool)
        .await
        .expect("customers");
    let mut chosen = Vec::new();
    let mut candidate = max / 7;
    for _ in 0..max {
        if chosen.len() == wanted {
            break;
        }
        candidate = (candidate + max / 11 + 1) % max + 1;
        let (orders, out): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = $2 THEN 1 ELSE 0 END), 0) \
             FROM orders WHERE customer_id = $1",
        )
        .bind(candidate)
        .bind(OrderStatus::HandedToCourier.as_str())
        .fetch_one(&db.pool)
        .await
        .expect("orders of a customer");
        if (8..=12).contains(&orders) && out == 0 && !chosen.iter().any(|(c, _)| *c == candidate) {
            chosen.push((candidate, orders));
        }
    }
    assert_eq!(
        chosen.len(),
        wanted,
        "too few customers with about ten orders"
    );
    chosen
}

/// What an erasure reads and touches, as plain SELECTs over one connection:
/// the journal, the customer with their key and indexes, their orders (the
/// status check, then the rows it pseudonymises), exports, proofs, legal
/// holds, uploads, the rows deleted with them, codes sent to their number
/// and sign-in fingerprints (three made-up ones: finding them needs the
/// number opened).
async fn erasure_baseline(db: &Db, id: i64) -> Duration {
    let by_customer: &[&str] = &[
        "SELECT customer_id, request_id, erased_at, held_proofs FROM erasures WHERE customer_id = $1",
        "SELECT id FROM orders WHERE customer_id = $1 AND status = 'handed_to_courier' ORDER BY id",
        "SELECT id, customer_id, request_id, status, progress, stage, blob_key, file_key_enc, \
         token_hash, size, stored_size, created_at, updated_at, ready_at, expires_at, error \
         FROM exports WHERE customer_id = $1 ORDER BY id DESC",
        "SELECT c.id, c.name_enc, c.phone_enc, c.email_enc, c.password_hash, c.created_at, \
         c.erased_at, k.wrapped_key FROM customers c LEFT JOIN customer_keys k \
         ON k.customer_id = c.id WHERE c.id = $1",
        "SELECT phone_index, email_index FROM customers WHERE id = $1",
        "SELECT id, order_id, blob_key, poster_key, proof_key_enc FROM proofs \
         WHERE customer_id = $1 ORDER BY id",
        "SELECT h.id, h.order_id, h.reason, h.note, h.placed_at, h.until_at, h.released_at \
         FROM legal_holds h JOIN orders o ON o.id = h.order_id WHERE o.customer_id = $1 \
         AND h.released_at IS NULL ORDER BY h.id",
        "SELECT id FROM uploads WHERE customer_id = $1",
        "SELECT * FROM sessions WHERE customer_id = $1",
        "SELECT * FROM consents WHERE customer_id = $1",
        "SELECT * FROM policy_acceptances WHERE customer_id = $1",
        "SELECT * FROM cookie_choices WHERE customer_id = $1",
        "SELECT * FROM disclosures WHERE customer_id = $1",
        "SELECT id, customer_id, address_enc, instructions_enc FROM orders WHERE customer_id = $1",
        "SELECT customer_id, wrapped_key FROM customer_keys WHERE customer_id = $1",
    ];
    let mut conn = db.conn().await.expect("connection");
    let started = Instant::now();
    let mut indexes: Vec<Vec<u8>> = Vec::new();
    for q in by_customer {
        let rows = sqlx::query(q)
            .bind(id)
            .fetch_all(&mut *conn)
            .await
            .expect("baseline query");
        if q.starts_with("SELECT phone_index") {
            use sqlx::Row;
            for r in &rows {
                indexes.extend(r.try_get::<Option<Vec<u8>>, _>(0).ok().flatten());
                indexes.extend(r.try_get::<Option<Vec<u8>>, _>(1).ok().flatten());
            }
        }
    }
    for index in &indexes {
        for q in [
            "SELECT * FROM phone_verifications WHERE phone_index = $1",
            "SELECT * FROM request_codes WHERE address_index = $1",
        ] {
            sqlx::query(q)
                .bind(index.clone())
                .fetch_all(&mut *conn)
                .await
                .expect("baseline query");
        }
    }
    for n in 0..3 {
        sqlx::query("SELECT * FROM sign_in_attempts WHERE key_hash = $1")
            .bind(format!("{:064x}", id * 10 + n))
            .fetch_all(&mut *conn)
            .await
            .expect("baseline query");
    }
    started.elapsed()
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
