//! The Pathao client against the stand-in.
use crate::stand_in::StandIn;
use crate::webhook::{HANDSHAKE_HEADER, SIGNATURE_HEADER};
use crate::{status_of, whole_taka, OrderFields, Pathao, PathaoConfig};
use chotomoni_courier::{
    Courier, CourierError, LocalPhone, Parcel, ParcelStatus, WebhookError, WebhookEvent,
};
use serde_json::json;
use std::time::Duration;

const PHONE: &str = "01712345678";

fn parcel(invoice: &str) -> Parcel {
    Parcel {
        invoice: invoice.into(),
        recipient_name: "Nusrat Jahan".into(),
        recipient_phone: LocalPhone::parse(PHONE).unwrap(),
        address: "House 12, Road 11, Banani, Dhaka".into(),
        area: Some("Banani".into()),
        district: Some("Dhaka".into()),
        cash_to_collect: 106_050,
        note: Some("Call before coming".into()),
        item_count: 2,
        weight_grams: 300,
        value: 106_050,
    }
}

fn client(s: &StandIn) -> Pathao {
    Pathao::new(s.config()).unwrap()
}

#[tokio::test]
async fn a_token_is_issued_once_and_reused() {
    let s = StandIn::start().await;
    let c = client(&s);
    c.book(&parcel("CM-000001")).await.unwrap();
    let b = c.book(&parcel("CM-000002")).await.unwrap();
    c.status(&b.consignment_id).await.unwrap();
    c.cities().await.unwrap();
    assert_eq!((s.tokens_issued(), s.tokens_refreshed()), (1, 0));
}

#[tokio::test]
async fn concurrent_callers_share_one_token() {
    let s = StandIn::start().await;
    let c = client(&s);
    let (a, b, d) = tokio::join!(c.cities(), c.zones(1), c.areas(298));
    assert_eq!(a.unwrap().len(), 3);
    assert_eq!(b.unwrap()[0].name, "Banani");
    assert_eq!(d.unwrap()[1].id, 38);
    assert_eq!(s.tokens_issued(), 1);
}

#[tokio::test]
async fn a_token_is_refreshed_before_it_expires() {
    let s = StandIn::start().await;
    s.set_token_lifetime(Duration::from_secs(2));
    let c = client(&s);
    c.cities().await.unwrap();
    // Inside the last tenth of its life: still valid, due for renewal.
    tokio::time::sleep(Duration::from_millis(1850)).await;
    c.cities().await.unwrap();
    assert_eq!((s.tokens_issued(), s.tokens_refreshed()), (1, 1));
    c.cities().await.unwrap();
    assert_eq!((s.tokens_issued(), s.tokens_refreshed()), (1, 1));
}

#[tokio::test]
async fn callers_finding_the_token_stale_at_once_share_one_refresh() {
    let s = StandIn::start().await;
    s.set_token_lifetime(Duration::from_secs(2));
    let c = client(&s);
    c.cities().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1850)).await;
    let (a, b, d) = tokio::join!(c.cities(), c.zones(1), c.areas(298));
    assert!(a.is_ok() && b.is_ok() && d.is_ok());
    assert_eq!((s.tokens_issued(), s.tokens_refreshed()), (1, 1));
}

#[tokio::test]
async fn a_failed_early_refresh_keeps_the_token_until_it_expires() {
    let s = StandIn::start().await;
    s.set_token_lifetime(Duration::from_secs(3));
    let c = client(&s);
    c.cities().await.unwrap();
    // Due for renewal, with a quarter second left for a slow machine.
    tokio::time::sleep(Duration::from_millis(2750)).await;
    s.fail_next_token_calls(1, 503);
    c.cities().await.unwrap();
    assert_eq!((s.tokens_issued(), s.tokens_refreshed()), (1, 0));
    c.cities().await.unwrap();
    assert_eq!((s.tokens_issued(), s.tokens_refreshed()), (1, 1));
}

#[tokio::test]
async fn a_refused_token_is_refreshed_or_issued_again() {
    let s = StandIn::start().await;
    let c = client(&s);
    c.cities().await.unwrap();
    s.revoke_tokens(false);
    c.cities().await.unwrap();
    assert_eq!((s.tokens_issued(), s.tokens_refreshed()), (1, 1));
    s.revoke_tokens(true);
    c.cities().await.unwrap();
    assert_eq!((s.tokens_issued(), s.tokens_refreshed()), (2, 1));
}

