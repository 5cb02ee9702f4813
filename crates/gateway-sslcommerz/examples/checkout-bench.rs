//! The payment benchmark's driver (`bench/payments.sh` runs it): starts the
//! SSLCommerz stand-in, starts the Chotomoni server `$BIN` against it in
//! `$DATA_DIR` (`$DATABASE_URL`, if set, is the server's database), then in
//! the same run places `$N` plain cash-on-delivery orders at once, and `$N`
//! online orders at once, each paid through SSLCommerz to the end: the
//! order, the payment session, the customer paying, the IPN (checked by
//! `verify_sign` and the validation API). It then checks every online
//! order is paid, by one attempt, validated once, and prints one line of
//! JSON with the timings of both.
//!
//! `cargo run --release -p chotomoni-gateway-sslcommerz --features stand-in --example checkout-bench`
use chotomoni_gateway_sslcommerz::stand_in::{Card, StandIn};
use serde_json::{json, Value};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

const PASSWORD: &str = "bench password, not secret";

fn order(i: usize, method: &str) -> Value {
    json!({
        "customer": {"name": "Bench Customer", "phone": format!("0171{:07}", i),
            "email": "bench@example.com"},
        "address": {"line": "House 12, Road 7", "area": "Mirpur", "district": "Dhaka"},
        "items": [{"name": "Jamdani saree, Dhakai", "sku": "SAR-JAM-01", "quantity": 1,
            "unit_price": 850000}],
        "payment_method": method
    })
}

/// Milliseconds at quantile `q` of sorted `ms`.
fn at(ms: &[f64], q: f64) -> f64 {
    ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1]
}

fn summary(wall: Duration, mut ms: Vec<f64>) -> Value {
    ms.sort_by(f64::total_cmp);
    json!({
        "orders": ms.len(),
        "wall_s": wall.as_secs_f64(),
        "per_s": ms.len() as f64 / wall.as_secs_f64(),
        "mean_ms": ms.iter().sum::<f64>() / ms.len() as f64,
        "p50_ms": at(&ms, 0.50),
        "p99_ms": at(&ms, 0.99),
    })
}

async fn ok(res: reqwest::Response, want: u16, what: &str) -> Value {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(status, want, "{what}: {body}");
    body
}

#[tokio::main]
async fn main() {
    let bin = std::env::var("BIN").expect("BIN: the chotomoni binary");
    let n: usize = std::env::var("N").map_or(1000, |v| v.parse().expect("N"));
    let dir = std::path::PathBuf::from(std::env::var("DATA_DIR").expect("DATA_DIR"));
    let ssl = std::sync::Arc::new(StandIn::start().await);
    let gateway = ssl.config();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\nlog = \"warn\"\n\
             [rate_limits]\nguest_orders_per_address = 100000000\n\
             guest_orders_per_phone_per_day = 100000000\n\
             [payments.sslcommerz]\nstore_id = \"{}\"\nstore_passwd = \"{}\"\nbase_url = \"{}\"\n",
            dir.join("data").display(),
            gateway.store_id,
            gateway.store_password,
            gateway.base_url
        ),
    )
    .expect("write the server's configuration");
    let mut server = tokio::process::Command::new(&bin)
        // The demo shop: its products are what the orders buy.
        .args(["--config", config.to_str().unwrap(), "serve", "--demo"])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("run BIN serve");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    for i in 0.. {
        match http.get(format!("{base}/healthz")).send().await {
            Ok(r) if r.status().is_success() => break,
            _ if i > 600 => panic!("the server did not start"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let mut add = tokio::process::Command::new(&bin)
        .args([
            "--config",
            config.to_str().unwrap(),
            "staff",
            "add",
            "bench",
            "--role",
            "support",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("run BIN staff add");
    add.stdin
        .take()
        .unwrap()
        .write_all(PASSWORD.as_bytes())
        .await
        .unwrap();
    assert!(add.wait().await.unwrap().success(), "staff add failed");
    let signed_in = ok(
        http.post(format!("{base}/api/v1/session"))
            .json(&json!({"username": "bench", "password": PASSWORD}))
            .send()
            .await
            .unwrap(),
        200,
        "sign-in",
    )
    .await;
    let token = signed_in["token"].as_str().unwrap().to_owned();

    // N plain orders at once.
    let started = Instant::now();
    let plain = futures_join(n, |i| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let t = Instant::now();
            let res = http
                .post(format!("{base}/api/v1/orders"))
                .json(&order(i, "cod"))
                .send();
            ok(res.await.unwrap(), 201, "plain order").await;
            t.elapsed().as_secs_f64() * 1000.0
        }
    })
    .await;
    let plain = summary(started.elapsed(), plain);

    // N online orders at once, each paid through SSLCommerz to the IPN.
    let started = Instant::now();
    let paid = futures_join(n, |i| {
        let (http, base, token, ssl) = (http.clone(), base.clone(), token.clone(), ssl.clone());
        async move {
            let t = Instant::now();
            let res = http
                .post(format!("{base}/api/v1/orders"))
                .json(&order(n + i, "online"));
            let placed = ok(res.send().await.unwrap(), 201, "online order").await;
            let number = placed["number"].as_str().unwrap().to_owned();
            let res = http
                .post(format!("{base}/api/v1/orders/{number}/payments"))
                .bearer_auth(&token)
                .json(&json!({"gateway": "sslcommerz"}));
            let session = ok(res.send().await.unwrap(), 201, "payment session").await;
            let tran_id = session["tran_id"].as_str().unwrap().to_owned();
            // The customer pays on the gateway's page (not our time).
            let paying = Instant::now();
            let notice = ssl.pay(&tran_id, Card::visa());
            let theirs = paying.elapsed();
            let res = http
                .post(format!("{base}/webhooks/payments/sslcommerz"))
                .form(&notice)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 200, "IPN of {tran_id}");
            ((t.elapsed() - theirs).as_secs_f64() * 1000.0, number)
        }
    })
    .await;
    let wall = started.elapsed();
    let numbers: Vec<String> = paid.iter().map(|(_, n)| n.clone()).collect();
    let checkout = summary(wall, paid.into_iter().map(|(ms, _)| ms).collect());

    // Every online order paid, by one attempt, validated once.
    let (mut paid_once, mut not_paid, mut more_than_once) = (0, 0, 0);
    for number in &numbers {
        let attempts = ok(
            http.get(format!("{base}/api/v1/orders/{number}/payments"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap(),
            200,
            "payments",
        )
        .await;
        let attempts = attempts.as_array().unwrap();
        let paid = attempts.iter().filter(|a| a["status"] == "paid").count();
        let order = ok(
            http.get(format!("{base}/api/v1/orders/{number}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap(),
            200,
            "order",
        )
        .await;
        match (paid, order["payment_status"].as_str()) {
            (1, Some("paid")) if attempts.len() == 1 => paid_once += 1,
            (0, _) | (_, Some("pending")) => not_paid += 1,
            _ => more_than_once += 1,
        }
    }
    let validations: u32 = ssl.seen().sessions.iter().map(|s| s.validations).sum();
    server.kill().await.ok();
    println!(
        "{}",
        json!({"plain": plain, "checkout": checkout, "paid_once": paid_once,
               "not_paid": not_paid, "paid_more_than_once": more_than_once,
               "validations": validations})
    );
    assert_eq!(paid_once, n, "every online order paid once");
}

/// Runs `make(i)` for every i below n, all at once; their results in order.
async fn futures_join<F, Fut, T>(n: usize, make: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(make(i))).collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("a task panicked"));
    }
    out
}
