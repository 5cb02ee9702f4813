//! The Steadfast client against the stand-in, and its webhooks.
use crate::stand_in::StandIn;
use crate::{Steadfast, SteadfastConfig, WEBHOOK_ANSWER};
use chotomoni_courier::{
    Courier, CourierError, LocalPhone, Parcel, ParcelStatus, WebhookError, WebhookEvent,
};
use serde_json::json;
use std::time::{Duration, Instant};

const PHONE: &str = "01712345678";

fn parcel(invoice: &str) -> Parcel {
    Parcel {
        invoice: invoice.to_owned(),
        recipient_name: "Rahima Akter".into(),
        recipient_phone: LocalPhone::parse(PHONE).unwrap(),
        address: "House 17/1, Road 3/A, Dhanmondi, Dhaka-1209".into(),
        area: Some("Dhanmondi".into()),
        district: Some("Dhaka".into()),
        cash_to_collect: 106_050,
        note: Some("Deliver after 3 PM".into()),
        item_count: 2,
        weight_grams: 800,
        value: 100_000,
    }
}

/// A client that waits at most `timeout` for a stand-in answering after 5 s.
async fn slow(timeout: Duration, status_retries: u32) -> (StandIn, Steadfast) {
    let s = StandIn::start().await;
    s.set_delay(Duration::from_secs(5));
    let client = Steadfast::new(SteadfastConfig {
        timeout,
        status_retries,
        ..s.config()
    })
    .unwrap();
    (s, client)
}

async fn started() -> (StandIn, Steadfast) {
    let s = StandIn::start().await;
    let client = Steadfast::new(s.config()).unwrap();
    (s, client)
}

#[tokio::test]
async fn books_a_parcel_with_exactly_the_published_fields() {
    let (s, client) = started().await;
    let booking = client.book(&parcel("CM-000123")).await.unwrap();
    let stored = &s.consignments()[0];
    assert_eq!(booking.invoice, "CM-000123");
    assert_eq!(booking.consignment_id, stored.consignment_id.to_string());
    assert_eq!(
        booking.tracking_code.as_deref(),
        Some(stored.tracking_code.as_str())
    );
    let received = s.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].path, "/create_order");
    assert_eq!(
        received[0].body,
        json!({
            "invoice": "CM-000123",
            "recipient_name": "Rahima Akter",
            "recipient_phone": PHONE,
            "recipient_address": "House 17/1, Road 3/A, Dhanmondi, Dhaka-1209",
            "cod_amount": 1060.5,
            "note": "Deliver after 3 PM",
            "total_lot": 2,
        })
    );
}

#[tokio::test]
async fn paid_online_sends_zero_and_no_empty_note() {
    let (s, client) = started().await;
    let p = Parcel {
        cash_to_collect: 0,
        note: None,
        ..parcel("CM-7")
    };
    client.book(&p).await.unwrap();
    let body = &s.received()[0].body;
    assert_eq!(body["cod_amount"], json!(0));
    assert!(body.get("note").is_none());
}

#[tokio::test]
async fn booking_the_same_invoice_twice_gives_the_first_consignment() {
    let (s, client) = started().await;
    let first = client.book(&parcel("CM-000124")).await.unwrap();
    let again = client.book(&parcel("CM-000124")).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(s.consignments().len(), 1);
}

#[tokio::test]
async fn a_taken_invoice_without_a_named_consignment_is_refused_with_steadfasts_words() {
    let (s, client) = started().await;
    s.set_invoice_lookup_names_consignment(false);
    client.book(&parcel("CM-000125")).await.unwrap();
    let err = client.book(&parcel("CM-000125")).await.unwrap_err();
    assert!(
        err.courier_message()
            .is_some_and(|m| m.contains("The invoice has already been taken.")),
        "{err:?}"
    );
    assert_eq!(s.consignments().len(), 1);
}

#[tokio::test]
async fn refusals_inside_a_200_are_refusals() {
    let (s, client) = started().await;
    s.set_refusals_in_200(true);
    let first = client.book(&parcel("CM-000131")).await.unwrap();
    assert_eq!(client.book(&parcel("CM-000131")).await.unwrap(), first);
    let err = client
        .book(&Parcel {
            recipient_name: String::new(),
            ..parcel("CM-000132")
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CourierError::Refused { status: 400, message } if message.contains("name field is required")),
        "{err:?}"
    );
    assert_eq!(s.consignments().len(), 1);
}

