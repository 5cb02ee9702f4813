//! Every repository query, run against a fresh SQLite and a fresh PostgreSQL.
use chotomoni_domain::catalog::Lang;
use chotomoni_domain::{OrderSource, OrderStatus, PaymentMethod, PaymentStatus, Role, SessionKind};
use chotomoni_storage::orders::{Contact, ItemRow, NewOrder, OrderFilter};
use chotomoni_storage::sessions::NewSession;
use chotomoni_storage::{
    attempts, audit, consents, customers, orders, pg_reads, products, schema, sessions, staff, Db,
    StorageError,
};
use chotomoni_testkit::{both_engines, Engine, TestDb};

async fn open(engine: Engine) -> (TestDb, Db) {
    let t = TestDb::fresh(engine).await;
    let db = Db::connect(&t.url, 4).await.expect("connect");
    db.migrate().await.expect("migrate");
    db.migrate().await.expect("migrating twice is a no-op");
    (t, db)
}

async fn customer(db: &Db, phone_index: &[u8]) -> i64 {
    let mut c = db.conn().await.unwrap();
    let id = customers::insert_empty(&mut c, 1_000).await.unwrap();
    customers::insert_key(&mut c, id, b"wrapped", 1_000)
        .await
        .unwrap();
    customers::set_contact(
        &mut c,
        id,
        &customers::SealedContact {
            name_enc: b"n".to_vec(),
            phone_enc: b"p".to_vec(),
            phone_index: phone_index.to_vec(),
            email_enc: None,
            email_index: None,
        },
    )
    .await
    .unwrap();
    id
}

