//! The data catalog is what erasure and the access export do, on both
//! engines. A customer gets a value in every catalog field of every table
//! the catalog links to a customer (the test fails first if one is left
//! empty, so a new field must be filled here); their access export shows
//! each field where its section says; then they are erased, and every
//! field of every one of their rows has the effect the catalog states
//! (deleted, pseudonymised, kept), column by column, while every other
//! row, another customer's included, is untouched.
use crate::common::{self, privacy, tus, TestApp};
use crate::exports::scene::{self, scene, EMAIL, PHONE};
use chotomoni_domain::catalog::{self, Erasure, Owner, Rows, FIELDS, TABLES};
use chotomoni_domain::{CustomerId, OrderId, OrderNumber};
use chotomoni_services::accounts::Registration;
use chotomoni_services::auth::ClientInfo;
use chotomoni_services::consents::CookieChoice;
use chotomoni_services::Actor;
use chotomoni_storage::erasure::{owner_filter, Bind};
use chotomoni_testkit::{both_engines, Engine};
use serde_json::Value;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

const E164: &str = "+8801719876543";

/// One stored value, whatever its SQL type on either engine.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
}

impl Cell {
    fn read(row: &sqlx::any::AnyRow, i: usize) -> Cell {
        use sqlx::ValueRef;
        if row.try_get_raw(i).unwrap().is_null() {
            return Cell::Null;
        }
        if let Ok(v) = row.try_get::<i64, _>(i) {
            return Cell::Int(v);
        }
        if let Ok(v) = row.try_get::<i32, _>(i) {
            return Cell::Int(v.into());
        }
        if let Ok(v) = row.try_get::<bool, _>(i) {
            return Cell::Bool(v);
        }
        if let Ok(v) = row.try_get::<String, _>(i) {
            return Cell::Text(v);
        }
        Cell::Bytes(
            row.try_get::<Vec<u8>, _>(i)
                .expect("a value of a known type"),
        )
    }

    /// What a deleted field holds if its row stays: nothing, or the zero
    /// of a flag that cannot be NULL.
    fn is_empty(&self) -> bool {
        matches!(self, Cell::Null | Cell::Int(0) | Cell::Bool(false))
            || matches!(self, Cell::Text(t) if t.is_empty())
    }
}

/// A row's identity, its catalog fields in catalog order.
type Snapshot = BTreeMap<&'static str, BTreeMap<String, Vec<Cell>>>;

/// How a row of `table` is told apart before and after.
fn key_of(table: &str) -> &'static str {
    match table {
        "order_items" => "CAST(order_id AS TEXT) || '-' || CAST(line_no AS TEXT)",
        "claim_items" => "CAST(claim_id AS TEXT) || '-' || CAST(line_no AS TEXT)",
        "customer_keys" | "erasures" => "CAST(customer_id AS TEXT)",
        "sessions" => "token_hash",
        "consignments" => "CAST(order_id AS TEXT)",
        "order_signals" => "CAST(order_id AS TEXT)",
        _ => "CAST(id AS TEXT)",
    }
}

fn fields_of(table: &str) -> Vec<&'static catalog::Field> {
    FIELDS.iter().filter(|f| f.table == table).collect()
}

fn linked() -> impl Iterator<Item = &'static catalog::Table> {
    TABLES
        .iter()
        .filter(|t| !matches!(t.owner, Owner::Unlinked(_)))
}

/// Every row of every linked table, with its catalog fields.
async fn snapshot(conn: &mut AnyConnection) -> Snapshot {
    let mut out = Snapshot::new();
    for t in linked() {
        let columns: Vec<&str> = fields_of(t.name).iter().map(|f| f.column).collect();
        let select = std::iter::once(format!("{} AS k", key_of(t.name)))
            .chain(columns.iter().map(|c| c.to_string()))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!("SELECT {select} FROM {}", t.name))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        let table = out.entry(t.name).or_default();
        for row in rows {
            let cells = (1..=columns.len()).map(|i| Cell::read(&row, i)).collect();
            table.insert(row.get::<String, _>(0), cells);
        }
    }
    out
}

/// The identities of the customer's rows, found the way erasure finds them.
struct Mine {
    customer: i64,
    indexes: Vec<Vec<u8>>,
    fingerprints: Vec<String>,
}

