//! Gathering everything kept about one customer into [`ExportData`], the
//! machine-readable half of an access export (`data.json`), in a fixed
//! number of queries whatever the number of orders or proofs. Which catalog
//! fields each section carries is declared in [`SECTIONS`]; a test holds
//! that against the data catalog, so a new personal field cannot be left out
//! of the export unnoticed.
use crate::error::{Result, ServiceError};
use crate::orders::millis_to_rfc3339;
use crate::proofs::finish::proof_ctx;
use crate::vault::{open_delivery, open_text, Delivery};
use crate::Services;
use chotomoni_crypto::SealKey;
use chotomoni_domain::catalog::{self, Category, Lang, Recipient};
use chotomoni_domain::{OrderId, OrderNumber};
use chotomoni_storage::customers::CustomerRow;
use chotomoni_storage::proofs::ProofRow;
use chotomoni_storage::{consents, disclosures, exports as repo, policies, Conn};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The format name and version written into every export.
pub const FORMAT: &str = "chotomoni-access-export/1";

/// One part of the export: its bilingual title and the catalog fields it
/// carries (`table.column`).
#[derive(Debug, Clone, Copy)]
pub struct Section {
    pub key: &'static str,
    pub title_en: &'static str,
    pub title_bn: &'static str,
    pub fields: &'static [&'static str],
}

/// Every section, in the order the page shows them.
pub const SECTIONS: &[Section] = &[
    Section {
        key: "profile",
        title_en: "Your profile",
        title_bn: "আপনার প্রোফাইল",
        fields: &[
            "customers.name_enc",
            "customers.phone_enc",
            "customers.phone_index",
            "customers.email_enc",
            "customers.email_index",
            "customers.password_hash",
            "customers.created_at",
        ],
    },
    Section {
        key: "addresses",
        title_en: "Delivery addresses",
        title_bn: "ডেলিভারি ঠিকানা",
        fields: &["orders.address_enc"],
    },
    Section {
        key: "orders",
        title_en: "Orders",
        title_bn: "অর্ডার",
        fields: &[
            "orders.customer_id",
            "orders.created_at",
            "orders.status",
            "orders.source",
            "orders.total",
            "orders.address_enc",
            "orders.instructions_enc",
            "order_items.name",
            "order_items.quantity",
            "order_items.unit_price",
            "order_events.at",
        ],
    },
    Section {
        key: "payments",
        title_en: "Payment statuses",
        title_bn: "পেমেন্টের অবস্থা",
        fields: &[
            "orders.payment_method",
            "orders.payment_status",
            "orders.total",
        ],
    },
    Section {
        key: "technical",
        title_en: "Technical data: sessions, IP addresses, devices and cookie choices",
        title_bn: "প্রযুক্তিগত তথ্য: সেশন, আইপি অ্যাড্রেস, ডিভাইস ও কুকি-পছন্দ",
        fields: &[
            "sessions.ip_address",
            "sessions.user_agent",
            "sessions.device_kind",
            "sessions.token_hash",
            "sessions.cart",
            "cookie_choices.id",
            "cookie_choices.functional",
            "cookie_choices.analytics",
            "cookie_choices.at",
        ],
    },
    Section {
        key: "consents",
        title_en: "Consent history",
        title_bn: "সম্মতির ইতিহাস",
        fields: &["consents.granted", "consents.wording"],
    },
    Section {
        key: "policy_acceptances",
        title_en: "Privacy policy versions you accepted",
        title_bn: "আপনি গোপনীয়তা নীতির যে সংস্করণগুলো গ্রহণ করেছেন",
        fields: &["policy_acceptances.version", "policy_acceptances.at"],
    },
    Section {
        key: "disclosures",
        title_en: "Shared with couriers, payment gateways and service providers",
        title_bn: "কুরিয়ার, পেমেন্ট গেটওয়ে ও সার্ভিস প্রোভাইডারের সাথে শেয়ার",
        fields: &["disclosures.fields", "disclosures.at"],
    },
    Section {
        key: "claims",
        title_en: "Claims",
        title_bn: "দাবি",
        fields: &[],
    },
    Section {
        key: "proofs",
        title_en: "Order proof: photos and videos, with their receipts",
        title_bn: "অর্ডার প্রুফ: ছবি ও ভিডিও, রসিদসহ",
        fields: &[
            "proofs.blob_key",
            "proofs.poster_key",
            "proofs.file_name_enc",
            "proofs.captured_at",
            "proofs.received_at",
            "uploads.file_name_enc",
            "uploads.captured_at",
            "uploads.tail_enc",
        ],
    },
];

