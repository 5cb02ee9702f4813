//! What the privacy request tests share: placing an order, asking and
//! acting on requests, the public form, and reading what was logged.
use super::{html, TestApp};
use serde_json::json;

pub async fn place(app: &TestApp, name: &str, phone: &str) -> (String, i64) {
    let (status, order) = app
        .post("/api/v1/orders", None, &super::order_body(name, phone))
        .await;
    assert_eq!(status, 201, "{order}");
    let number = order["number"].as_str().unwrap().to_owned();
    let customer: i64 =
        sqlx::query_scalar("SELECT customer_id FROM orders ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.services.db().pool)
            .await
            .unwrap();
    (number, customer)
}

pub async fn ask(
    app: &TestApp,
    token: Option<&str>,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    app.post("/api/v1/privacy/requests", token, &body).await
}

pub async fn act(app: &TestApp, token: &str, id: i64, action: &str) -> (u16, serde_json::Value) {
    app.post(
        &format!("/api/v1/privacy/requests/{id}/{action}"),
        Some(token),
        &json!({}),
    )
    .await
}

pub async fn disclosures(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT recipient, fields, purpose FROM disclosures ORDER BY id")
        .fetch_all(&app.services.db().pool)
        .await
        .unwrap()
}

pub async fn customer_token(app: &TestApp, id: i64) -> String {
    app.customer_session(id, &chotomoni_services::auth::ClientInfo::default())
        .await
        .0
}

pub async fn set_status(app: &TestApp, token: &str, number: &str, to: &str) {
    let (status, body) = app
        .post(
            &format!("/api/v1/orders/{number}/status"),
            Some(token),
            &json!({"status": to}),
        )
        .await;
    assert_eq!(status, 200, "{to}: {body}");
}

/// The token of the email confirmation link in a message's text.
pub fn email_link_token(body: &str) -> String {
    body.split("/account/email/confirm/")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .expect("a confirmation link")
        .to_owned()
}

pub fn code_in(body: &str) -> String {
    regex::Regex::new(r"(\d{6})")
        .unwrap()
        .captures(body)
        .unwrap()[1]
        .to_owned()
}

/// The form's second step: the request confirmed with the code sent.
pub async fn confirm(
    app: &TestApp,
    kind: &str,
    address: &str,
    code: &str,
) -> (u16, String, Option<String>) {
    let fields = [
        ("step", "2"),
        ("kind", kind),
        ("address", address),
        ("code", code),
    ];
    submit(app, &fields).await
}

pub async fn submit(app: &TestApp, fields: &[(&str, &str)]) -> (u16, String, Option<String>) {
    let res = app
        .http
        .post(app.url("/privacy/requests?lang=en"))
        .form(fields)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    (status, html::unescape(&res.text().await.unwrap()), location)
}

/// Polls `check` until it gives a value: codes are sent in the
/// background, after the page has answered.
pub async fn eventually<T, Fut>(mut check: impl FnMut() -> Fut) -> T
where
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..500 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("it never happened")
}

/// How many SMS the stand-in has received for `e164`.
pub fn sms_count(app: &TestApp, e164: &str) -> usize {
    let sms = app.sms.as_ref().expect("an SMS stand-in");
    sms.messages().iter().filter(|m| m.to == e164).count()
}

/// The newest SMS to `e164` once there are `count` of them.
pub async fn wait_for_sms(app: &TestApp, e164: &str, count: usize) -> String {
    let sms = app.sms.as_ref().expect("an SMS stand-in");
    eventually(|| async {
        (sms_count(app, e164) >= count)
            .then(|| sms.last_to(e164))
            .flatten()
    })
    .await
    .body
}

/// The disclosure log once it has `count` entries (the background send
/// writes it last).
pub async fn settled_disclosures(app: &TestApp, count: usize) -> Vec<(String, String, String)> {
    eventually(|| async {
        let all = disclosures(app).await;
        (all.len() >= count).then_some(all)
    })
    .await
}

/// A request made through the public form by the holder of `phone` (local
/// form; `e164` is where the stand-in receives its code). Returns where the
/// form sends them: the request's status page.
pub async fn public_request(app: &TestApp, kind: &str, phone: &str, e164: &str) -> String {
    let before = sms_count(app, e164);
    submit(app, &[("kind", kind), ("address", phone)]).await;
    let code = code_in(&wait_for_sms(app, e164, before + 1).await);
    let (status, _, location) = confirm(app, kind, phone, &code).await;
    assert_eq!(status, 303);
    location.expect("a status page")
}

/// The status page once it shows the export's download link, and the link
/// (the privacy request job is run meanwhile, as the server's loop would).
pub async fn wait_for_download(app: &TestApp, status_page: &str) -> (String, String) {
    let download = regex::Regex::new(r#"id="download" href="([^"]+)""#).unwrap();
    for _ in 0..100 {
        app.services.run_privacy_requests().await.unwrap();
        let res = app.http.get(app.url(status_page)).send().await.unwrap();
        let page = html::unescape(&res.text().await.unwrap());
        if let Some(link) = download.captures(&page).map(|c| c[1].to_owned()) {
            return (page, link);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the status page never offered the download")
}

/// A delivered order of `phone`'s with `packing_clip` as its packing proof
/// and a damage claim its customer filed ("The box was crushed").
pub struct ClaimScene {
    pub number: String,
    pub customer_id: i64,
    pub customer: String,
    pub packing: i64,
    pub claim: i64,
}

pub async fn claim_scene(
    app: &TestApp,
    admin: &str,
    packer: &str,
    phone: &str,
    packing_clip: &[u8],
) -> ClaimScene {
    let (number, customer_id) = place(app, "Nasrin Akter", phone).await;
    for to in ["confirmed", "packed"] {
        set_status(app, admin, &number, to).await;
    }
    let packing = app
        .upload_proof(packer, &number, packing_clip, packing_clip.len())
        .await;
    for to in ["handed_to_courier", "delivered"] {
        set_status(app, admin, &number, to).await;
    }
    let customer = customer_token(app, customer_id).await;
    let (status, claim) = app
        .post(
            &format!("/api/v1/orders/{number}/claims"),
            Some(&customer),
            &serde_json::json!({"kind": "damaged", "items": [{"line_no": 1, "quantity": 1}],
                    "description": "The box was crushed"}),
        )
        .await;
    assert_eq!(status, 201, "{claim}");
    ClaimScene {
        claim: claim["id"].as_i64().unwrap(),
        number,
        customer_id,
        customer,
        packing,
    }
}