#[tokio::test]
async fn a_token_expired_early_is_renewed_when_refused() {
    let s = StandIn::start().await;
    // Pathao writes whole seconds: the client believes a second, the
    // server keeps 300 ms, as when the clocks disagree.
    s.set_token_lifetime(Duration::from_millis(300));
    let c = client(&s);
    c.cities().await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    c.cities().await.unwrap();
    assert_eq!((s.tokens_issued(), s.tokens_refreshed()), (1, 1));
}

#[tokio::test]
async fn wrong_credentials_are_unauthorized() {
    let s = StandIn::start().await;
    let c = Pathao::new(PathaoConfig {
        password: "wrong".into(),
        ..s.config()
    })
    .unwrap();
    let err = c.book(&parcel("CM-000003")).await.unwrap_err();
    assert!(
        matches!(err, CourierError::Unauthorized { status: 401 }),
        "{err:?}"
    );
    assert!(s.orders().is_empty());
}

#[tokio::test]
async fn a_booking_sends_exactly_the_published_fields() {
    let s = StandIn::start().await;
    let booking = client(&s).book(&parcel("CM-000004")).await.unwrap();
    assert_eq!(booking.invoice, "CM-000004");
    assert_eq!(booking.delivery_fee, Some(8000));
    let orders = s.orders();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].consignment_id, booking.consignment_id);
    let sent = serde_json::Value::Object(orders[0].received.clone());
    assert_eq!(
        sent,
        json!({
            "store_id": crate::stand_in::STORE_ID,
            "merchant_order_id": "CM-000004",
            "recipient_name": "Nusrat Jahan",
            "recipient_phone": PHONE,
            "recipient_address": "House 12, Road 11, Banani, Dhaka",
            "delivery_type": 48,
            "item_type": 2,
            "special_instruction": "Call before coming",
            "item_quantity": 2,
            "item_weight": 0.5,
            "amount_to_collect": 1061,
        })
    );
}

#[tokio::test]
async fn booking_twice_never_makes_two_consignments() {
    let s = StandIn::start().await;
    let first = client(&s).book(&parcel("CM-000005")).await.unwrap();
    let c = client(&s);
    // A client that has not booked it meets Pathao's refusal.
    let err = c.book(&parcel("CM-000005")).await.unwrap_err();
    let message = err.courier_message().unwrap();
    assert!(
        matches!(err, CourierError::Refused { status: 422, .. }),
        "{err:?}"
    );
    assert!(message.contains("merchant_order_id: The merchant order id has already been taken."));
    assert!(!err.to_string().contains("CM-000005"));
    // The one that booked it answers with the first consignment.
    let same = client(&s);
    let b = same.book(&parcel("CM-000006")).await.unwrap();
    assert_eq!(same.book(&parcel("CM-000006")).await.unwrap(), b);
    assert_eq!(s.orders().len(), 2);
    assert_ne!(first.consignment_id, b.consignment_id);
}

#[tokio::test]
async fn booking_one_order_twice_at_once_sends_it_once() {
    let s = StandIn::start().await;
    let c = client(&s);
    let (p1, p2) = (parcel("CM-000022"), parcel("CM-000022"));
    let (a, b) = tokio::join!(c.book(&p1), c.book(&p2));
    assert_eq!(a.unwrap(), b.unwrap());
    assert_eq!(s.orders().len(), 1);
}

#[tokio::test]
async fn what_pathao_would_refuse_is_refused_before_sending() {
    let s = StandIn::start().await;
    let c = client(&s);
    let short = Parcel {
        address: "Banani".into(),
        ..parcel("CM-000007")
    };
    let err = c.book(&short).await.unwrap_err();
    assert!(matches!(err, CourierError::Refused { status: 0, .. }));
    assert!(err
        .courier_message()
        .unwrap()
        .contains("at least 10 characters"));
    let heavy = Parcel {
        weight_grams: 10_001,
        ..parcel("CM-000007")
    };
    assert!(c.book(&heavy).await.is_err());
    assert_eq!(s.tokens_issued(), 0);
}

