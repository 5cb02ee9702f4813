//! The first columns typed (request status, order values, staff role,
//! hold reason): a stored value that is not one of its enum's fails where
//! it is read, on both engines, instead of being taken for some default.
//! Also the way such a value is written: past the table's own check.
use super::*;

/// Writes a value the table's own check refuses, as a newer version's value
/// read by an older server would be: the check is set aside first.
pub(super) async fn write_unchecked(
    c: &mut chotomoni_storage::Conn,
    engine: Engine,
    table: &str,
    constraint: &str,
    update: &str,
    id: i64,
) {
    let unchecked = match engine {
        Engine::Sqlite => "PRAGMA ignore_check_constraints = ON".to_owned(),
        Engine::Postgres => format!("ALTER TABLE {table} DROP CONSTRAINT {constraint}"),
    };
    sqlx::query(&unchecked).execute(&mut *c).await.unwrap();
    sqlx::query(update).bind(id).execute(&mut *c).await.unwrap();
}

/// A privacy request whose stored status is not one (a bad migration, a
/// hand edit) fails where it is read, instead of being taken for `open`
/// and moved on.
async fn corrupt_request_status(engine: Engine) {
    use chotomoni_storage::privacy_requests as requests;
    let (_t, db) = open(engine).await;
    let id = customer(&db, b"idx-req").await;
    let mut c = db.conn().await.unwrap();
    let request = open_request(&mut c, id).await;
    let row = requests::get(&mut c, request).await.unwrap().unwrap();
    assert_eq!(row.status, chotomoni_domain::RequestStatus::Open);
    assert_eq!(row.kind, chotomoni_domain::RequestKind::Erasure);
    write_unchecked(
        &mut c,
        engine,
        "privacy_requests",
        "privacy_requests_status_check",
        "UPDATE privacy_requests SET status = 'opened' WHERE id = $1",
        request,
    )
    .await;
    let err = requests::get(&mut c, request)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("privacy_requests.status") && err.contains("opened"),
        "{err}"
    );
    assert!(
        requests::unfinished_verified(&mut c)
            .await
            .unwrap()
            .is_empty(),
        "never taken for an open request and moved on"
    );
}
both_engines!(
    a_corrupt_request_status_fails_where_it_is_read,
    super::corrupt_request_status
);

