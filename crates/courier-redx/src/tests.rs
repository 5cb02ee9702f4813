//! The RedX client against the stand-in.
use crate::stand_in::StandIn;
use crate::{map_status, Redx, RedxConfig};
use chotomoni_courier::{
    Courier, CourierError, LocalPhone, Parcel, ParcelStatus, WebhookError, WebhookEvent,
};
use std::collections::BTreeSet;
use std::time::Duration;

const WEBHOOK_TOKEN: &str = "hook-token-5f2a9c";
const PHONE: &str = "01712345678";

fn parcel(invoice: &str, area: &str, district: &str) -> Parcel {
    Parcel {
        invoice: invoice.into(),
        recipient_name: "Rahima Khatun".into(),
        recipient_phone: LocalPhone::parse(PHONE).unwrap(),
        address: "House 12, Road 3, Mirpur DOHS, Dhaka".into(),
        area: Some(area.into()),
        district: Some(district.into()),
        cash_to_collect: 106050,
        note: Some("Call before coming".into()),
        item_count: 2,
        weight_grams: 750,
        value: 100000,
    }
}

async fn client() -> (StandIn, Redx) {
    let s = StandIn::start().await;
    let redx = Redx::new(s.config(WEBHOOK_TOKEN)).unwrap();
    (s, redx)
}

/// Books a parcel to Dhanmondi and gives its tracking id.
async fn booked(redx: &Redx, invoice: &str) -> String {
    let booking = redx.book(&parcel(invoice, "Dhanmondi", "Dhaka")).await;
    booking.unwrap().consignment_id
}

#[tokio::test]
async fn booking_finds_the_area_id_and_sends_exactly_the_published_fields() {
    let (s, redx) = client().await;
    let booking = redx
        .book(&parcel("CM-000123", "mirpur  dohs", "Dhaka"))
        .await
        .unwrap();
    assert_eq!(booking.invoice, "CM-000123");
    let sent = s.received(&booking.consignment_id).expect("stored");
    let keys: BTreeSet<&str> = sent.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "customer_name",
            "customer_phone",
            "delivery_area",
            "delivery_area_id",
            "customer_address",
            "cash_collection_amount",
            "parcel_weight",
            "value",
            "merchant_invoice_id",
            "instruction",
        ])
    );
    assert_eq!(sent["delivery_area_id"], 1);
    assert_eq!(sent["delivery_area"], "Mirpur DOHS");
    assert_eq!(sent["customer_phone"], PHONE);
    assert_eq!(sent["cash_collection_amount"], "1060.50");
    assert_eq!(sent["value"], "1000.00");
    assert_eq!(sent["parcel_weight"], 750);
    assert_eq!(sent["merchant_invoice_id"], "CM-000123");
    assert_eq!(sent["instruction"], "Call before coming");
}

#[tokio::test]
async fn the_pickup_store_is_sent_only_when_configured_and_an_empty_note_never() {
    let s = StandIn::start().await;
    let redx = Redx::new(RedxConfig {
        pickup_store_id: Some(7),
        ..s.config(WEBHOOK_TOKEN)
    })
    .unwrap();
    let mut p = parcel("CM-000124", "Agrabad", "Chattogram");
    p.note = Some("  ".into());
    let booking = redx.book(&p).await.unwrap();
    let sent = s.received(&booking.consignment_id).unwrap();
    assert_eq!(sent["pickup_store_id"], 7);
    assert!(!sent.contains_key("instruction"));
}

#[tokio::test]
async fn an_unknown_area_is_refused_before_anything_is_sent() {
    let (s, redx) = client().await;
    let err = redx
        .book(&parcel("CM-000125", "Dhanmondi", "Chattogram"))
        .await
        .unwrap_err();
    assert!(matches!(err, CourierError::NotSupported(_)), "{err:?}");
    assert!(!err.is_transient());
    let mut no_area = parcel("CM-000126", "x", "Dhaka");
    no_area.area = None;
    let err = redx.book(&no_area).await.unwrap_err();
    assert!(matches!(err, CourierError::NotSupported(_)), "{err:?}");
    assert!(s.parcels().is_empty());
    let areas = redx.areas("Dhaka").await.unwrap();
    assert_eq!(areas.len(), 3);
    assert_eq!(
        redx.area_by_name("chattogram", "AGRABAD")
            .await
            .unwrap()
            .map(|a| a.id),
        Some(4)
    );
}

#[tokio::test]
async fn booking_the_same_invoice_twice_posts_once() {
    let (s, redx) = client().await;
    let p = parcel("CM-000127", "Dhanmondi", "Dhaka");
    let (first, second) = tokio::join!(redx.book(&p), redx.book(&p));
    assert_eq!(
        first.unwrap().consignment_id,
        second.unwrap().consignment_id
    );
    assert_eq!(s.parcels().len(), 1);
}

