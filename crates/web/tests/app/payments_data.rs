//! What a payment leaves behind: the gateways send card numbers (masked
//! and, here, whole), card brands, issuers, bank names and wallet numbers
//! in every field they have; none of it reaches the database file or the
//! customer's access export. SQLite only: its file is read byte by byte.
use crate::common;

use chotomoni_domain::Role;
use chotomoni_gateway_sslcommerz::stand_in::{Card, StandIn as Ssl};
use chotomoni_testkit::Engine;
use common::payments::{
    bkash_payment_id, follow, online_order, payment_status, post_return, spawn, started,
};
use serde_json::Value;

/// Luhn-valid card numbers, and wallet numbers that are not the customer's.
const CARD: &str = "4111111111111111";
const OTHER_CARD: &str = "5555555555554444";
const WALLET: &str = "01898765432";
const OTHER_WALLET: &str = "01556677889";

fn luhn_valid(number: &str) -> bool {
    let sum: u32 = number
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// What must be found nowhere.
fn secrets() -> Vec<String> {
    let masked = Card::visa().masked();
    [
        CARD,
        OTHER_CARD,
        WALLET,
        OTHER_WALLET,
        masked.as_str(),
        "TRUST BANK",
        "8801898765432",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn none_in(what: &str, haystack: &[u8]) {
    for secret in secrets() {
        assert!(
            !haystack
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "{secret} is in {what}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_card_or_wallet_number_is_kept_anywhere() {
    assert!(luhn_valid(CARD) && luhn_valid(OTHER_CARD));
    let (app, g) = spawn(Engine::Sqlite).await;
    let support = app.staff("support", Role::Support).await;

    // SSLCommerz: a notice with the whole card number and a wallet and card
    // number in every field it signs, signed as SSLCommerz signs it.
    let number = online_order(&app, "Farzana Yasmin", "01711000407").await;
    let tran_id = started(&app, &support, &number, "sslcommerz").await;
    let mut notice = g.ssl.pay(&tran_id, Card::visa());
    for (k, v) in notice.iter_mut() {
        match k.as_str() {
            "card_no" => *v = CARD.into(),
            "value_a" | "value_c" => *v = OTHER_WALLET.into(),
            "value_b" | "value_d" | "card_sub_brand" => *v = OTHER_CARD.into(),
            _ => {}
        }
    }
    notice.push(("bank_name".into(), "TRUST BANK".into()));
    notice.push(("customerMsisdn".into(), WALLET.into()));
    Ssl::sign(&mut notice, &g.ssl.store_password);
    assert_eq!(g.ssl.post_notice(&tran_id, &notice).await, 200);
    post_return(&app, "sslcommerz", &tran_id, "success", &notice).await;
    assert_eq!(payment_status(&app, &support, &number).await, "paid");

    // bKash: the wallet comes back in customerMsisdn and payerAccount.
    let second = online_order(&app, "Farzana Yasmin", "01711000407").await;
    let tran_id = started(&app, &support, &second, "bkash").await;
    let id = bkash_payment_id(&g.bkash, &tran_id);
    let url = g.bkash.customer(&id, Some(WALLET), "success");
    let (_, page) = follow(&format!(
        "{url}&customerMsisdn={OTHER_WALLET}&card_no={CARD}"
    ))
    .await;
    assert!(page.contains("Payment received"), "{page}");
    assert_eq!(payment_status(&app, &support, &second).await, "paid");

    // The customer's access export.
    let customer: i64 =
        sqlx::query_scalar("SELECT customer_id FROM orders ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.services.db().pool)
            .await
            .unwrap();
    let (status, export) = app
        .post(
            "/api/v1/privacy/exports",
            Some(&support),
            &serde_json::json!({ "customer_id": customer }),
        )
        .await;
    assert_eq!(status, 202, "{export}");
    let ready =
        crate::exports::scene::wait_ready(&app, export["id"].as_i64().unwrap(), &support).await;
    let path = ready["download"]["path"].as_str().unwrap().to_owned();
    let (status, _, zip) = app.get_bytes(&path, Some(&support), None).await;
    assert_eq!(status, 200);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.unwrap())).unwrap();
    let data = crate::exports::scene::zip_text(&mut archive, "data.json");
    let page = crate::exports::scene::zip_text(&mut archive, "index.html");
    none_in("the export's data.json", data.as_bytes());
    none_in("the export's page", page.as_bytes());
    // The export does show both attempts, with the gateways' references.
    let data: Value = serde_json::from_str(&data).unwrap();
    let attempts: Vec<&Value> = data["payments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["attempts"].as_array().unwrap())
        .collect();
    assert_eq!(attempts.len(), 2, "{data}");
    assert!(attempts
        .iter()
        .all(|a| a["status"] == "paid" && a["gateway_reference"].is_string()));

    // The database file, its write-ahead log included.
    let mut bytes = vec![];
    for name in ["test.db", "test.db-wal"] {
        if let Ok(b) = std::fs::read(app.db.dir.path().join(name)) {
            bytes.extend(b);
        }
    }
    assert!(bytes.len() > 10_000);
    none_in("the database file", &bytes);
}
