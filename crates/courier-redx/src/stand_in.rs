//! A local stand-in for RedX's open API, for tests. It follows the
//! published API: every call needs `API-ACCESS-TOKEN: Bearer <token>`;
//! `GET /areas?district_name=`, `POST /parcel` (the required fields
//! checked, the area id checked against the list) answering
//! `{"tracking_id"}`, `GET /parcel/info/{id}`, `GET /parcel/track/{id}` and
//! `PATCH /parcels` to cancel answering `{"success","message"}`.
//!
//! Where the published documentation is silent the stand-in assumes, and
//! says so here: errors are `{"message"}` (with `validation_errors` for a
//! refused parcel) and 401 for a wrong token; a parcel can be cancelled only
//! before pickup; a repeated `merchant_invoice_id` makes a second parcel
//! (no source says RedX refuses it).
use crate::{RedxConfig, ACCESS_TOKEN_HEADER};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use rand::Rng;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The areas the stand-in lists: (id, name, post code, district, division).
const AREAS: &[(u64, &str, u64, &str, &str)] = &[
    (1, "Mirpur DOHS", 1216, "Dhaka", "Dhaka"),
    (2, "Dhanmondi", 1209, "Dhaka", "Dhaka"),
    (3, "Gulshan 1", 1212, "Dhaka", "Dhaka"),
    (4, "Agrabad", 4100, "Chattogram", "Chattogram"),
];

/// A parcel the stand-in holds: exactly the fields it was sent, and what
/// RedX would have made of it.
#[derive(Debug, Clone)]
pub struct StoredParcel {
    pub fields: Map<String, Value>,
    pub status: String,
    pub charge: f64,
}

#[derive(Clone)]
struct Shared {
    access_token: String,
    parcels: Arc<Mutex<HashMap<String, StoredParcel>>>,
    /// Tracking ids in booking order.
    order: Arc<Mutex<Vec<String>>>,
    delay_ms: Arc<AtomicU64>,
    /// How many coming calls answer 503, for retry tests.
    failures: Arc<AtomicU64>,
}

/// A running stand-in on a random local port; it stops with the runtime.
pub struct StandIn {
    /// Like RedX's, with the version in the path.
    pub base_url: String,
    pub access_token: String,
    shared: Shared,
}

fn random_token(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"[rng.gen_range(0..34)]))
        .collect()
}

impl StandIn {
    pub async fn start() -> StandIn {
        let shared = Shared {
            access_token: format!("eyJ{}", random_token(40)),
            parcels: Arc::default(),
            order: Arc::default(),
            delay_ms: Arc::default(),
            failures: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the RedX stand-in");
        let base_url = format!(
            "http://{}/v1.0.0-beta",
            listener.local_addr().expect("local address")
        );
        let api = Router::new()
            .route("/areas", get(areas))
            .route("/parcel", post(create_parcel))
            .route("/parcel/info/{tracking_id}", get(parcel_info))
            .route("/parcel/track/{tracking_id}", get(parcel_track))
            .route("/parcels", patch(update_parcel))
            .with_state(shared.clone());
        let app = Router::new().nest("/v1.0.0-beta", api);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandIn {
            base_url,
            access_token: shared.access_token.clone(),
            shared,
        }
    }

    /// Client settings that reach this stand-in.
    pub fn config(&self, webhook_token: &str) -> RedxConfig {
        RedxConfig {
            base_url: self.base_url.clone(),
            access_token: self.access_token.clone(),
            pickup_store_id: None,
            webhook_token: webhook_token.to_owned(),
            timeout: Duration::from_secs(5),
        }
    }

    /// Every answer waits this long first, for timeout tests.
    pub fn set_delay(&self, delay: Duration) {
        self.shared
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// The next `calls` calls, whatever they are, answer 503.
    pub fn fail_next(&self, calls: u64) {
        self.shared.failures.store(calls, Ordering::SeqCst);
    }

    /// The parcels booked, in order.
    pub fn parcels(&self) -> Vec<(String, StoredParcel)> {
        let parcels = self.shared.parcels.lock().expect("not poisoned");
        let order = self.shared.order.lock().expect("not poisoned");
        order
            .iter()
            .map(|id| (id.clone(), parcels[id].clone()))
            .collect()
    }

    /// Exactly the fields `POST /parcel` received for this parcel.
    pub fn received(&self, tracking_id: &str) -> Option<Map<String, Value>> {
        let parcels = self.shared.parcels.lock().expect("not poisoned");
        parcels.get(tracking_id).map(|p| p.fields.clone())
    }

    /// Moves a parcel on, as RedX's agents would.
    pub fn set_status(&self, tracking_id: &str, status: &str) {
        let mut parcels = self.shared.parcels.lock().expect("not poisoned");
        if let Some(p) = parcels.get_mut(tracking_id) {
            p.status = status.to_owned();
        }
    }

    /// The body of RedX's webhook for a parcel's new status.
    pub fn webhook_body(&self, tracking_id: &str, status: &str) -> Vec<u8> {
        let invoice = self
            .received(tracking_id)
            .and_then(|f| f.get("merchant_invoice_id").cloned())
            .unwrap_or(Value::String(String::new()));
        serde_json::to_vec(&json!({
            "tracking_number": tracking_id,
            "timestamp": "2026-12-06T10:00:00.000Z",
            "status": status,
            "message_en": format!("Parcel is {status}"),
            "message_bn": "পার্সেলের অবস্থা বদলেছে",
            "invoice_number": invoice,
        }))
        .expect("JSON")
    }

    /// Posts that webhook as RedX does: JSON to the registered callback URL
    /// with our token in its query string.
    pub async fn send_webhook(
        &self,
        url: &str,
        token: &str,
        tracking_id: &str,
        status: &str,
    ) -> reqwest::Response {
        reqwest::Client::new()
            .post(url)
            .query(&[("token", token)])
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(self.webhook_body(tracking_id, status))
            .send()
            .await
            .expect("the webhook answers")
    }
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "message": text }))).into_response()
}