#[tokio::test]
async fn a_caller_holding_the_tracking_id_books_nothing_new() {
    let (s, redx) = client().await;
    let p = parcel("CM-000128", "Gulshan 1", "Dhaka");
    let id = redx.book(&p).await.unwrap().consignment_id;
    // A new client, as after a restart: it only knows what the caller stored.
    let again = Redx::new(s.config(WEBHOOK_TOKEN)).unwrap();
    let booking = again.book_unless_booked(&p, Some(&id)).await.unwrap();
    assert_eq!(booking.consignment_id, id);
    assert_eq!(s.parcels().len(), 1);
    let other = parcel("CM-000999", "Gulshan 1", "Dhaka");
    let err = again
        .book_unless_booked(&other, Some(&id))
        .await
        .unwrap_err();
    assert!(matches!(err, CourierError::Protocol(_)), "{err:?}");
}

#[tokio::test]
async fn bulk_books_one_by_one_with_one_result_each() {
    let (s, redx) = client().await;
    let mut blank_name = parcel("CM-000131", "Dhanmondi", "Dhaka");
    blank_name.recipient_name = " ".into();
    let parcels = [
        parcel("CM-000130", "Dhanmondi", "Dhaka"),
        blank_name,
        parcel("CM-000132", "Atlantis", "Dhaka"),
        parcel("CM-000133", "Agrabad", "Chattogram"),
    ];
    let results = redx.book_all(&parcels).await.unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0].as_ref().unwrap().invoice, "CM-000130");
    match &results[1] {
        Err(CourierError::Refused {
            status: 400,
            message,
        }) => {
            assert!(message.contains("customer_name"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(results[2], Err(CourierError::NotSupported(_))));
    assert_eq!(results[3].as_ref().unwrap().invoice, "CM-000133");
    let booked: Vec<String> = s
        .parcels()
        .into_iter()
        .map(|(_, p)| p.fields["merchant_invoice_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(booked, ["CM-000130", "CM-000133"]);
}

#[test]
fn redx_statuses_map_onto_the_shops() {
    for (redx, ours) in [
        ("pickup-pending", ParcelStatus::Booked),
        ("pickup-processing", ParcelStatus::Booked),
        ("ready-for-delivery", ParcelStatus::WithCourier),
        ("delivery-in-progress", ParcelStatus::WithCourier),
        ("agent-area-change", ParcelStatus::WithCourier),
        ("agent-hold", ParcelStatus::OnHold),
        ("delivered", ParcelStatus::Delivered),
        ("agent-returning", ParcelStatus::Returned),
        ("returned", ParcelStatus::Returned),
        ("cancelled", ParcelStatus::Cancelled),
        ("something-new", ParcelStatus::Unknown),
    ] {
        assert_eq!(map_status(redx), ours, "{redx}");
    }
}

#[tokio::test]
async fn status_reads_the_charge_and_what_was_collected_once_delivered() {
    let (s, redx) = client().await;
    let id = booked(&redx, "CM-000140").await;
    let report = redx.status(&id).await.unwrap();
    assert_eq!(report.status, ParcelStatus::Booked);
    assert_eq!(report.courier_status, "pickup-pending");
    assert_eq!(report.invoice.as_deref(), Some("CM-000140"));
    assert_eq!(report.delivery_fee, Some(6000));
    assert_eq!(report.collected, None);
    s.set_status(&id, "delivered");
    let report = redx.status(&id).await.unwrap();
    assert_eq!(report.status, ParcelStatus::Delivered);
    assert_eq!(report.collected, Some(106050));
    let err = redx.status("NOSUCHPARCEL").await.unwrap_err();
    assert!(
        matches!(err, CourierError::Refused { status: 404, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn cancel_before_pickup_and_refused_after() {
    let (s, redx) = client().await;
    let id = booked(&redx, "CM-000150").await;
    redx.cancel(&id, "customer cancelled").await.unwrap();
    assert_eq!(
        redx.status(&id).await.unwrap().status,
        ParcelStatus::Cancelled
    );
    let later = booked(&redx, "CM-000151").await;
    s.set_status(&later, "delivery-in-progress");
    let err = redx.cancel(&later, "too late").await.unwrap_err();
    assert!(
        err.courier_message().is_some_and(|m| m.contains("pickup")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_never_shown() {
    let s = StandIn::start().await;
    let config = RedxConfig {
        access_token: "wrong-jwt-token".into(),
        ..s.config(WEBHOOK_TOKEN)
    };
    let redx = Redx::new(config.clone()).unwrap();
    let err = redx.areas("Dhaka").await.unwrap_err();
    assert!(
        matches!(err, CourierError::Unauthorized { status: 401 }),
        "{err:?}"
    );
    let err = redx.status("ANY").await.unwrap_err();
    assert!(matches!(err, CourierError::Unauthorized { .. }));
    for shown in [
        format!("{config:?}"),
        format!("{redx:?}"),
        format!("{err}"),
        format!("{err:?}"),
    ] {
        assert!(!shown.contains("wrong-jwt-token"), "{shown}");
        assert!(!shown.contains(WEBHOOK_TOKEN), "{shown}");
    }
}

#[tokio::test]
async fn a_slow_courier_times_out_as_transient() {
    let s = StandIn::start().await;
    let redx = Redx::new(RedxConfig {
        timeout: Duration::from_millis(200),
        ..s.config(WEBHOOK_TOKEN)
    })
    .unwrap();
    s.set_delay(Duration::from_secs(2));
    let err = redx
        .book(&parcel("CM-000160", "Dhanmondi", "Dhaka"))
        .await
        .unwrap_err();
    assert!(matches!(err, CourierError::Timeout(_)), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn errors_never_show_the_phone_or_the_address() {
    let (_s, redx) = client().await;
    let mut p = parcel("CM-000170", "Nowhere", "Dhaka");
    let err = redx.book(&p).await.unwrap_err();
    p.area = Some("Dhanmondi".into());
    p.recipient_name = String::new();
    let refused = redx.book(&p).await.unwrap_err();
    for shown in [
        format!("{err}"),
        format!("{err:?}"),
        format!("{refused}"),
        format!("{p:?}"),
    ] {
        assert!(!shown.contains(PHONE), "{shown}");
        assert!(!shown.contains("Road 3"), "{shown}");
    }
}

/// Where a webhook the stand-in posts lands: its query and body.
async fn webhook_receiver() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>,
) {
    use axum::extract::RawQuery;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/couriers/redx",
        listener.local_addr().unwrap()
    );
    let app = axum::Router::new().route(
        "/webhooks/couriers/redx",
        axum::routing::post(move |RawQuery(q): RawQuery, body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((q.unwrap_or_default(), body.to_vec()));
                "ok"
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, rx)
}

#[tokio::test]
async fn a_delivered_webhook_with_the_token_is_read() {
    let (s, redx) = client().await;
    let id = booked(&redx, "CM-000180").await;
    let (url, mut rx) = webhook_receiver().await;
    s.send_webhook(&url, WEBHOOK_TOKEN, &id, "delivered").await;
    let (query, body) = rx.recv().await.unwrap();
    match redx.read_webhook(&[], &query, &body).unwrap() {
        WebhookEvent::Status(report) => {
            assert_eq!(report.consignment_id, id);
            assert_eq!(report.invoice.as_deref(), Some("CM-000180"));
            assert_eq!(report.status, ParcelStatus::Delivered);
            assert_eq!(report.courier_status, "delivered");
            assert!(report.at.is_some());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_webhook_with_a_wrong_or_missing_token_is_unauthenticated() {
    let (s, redx) = client().await;
    let (url, mut rx) = webhook_receiver().await;
    s.send_webhook(&url, "forged", "20A312THJDJ8", "delivered")
        .await;
    let (query, body) = rx.recv().await.unwrap();
    assert_eq!(
        redx.read_webhook(&[], &query, &body),
        Err(WebhookError::Unauthenticated)
    );
    assert_eq!(
        redx.read_webhook(&[], "", &body),
        Err(WebhookError::Unauthenticated)
    );
    // A configured empty token never accepts an empty one.
    let open = Redx::new(s.config("")).unwrap();
    assert_eq!(
        open.read_webhook(&[], "token=", &body),
        Err(WebhookError::Unauthenticated)
    );
    assert!(matches!(
        redx.read_webhook(&[], &format!("token={WEBHOOK_TOKEN}"), b"{}"),
        Err(WebhookError::Malformed(_))
    ));
}

#[tokio::test]
async fn reads_are_retried_and_bookings_are_not() {
    let (s, redx) = client().await;
    let id = booked(&redx, "CM-000190").await;
    s.fail_next(2);
    assert_eq!(redx.status(&id).await.unwrap().consignment_id, id);
    s.fail_next(3);
    let err = redx.status(&id).await.unwrap_err();
    assert!(
        matches!(err, CourierError::Refused { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
    // Dhanmondi's area is known by now: the one failing call is the post.
    s.fail_next(1);
    let err = redx
        .book(&parcel("CM-000191", "Dhanmondi", "Dhaka"))
        .await
        .unwrap_err();
    assert!(matches!(err, CourierError::Refused { status: 503, .. }));
    assert_eq!(s.parcels().len(), 1);
}

#[tokio::test]
async fn the_stand_in_refuses_a_ten_digit_phone_and_a_missing_field_as_redx_does() {
    let s = StandIn::start().await;
    let answer = reqwest::Client::new()
        .post(format!("{}/parcel", s.base_url))
        .header(
            crate::ACCESS_TOKEN_HEADER,
            format!("Bearer {}", s.access_token),
        )
        .json(&serde_json::json!({
            "customer_name": "Rahima",
            "customer_phone": "0171234567",
            "delivery_area": "Dhanmondi",
            "delivery_area_id": 2,
            "cash_collection_amount": "0",
            "parcel_weight": 500,
            "value": "100",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.unwrap();
    let errors = body["validation_errors"].as_object().unwrap();
    let fields: BTreeSet<&str> = errors.keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        BTreeSet::from(["customer_address", "customer_phone"])
    );
    assert!(s.parcels().is_empty());
}