#[test]
fn amounts_round_up_to_whole_taka_and_weights_up_to_half_a_kilo() {
    assert_eq!(whole_taka(106_000), 1060);
    assert_eq!(whole_taka(106_001), 1061);
    assert_eq!(whole_taka(0), 0);
    let fields = |grams| {
        OrderFields::from_parcel(
            &Parcel {
                weight_grams: grams,
                ..parcel("CM-1")
            },
            1,
        )
        .unwrap()
        .item_weight
    };
    assert_eq!((fields(0), fields(1250), fields(10_000)), (0.5, 1.25, 10.0));
}

#[tokio::test]
async fn bulk_is_submitted_whole_and_book_all_gives_one_booking_each() {
    let s = StandIn::start().await;
    let c = client(&s);
    c.submit_bulk(&[parcel("CM-000008"), parcel("CM-000009")])
        .await
        .unwrap();
    let batches = s.bulk_batches();
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0][1]["merchant_order_id"], "CM-000009");
    let results = c
        .book_all(&[parcel("CM-000010"), parcel("CM-000011")])
        .await
        .unwrap();
    let ids: Vec<_> = results
        .into_iter()
        .map(|r| r.unwrap().consignment_id)
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
}

#[tokio::test]
async fn statuses_are_mapped() {
    let s = StandIn::start().await;
    let c = client(&s);
    let b = c.book(&parcel("CM-000012")).await.unwrap();
    let report = c.status(&b.consignment_id).await.unwrap();
    assert_eq!(report.status, ParcelStatus::Booked);
    assert_eq!(report.invoice.as_deref(), Some("CM-000012"));
    for (slug, status) in [
        ("In_Transit", ParcelStatus::WithCourier),
        ("Delivered", ParcelStatus::Delivered),
        ("Partial_Delivery", ParcelStatus::PartlyDelivered),
        ("Pickup_Cancelled", ParcelStatus::Cancelled),
    ] {
        s.set_status(&b.consignment_id, slug);
        let report = c.status(&b.consignment_id).await.unwrap();
        assert_eq!(
            (report.status, report.courier_status.as_str()),
            (status, slug)
        );
    }
    let err = c.status("DA000000NONE").await.unwrap_err();
    assert!(
        matches!(err, CourierError::Refused { status: 404, .. }),
        "{err:?}"
    );
    assert!(c.status("../stores").await.is_err());
}

#[test]
fn events_and_slugs_map_alike() {
    for (said, status) in [
        ("order.created", ParcelStatus::Booked),
        ("order.pickup-requested", ParcelStatus::Booked),
        ("order.picked", ParcelStatus::WithCourier),
        ("order.at-the-sorting-hub", ParcelStatus::WithCourier),
        ("At_the_Sorting_HUB", ParcelStatus::WithCourier),
        ("order.delivered", ParcelStatus::Delivered),
        ("order.partial-delivery", ParcelStatus::PartlyDelivered),
        ("order.returned", ParcelStatus::Returned),
        ("order.paid-return", ParcelStatus::Returned),
        ("order.on-hold", ParcelStatus::OnHold),
        ("order.delivery-failed", ParcelStatus::OnHold),
        ("order.pickup-cancelled", ParcelStatus::Cancelled),
        ("order.exchanged", ParcelStatus::Unknown),
    ] {
        assert_eq!(status_of(said), status, "{said}");
    }
}

