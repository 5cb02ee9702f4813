//! The counts behind fraud flags, for a page of orders in a few queries:
//! per phone (customer), per device and address in a window, and the
//! phone's refused, returned and cancelled orders; phone checks; the sweep.
use super::*;
use chotomoni_storage::order_signals::{self as signals, NewCheck, Windows};

const HOUR: i64 = 3_600_000;

async fn order_at(
    c: &mut chotomoni_storage::Conn,
    customer: i64,
    at: i64,
    status: OrderStatus,
) -> i64 {
    orders::insert(
        c,
        &NewOrder {
            customer_id: customer,
            status,
            payment_method: PaymentMethod::Cod,
            payment_status: PaymentStatus::Pending,
            source: OrderSource::Shop,
            total: 700_000,
            created_by: None,
            at,
            unconfirmed: false,
            marketing_opt_in: false,
        },
    )
    .await
    .unwrap()
}

async fn signal_queries(engine: Engine) {
    let (_t, db) = open(engine).await;
    let rahim = customer(&db, b"sig-1").await;
    let other = customer(&db, b"sig-2").await;
    let mut c = db.conn().await.unwrap();
    let day = 100 * 24 * HOUR;
    // Rahim's history: one delivered, two returned, one cancelled, long ago.
    let mut history = Vec::new();
    for status in [
        OrderStatus::Delivered,
        OrderStatus::Returned,
        OrderStatus::Returned,
        OrderStatus::Cancelled,
    ] {
        history.push(order_at(&mut c, rahim, HOUR, status).await);
    }
    // Today: three orders of his within two hours, and one of someone else
    // from the same device.
    let a = order_at(&mut c, rahim, day, OrderStatus::Placed).await;
    let b = order_at(&mut c, rahim, day + 5 * 60_000, OrderStatus::Placed).await;
    let d = order_at(&mut c, rahim, day + 2 * HOUR, OrderStatus::Placed).await;
    let x = order_at(&mut c, other, day + HOUR, OrderStatus::Placed).await;
    for (id, ip, at) in [
        (a, "ip-1", day),
        (b, "ip-1", day + 5 * 60_000),
        (x, "ip-2", day + HOUR),
    ] {
        signals::record(&mut c, id, Some(ip), Some("dev-1"), at)
            .await
            .unwrap();
    }
    signals::record(&mut c, d, None, None, day + 2 * HOUR)
        .await
        .unwrap();

    let w = Windows {
        window_ms: 24 * HOUR,
        burst_ms: 10 * 60_000,
    };
    let mut phones = signals::phone_counts(&mut c, &[a, b, d, x, history[0]], w)
        .await
        .unwrap();
    phones.sort_by_key(|p| p.order_id);
    let of = |id: i64| *phones.iter().find(|p| p.order_id == id).unwrap();
    let pa = of(a);
    assert_eq!((pa.in_window, pa.in_burst, pa.earlier), (3, 2, 4));
    assert_eq!((pa.delivered, pa.returned, pa.cancelled), (1, 2, 1));
    assert_eq!(pa.total, 700_000);
    assert_eq!((of(d).in_window, of(d).in_burst), (3, 1));
    let px = of(x);
    assert_eq!((px.in_window, px.earlier, px.returned), (1, 0, 0));
    // The first order's own history: the others, not itself.
    let first = of(history[0]);
    assert_eq!((first.earlier, first.delivered, first.returned), (0, 0, 2));
    assert_eq!(phones.len(), 5);

    let clients = signals::client_counts(&mut c, &[a, b, d, x], w.window_ms)
        .await
        .unwrap();
    let client = |id: i64| clients.iter().find(|c| c.order_id == id).copied();
    assert_eq!(
        client(a).map(|c| (c.device, c.ip)),
        Some((Some(3), Some(2)))
    );
    assert_eq!(
        client(x).map(|c| (c.device, c.ip)),
        Some((Some(3), Some(1)))
    );
    // Nothing recorded: nothing counted, not zero.
    assert_eq!(client(d), None);
    // A narrower window leaves the others out.
    let narrow = signals::client_counts(&mut c, &[a], 10 * 60_000)
        .await
        .unwrap();
    assert_eq!((narrow[0].device, narrow[0].ip), (Some(2), Some(2)));
    assert!(signals::phone_counts(&mut c, &[], w)
        .await
        .unwrap()
        .is_empty());
    assert!(signals::client_counts(&mut c, &[], 1)
        .await
        .unwrap()
        .is_empty());

    let staff_id = staff::insert(&mut c, "desk", "h", Role::Support, 1)
        .await
        .unwrap();
    for (outcome, note, at) in [
        ("no_answer", "", day + 3 * HOUR),
        ("genuine", "asked for Friday", day + 4 * HOUR),
    ] {
        signals::add_check(
            &mut c,
            &NewCheck {
                order_id: a,
                staff_id,
                outcome,
                note,
                at,
            },
        )
        .await
        .unwrap();
    }
    let checks = signals::checks_of(&mut c, &[a, b]).await.unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[1].outcome, "genuine");
    assert_eq!(checks[1].note, "asked for Friday");
    assert_eq!(checks[1].username, "desk");
    assert_eq!(checks[1].order_id, a);

    // The sweep deletes what is older than the technical period's cutoff.
    let gone = signals::sweep(&mut c, day + 3 * HOUR + 1).await.unwrap();
    assert_eq!(gone, 5, "four client rows and one check");
    assert_eq!(signals::checks_of(&mut c, &[a]).await.unwrap().len(), 1);
    assert!(signals::client_counts(&mut c, &[a, x], w.window_ms)
        .await
        .unwrap()
        .is_empty());
}

both_engines!(fraud_signal_queries_work, super::signal_queries);