impl Mine {
    async fn rows(&self, conn: &mut AnyConnection, t: &catalog::Table) -> Vec<String> {
        let (filter, bind) = owner_filter(t.owner).unwrap();
        let sql = format!("SELECT {} FROM {} WHERE {filter}", key_of(t.name), t.name);
        match bind {
            Bind::CustomerId => keys_where(conn, &sql, &[self.customer]).await,
            Bind::ContactIndexes => keys_where(conn, &sql, &self.indexes).await,
            Bind::SignInFingerprints => keys_where(conn, &sql, &self.fingerprints).await,
        }
    }
}

/// The keys `sql` finds with each of `values` as `$1`.
async fn keys_where<T>(conn: &mut AnyConnection, sql: &str, values: &[T]) -> Vec<String>
where
    T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Clone + Send + 'static,
{
    let mut keys = vec![];
    for value in values {
        let found: Vec<String> = sqlx::query_scalar(sql)
            .bind(value.clone())
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        keys.extend(found);
    }
    keys
}

/// Puts a value in every field the catalog keeps about a customer, through
/// the application wherever it writes them. Returns the customer, the
/// access export's download link and a token that may follow it.
async fn fill_every_field(app: &TestApp) -> (scene::Scene, String) {
    let s = scene(app).await;
    let client = ClientInfo {
        ip: Some(scene::IP.into()),
        user_agent: Some(scene::AGENT.into()),
    };
    // An account: a password and a phone proven by a code, then one more
    // code still waiting to be used.
    let sms = |n| privacy::wait_for_sms(app, E164, n);
    let sent = privacy::sms_count(app, E164);
    app.services
        .start_registration(PHONE, &client)
        .await
        .unwrap();
    let code = privacy::code_in(&sms(sent + 1).await);
    app.services
        .complete_registration(
            &Registration {
                phone: PHONE,
                code: &code,
                name: scene::NAME,
                email: Some(EMAIL),
                password: "correct horse battery staple 42",
            },
            chotomoni_domain::catalog::Lang::En,
            &client,
        )
        .await
        .unwrap();
    app.services
        .start_registration(PHONE, &client)
        .await
        .unwrap();
    app.prove_email(s.me, EMAIL).await;
    // Proving the number confirmed the earlier checkout's marketing opt-in:
    // one more order without signing in leaves one waiting. Its browser's
    // fingerprint is kept for fraud signals.
    let res = app
        .http
        .post(app.url("/api/v1/orders"))
        .header("user-agent", scene::AGENT)
        .json(&scene::order(scene::LINE_2, "Uttara", true))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let me = Actor::Customer(CustomerId(s.me));
    app.services
        .record_cookie_choice(
            &me,
            CookieChoice {
                functional: true,
                analytics: true,
            },
        )
        .await
        .unwrap();
    let session = app.services.session(&s.token).await.unwrap().unwrap();
    app.services
        .set_cart(&session, r#"[{"sku":"NAK-KAN-04","quantity":1}]"#)
        .await
        .unwrap();
    let first: i64 = sqlx::query_scalar("SELECT MIN(id) FROM orders WHERE customer_id = $1")
        .bind(s.me)
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    let number = OrderNumber::from_id(OrderId(first)).to_string();
    privacy::set_status(app, &s.support, &number, "confirmed").await;
    // Support called about the order and noted what was said.
    let (status, body) = app
        .post(
            &format!("/api/v1/orders/{number}/phone-checks"),
            Some(&s.support),
            &serde_json::json!({"outcome": "genuine", "note": "Confirmed the address"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // A proof that gets a poster frame, and an upload left half-way.
    let proof = app
        .upload_proof(&s.packer, &number, &tus::real_mp4(), 100_000)
        .await;
    let mut view = Value::Null;
    for _ in 0..150 {
        view = app
            .get(&format!("/api/v1/proofs/{proof}"), &s.support)
            .await
            .1;
        if view["has_poster"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(view["has_poster"], true, "no poster frame: {view}");
    let clip = chotomoni_testkit::fake_mp4(5_000);
    let half = app.tus_start(&s.packer, &number, 5_000).await;
    let patched = app
        .tus_patch(&s.packer, &half, 0, &clip[..1_234], None)
        .await;
    assert_eq!(patched.status, 204, "{}", patched.body);
    // A marketplace's claim on the last order (it has no proof, which the
    // claim's hold would keep), decided with a partial refund.
    let last: i64 = sqlx::query_scalar("SELECT MAX(id) FROM orders WHERE customer_id = $1")
        .bind(s.me)
        .fetch_one(&app.services.db().pool)
        .await
        .unwrap();
    let last = OrderNumber::from_id(OrderId(last)).to_string();
    for to in ["confirmed", "packed", "handed_to_courier", "delivered"] {
        privacy::set_status(app, &s.support, &last, to).await;
    }
    let (status, claim) = app
        .post(
            &format!("/api/v1/orders/{last}/claims"),
            Some(&s.support),
            &serde_json::json!({"kind": "damaged", "raised_by": "marketplace",
                "reference": "DZ-55012", "description": "Box crushed at one corner",
                "items": [{"line_no": 1, "quantity": 1}]}),
        )
        .await;
    assert_eq!(status, 201, "{claim}");
    let told = privacy::sms_count(app, E164);
    let (status, decided) = app
        .post(
            &format!("/api/v1/claims/{}/decision", claim["id"]),
            Some(&s.support),
            &serde_json::json!({"decision": "partial_refund", "amount": 100,
                "reason": "The corner was crushed in transit"}),
        )
        .await;
    assert_eq!(status, 200, "{decided}");
    // Cash on delivery: the shop pays it back by bKash and records it.
    let (status, refunded) = app
        .post(
            &format!("/api/v1/refunds/{}/manual", decided["refund"]["id"]),
            Some(&s.support),
            &serde_json::json!({"wallet": "bkash", "trx_id": "4KX92MQ7TZ"}),
        )
        .await;
    assert_eq!(status, 200, "{refunded}");
    // The decision's message is sent before the code below is asked for.
    privacy::wait_for_sms(app, E164, told + 1).await;
    // The delivered order's parcel, with the cash collected and a message
    // its courier left (a cancel it refused). Written directly: booking
    // and following parcels need a courier's stand-in, tested in `couriers`.
    sqlx::query(
        "INSERT INTO consignments (order_id, courier, state, consignment_id, tracking_code, \
         delivery_fee, cash_to_collect, collected, parcel_status, courier_status, error, \
         attempts, booking_started_at, booked_at, news_at, updated_at) \
         VALUES ($1, 'steadfast', 'booked', '1001', 'SFR1001', 6000, 0, 940000, 'delivered', \
         'delivered', 'the courier did not cancel it', 1, 0, 0, 0, 0)",
    )
    .bind(OrderNumber::parse(&last).unwrap().id().0)
    .execute(&app.services.db().pool)
    .await
    .unwrap();
    // An online payment of the same order (gateway and status only).
    // Written directly: paying needs a gateway's stand-in, tested in `payments`.
    sqlx::query(
        "INSERT INTO payments (tran_id, order_id, gateway, session_ref, gateway_payment_id, \
         gateway_transaction_id, amount, paid_amount, currency, status, risk_level, \
         gateway_status, started_at, news_at, finished_at, updated_at) \
         VALUES ('CM-TEST-PAY1', $1, 'bkash', 'TR0011QX', 'TR0011QX', 'BFD90JRLST', 940000, \
         940000, 'BDT', 'paid', 0, 'Completed', 1700000000000, 1700000000000, \
         1700000000000, 1700000000000)",
    )
    .bind(OrderNumber::parse(&last).unwrap().id().0)
    .execute(&app.services.db().pool)
    .await
    .unwrap();
    // A privacy request from the public form (a code to the phone), whose
    // access export is the one checked here.
    let status_page = privacy::public_request(app, "access", PHONE, E164).await;
    let (_, link) = privacy::wait_for_download(app, &status_page).await;
    (s, link)
}

/// Where `path` leads in `data` (`[]` for every element of a list).
fn at<'a>(data: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut here = vec![data];
    for step in path.split('.') {
        let (name, every) = match step.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (step, false),
        };
        here = here
            .into_iter()
            .filter_map(|v| v.get(name))
            .flat_map(|v| match (every, v) {
                (true, Value::Array(items)) => items.iter().collect(),
                (true, _) => vec![],
                (false, v) => vec![v],
            })
            .collect();
    }
    here
}

fn shows_something(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

async fn erasure_and_export_do_what_the_catalog_says(engine: Engine) {
    let app = common::spawn_with_sms(engine).await;
    let (s, link) = fill_every_field(&app).await;
    let mut conn = app.services.db().conn().await.unwrap();
    let (phone_index, email_index): (Option<Vec<u8>>, Option<Vec<u8>>) =
        sqlx::query_as("SELECT phone_index, email_index FROM customers WHERE id = $1")
            .bind(s.me)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    let mine = Mine {
        customer: s.me,
        indexes: phone_index.into_iter().chain(email_index).collect(),
        fingerprints: chotomoni_services::rate_limit::fingerprints_of(
            app.services.vault().keyring(),
            Some(E164),
            Some(EMAIL),
        ),
    };

    // The access export shows every field its sections name, where they say.
    let (status, _, zip) = app.get_bytes(&link, Some(&s.token), None).await;
    assert_eq!(status, 200);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.unwrap())).unwrap();
    let data: Value = serde_json::from_str(&scene::zip_text(&mut archive, "data.json")).unwrap();
    let mut not_shown = vec![];
    for section in chotomoni_services::privacy_export::sections::SECTIONS {
        for (field, path) in section.fields {
            if !at(&data, path).into_iter().any(shows_something) {
                not_shown.push(format!("{field} (at {path})"));
            }
        }
    }
    assert!(
        not_shown.is_empty(),
        "the export does not show {not_shown:?}"
    );

    // Every catalog field of a linked table holds something of theirs.
    let before = snapshot(&mut conn).await;
    let mut theirs: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut unfilled = vec![];
    for t in linked() {
        let keys = mine.rows(&mut conn, t).await;
        for (i, f) in fields_of(t.name).iter().enumerate() {
            if !keys.iter().any(|k| !before[t.name][k][i].is_empty()) {
                unfilled.push(format!("{}.{}", f.table, f.column));
            }
        }
        theirs.insert(t.name, keys);
    }
    assert!(
        unfilled.is_empty(),
        "fill these fields in the test first: {unfilled:?}"
    );

    app.erase(s.me).await;
    let after = snapshot(&mut conn).await;

    let mut wrong = vec![];
    for t in linked() {
        let fields = fields_of(t.name);
        for (key, was) in &before[t.name] {
            let now = after[t.name].get(key);
            if !theirs[t.name].contains(key) {
                if now != Some(was) {
                    wrong.push(format!(
                        "{}/{key}: not theirs, yet changed to {now:?}",
                        t.name
                    ));
                }
                continue;
            }
            let Some(now) = now else {
                if t.rows == Rows::Kept {
                    wrong.push(format!("{}/{key}: the row should stay", t.name));
                }
                continue;
            };
            if t.rows == Rows::Deleted {
                wrong.push(format!("{}/{key}: the row should be deleted", t.name));
                continue;
            }
            for (i, f) in fields.iter().enumerate() {
                let ok = match f.erasure {
                    Erasure::Delete => now[i].is_empty(),
                    Erasure::Keep => now[i] == was[i],
                    Erasure::Pseudonymise => now[i] != was[i] && stands_in(&after, &now[i]),
                };
                if !ok {
                    wrong.push(format!(
                        "{}.{} of {key}: {:?} should be {:?}, is {:?}",
                        f.table, f.column, was[i], f.erasure, now[i]
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "erasure did not follow the catalog: {wrong:#?}"
    );
    // They can no longer be found by their number.
    let found: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM customers WHERE phone_index = $1 OR email_index = $2",
    )
    .bind(mine.indexes[0].clone())
    .bind(mine.indexes[1].clone())
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(found, 0);
}
both_engines!(
    erasure_and_export_do_what_the_catalog_says,
    super::erasure_and_export_do_what_the_catalog_says
);

/// A pseudonymised link points at an erased stand-in with nothing in its
/// personal fields.
fn stands_in(after: &Snapshot, link: &Cell) -> bool {
    let Cell::Int(id) = link else { return false };
    let Some(row) = after["customers"].get(&id.to_string()) else {
        return false;
    };
    fields_of("customers")
        .iter()
        .zip(row)
        .all(|(f, v)| f.erasure != Erasure::Delete || v.is_empty())
}