#[tokio::test]
async fn a_slow_courier_is_a_timeout() {
    let s = StandIn::start().await;
    let c = Pathao::new(PathaoConfig {
        timeout: Duration::from_millis(300),
        ..s.config()
    })
    .unwrap();
    s.set_delay(Duration::from_secs(3));
    let err = c.cities().await.unwrap_err();
    assert!(matches!(err, CourierError::Timeout(_)), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn cancelling_is_not_offered() {
    let s = StandIn::start().await;
    let err = client(&s).cancel("DA1", "customer").await.unwrap_err();
    assert!(matches!(err, CourierError::NotSupported(_)));
}

fn signed(secret: &str) -> Vec<(String, String)> {
    vec![(SIGNATURE_HEADER.to_owned(), secret.to_owned())]
}

#[tokio::test]
async fn webhooks_without_the_secret_are_refused() {
    let s = StandIn::start().await;
    let c = client(&s);
    let body = serde_json::to_vec(&s.event_body("order.delivered", "DA1", "CM-1")).unwrap();
    assert_eq!(
        c.read_webhook(&[], "", &body),
        Err(WebhookError::Unauthenticated)
    );
    assert_eq!(
        c.read_webhook(&signed("guess"), "", &body),
        Err(WebhookError::Unauthenticated)
    );
    let unset = Pathao::new(PathaoConfig {
        webhook_secret: String::new(),
        ..s.config()
    })
    .unwrap();
    assert_eq!(
        unset.read_webhook(&signed(""), "", &body),
        Err(WebhookError::Unauthenticated)
    );
}

#[tokio::test]
async fn a_delivered_event_carries_the_collected_amount() {
    let s = StandIn::start().await;
    let c = client(&s);
    let body = serde_json::to_vec(&s.event_body("order.delivered", "DA1", "CM-1")).unwrap();
    let Ok(WebhookEvent::Status(report)) = c.read_webhook(&signed(&s.webhook_secret), "", &body)
    else {
        panic!("not a status");
    };
    assert_eq!(report.status, ParcelStatus::Delivered);
    assert_eq!(report.collected, Some(106_050));
    assert_eq!(report.delivery_fee, Some(8000));
    assert_eq!(report.invoice.as_deref(), Some("CM-1"));
    assert_eq!(report.courier_status, "order.delivered");
    let body = serde_json::to_vec(&s.event_body("order.partial-delivery", "DA1", "CM-1")).unwrap();
    let Ok(WebhookEvent::Status(partly)) = c.read_webhook(&signed(&s.webhook_secret), "", &body)
    else {
        panic!("not a status");
    };
    assert_eq!(partly.status, ParcelStatus::PartlyDelivered);
    assert_eq!(
        (partly.collected, partly.delivery_fee),
        (Some(53_000), Some(8000))
    );
    for ignored in ["order.paid", "order.updated", "store.updated"] {
        let body = serde_json::to_vec(&s.event_body(ignored, "DA1", "CM-1")).unwrap();
        assert!(matches!(
            c.read_webhook(&signed(&s.webhook_secret), "", &body),
            Ok(WebhookEvent::Ignored { .. })
        ));
    }
    assert!(matches!(
        c.read_webhook(&signed(&s.webhook_secret), "", b"{\"name\":\"x\"}"),
        Err(WebhookError::Malformed(_))
    ));
}

/// Serves `read_webhook` and `webhook_answer` as the HTTP layer does;
/// returns its URL.
async fn webhook_endpoint(c: Pathao) -> String {
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    let c = std::sync::Arc::new(c);
    let app = axum::Router::new().route(
        "/webhooks/pathao",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let c = c.clone();
            async move {
                let headers: Vec<(String, String)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                    .collect();
                match c.read_webhook(&headers, "", &body) {
                    Ok(event) => {
                        let answer = c.webhook_answer(&event);
                        let mut response =
                            (StatusCode::from_u16(answer.status).unwrap(), answer.body)
                                .into_response();
                        if let Some((name, value)) = answer.header {
                            response.headers_mut().insert(name, value.parse().unwrap());
                        }
                        response
                    }
                    Err(WebhookError::Unauthenticated) => StatusCode::UNAUTHORIZED.into_response(),
                    Err(_) => StatusCode::BAD_REQUEST.into_response(),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/pathao", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn the_integration_handshake_is_answered_as_pathao_expects() {
    let s = StandIn::start().await;
    let url = webhook_endpoint(client(&s)).await;
    let res = s.send_handshake(&url).await;
    assert_eq!(res.status().as_u16(), 202);
    assert_eq!(
        res.headers()[HANDSHAKE_HEADER],
        "f3992ecc-59da-4cbe-a049-a13da2018d51"
    );
    let event = s.event_body("order.picked", "DA1", "CM-1");
    assert_eq!(s.send_webhook(&url, &event).await.status().as_u16(), 202);
    let res = reqwest::Client::new()
        .post(&url)
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test]
async fn debug_and_display_show_no_secrets_tokens_or_numbers() {
    let s = StandIn::start().await;
    let c = client(&s);
    c.book(&parcel("CM-000013")).await.unwrap();
    let token = {
        let slot = c.token.lock().await;
        let t = slot.as_ref().unwrap();
        (t.access.clone(), t.refresh.clone())
    };
    let short = Parcel {
        address: "x".into(),
        ..parcel("CM-000014")
    };
    let texts = [
        format!("{:?}", s.config()),
        format!("{c:?}"),
        format!("{:?}", parcel("CM-000013")),
        format!("{:?}", c.book(&parcel("CM-000013")).await),
        format!("{:?}", client(&s).book(&parcel("CM-000013")).await),
        client(&s)
            .book(&parcel("CM-000013"))
            .await
            .unwrap_err()
            .to_string(),
        c.book(&short).await.unwrap_err().to_string(),
    ];
    for text in texts {
        for secret in [
            s.client_secret.as_str(),
            s.password.as_str(),
            s.webhook_secret.as_str(),
            &token.0,
            &token.1,
            PHONE,
            "Nusrat",
            "Banani",
        ] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}

#[tokio::test]
async fn pathao_field_errors_reach_staff() {
    let s = StandIn::start().await;
    let c = Pathao::new(PathaoConfig {
        store_id: 1,
        ..s.config()
    })
    .unwrap();
    let err = c.book(&parcel("CM-000015")).await.unwrap_err();
    assert!(
        matches!(err, CourierError::Refused { status: 422, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.courier_message(),
        Some("Please fix the given errors; store_id: The selected store id is invalid.")
    );
    assert!(!err.is_transient());
}

#[tokio::test]
async fn an_unreachable_courier_is_transient() {
    let c = Pathao::new(PathaoConfig {
        base_url: "http://127.0.0.1:9".into(),
        client_id: "id".into(),
        client_secret: "secret".into(),
        username: "u".into(),
        password: "p".into(),
        store_id: 1,
        webhook_secret: "w".into(),
        timeout: Duration::from_secs(2),
    })
    .unwrap();
    let err = c.cities().await.unwrap_err();
    assert!(matches!(err, CourierError::Unreachable(_)), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn reads_are_tried_again_and_bookings_are_not() {
    let s = StandIn::start().await;
    let c = client(&s);
    let b = c.book(&parcel("CM-000016")).await.unwrap();
    s.fail_next(2, 503);
    let before = s.calls();
    assert_eq!(
        c.status(&b.consignment_id).await.unwrap().consignment_id,
        b.consignment_id
    );
    assert_eq!(s.calls() - before, 3);
    s.fail_next(1, 500);
    let err = c.book(&parcel("CM-000017")).await.unwrap_err();
    assert!(
        matches!(err, CourierError::Refused { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(s.orders().len(), 1);
    // A retry by the caller books it once.
    c.book(&parcel("CM-000017")).await.unwrap();
    assert_eq!(s.orders().len(), 2);
}

#[tokio::test]
async fn book_all_reports_each_parcel() {
    let s = StandIn::start().await;
    let short = Parcel {
        address: "Dhaka".into(),
        ..parcel("CM-000019")
    };
    let results = client(&s)
        .book_all(&[parcel("CM-000018"), short, parcel("CM-000020")])
        .await
        .unwrap();
    assert!(results[0].is_ok() && results[2].is_ok());
    assert!(matches!(
        results[1],
        Err(CourierError::Refused { status: 0, .. })
    ));
    assert_eq!(s.orders().len(), 2);
}

#[tokio::test]
async fn the_stand_in_refuses_what_pathao_refuses() {
    let s = StandIn::start().await;
    let c = client(&s);
    c.cities().await.unwrap();
    let token = c.token.lock().await.as_ref().unwrap().access.clone();
    let post = |body: serde_json::Value, token: String| {
        let url = format!("{}/aladdin/api/v1/orders", s.base_url);
        async move {
            let res = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                res.status().as_u16(),
                res.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let mut order = serde_json::to_value(
        OrderFields::from_parcel(&parcel("CM-000021"), crate::stand_in::STORE_ID).unwrap(),
    )
    .unwrap();
    order["recipient_phone"] = json!("0171234567");
    order.as_object_mut().unwrap().remove("item_type");
    order["recipient_email"] = json!("x@example.com");
    let (status, body) = post(order, token.clone()).await;
    assert_eq!(status, 422);
    for field in ["recipient_phone", "item_type", "recipient_email"] {
        assert!(body["errors"][field].is_array(), "{field}: {body}");
    }
    assert_eq!(
        body["errors"]["item_type"][0],
        "The item type field is required."
    );
    let (status, body) = post(json!({}), "expired".into()).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("Unauthenticated."))
    );
    assert!(s.orders().is_empty());
}