/// The delay and failure switches and the token check every route starts with.
async fn admit(s: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    let delay = s.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let failing = s
        .failures
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        return Err(message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
        ));
    }
    let expected = format!("Bearer {}", s.access_token);
    match headers
        .get(ACCESS_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        Some(presented) if presented == expected => Ok(()),
        _ => Err(message(StatusCode::UNAUTHORIZED, "Unauthorized")),
    }
}

fn area_json(&(id, name, post_code, _, division): &(u64, &str, u64, &str, &str)) -> Value {
    json!({ "id": id, "name": name, "post_code": post_code, "division_name": division, "zone_id": 1 })
}

async fn areas(
    State(s): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(refusal) = admit(&s, &headers).await {
        return refusal;
    }
    let district = q.get("district_name").map(|d| d.to_lowercase());
    let post_code = q.get("post_code").and_then(|p| p.parse::<u64>().ok());
    let listed: Vec<Value> = AREAS
        .iter()
        .filter(|a| district.as_ref().is_none_or(|d| a.3.to_lowercase() == *d))
        .filter(|a| post_code.is_none_or(|p| a.2 == p))
        .map(area_json)
        .collect();
    Json(json!({ "areas": listed })).into_response()
}

/// What RedX would refuse in a new parcel, field by field.
fn validation_errors(fields: &Map<String, Value>) -> Map<String, Value> {
    let mut errors = Map::new();
    let text = |name: &str| fields.get(name).and_then(Value::as_str).unwrap_or("");
    for name in [
        "customer_name",
        "customer_phone",
        "delivery_area",
        "customer_address",
    ] {
        if text(name).trim().is_empty() {
            errors.insert(name.into(), json!(format!("{name} is required")));
        }
    }
    for name in [
        "delivery_area_id",
        "cash_collection_amount",
        "parcel_weight",
        "value",
    ] {
        if !fields.get(name).is_some_and(number_like) {
            errors.insert(name.into(), json!(format!("{name} is required")));
        }
    }
    let phone = text("customer_phone");
    let local_number =
        phone.len() == 11 && phone.starts_with("01") && phone.bytes().all(|b| b.is_ascii_digit());
    if !phone.is_empty() && !local_number {
        errors.insert(
            "customer_phone".into(),
            json!("customer_phone must be an 11 digit number"),
        );
    }
    let area_id = fields.get("delivery_area_id").and_then(Value::as_u64);
    if area_id.is_some() && !AREAS.iter().any(|a| Some(a.0) == area_id) {
        errors.insert(
            "delivery_area_id".into(),
            json!("delivery_area_id is invalid"),
        );
    }
    errors
}