async fn customer_queries(engine: Engine) {
    let (_t, db) = open(engine).await;
    let id = customer(&db, b"idx-1").await;
    let mut c = db.conn().await.unwrap();
    let found = customers::find_by_phone_index(&mut c, b"idx-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, id);
    assert_eq!(found.wrapped_key.as_deref(), Some(&b"wrapped"[..]));
    assert!(customers::find_by_phone_index(&mut c, b"other")
        .await
        .unwrap()
        .is_none());
    assert!(customers::find_by_email_index(&mut c, b"e")
        .await
        .unwrap()
        .is_empty());
    customers::set_password_hash(&mut c, id, "hash")
        .await
        .unwrap();
    assert_eq!(
        customers::get(&mut c, id)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .as_deref(),
        Some("hash")
    );

    // A second customer with the same phone index is refused as a duplicate.
    let other = customers::insert_empty(&mut c, 1).await.unwrap();
    let err = customers::set_contact(
        &mut c,
        other,
        &customers::SealedContact {
            name_enc: vec![1],
            phone_enc: vec![1],
            phone_index: b"idx-1".to_vec(),
            email_enc: None,
            email_index: None,
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, StorageError::Duplicate(ref f) if f == "phone"),
        "{err:?}"
    );
}
both_engines!(customer_queries_work, super::customer_queries);

async fn order_queries(engine: Engine) {
    let (_t, db) = open(engine).await;
    let cust = customer(&db, b"idx-2").await;
    let mut c = db.conn().await.unwrap();
    let mut ids = Vec::new();
    for (i, status) in [
        OrderStatus::Placed,
        OrderStatus::Packed,
        OrderStatus::Placed,
    ]
    .into_iter()
    .enumerate()
    {
        let id = orders::insert(
            &mut c,
            &NewOrder {
                customer_id: cust,
                status,
                payment_method: PaymentMethod::Cod,
                payment_status: PaymentStatus::Pending,
                source: OrderSource::Shop,
                total: 500,
                created_by: None,
                at: 10_000 + i as i64,
                // The last is a guest order whose phone is not confirmed yet.
                unconfirmed: i == 2,
                marketing_opt_in: i == 2,
            },
        )
        .await
        .unwrap();
        orders::set_sealed(&mut c, id, b"addr", None).await.unwrap();
        orders::insert_items(
            &mut c,
            &[
                ItemRow {
                    order_id: id,
                    line_no: 1,
                    sku: Some("S1".into()),
                    name: "Saree".into(),
                    quantity: 1,
                    unit_price: 300,
                },
                ItemRow {
                    order_id: id,
                    line_no: 2,
                    sku: None,
                    name: "Scarf".into(),
                    quantity: 2,
                    unit_price: 100,
                },
            ],
        )
        .await
        .unwrap();
        orders::insert_event(&mut c, id, None, status, None, 10_000)
            .await
            .unwrap();
        ids.push(id);
    }
    let o = orders::get(&mut c, ids[0]).await.unwrap().unwrap();
    assert_eq!(
        (o.status.as_str(), o.total, o.customer_id),
        ("placed", 500, cust)
    );
    assert_eq!(o.address_enc.as_deref(), Some(&b"addr"[..]));
    assert_eq!(o.wrapped_key.as_deref(), Some(&b"wrapped"[..]));
    assert!(orders::get(&mut c, 999_999).await.unwrap().is_none());
    assert!(orders::get_full(&mut c, db.engine, 999_999, Contact::Load)
        .await
        .unwrap()
        .is_none());

    let second = orders::get_full(&mut c, db.engine, ids[1], Contact::Load)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.items.len(), 2);
    assert_eq!(second.items[1].name, "Scarf");
    assert_eq!(second.events.len(), 1);

    let placed = orders::list(
        &mut c,
        &OrderFilter {
            status: Some(OrderStatus::Placed),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        placed.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![ids[2], ids[0]]
    );
    let page = orders::list(
        &mut c,
        &OrderFilter {
            before: Some(ids[2]),
            limit: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(page[0].id, ids[1]);
    let dated = orders::list(
        &mut c,
        &OrderFilter {
            created_from: Some(10_001),
            created_to: Some(10_002),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(dated.len(), 1);
    let mine = orders::list(
        &mut c,
        &OrderFilter {
            customer_id: Some(cust),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(mine.len(), 3);
    // The customer's own list leaves the unconfirmed guest order out until
    // a code confirms it; its opt-in waits until they choose.
    let own = OrderFilter {
        customer_id: Some(cust),
        limit: 10,
        confirmed_only: true,
        ..Default::default()
    };
    let listed = orders::list(&mut c, &own).await.unwrap();
    assert_eq!(
        listed.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![ids[1], ids[0]]
    );
    let guest = orders::get(&mut c, ids[2]).await.unwrap().unwrap();
    assert_eq!((guest.unconfirmed, guest.account_owner()), (1, None));
    assert_eq!(
        orders::pending_opt_ins(&mut c, cust).await.unwrap(),
        vec![ids[2]]
    );
    assert_eq!(orders::confirm_guest_orders(&mut c, cust).await.unwrap(), 1);
    assert_eq!(orders::list(&mut c, &own).await.unwrap().len(), 3);
    assert_eq!(
        orders::pending_opt_ins(&mut c, cust).await.unwrap(),
        vec![ids[2]],
        "joining the history is not a consent"
    );
    orders::clear_pending_opt_ins(&mut c, cust).await.unwrap();
    assert!(orders::pending_opt_ins(&mut c, cust)
        .await
        .unwrap()
        .is_empty());

    assert!(orders::compare_and_set_status(
        &mut c,
        ids[0],
        OrderStatus::Placed,
        OrderStatus::Confirmed,
        20_000
    )
    .await
    .unwrap());
    assert!(!orders::compare_and_set_status(
        &mut c,
        ids[0],
        OrderStatus::Placed,
        OrderStatus::Cancelled,
        20_001
    )
    .await
    .unwrap());
    orders::insert_event(
        &mut c,
        ids[0],
        Some(OrderStatus::Placed),
        OrderStatus::Confirmed,
        None,
        20_000,
    )
    .await
    .unwrap();
    let full = orders::get_full(&mut c, db.engine, ids[0], Contact::Load)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (full.order.id, full.order.status.as_str()),
        (ids[0], "confirmed")
    );
    let (lines, history) = (full.items, full.events);
    assert_eq!(
        lines
            .iter()
            .map(|l| (l.line_no, l.name.as_str(), l.quantity, l.unit_price))
            .collect::<Vec<_>>(),
        vec![(1, "Saree", 1, 300), (2, "Scarf", 2, 100)]
    );
    assert_eq!(lines[0].sku.as_deref(), Some("S1"));
    assert_eq!(
        history
            .iter()
            .map(|e| (e.from_status, e.to_status, e.at))
            .collect::<Vec<_>>(),
        vec![
            (None, OrderStatus::Placed, 10_000),
            (Some(OrderStatus::Placed), OrderStatus::Confirmed, 20_000)
        ]
    );

    // Lookups go to the reader (in place on SQLite, unpinged connections on
    // PostgreSQL), beside the pool: they must answer what the pool answers,
    // including what it committed just before.
    assert!(db.reader.is_some());
    for id in ids.iter().copied().chain([999_999]) {
        for contact in [Contact::Load, Contact::Skip] {
            let pooled = orders::get_full(&mut c, db.engine, id, contact)
                .await
                .unwrap();
            let looked_up = orders::load_full(&db, id, contact).await.unwrap();
            assert_eq!(format!("{looked_up:?}"), format!("{pooled:?}"));
        }
    }
    // A packing load leaves the customer's sealed contact behind, and only that.
    let with = orders::load_full(&db, ids[1], Contact::Load)
        .await
        .unwrap()
        .unwrap();
    let mut without = orders::load_full(&db, ids[1], Contact::Skip)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(with.order.name_enc.as_deref(), Some(&b"n"[..]));
    assert_eq!(with.order.phone_enc.as_deref(), Some(&b"p"[..]));
    let o = &without.order;
    assert_eq!(
        (&o.name_enc, &o.phone_enc, &o.email_enc),
        (&None, &None, &None)
    );
    without.order.name_enc = with.order.name_enc.clone();
    without.order.phone_enc = with.order.phone_enc.clone();
    assert_eq!(format!("{without:?}"), format!("{with:?}"));
    assert!(orders::compare_and_set_status(
        &mut c,
        ids[0],
        OrderStatus::Confirmed,
        OrderStatus::Cancelled,
        30_000
    )
    .await
    .unwrap());
    let after = orders::load_full(&db, ids[0], Contact::Load)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.order.status, OrderStatus::Cancelled);
}
both_engines!(order_queries_work, super::order_queries);

/// PostgreSQL's reader does not ping its connections: one that died between
/// lookups (here its backend is terminated, as a restart or failover would)
/// is replaced on the spot and the lookup still answers. However many
/// lookups come at once, it holds no more connections than it was given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reader_replaces_dead_connections() {
    let (_t, db) = open(Engine::Postgres).await;
    let cust = customer(&db, b"idx-r").await;
    let mut c = db.conn().await.unwrap();
    let order = NewOrder {
        customer_id: cust,
        status: OrderStatus::Placed,
        payment_method: PaymentMethod::Cod,
        payment_status: PaymentStatus::Pending,
        source: OrderSource::Shop,
        total: 100,
        created_by: None,
        at: 1_000,
        unconfirmed: false,
        marketing_opt_in: false,
    };
    let id = orders::insert(&mut c, &order).await.unwrap();
    let lookup = || async {
        let full = orders::load_full(&db, id, Contact::Load).await.unwrap();
        full.expect("the order").order.id
    };
    let at_once = futures::future::join_all((0..20).map(|_| lookup())).await;
    assert_eq!(at_once, vec![id; 20]);

    let readers = "FROM pg_stat_activity WHERE datname = current_database() \
                   AND application_name = $1";
    let open_readers: i64 = sqlx::query_scalar(&format!("SELECT count(*) {readers}"))
        .bind(pg_reads::APPLICATION_NAME)
        .fetch_one(&mut *c)
        .await
        .unwrap();
    // The pool of 4 gives the reader max(4 / 4, 2) connections.
    assert!((1..=2).contains(&open_readers), "{open_readers} readers");
    let killed: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) {readers}"
    ))
    .bind(pg_reads::APPLICATION_NAME)
    .fetch_one(&mut *c)
    .await
    .unwrap();
    assert_eq!(killed, open_readers);
    for _ in 0..3 {
        assert_eq!(lookup().await, id);
    }
}

async fn staff_session_audit_queries(engine: Engine) {
    let (_t, db) = open(engine).await;
    let mut c = db.conn().await.unwrap();
    let id = staff::insert(&mut c, "rina", "h", Role::Packer, 1)
        .await
        .unwrap();
    assert!(matches!(
        staff::insert(&mut c, "rina", "h", Role::Admin, 1).await,
        Err(StorageError::Duplicate(_))
    ));
    assert_eq!(
        staff::by_username(&mut c, "rina")
            .await
            .unwrap()
            .unwrap()
            .id,
        id
    );
    staff::set_password_hash(&mut c, id, "h2").await.unwrap();
    assert_eq!(
        staff::get(&mut c, id).await.unwrap().unwrap().password_hash,
        "h2"
    );

    sessions::insert(
        &mut c,
        &NewSession {
            token_hash: "t1",
            kind: SessionKind::Staff,
            staff_id: Some(id),
            customer_id: None,
            csrf_token: "x",
            lang: Lang::Bn,
            cart: "[]",
            ip_address: Some("127.0.0.1"),
            user_agent: Some("UA"),
            device_kind: Some("desktop"),
            at: 100,
            expires_at: 10_000,
        },
    )
    .await
    .unwrap();
    let s = sessions::get(&mut c, "t1", 200).await.unwrap().unwrap();
    assert_eq!(s.staff_role, Some(Role::Packer));
    assert!(
        sessions::get(&mut c, "t1", 10_000).await.unwrap().is_none(),
        "expired"
    );
    sessions::set_lang(&mut c, "t1", Lang::En).await.unwrap();
    sessions::set_cart(&mut c, "t1", "[[1,2]]").await.unwrap();
    let s = sessions::get(&mut c, "t1", 200).await.unwrap().unwrap();
    assert_eq!((s.lang, s.cart.as_str()), (Lang::En, "[[1,2]]"));
    assert_eq!(sessions::sweep(&mut c, 101, 200).await.unwrap(), (1, 0));
    assert_eq!(sessions::sweep(&mut c, 101, 20_000).await.unwrap(), (0, 1));
    sessions::delete(&mut c, "t1").await.unwrap();

    let attempt = |at| attempts::NewAttempt {
        kind: attempts::LimitKind::SignIn,
        key_hash: "k",
        address_hash: Some("ip"),
        at,
    };
    attempts::insert(&mut c, &attempt(1_000)).await.unwrap();
    let second = attempts::insert(&mut c, &attempt(2_000)).await.unwrap();
    attempts::mark_succeeded(&mut c, second).await.unwrap();
    let third = attempts::insert(&mut c, &attempt(3_000)).await.unwrap();
    let pair = attempts::Scope::Pair("k", "ip");
    assert_eq!(
        attempts::failures(&mut c, attempts::LimitKind::SignIn, pair, 0, third)
            .await
            .unwrap(),
        (2, Some(1_000)),
        "the succeeded one does not count; the newest other than the asker's"
    );
    attempts::withdraw(&mut c, third).await.unwrap();
    for scope in [
        attempts::Scope::Key("k"),
        attempts::Scope::Address("ip"),
        pair,
    ] {
        assert_eq!(
            attempts::failures(&mut c, attempts::LimitKind::SignIn, scope, 500, 0)
                .await
                .unwrap(),
            (1, Some(1_000))
        );
    }
    assert_eq!(
        attempts::failures(
            &mut c,
            attempts::LimitKind::Track,
            attempts::Scope::Key("k"),
            0,
            0,
        )
        .await
        .unwrap()
        .0,
        0,
        "kinds are counted apart"
    );

    audit::append(
        &mut c,
        5,
        "staff:1",
        chotomoni_domain::AuditAction::OrderView,
        "order:CM-000001",
        "fields=name",
    )
    .await
    .unwrap();
    let rows = audit::recent(&mut c, Some("order:CM-000001"), 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(audit::recent(&mut c, None, 10).await.unwrap().len(), 1);
    // The audit log refuses to be rewritten, on both engines.
    assert!(sqlx::query("UPDATE audit_log SET actor = 'x'")
        .execute(&mut *c)
        .await
        .is_err());
    assert!(sqlx::query("DELETE FROM audit_log")
        .execute(&mut *c)
        .await
        .is_err());
    assert_eq!(
        audit::recent(&mut c, None, 10).await.unwrap()[0].actor,
        "staff:1"
    );

    products::upsert(&mut c, "SKU-1", "Jamdani saree", "জামদানি শাড়ি", 450_000)
        .await
        .unwrap();
    products::upsert(&mut c, "SKU-1", "Jamdani saree", "জামদানি শাড়ি", 460_000)
        .await
        .unwrap();
    assert_eq!(products::active(&mut c).await.unwrap().len(), 1);
    assert_eq!(
        products::by_sku(&mut c, "SKU-1")
            .await
            .unwrap()
            .unwrap()
            .price,
        460_000
    );
}
both_engines!(
    staff_session_audit_queries_work,
    super::staff_session_audit_queries
);

async fn consent_queries(engine: Engine) {
    let (_t, db) = open(engine).await;
    let cust = customer(&db, b"idx-3").await;
    let mut c = db.conn().await.unwrap();
    let row = consents::ConsentRow {
        purpose: chotomoni_domain::ConsentPurpose::MarketingSms,
        granted: 1,
        channel: chotomoni_domain::consent::ConsentChannel::Checkout,
        policy_version: 1,
        wording: "Send me offers".into(),
        at: 5,
    };
    consents::append(&mut c, cust, &row).await.unwrap();
    let got = consents::for_customer(&mut c, cust).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].granted, 1);
}
both_engines!(consent_queries_work, super::consent_queries);

