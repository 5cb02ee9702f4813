//! Gathering everything kept about one customer into [`ExportData`], the
//! machine-readable half of an access export (`data.json`), in a fixed
//! number of queries whatever the number of orders or proofs. Which catalog
//! fields each section carries is declared in [`super::sections`].
pub use super::order_extras::{ClientFingerprints, Parcel, PaymentAttempt, PhoneCheck};
use super::sections::{field_label, section_docs, withheld, Labelled, SectionDoc, Withheld};
use crate::error::{Result, ServiceError};
use crate::orders::millis_to_rfc3339;
use crate::vault::{open_delivery, open_text, Delivery};
use crate::Services;
use chotomoni_crypto::SealKey;
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::catalog::Lang;
use chotomoni_domain::{OrderId, OrderNumber};
use chotomoni_storage::customers::CustomerRow;
use chotomoni_storage::proofs::ProofRow;
use chotomoni_storage::{consents, disclosures, exports as repo, policies, Conn};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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

/// What the ZIP builder needs besides the data: the proof rows to copy.
pub(crate) struct Collected {
    pub data: ExportData,
    pub proof_rows: Vec<ProofRow>,
}

fn when(ms: i64) -> String {
    millis_to_rfc3339(ms)
}

fn number(order_id: i64) -> String {
    OrderNumber::from_id(OrderId(order_id)).to_string()
}

fn address(d: Delivery) -> Address {
    Address {
        recipient: d.recipient,
        line: d.line,
        area: d.area,
        district: d.district,
    }
}

