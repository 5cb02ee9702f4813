//! What an access export's `data.json` holds: one customer's data, section
//! by section, as [`super::collect`] gathers it and the HTML page shows it.
pub use super::order_extras::{ClientFingerprints, Parcel, PaymentAttempt, PhoneCheck};
use super::sections::{Labelled, SectionDoc, Withheld};
use serde::{Deserialize, Serialize};

/// The format name and version written into every export.
pub const FORMAT: &str = "chotomoni-access-export/1";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    pub customer_number: i64,
    pub name: String,
    /// E.164.
    pub phone: String,
    pub email: Option<String>,
    /// The keyed fingerprint kept to find your orders by phone (hex).
    pub phone_fingerprint: Option<String>,
    pub email_fingerprint: Option<String>,
    pub has_password: bool,
    pub customer_since: String,
    /// When a one-time code proved the phone is yours.
    pub phone_proven_at: Option<String>,
    /// When a link sent to the email proved it is yours.
    pub email_proven_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Address {
    pub recipient: String,
    pub line: String,
    pub area: String,
    pub district: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddressUse {
    #[serde(flatten)]
    pub address: Address,
    /// The orders delivered (or to be delivered) there.
    pub orders: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Item {
    pub name: String,
    pub sku: Option<String>,
    pub quantity: i64,
    /// Poisha.
    pub unit_price: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub from: Option<String>,
    pub to: String,
    pub at: String,
    /// `staff:7`, or absent for you or the system.
    pub by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    pub number: String,
    pub created_at: String,
    pub updated_at: String,
    pub status: String,
    pub source: String,
    pub payment_method: String,
    pub payment_status: String,
    /// Poisha.
    pub total: i64,
    pub items: Vec<Item>,
    pub address: Option<Address>,
    pub delivery_instructions: Option<String>,
    pub history: Vec<Event>,
    /// Placed without signing in with your number, not yet confirmed by a
    /// code sent to it.
    pub unconfirmed: bool,
    /// Its checkout asked for marketing messages; not a consent until you
    /// turn marketing on yourself.
    pub marketing_opt_in_pending: bool,
    /// The language you ordered in (`en` or `bn`).
    pub lang: String,
    /// The parcel, once booked with a courier.
    pub parcel: Option<Parcel>,
    /// Staff's calls to confirm the order.
    pub phone_checks: Vec<PhoneCheck>,
    /// Where it was placed from, as keyed fingerprints (kept for the
    /// technical-data period, to notice many orders from one place).
    pub placed_from: Option<ClientFingerprints>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payment {
    pub order: String,
    pub method: String,
    pub status: String,
    /// Poisha.
    pub total: i64,
    /// Each online payment attempt (gateway and status only).
    #[serde(default)]
    pub attempts: Vec<PaymentAttempt>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// `customer` (signed in) or `visitor`.
    pub kind: String,
    pub started_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub device_kind: Option<String>,
    pub language: String,
    pub cart: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CookieChoice {
    pub id: String,
    pub functional: bool,
    pub analytics: bool,
    pub policy_version: i64,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Technical {
    /// Days technical data is kept before the sweeper clears it.
    pub retention_days: u32,
    pub sessions: Vec<Session>,
    pub cookie_choices: Vec<CookieChoice>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Consent {
    pub purpose: String,
    pub granted: bool,
    /// Where the choice was made (checkout, account page…).
    pub channel: String,
    pub policy_version: i64,
    /// The exact words shown (English / Bangla).
    pub wording: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Acceptance {
    pub version: i64,
    pub channel: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Disclosure {
    pub order: Option<String>,
    /// `courier`, `payment_gateway` or `service_provider`.
    pub recipient: String,
    pub recipient_en: String,
    pub recipient_bn: String,
    pub fields: Vec<Labelled>,
    pub purpose: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Proof {
    pub id: i64,
    pub order: String,
    pub kind: String,
    pub media_type: String,
    pub size: i64,
    /// SHA-256 of the file, as logged.
    pub sha256: String,
    pub file_name: Option<String>,
    pub captured_at: Option<String>,
    pub received_at: String,
    pub uploader: String,
    pub duration_ms: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub has_audio: Option<bool>,
    pub log_index: i64,
    /// Where the file is in this ZIP (absent if it could not be copied).
    pub file: Option<String>,
    pub poster: Option<String>,
    pub receipt: Option<String>,
    /// Why the file or its receipt is missing or incomplete, if it is.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upload {
    pub order: String,
    pub kind: String,
    pub media_type: Option<String>,
    pub file_name: Option<String>,
    pub captured_at: Option<String>,
    pub bytes_received: i64,
    pub length: i64,
    pub started_at: String,
    pub expires_at: String,
}

/// Everything in `data.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportData {
    pub format: String,
    pub generated_at: String,
    pub export_id: i64,
    pub request_id: Option<i64>,
    pub sections: Vec<SectionDoc>,
    pub profile: Profile,
    pub addresses: Vec<AddressUse>,
    pub orders: Vec<Order>,
    pub payments: Vec<Payment>,
    pub technical: Technical,
    pub consents: Vec<Consent>,
    pub policy_acceptances: Vec<Acceptance>,
    pub disclosures: Vec<Disclosure>,
    /// Claims about damaged, wrong or missing items, with their decisions.
    pub claims: Vec<crate::claims::ClaimView>,
    pub proofs: Vec<Proof>,
    pub unfinished_uploads: Vec<Upload>,
    pub withheld: Vec<Withheld>,
}
