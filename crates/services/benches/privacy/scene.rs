//! The data the privacy benchmark measures on: the services over a fresh
//! database, the heavy customer, ordinary seeded customers, and waiting for
//! background work to end.
use super::*;

/// Like `services_over` in crates/web/tests/common: media in a folder beside
/// the database, a key vault, a fresh master key; 16 connections, the server's default.
pub async fn services_over(t: &TestDb) -> Services {
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

pub struct Heavy {
    pub id: i64,
    pub media_bytes: u64,
}

/// One customer with 1,000 orders entered by the system (the same phone
/// number each time, so the same customer), 200 proofs, 20 sessions, consent
/// changes, cookie choices, policy acceptances and 100 disclosures.
pub async fn heavy_customer(s: &Services) -> Heavy {
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
            lang: None,
        };
        let view = s.create_order(&Actor::System, &input).await.expect("order");
        numbers.push(OrderNumber::parse(&view.number).expect("number"));
    }
    let id: i64 = sqlx::query_scalar("SELECT customer_id FROM orders WHERE id = $1")
        .bind(numbers[0].id().0)
        .fetch_one(&s.db().pool)
        .await
        .expect("the customer");
    let me = Actor::Customer(CustomerId(id));

    let mut media_bytes = 0u64;
    for p in 0..HEAVY_PROOFS {
        let order = numbers[p / 2];
        let file = chotomoni_testkit::fake_mp4(PROOF_BYTES + p);
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
                    claim: None,
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
        s.open_session(me, chotomoni_domain::catalog::Lang::Bn, &client)
            .await
            .expect("session");
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
    let mut tx = s.db().begin().await.expect("transaction");
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

/// Lets background work end before measuring: proof inspections (ffprobe on
/// each new proof), PostgreSQL's autovacuum after the bulk load (done now,
/// by hand), SQLite's write-ahead log from the load (checkpointed).
pub async fn settle(s: &Services) {
    let started = Instant::now();
    loop {
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM proofs WHERE probed_at IS NULL")
            .fetch_one(&s.db().pool)
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
    match s.db().engine {
        chotomoni_storage::Engine::Postgres => {
            sqlx::query("VACUUM ANALYZE")
                .execute(&s.db().pool)
                .await
                .expect("vacuum");
        }
        chotomoni_storage::Engine::Sqlite => {
            assert!(
                s.db().truncate_wal().await.expect("checkpoint"),
                "checkpoint"
            );
        }
    }
    eprintln!("  settled in {}", show(started.elapsed()));
}

/// Seeded customers with about ten orders and none out for delivery (an
/// erasure waits for those), spread over the id range.
pub async fn ordinary_customers(db: &Db, heavy: i64, wanted: usize) -> Vec<(i64, i64)> {
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