#[tokio::test]
async fn validation_errors_keep_the_message_but_not_in_display() {
    let (_s, client) = started().await;
    let p = Parcel {
        address: "x".repeat(251),
        ..parcel("CM-000126")
    };
    let err = client.book(&p).await.unwrap_err();
    match &err {
        CourierError::Refused { status, message } => {
            assert_eq!(*status, 400);
            assert!(message.contains("250 characters"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("xxx"));
}

#[tokio::test]
async fn bulk_booking_reports_each_parcel_and_one_invalid_item_alone() {
    let (s, client) = started().await;
    let bad = Parcel {
        invoice: "CM 9 has a space".into(),
        ..parcel("x")
    };
    let parcels = vec![parcel("CM-1"), bad, parcel("CM-3")];
    let results = client.book_all(&parcels).await.unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap().invoice, "CM-1");
    assert!(
        matches!(results[1], Err(CourierError::Refused { .. })),
        "{:?}",
        results[1]
    );
    assert_eq!(results[2].as_ref().unwrap().invoice, "CM-3");
    assert_eq!(s.consignments().len(), 2);
    let sent = &s.received()[0];
    assert_eq!(sent.path, "/create_order/bulk-order");
    let items: Vec<serde_json::Value> =
        serde_json::from_str(sent.body["data"].as_str().expect("data is a JSON string")).unwrap();
    assert_eq!(items.len(), 3);
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let published = [
        "cod_amount",
        "invoice",
        "note",
        "recipient_address",
        "recipient_name",
        "recipient_phone",
        "total_lot",
    ];
    assert!(
        items.iter().all(|item| keys(item) == published),
        "{items:?}"
    );
}

#[tokio::test]
async fn bulk_booking_splits_at_five_hundred_and_repeats_nothing() {
    let (s, client) = started().await;
    let parcels: Vec<Parcel> = (0..501).map(|i| parcel(&format!("CM-{i}"))).collect();
    let results = client.book_all(&parcels).await.unwrap();
    assert!(results.iter().all(Result::is_ok));
    let bulk_calls: Vec<usize> = s
        .received()
        .iter()
        .filter(|r| r.path == "/create_order/bulk-order")
        .map(|r| {
            serde_json::from_str::<Vec<serde_json::Value>>(r.body["data"].as_str().unwrap())
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(bulk_calls, vec![500, 1]);
    // Booking them again finds each first consignment.
    let again = client.book_all(&parcels[..3]).await.unwrap();
    assert_eq!(again[2].as_ref().unwrap(), results[2].as_ref().unwrap());
    assert_eq!(s.consignments().len(), 501);
}

#[tokio::test]
async fn status_is_mapped_from_steadfasts_words() {
    let (s, client) = started().await;
    let booking = client.book(&parcel("CM-000127")).await.unwrap();
    let report = client.status(&booking.consignment_id).await.unwrap();
    assert_eq!(
        (report.status, report.courier_status.as_str()),
        (ParcelStatus::Booked, "in_review")
    );
    for (word, status) in [
        ("pending", ParcelStatus::WithCourier),
        ("hold", ParcelStatus::OnHold),
        ("partial_delivered", ParcelStatus::PartlyDelivered),
        ("delivered", ParcelStatus::Delivered),
    ] {
        s.set_status(&booking.consignment_id, word);
        assert_eq!(
            client.status(&booking.consignment_id).await.unwrap().status,
            status
        );
    }
    let err = client.status("999").await.unwrap_err();
    assert!(
        matches!(err, CourierError::Refused { status: 404, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn cancel_files_a_return_request() {
    let (s, client) = started().await;
    let booking = client.book(&parcel("CM-000128")).await.unwrap();
    client
        .cancel(&booking.consignment_id, "Customer cancelled")
        .await
        .unwrap();
    let requests = s.return_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["reason"], "Customer cancelled");
    let sent = s.received().pop().unwrap();
    assert_eq!(sent.path, "/create_return_request");
    assert_eq!(
        sent.body,
        json!({"consignment_id": booking.consignment_id.parse::<u64>().unwrap(), "reason": "Customer cancelled"})
    );
    assert!(client.cancel("424242", "x").await.is_err());
}

#[tokio::test]
async fn bad_credentials_are_unauthorized() {
    let s = StandIn::start().await;
    let client = Steadfast::new(SteadfastConfig {
        secret_key: "wrong".into(),
        ..s.config()
    })
    .unwrap();
    let err = client.book(&parcel("CM-1")).await.unwrap_err();
    assert!(
        matches!(err, CourierError::Unauthorized { status: 401 }),
        "{err:?}"
    );
    let err = client.book_all(&[parcel("CM-2")]).await.unwrap_err();
    assert!(matches!(err, CourierError::Unauthorized { .. }), "{err:?}");
    assert!(s.consignments().is_empty());
}

#[tokio::test]
async fn a_slow_steadfast_times_out_within_the_configured_time() {
    let (_s, client) = slow(Duration::from_millis(300), 1).await;
    let started = Instant::now();
    let err = client.book(&parcel("CM-1")).await.unwrap_err();
    assert!(
        matches!(err, CourierError::Timeout(d) if d == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn status_lookups_are_retried_but_bookings_are_not() {
    let (_s, client) = slow(Duration::from_millis(200), 2).await;
    let started = Instant::now();
    assert!(matches!(
        client.status("1").await,
        Err(CourierError::Timeout(_))
    ));
    // Three tries of 200 ms with 200 and 400 ms between them.
    assert!(
        started.elapsed() >= Duration::from_millis(1200),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    assert!(client.book(&parcel("CM-1")).await.is_err());
    assert!(
        started.elapsed() < Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn server_errors_are_retried_for_lookups_only() {
    let (s, client) = started().await;
    let booking = client.book(&parcel("CM-000129")).await.unwrap();
    s.fail_next(1, 503);
    let report = client.status(&booking.consignment_id).await.unwrap();
    assert_eq!(report.status, ParcelStatus::Booked);
    s.fail_next(1, 500);
    let err = client.book(&parcel("CM-000130")).await.unwrap_err();
    assert!(
        matches!(err, CourierError::Refused { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
    // The 500 answered the one try; nothing was booked behind it.
    assert_eq!(s.consignments().len(), 1);
}

#[tokio::test]
async fn the_stand_in_refuses_what_steadfast_refuses() {
    let s = StandIn::start().await;
    let post = |body: serde_json::Value| {
        reqwest::Client::new()
            .post(format!("{}/create_order", s.base_url))
            .header("Api-Key", &s.api_key)
            .header("Secret-Key", &s.secret_key)
            .json(&body)
            .send()
    };
    let res = post(json!({
        "invoice": "CM-1",
        "recipient_name": "R",
        "recipient_phone": "0171234567",
        "recipient_address": "Dhaka",
    }))
    .await
    .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], 400);
    assert_eq!(
        body["errors"]["recipient_phone"],
        json!(["The recipient phone must be 11 digits."])
    );
    assert!(body["errors"]["cod_amount"].is_array());
    let res = post(json!({
        "invoice": "CM-1",
        "recipient_name": "R",
        "recipient_phone": PHONE,
        "recipient_address": "Dhaka",
        "cod_amount": -1,
    }))
    .await
    .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["errors"].as_object().unwrap().len(), 1, "{body}");
    assert!(s.consignments().is_empty());
}

#[tokio::test]
async fn an_unreachable_steadfast_is_unreachable() {
    let client = Steadfast::new(SteadfastConfig {
        base_url: "http://127.0.0.1:9/api/v1".into(),
        status_retries: 0,
        ..SteadfastConfig::new("k", "s", "t")
    })
    .unwrap();
    let err = client.status("1").await.unwrap_err();
    assert!(matches!(err, CourierError::Unreachable(_)), "{err:?}");
}

/// A shop endpoint that answers Steadfast as it expects.
async fn webhook_receiver(
    client: Steadfast,
) -> (String, tokio::sync::mpsc::UnboundedReceiver<WebhookEvent>) {
    use axum::http::{HeaderMap, StatusCode};
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/webhooks/steadfast",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let tx = tx.clone();
            let client = client.clone();
            async move {
                let headers: Vec<(String, String)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                    .collect();
                match client.read_webhook(&headers, "", &body) {
                    Ok(event) => {
                        let _ = tx.send(event);
                        (StatusCode::OK, WEBHOOK_ANSWER)
                    }
                    Err(WebhookError::Unauthenticated) => (StatusCode::UNAUTHORIZED, ""),
                    Err(_) => (StatusCode::BAD_REQUEST, ""),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/steadfast",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, rx)
}

#[tokio::test]
async fn a_delivered_webhook_is_read_and_answered_as_steadfast_expects() {
    let (s, client) = started().await;
    client.book(&parcel("INV-67890")).await.unwrap();
    let c = s.consignments()[0].clone();
    let (url, mut events) = webhook_receiver(client).await;
    let event = StandIn::delivery_status_event(&c, "Delivered", 1500.0, 100.0);
    let res = StandIn::post_webhook(&url, Some(&s.webhook_token), &event).await;
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        answer,
        json!({"status": "success", "message": "Webhook received successfully."})
    );
    let WebhookEvent::Status(report) = events.recv().await.unwrap() else {
        panic!("not a status");
    };
    assert_eq!(report.consignment_id, c.consignment_id.to_string());
    assert_eq!(report.invoice.as_deref(), Some("INV-67890"));
    assert_eq!(report.status, ParcelStatus::Delivered);
    assert_eq!(report.courier_status, "Delivered");
    assert_eq!(report.collected, Some(150_000));
    assert_eq!(report.delivery_fee, Some(10_000));
    assert_eq!(report.at.as_deref(), Some("2026-12-06 12:45:30"));
}

#[tokio::test]
async fn webhooks_with_a_wrong_or_missing_token_are_refused() {
    let (s, client) = started().await;
    client.book(&parcel("CM-1")).await.unwrap();
    let c = s.consignments()[0].clone();
    let (url, _events) = webhook_receiver(client.clone()).await;
    let event = StandIn::delivery_status_event(&c, "delivered", 1060.5, 60.0);
    for token in [Some("wrong"), Some(""), None] {
        let res = StandIn::post_webhook(&url, token, &event).await;
        assert_eq!(res.status(), 401, "{token:?}");
    }
    let body = serde_json::to_vec(&event).unwrap();
    let basic = [(
        "authorization".to_owned(),
        format!("Basic {}", s.webhook_token),
    )];
    assert_eq!(
        client.read_webhook(&basic, "", &body),
        Err(WebhookError::Unauthenticated)
    );
}

#[tokio::test]
async fn tracking_updates_are_ignored_and_garbage_is_malformed() {
    let (s, client) = started().await;
    let auth = [(
        "authorization".to_owned(),
        format!("bearer {}", s.webhook_token),
    )];
    let tracking = json!({
        "notification_type": "tracking_update",
        "consignment_id": 12345,
        "invoice": "INV-67890",
        "tracking_message": "Reached Dhaka hub",
        "updated_at": "2026-12-06 12:45:30",
    });
    let event = client
        .read_webhook(&auth, "", &serde_json::to_vec(&tracking).unwrap())
        .unwrap();
    assert_eq!(
        event,
        WebhookEvent::Ignored {
            what: "tracking_update".into()
        }
    );
    assert!(matches!(
        client.read_webhook(&auth, "", b"<html>"),
        Err(WebhookError::Malformed(_))
    ));
}

#[tokio::test]
async fn debug_and_display_keep_secrets_and_the_phone_out() {
    let (s, client) = slow(Duration::from_millis(200), 1).await;
    let mut shown = vec![
        format!("{client:?}"),
        format!("{client}"),
        format!("{:?}", client.config()),
    ];
    shown.push(format!("{:?}", parcel("CM-1")));
    let err = client.book(&parcel("CM-1")).await.unwrap_err();
    shown.extend([format!("{err:?}"), err.to_string()]);
    s.set_delay(Duration::ZERO);
    let refused = client
        .book(&Parcel {
            recipient_phone: LocalPhone::parse("01812345678").unwrap(),
            address: String::new(),
            ..parcel("CM-2")
        })
        .await
        .unwrap_err();
    shown.push(refused.to_string());
    let unauthorized = Steadfast::new(SteadfastConfig {
        api_key: "wrong".into(),
        ..s.config()
    })
    .unwrap()
    .book(&parcel("CM-3"))
    .await
    .unwrap_err();
    shown.extend([format!("{unauthorized:?}"), unauthorized.to_string()]);
    for text in &shown {
        for secret in [&s.api_key, &s.secret_key, &s.webhook_token] {
            assert!(!text.contains(secret.as_str()), "{text}");
        }
        assert!(
            !text.contains("1712345678") && !text.contains("1812345678"),
            "{text}"
        );
        assert!(!text.contains("Rahima"), "{text}");
    }
}

#[test]
fn a_base_url_must_be_http() {
    let err = Steadfast::new(SteadfastConfig {
        base_url: "portal.packzy.com".into(),
        ..SteadfastConfig::new("k", "s", "t")
    })
    .unwrap_err();
    assert!(matches!(err, crate::ConfigError::BaseUrl));
    assert_eq!(
        SteadfastConfig::new("k", "s", "t").base_url,
        crate::BASE_URL
    );
}