/// Fields that are kept about the person but whose stored value the export
/// does not copy, each with the reason (the export says so, in both languages).
pub const WITHHELD: &[(&str, &str, &str)] = &[
    (
        "customers.password_hash",
        "Only whether a password is set is shown: the one-way hash of your password is never handed out, as it could be used to guess the password.",
        "শুধু পাসওয়ার্ড আছে কি না দেখানো হয়েছে: পাসওয়ার্ডের একমুখী হ্যাশ কখনো দেওয়া হয় না, কারণ তা দিয়ে পাসওয়ার্ড অনুমানের চেষ্টা করা যায়।",
    ),
    (
        "sessions.token_hash",
        "Each session is listed, but not the hash of its cookie: it is a security secret, not information about you.",
        "প্রতিটি সেশন দেখানো হয়েছে, কিন্তু তার কুকির হ্যাশ নয়: এটি নিরাপত্তার গোপন তথ্য, আপনার সম্পর্কে তথ্য নয়।",
    ),
    (
        "uploads.tail_enc",
        "A proof still being uploaded is listed with how much of it arrived; its partial bytes are not copied and are deleted if the upload is not finished within a day.",
        "আপলোড চলা প্রুফ কতটা পৌঁছেছে তা দেখানো হয়েছে; তার অসম্পূর্ণ অংশ কপি করা হয়নি এবং এক দিনের মধ্যে আপলোড শেষ না হলে মুছে ফেলা হয়।",
    ),
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Labelled {
    pub key: String,
    pub en: String,
    pub bn: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldDoc {
    /// The catalog's name of the field, `table.column`.
    pub field: String,
    pub label_en: String,
    pub label_bn: String,
    pub retention_en: String,
    pub retention_bn: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SectionDoc {
    pub key: String,
    pub title_en: String,
    pub title_bn: String,
    /// The catalog categories of the section's fields.
    pub categories: Vec<Labelled>,
    pub fields: Vec<FieldDoc>,
}

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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payment {
    pub order: String,
    pub method: String,
    pub status: String,
    /// Poisha.
    pub total: i64,
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Withheld {
    pub field: String,
    pub label_en: String,
    pub label_bn: String,
    pub reason_en: String,
    pub reason_bn: String,
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
    /// Claims about damaged, wrong or missing items (none are kept yet).
    pub claims: Vec<serde_json::Value>,
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

fn field_label(name: &str) -> Labelled {
    let (table, column) = name.split_once('.').unwrap_or(("", name));
    match catalog::field(table, column) {
        Some(f) => Labelled {
            key: name.to_owned(),
            en: f.label_en.to_owned(),
            bn: f.label_bn.to_owned(),
        },
        None => Labelled {
            key: name.to_owned(),
            en: name.to_owned(),
            bn: name.to_owned(),
        },
    }
}

fn category_key(c: Category) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The sections with their catalog labels, categories and retention.
pub fn section_docs(technical_days: u32) -> Vec<SectionDoc> {
    SECTIONS
        .iter()
        .map(|s| {
            let fields: Vec<&catalog::Field> = s
                .fields
                .iter()
                .filter_map(|name| {
                    let (t, c) = name.split_once('.')?;
                    catalog::field(t, c)
                })
                .collect();
            let mut categories: Vec<Category> = vec![];
            for f in &fields {
                if !categories.contains(&f.category) {
                    categories.push(f.category);
                }
            }
            SectionDoc {
                key: s.key.into(),
                title_en: s.title_en.into(),
                title_bn: s.title_bn.into(),
                categories: categories
                    .into_iter()
                    .map(|c| Labelled {
                        key: category_key(c),
                        en: c.label(Lang::En).into(),
                        bn: c.label(Lang::Bn).into(),
                    })
                    .collect(),
                fields: fields
                    .into_iter()
                    .map(|f| FieldDoc {
                        field: format!("{}.{}", f.table, f.column),
                        label_en: f.label_en.into(),
                        label_bn: f.label_bn.into(),
                        retention_en: f.retention.describe(Lang::En, technical_days),
                        retention_bn: f.retention.describe(Lang::Bn, technical_days),
                    })
                    .collect(),
            }
        })
        .collect()
}

fn withheld() -> Vec<Withheld> {
    WITHHELD
        .iter()
        .map(|(field, en, bn)| {
            let label = field_label(field);
            Withheld {
                field: (*field).into(),
                label_en: label.en,
                label_bn: label.bn,
                reason_en: (*en).into(),
                reason_bn: (*bn).into(),
            }
        })
        .collect()
}

fn address(d: Delivery) -> Address {
    Address {
        recipient: d.recipient,
        line: d.line,
        area: d.area,
        district: d.district,
    }
}

fn recipient(text: &str) -> (String, String) {
    let r = match text {
        "courier" => Some(Recipient::Courier),
        "payment_gateway" => Some(Recipient::PaymentGateway),
        "service_provider" => Some(Recipient::ServiceProvider),
        _ => None,
    };
    match r {
        Some(r) => (r.label(Lang::En).into(), r.label(Lang::Bn).into()),
        None => (text.into(), text.into()),
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
                from: e.from_status,
                to: e.to_status,
                at: when(e.at),
                by: e.staff_id.map(|s| format!("staff:{s}")),
            });
        }
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
                status: o.status,
                source: o.source,
                payment_method: o.payment_method,
                payment_status: o.payment_status,
                total: o.total,
                items: items.remove(&o.id).unwrap_or_default(),
                address: delivery,
                delivery_instructions: open_text(
                    ckey,
                    "orders.instructions",
                    o.id,
                    o.instructions_enc.as_deref(),
                )?,
                history: events.remove(&o.id).unwrap_or_default(),
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
            })
            .collect();

        let technical = Technical {
            retention_days: self.settings.technical_retention_days,
            sessions: repo::sessions(conn, id)
                .await?
                .into_iter()
                .map(|s| Session {
                    kind: s.kind,
                    started_at: when(s.created_at),
                    last_seen_at: when(s.last_seen_at),
                    expires_at: when(s.expires_at),
                    ip_address: s.ip_address,
                    user_agent: s.user_agent,
                    device_kind: s.device_kind,
                    language: s.lang,
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
                purpose: c.purpose,
                granted: c.granted != 0,
                channel: c.channel,
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
                channel: a.channel,
                at: when(a.at),
            })
            .collect();
        let disclosures = disclosures::for_customer(conn, id)
            .await?
            .into_iter()
            .map(|d| {
                let (en, bn) = recipient(&d.recipient);
                Disclosure {
                    order: d.order_id.map(number),
                    recipient: d.recipient,
                    recipient_en: en,
                    recipient_bn: bn,
                    fields: d
                        .fields
                        .split(',')
                        .filter(|f| !f.is_empty())
                        .map(field_label)
                        .collect(),
                    purpose: d.purpose,
                    at: when(d.at),
                }
            })
            .collect();

        let proof_rows = repo::proofs(conn, id).await?;
        let mut proofs = Vec::with_capacity(proof_rows.len());
        for p in &proof_rows {
            let file_name = match p.file_name_enc.as_deref() {
                Some(sealed) => Some(
                    ckey.open_string(&proof_ctx("file_name", &p.blob_key), sealed)
                        .map_err(|_| ServiceError::Sealed)?,
                ),
                None => None,
            };
            proofs.push(Proof {
                id: p.id,
                order: number(p.order_id),
                kind: p.kind.clone(),
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
                        ckey.open_string(&crate::proofs::upload::ctx("file_name", &u.id), s)
                            .map_err(|_| ServiceError::Sealed)
                    })
                    .transpose()?;
                Ok(Upload {
                    order: number(u.order_id),
                    kind: u.kind,
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
                generated_at: when(crate::now_ms()),
                export_id,
                request_id,
                sections: section_docs(self.settings.technical_retention_days),
                profile,
                addresses,
                orders,
                payments,
                technical,
                consents,
                policy_acceptances,
                disclosures,
                claims: vec![],
                proofs,
                unfinished_uploads,
                withheld: withheld(),
            },
            proof_rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tables whose rows belong to one customer: those the catalog lists
    /// with a `customer_id` column, and `customers` itself.
    fn customer_linked(table: &str) -> bool {
        table == "customers" || catalog::is_classified(table, "customer_id")
    }

    #[test]
    fn every_erasable_field_of_a_customer_is_in_the_export() {
        let covered: Vec<&str> = SECTIONS
            .iter()
            .flat_map(|s| s.fields.iter().copied())
            .collect();
        let mut missing = vec![];
        for f in catalog::FIELDS {
            let name = format!("{}.{}", f.table, f.column);
            let erasable = matches!(
                f.erasure,
                catalog::Erasure::Delete | catalog::Erasure::Pseudonymise
            );
            if erasable && customer_linked(f.table) && !covered.contains(&name.as_str()) {
                missing.push(name);
            }
        }
        assert!(
            missing.is_empty(),
            "personal fields of a customer that the access export leaves out: {missing:?} \
             (add them to a section in privacy_export/collect.rs)"
        );
    }

    #[test]
    fn sections_name_only_catalog_fields_and_withheld_fields_are_explained() {
        for s in SECTIONS {
            for name in s.fields {
                let (t, c) = name.split_once('.').unwrap();
                assert!(
                    catalog::field(t, c).is_some(),
                    "{}: {name} is not in the catalog",
                    s.key
                );
            }
        }
        let covered: Vec<&str> = SECTIONS
            .iter()
            .flat_map(|s| s.fields.iter().copied())
            .collect();
        for (field, en, bn) in WITHHELD {
            assert!(
                covered.contains(field),
                "{field} is withheld but in no section"
            );
            assert!(!en.is_empty() && !bn.is_empty());
        }
        let docs = section_docs(90);
        let profile = docs.iter().find(|d| d.key == "profile").unwrap();
        assert!(profile
            .categories
            .iter()
            .any(|c| c.en == "Identity" && c.bn == "পরিচয়"));
        assert_eq!(
            docs.iter()
                .find(|d| d.key == "claims")
                .unwrap()
                .fields
                .len(),
            0
        );
    }
}
