//! Payment attempts: a payment leaves `started` once, whichever of two
//! connections (two servers) finishes it first; the order follows; quiet,
//! held and mismatched payments are found.
use super::*;
use chotomoni_domain::{GatewayName, PaymentState};
use chotomoni_storage::payments::{self as pay, Finish, NewPayment};

fn paid(at: i64, amount: i64) -> Finish<'static> {
    Finish {
        status: PaymentState::Paid,
        paid_amount: Some(amount),
        gateway_payment_id: Some("VAL1"),
        gateway_transaction_id: Some("BANK1"),
        risk_level: Some(0),
        gateway_status: "VALID",
        hold_reason: None,
        at,
    }
}

async fn payment_queries(engine: Engine) {
    let (_t, db) = open(engine).await;
    let me = customer(&db, b"pay-phone").await;
    let mut c = db.conn().await.unwrap();
    let order = orders::insert(
        &mut c,
        &NewOrder {
            customer_id: me,
            status: OrderStatus::Placed,
            payment_method: PaymentMethod::Online,
            payment_status: PaymentStatus::Pending,
            source: OrderSource::Shop,
            total: 940_000,
            created_by: None,
            at: 1_000,
            unconfirmed: false,
            marketing_opt_in: false,
        },
    )
    .await
    .unwrap();
    for (tran_id, gateway) in [
        ("T-1", GatewayName::Sslcommerz),
        ("T-2", GatewayName::Bkash),
    ] {
        pay::insert(
            &mut c,
            &NewPayment {
                tran_id,
                order_id: order,
                gateway,
                amount: 940_000,
                currency: "BDT",
                at: 1_000,
            },
        )
        .await
        .unwrap();
    }
    pay::set_session(&mut c, "T-1", "SESSION1", 1_100)
        .await
        .unwrap();
    assert_eq!(
        pay::silent(&mut c, 2_000, 10).await.unwrap().len(),
        2,
        "both quiet"
    );
    pay::heard(&mut c, "T-2", "Initiated", 3_000).await.unwrap();
    let quiet = pay::silent(&mut c, 2_000, 10).await.unwrap();
    assert_eq!(quiet.len(), 1);
    assert_eq!(quiet[0].session_ref.as_deref(), Some("SESSION1"));
    drop(c);

    // Two servers finish T-1 at once: one moves it.
    let (mut a, mut b) = (db.begin().await.unwrap(), db.conn().await.unwrap());
    assert!(pay::finish(&mut a, "T-1", &paid(4_000, 940_000))
        .await
        .unwrap());
    assert!(pay::mark_order_paid(&mut a, order, 4_000).await.unwrap());
    let second = tokio::spawn({
        let db = db.clone();
        async move {
            let mut b = db.conn().await.unwrap();
            pay::finish(&mut b, "T-1", &paid(4_001, 940_000))
                .await
                .unwrap()
        }
    });
    a.commit().await.unwrap();
    assert!(!second.await.unwrap(), "the second finish moves nothing");
    assert!(!pay::finish(&mut b, "T-1", &paid(4_002, 940_000))
        .await
        .unwrap());
    // The other attempt paid too: the order is paid already, so it is held.
    assert!(pay::finish(&mut b, "T-2", &paid(5_000, 900_000))
        .await
        .unwrap());
    assert!(!pay::mark_order_paid(&mut b, order, 5_000).await.unwrap());
    pay::hold_paid(&mut b, "T-2", "paid already", 5_000)
        .await
        .unwrap();
    let held = pay::held(&mut b, 10).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].status, PaymentState::Held);
    assert_eq!(held[0].hold_reason.as_deref(), Some("paid already"));
    assert_eq!(
        pay::mismatched_counts(&mut b, &[order, order + 1])
            .await
            .unwrap(),
        [(order, 1)]
    );
    // Accepting a held payment works once, and not for a paid one.
    assert!(!pay::accept_held(&mut b, "T-1", 6_000).await.unwrap());
    assert!(pay::accept_held(&mut b, "T-2", 6_000).await.unwrap());
    assert!(!pay::accept_held(&mut b, "T-2", 6_001).await.unwrap());
    let mine = pay::of_customer(&mut b, me).await.unwrap();
    assert_eq!(
        mine.iter().map(|p| p.tran_id.as_str()).collect::<Vec<_>>(),
        ["T-1", "T-2"]
    );
    let one = pay::by_tran_id(&mut b, "T-1").await.unwrap().unwrap();
    assert_eq!(one.gateway_transaction_id.as_deref(), Some("BANK1"));
    assert_eq!(one.finished_at, Some(4_000));
    assert_eq!(pay::of_order(&mut b, order).await.unwrap().len(), 2);
    assert!(pay::by_tran_id(&mut b, "T-9").await.unwrap().is_none());
    // A failed attempt makes a pending order's status failed, never a paid one's.
    pay::mark_order_failed(&mut b, order, 7_000).await.unwrap();
    let row = orders::get(&mut b, order).await.unwrap().unwrap();
    assert_eq!(row.payment_status, PaymentStatus::Paid);
}
both_engines!(payment_queries_work, super::payment_queries);