/// An order whose stored status or payment is not one of the domain's (a
/// newer version's value read by an older server, a hand edit) fails where
/// it is read, on every path that reads it: the pool, the in-place SQLite
/// reader and PostgreSQL's reader, and the list. So does a history entry.
async fn corrupt_order_values(engine: Engine) {
    let (_t, db) = open(engine).await;
    let cust = customer(&db, b"idx-bad").await;
    let mut c = db.conn().await.unwrap();
    let id = orders::insert(
        &mut c,
        &NewOrder {
            customer_id: cust,
            status: OrderStatus::Placed,
            payment_method: PaymentMethod::Online,
            payment_status: PaymentStatus::Pending,
            source: OrderSource::Phone,
            total: 100,
            created_by: None,
            at: 1_000,
            unconfirmed: false,
            marketing_opt_in: false,
        },
    )
    .await
    .unwrap();
    orders::insert_event(&mut c, id, None, OrderStatus::Placed, None, 1_000)
        .await
        .unwrap();
    let row = orders::get(&mut c, id).await.unwrap().unwrap();
    assert_eq!(
        (
            row.status,
            row.payment_method,
            row.payment_status,
            row.source
        ),
        (
            OrderStatus::Placed,
            PaymentMethod::Online,
            PaymentStatus::Pending,
            OrderSource::Phone
        )
    );
    // Through the database's reader (in place on SQLite, PostgreSQL's own).
    let full = |db: Db| async move { orders::load_full(&db, id, Contact::Load).await };
    assert!(full(db.clone()).await.unwrap().is_some());

    for (column, value) in [("status", "shipped"), ("payment_status", "settled")] {
        sqlx::query(&format!("UPDATE orders SET {column} = $1 WHERE id = $2"))
            .bind(value)
            .bind(id)
            .execute(&mut *c)
            .await
            .unwrap();
        let expect = |err: StorageError| {
            let err = err.to_string();
            assert!(
                err.contains(column) && err.contains(value),
                "{column}: {err}"
            );
        };
        expect(orders::get(&mut c, id).await.unwrap_err());
        expect(full(db.clone()).await.unwrap_err());
        expect(
            orders::get_full(&mut c, db.engine, id, Contact::Skip)
                .await
                .unwrap_err(),
        );
        let all = OrderFilter {
            limit: 10,
            ..Default::default()
        };
        expect(orders::list(&mut c, &all).await.unwrap_err());
        sqlx::query(&format!("UPDATE orders SET {column} = $1 WHERE id = $2"))
            .bind(if column == "status" {
                "placed"
            } else {
                "pending"
            })
            .bind(id)
            .execute(&mut *c)
            .await
            .unwrap();
    }
    assert!(full(db.clone()).await.unwrap().is_some());
    sqlx::query("UPDATE order_events SET to_status = 'shipped' WHERE order_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await
        .unwrap();
    let err = full(db.clone()).await.unwrap_err().to_string();
    assert!(
        err.contains("order_events.to_status") && err.contains("shipped"),
        "{err}"
    );
}
both_engines!(
    a_corrupt_order_value_fails_where_it_is_read,
    super::corrupt_order_values
);

/// A session whose staff member's stored role is not one fails where it
/// is read, instead of being taken for a disabled account (or worse).
async fn corrupt_staff_role(engine: Engine) {
    let (_t, db) = open(engine).await;
    let mut c = db.conn().await.unwrap();
    let id = staff::insert(&mut c, "mita", "h", Role::Support, 1)
        .await
        .unwrap();
    plain_session(&mut c, "t-bad", Some(id), None).await;
    write_unchecked(
        &mut c,
        engine,
        "staff",
        "staff_role_check",
        "UPDATE staff SET role = 'owner' WHERE id = $1",
        id,
    )
    .await;
    for err in [
        sessions::get(&mut c, "t-bad", 200)
            .await
            .unwrap_err()
            .to_string(),
        staff::get(&mut c, id).await.unwrap_err().to_string(),
    ] {
        assert!(err.contains("role") && err.contains("owner"), "{err}");
    }
}
both_engines!(
    a_corrupt_staff_role_fails_where_it_is_read,
    super::corrupt_staff_role
);

/// A legal hold whose stored reason is not one fails where it is read,
/// instead of being shown (and told to the customer) as some other reason.
async fn corrupt_hold_reason(engine: Engine) {
    use chotomoni_domain::HoldReason;
    use chotomoni_storage::erasure;
    let (_t, db) = open(engine).await;
    let cust = customer(&db, b"idx-hold").await;
    let mut c = db.conn().await.unwrap();
    let order = orders::insert(
        &mut c,
        &NewOrder {
            customer_id: cust,
            status: OrderStatus::Delivered,
            payment_method: PaymentMethod::Cod,
            payment_status: PaymentStatus::Paid,
            source: OrderSource::Shop,
            total: 100,
            created_by: None,
            at: 1_000,
            unconfirmed: false,
            marketing_opt_in: false,
        },
    )
    .await
    .unwrap();
    let hold = erasure::place_hold(&mut c, order, HoldReason::Legal, "court", None, 1_000, None)
        .await
        .unwrap();
    let held = erasure::holds_of_order(&mut c, order).await.unwrap();
    assert_eq!(held[0].reason, HoldReason::Legal);
    write_unchecked(
        &mut c,
        engine,
        "legal_holds",
        "legal_holds_reason_check",
        "UPDATE legal_holds SET reason = 'tax' WHERE id = $1",
        hold,
    )
    .await;
    let err = erasure::holds_of_order(&mut c, order)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("legal_holds.reason") && err.contains("tax"),
        "{err}"
    );
}
both_engines!(
    a_corrupt_hold_reason_fails_where_it_is_read,
    super::corrupt_hold_reason
);