fn number_like(v: &Value) -> bool {
    v.is_number() || v.as_str().is_some_and(|s| s.parse::<f64>().is_ok())
}

async fn create_parcel(
    State(s): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(refusal) = admit(&s, &headers).await {
        return refusal;
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&body) else {
        return message(StatusCode::BAD_REQUEST, "Invalid JSON body");
    };
    let errors = validation_errors(&fields);
    if !errors.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "message": "Validation failed", "validation_errors": errors })),
        )
            .into_response();
    }
    let inside_dhaka = fields
        .get("delivery_area_id")
        .and_then(Value::as_u64)
        .is_some_and(|id| AREAS.iter().any(|a| a.0 == id && a.3 == "Dhaka"));
    let tracking_id = format!("{}A{}", random_token(2), random_token(9));
    let parcel = StoredParcel {
        fields,
        status: "pickup-pending".into(),
        charge: if inside_dhaka { 60.0 } else { 110.0 },
    };
    s.parcels
        .lock()
        .expect("not poisoned")
        .insert(tracking_id.clone(), parcel);
    s.order
        .lock()
        .expect("not poisoned")
        .push(tracking_id.clone());
    (
        StatusCode::CREATED,
        Json(json!({ "tracking_id": tracking_id })),
    )
        .into_response()
}

/// The parcel asked about, once the caller is admitted; RedX's 404 if none.
async fn admitted_parcel(
    s: &Shared,
    headers: &HeaderMap,
    tracking_id: &str,
) -> Result<StoredParcel, Box<Response>> {
    admit(s, headers).await.map_err(Box::new)?;
    let parcels = s.parcels.lock().expect("not poisoned");
    parcels
        .get(tracking_id)
        .cloned()
        .ok_or_else(|| Box::new(message(StatusCode::NOT_FOUND, "Parcel not found")))
}

/// Answers about one parcel with `render`, after the token check.
async fn about_parcel(
    s: &Shared,
    headers: &HeaderMap,
    tracking_id: &str,
    render: fn(&str, StoredParcel) -> Value,
) -> Response {
    match admitted_parcel(s, headers, tracking_id).await {
        Ok(parcel) => Json(render(tracking_id, parcel)).into_response(),
        Err(refusal) => *refusal,
    }
}

fn info_json(tracking_id: &str, parcel: StoredParcel) -> Value {
    let mut info = parcel.fields;
    info.insert("tracking_id".into(), json!(tracking_id));
    info.insert("status".into(), json!(parcel.status));
    info.insert("charge".into(), json!(parcel.charge));
    info.insert("created_at".into(), json!("2026-12-06T09:00:00.000Z"));
    json!({ "parcel": info })
}

fn track_json(_tracking_id: &str, parcel: StoredParcel) -> Value {
    json!({ "tracking": [{
        "message_en": format!("Parcel is {}", parcel.status),
        "message_bn": "পার্সেলের অবস্থা",
        "time": "2026-12-06T09:00:00.000Z",
    }] })
}

async fn parcel_info(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(tracking_id): Path<String>,
) -> Response {
    about_parcel(&s, &headers, &tracking_id, info_json).await
}

async fn parcel_track(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(tracking_id): Path<String>,
) -> Response {
    about_parcel(&s, &headers, &tracking_id, track_json).await
}

async fn update_parcel(
    State(s): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(refusal) = admit(&s, &headers).await {
        return refusal;
    }
    let details = &body["update_details"];
    if body["entity_type"] != "parcel-tracking-id"
        || details["property_name"] != "status"
        || details["new_value"] != "cancelled"
    {
        return message(StatusCode::BAD_REQUEST, "Unsupported update");
    }
    let tracking_id = body["entity_id"].as_str().unwrap_or_default();
    let mut parcels = s.parcels.lock().expect("not poisoned");
    let Some(parcel) = parcels.get_mut(tracking_id) else {
        return message(StatusCode::NOT_FOUND, "Parcel not found");
    };
    if !matches!(
        parcel.status.as_str(),
        "pickup-pending" | "pickup-processing"
    ) {
        return Json(
            json!({ "success": false, "message": "Parcel can not be cancelled after pickup" }),
        )
        .into_response();
    }
    parcel.status = "cancelled".into();
    Json(json!({ "success": true, "message": "Request Accepted" })).into_response()
}