/// Every column of the live schema is either a catalogued personal field or
/// declared not personal, and every catalogued field exists.
async fn catalog_covers_schema(engine: Engine) {
    let (_t, db) = open(engine).await;
    let live = schema::columns(&db).await.unwrap();
    assert!(live.len() > 40, "schema read: {live:?}");
    let unclassified: Vec<String> = live
        .iter()
        .filter(|(t, c)| !chotomoni_domain::catalog::is_classified(t, c))
        .map(|(t, c)| format!("{t}.{c}"))
        .collect();
    assert!(
        unclassified.is_empty(),
        "columns missing from the data catalog: {unclassified:?}"
    );
    let all = chotomoni_domain::catalog::FIELDS
        .iter()
        .map(|f| (f.table, f.column))
        .chain(
            chotomoni_domain::catalog::NOT_PERSONAL
                .iter()
                .map(|n| (n.table, n.column)),
        );
    for (t, c) in all {
        assert!(
            live.iter().any(|(lt, lc)| lt == t && lc == c),
            "catalog lists {t}.{c}, which the schema lacks"
        );
    }
}
both_engines!(catalog_covers_the_live_schema, super::catalog_covers_schema);

/// A session in English without technical data, live from 100 to 10,000:
/// a staff member's when `staff_id` is given, else the customer's.
async fn plain_session(
    c: &mut chotomoni_storage::Conn,
    token_hash: &str,
    staff_id: Option<i64>,
    customer_id: Option<i64>,
) {
    let kind = match staff_id {
        Some(_) => SessionKind::Staff,
        None => SessionKind::Customer,
    };
    sessions::insert(
        c,
        &NewSession {
            token_hash,
            kind,
            staff_id,
            customer_id,
            csrf_token: "x",
            lang: Lang::En,
            cart: "[]",
            ip_address: None,
            user_agent: None,
            device_kind: None,
            at: 100,
            expires_at: 10_000,
        },
    )
    .await
    .unwrap();
}

/// An open erasure request of the customer, made signed in; returns its id.
async fn open_request(c: &mut chotomoni_storage::Conn, customer_id: i64) -> i64 {
    chotomoni_storage::privacy_requests::insert(
        c,
        &chotomoni_storage::privacy_requests::NewRequest {
            customer_id,
            kind: chotomoni_domain::RequestKind::Erasure,
            channel: chotomoni_domain::RequestChannel::Api,
            status: chotomoni_domain::RequestStatus::Open,
            verified_by: Some(chotomoni_domain::VerifiedBy::SignedIn),
            received_at: 1_000,
            deadline_at: 2_000,
            status_token_hash: "h",
            logged_by: None,
        },
    )
    .await
    .unwrap()
}

#[path = "repositories/corrupt_columns.rs"]
mod corrupt_columns;
#[path = "repositories/corrupt_rows.rs"]
mod corrupt_rows;
#[path = "repositories/order_signals.rs"]
mod order_signals;
#[path = "repositories/payments.rs"]
mod payments;