impl Services {
    /// Reads and opens everything kept about the customer. `conn` is used
    /// for a fixed number of queries; sealed fields open under `ckey`.
    pub(crate) async fn collect_export(
        &self,
        conn: &mut Conn,
        customer: &CustomerRow,
        ckey: &SealKey,
        export_id: i64,
        request_id: Option<i64>,
    ) -> Result<Collected> {
        let id = customer.id;
        let contact = crate::customers::open_contact(
            ckey,
            id,
            customer.name_enc.as_deref(),
            customer.phone_enc.as_deref(),
            customer.email_enc.as_deref(),
        )?;
        let (phone_index, email_index) = repo::customer_indexes(conn, id)
            .await?
            .ok_or(ServiceError::NotFound("customer"))?;
        let profile = Profile {
            customer_number: id,
            name: contact.name,
            phone: contact.phone,
            email: contact.email,
            phone_fingerprint: phone_index.map(hex::encode),
            email_fingerprint: email_index.map(hex::encode),
            has_password: customer.password_hash.is_some(),
            customer_since: when(customer.created_at),
            phone_proven_at: customer.phone_verified_at.map(when),
            email_proven_at: customer.email_verified_at.map(when),
        };

        let order_rows = repo::orders(conn, id).await?;
        let mut items: HashMap<i64, Vec<Item>> = HashMap::new();
        for i in repo::order_items(conn, id).await? {
            items.entry(i.order_id).or_default().push(Item {
                name: i.name,
                sku: i.sku,
                quantity: i.quantity,
                unit_price: i.unit_price,
            });
        }
        let mut events: HashMap<i64, Vec<Event>> = HashMap::new();
        for e in repo::order_events(conn, id).await? {
            events.entry(e.order_id).or_default().push(Event {
                from: e.from_status.map(|s| s.as_str().to_owned()),
                to: e.to_status.as_str().to_owned(),
                at: when(e.at),
                by: e.staff_id.map(|s| format!("staff:{s}")),
            });
        }
        let order_ids: Vec<i64> = order_rows.iter().map(|o| o.id).collect();
        let mut extras = super::order_extras::read(conn, id, &order_ids, when).await?;
        let mut orders = Vec::with_capacity(order_rows.len());
        let mut addresses: Vec<AddressUse> = vec![];
        for o in order_rows {
            let number = number(o.id);
            let delivery = open_delivery(ckey, o.id, o.address_enc.as_deref())?.map(address);
            if let Some(a) = &delivery {
                match addresses.iter_mut().find(|u| &u.address == a) {
                    Some(u) => u.orders.push(number.clone()),
                    None => addresses.push(AddressUse {
                        address: a.clone(),
                        orders: vec![number.clone()],
                    }),
                }
            }
            orders.push(Order {
                created_at: when(o.created_at),
                updated_at: when(o.updated_at),
                status: o.status.as_str().to_owned(),
                source: o.source.as_str().to_owned(),
                payment_method: o.payment_method.as_str().to_owned(),
                payment_status: o.payment_status.as_str().to_owned(),
                total: o.total,
                items: items.remove(&o.id).unwrap_or_default(),
                address: delivery,
                delivery_instructions: open_text(
                    ckey,
                    sealed::ORDER_INSTRUCTIONS,
                    o.id,
                    o.instructions_enc.as_deref(),
                )?,
                history: events.remove(&o.id).unwrap_or_default(),
                unconfirmed: o.unconfirmed != 0,
                marketing_opt_in_pending: o.marketing_opt_in != 0,
                lang: o.lang.code().to_owned(),
                parcel: extras.parcels.remove(&o.id),
                phone_checks: extras.checks.remove(&o.id).unwrap_or_default(),
                placed_from: extras.clients.remove(&o.id),
                number,
            });
        }
        let payments = orders
            .iter()
            .map(|o| Payment {
                order: o.number.clone(),
                method: o.payment_method.clone(),
                status: o.payment_status.clone(),
                total: o.total,
                attempts: extras.payments.remove(&o.number).unwrap_or_default(),
            })
            .collect();

        let technical = Technical {
            retention_days: self.settings.technical_retention_days,
            sessions: repo::sessions(conn, id)
                .await?
                .into_iter()
                .map(|s| Session {
                    kind: s.kind.as_str().to_owned(),
                    started_at: when(s.created_at),
                    last_seen_at: when(s.last_seen_at),
                    expires_at: when(s.expires_at),
                    ip_address: s.ip_address,
                    user_agent: s.user_agent,
                    device_kind: s.device_kind,
                    language: s.lang.code().to_owned(),
                    cart: serde_json::from_str(&s.cart)
                        .unwrap_or(serde_json::Value::String(s.cart)),
                })
                .collect(),
            cookie_choices: repo::cookie_choices(conn, id)
                .await?
                .into_iter()
                .map(|c| CookieChoice {
                    id: c.id,
                    functional: c.functional != 0,
                    analytics: c.analytics != 0,
                    policy_version: c.policy_version,
                    at: when(c.at),
                })
                .collect(),
        };

        let consents = consents::for_customer(conn, id)
            .await?
            .into_iter()
            .map(|c| Consent {
                purpose: c.purpose.as_str().to_owned(),
                granted: c.granted != 0,
                channel: c.channel.as_str().to_owned(),
                policy_version: c.policy_version,
                wording: c.wording,
                at: when(c.at),
            })
            .collect();
        let policy_acceptances = policies::acceptances(conn, id)
            .await?
            .into_iter()
            .map(|a| Acceptance {
                version: a.version,
                channel: a.channel.as_str().to_owned(),
                at: when(a.at),
            })
            .collect();
        let mut claims = Vec::new();
        for c in chotomoni_storage::claims::of_customer(conn, id).await? {
            claims.push(self.claim_view(conn, c, self.now_ms()).await?);
        }
        let disclosures = disclosures::for_customer(conn, id)
            .await?
            .into_iter()
            .map(|d| Disclosure {
                order: d.order_id.map(number),
                recipient: d.recipient.as_str().to_owned(),
                recipient_en: d.recipient.label(Lang::En).to_owned(),
                recipient_bn: d.recipient.label(Lang::Bn).to_owned(),
                fields: d
                    .fields
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(field_label)
                    .collect(),
                purpose: d.purpose.as_str().to_owned(),
                at: when(d.at),
            })
            .collect();

        let proof_rows = repo::proofs(conn, id).await?;
        let mut proofs = Vec::with_capacity(proof_rows.len());
        for p in &proof_rows {
            let file_name = match p.file_name_enc.as_deref() {
                Some(sealed) => Some(
                    ckey.open_string(&sealed::PROOF_FILE_NAME.at(&p.blob_key), sealed)
                        .map_err(|_| ServiceError::Sealed)?,
                ),
                None => None,
            };
            proofs.push(Proof {
                id: p.id,
                order: number(p.order_id),
                kind: p.kind.as_str().to_owned(),
                media_type: p.media_type.clone(),
                size: p.size,
                sha256: p.sha256.clone(),
                file_name,
                captured_at: p.captured_at.map(when),
                received_at: when(p.received_at),
                uploader: p.uploader.clone(),
                duration_ms: p.duration_ms,
                width: p.width,
                height: p.height,
                has_audio: p.has_audio.map(|a| a != 0),
                log_index: p.log_index,
                file: None,
                poster: None,
                receipt: None,
                note: None,
            });
        }
        let unfinished_uploads = repo::uploads(conn, id)
            .await?
            .into_iter()
            .map(|u| {
                let file_name = u
                    .file_name_enc
                    .as_deref()
                    .map(|s| {
                        ckey.open_string(&sealed::UPLOAD_FILE_NAME.at(&u.id), s)
                            .map_err(|_| ServiceError::Sealed)
                    })
                    .transpose()?;
                Ok(Upload {
                    order: number(u.order_id),
                    kind: u.kind.as_str().to_owned(),
                    media_type: u.media_type,
                    file_name,
                    captured_at: u.captured_at.map(when),
                    bytes_received: u.upload_offset,
                    length: u.length,
                    started_at: when(u.created_at),
                    expires_at: when(u.expires_at),
                })
            })
            .collect::<Result<Vec<_>>>()?;

        Ok(Collected {
            data: ExportData {
                format: FORMAT.into(),
                generated_at: when(self.now_ms()),
                export_id,
                request_id,
                sections: section_docs(&self.settings.periods()),
                profile,
                addresses,
                orders,
                payments,
                technical,
                consents,
                policy_acceptances,
                disclosures,
                claims,
                proofs,
                unfinished_uploads,
                withheld: withheld(),
            },
            proof_rows,
        })
    }
}
