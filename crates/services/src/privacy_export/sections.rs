//! What an access export carries and why: its sections, each with the
//! catalog fields it copies, and the fields kept about the person whose
//! stored value it does not copy, with the reason. A test holds the sections
//! against the data catalog, so a new personal field cannot be left out of
//! the export unnoticed.
use chotomoni_domain::catalog::{self, Category, Lang};
use serde::{Deserialize, Serialize};

/// One part of the export: its bilingual title and the catalog fields it
/// carries: `table.column`, and where `data.json` shows it (a path of keys,
/// `[]` for every element of a list). A test fills every field and finds
/// each one where this says.
#[derive(Debug, Clone, Copy)]
pub struct Section {
    pub key: &'static str,
    pub title_en: &'static str,
    pub title_bn: &'static str,
    pub fields: &'static [(&'static str, &'static str)],
}

/// Every section, in the order the page shows them.
pub const SECTIONS: &[Section] = &[
    Section {
        key: "profile",
        title_en: "Your profile",
        title_bn: "আপনার প্রোফাইল",
        fields: &[
            ("customers.name_enc", "profile.name"),
            ("customers.phone_enc", "profile.phone"),
            ("customers.phone_index", "profile.phone_fingerprint"),
            ("customers.email_enc", "profile.email"),
            ("customers.email_index", "profile.email_fingerprint"),
            ("customers.password_hash", "profile.has_password"),
            ("customers.created_at", "profile.customer_since"),
            ("customers.phone_verified_at", "profile.phone_proven_at"),
            ("customers.email_verified_at", "profile.email_proven_at"),
        ],
    },
    Section {
        key: "addresses",
        title_en: "Delivery addresses",
        title_bn: "ডেলিভারি ঠিকানা",
        fields: &[("orders.address_enc", "addresses[].line")],
    },
    Section {
        key: "orders",
        title_en: "Orders",
        title_bn: "অর্ডার",
        fields: &[
            ("orders.customer_id", "orders[].number"),
            ("orders.created_at", "orders[].created_at"),
            ("orders.status", "orders[].status"),
            ("orders.source", "orders[].source"),
            ("orders.total", "orders[].total"),
            ("orders.address_enc", "orders[].address.line"),
            ("orders.instructions_enc", "orders[].delivery_instructions"),
            (
                "orders.marketing_opt_in",
                "orders[].marketing_opt_in_pending",
            ),
            ("order_items.name", "orders[].items[].name"),
            ("order_items.quantity", "orders[].items[].quantity"),
            ("order_items.unit_price", "orders[].items[].unit_price"),
            ("order_events.at", "orders[].history[].at"),
            ("orders.lang", "orders[].lang"),
            (
                "consignments.tracking_code",
                "orders[].parcel.tracking_code",
            ),
            ("consignments.collected", "orders[].parcel.collected"),
            ("consignments.error", "orders[].parcel.courier_message"),
            (
                "order_phone_checks.outcome",
                "orders[].phone_checks[].outcome",
            ),
            ("order_phone_checks.note", "orders[].phone_checks[].note"),
            (
                "order_signals.ip_index",
                "orders[].placed_from.ip_fingerprint",
            ),
            (
                "order_signals.device_index",
                "orders[].placed_from.browser_fingerprint",
            ),
        ],
    },
    Section {
        key: "payments",
        title_en: "Payment statuses",
        title_bn: "পেমেন্টের অবস্থা",
        fields: &[
            ("orders.payment_method", "payments[].method"),
            ("orders.payment_status", "payments[].status"),
            ("orders.total", "payments[].total"),
            ("payments.status", "payments[].attempts[].status"),
            ("payments.amount", "payments[].attempts[].amount"),
            ("payments.paid_amount", "payments[].attempts[].paid_amount"),
            (
                "payments.gateway_transaction_id",
                "payments[].attempts[].gateway_reference",
            ),
            ("payments.started_at", "payments[].attempts[].started_at"),
        ],
    },
    Section {
        key: "technical",
        title_en: "Technical data: sessions, IP addresses, devices and cookie choices",
        title_bn: "প্রযুক্তিগত তথ্য: সেশন, আইপি অ্যাড্রেস, ডিভাইস ও কুকি-পছন্দ",
        fields: &[
            ("sessions.ip_address", "technical.sessions[].ip_address"),
            ("sessions.user_agent", "technical.sessions[].user_agent"),
            ("sessions.device_kind", "technical.sessions[].device_kind"),
            ("sessions.token_hash", "technical.sessions[].started_at"),
            ("sessions.cart", "technical.sessions[].cart"),
            ("cookie_choices.id", "technical.cookie_choices[].id"),
            (
                "cookie_choices.functional",
                "technical.cookie_choices[].functional",
            ),
            (
                "cookie_choices.analytics",
                "technical.cookie_choices[].analytics",
            ),
            ("cookie_choices.at", "technical.cookie_choices[].at"),
        ],
    },
    Section {
        key: "consents",
        title_en: "Consent history",
        title_bn: "সম্মতির ইতিহাস",
        fields: &[
            ("consents.granted", "consents[].granted"),
            ("consents.wording", "consents[].wording"),
        ],
    },
    Section {
        key: "policy_acceptances",
        title_en: "Privacy policy versions you accepted",
        title_bn: "আপনি গোপনীয়তা নীতির যে সংস্করণগুলো গ্রহণ করেছেন",
        fields: &[
            ("policy_acceptances.version", "policy_acceptances[].version"),
            ("policy_acceptances.at", "policy_acceptances[].at"),
        ],
    },
    Section {
        key: "disclosures",
        title_en: "Shared with couriers, payment gateways and service providers",
        title_bn: "কুরিয়ার, পেমেন্ট গেটওয়ে ও সার্ভিস প্রোভাইডারের সাথে শেয়ার",
        fields: &[
            ("disclosures.fields", "disclosures[].fields[].key"),
            ("disclosures.at", "disclosures[].at"),
        ],
    },
    Section {
        key: "claims",
        title_en: "Claims",
        title_bn: "দাবি",
        fields: &[
            ("claims.customer_id", "claims[].order"),
            ("claims.kind", "claims[].kind"),
            ("claims.description_enc", "claims[].description"),
            ("claims.reference", "claims[].reference"),
            ("claims.filed_at", "claims[].filed_at"),
            ("claim_items.quantity", "claims[].items[].quantity"),
            ("claims.decision", "claims[].decision"),
            ("claims.refund_amount", "claims[].refund_amount"),
            ("claims.reason", "claims[].reason"),
            ("claims.decided_at", "claims[].decided_at"),
            ("refunds.state", "claims[].refund.status"),
            ("refunds.amount", "claims[].refund.amount"),
            ("refunds.wallet_trx_id", "claims[].refund.wallet_trx_id"),
            ("refunds.requested_at", "claims[].refund.requested_at"),
        ],
    },
    Section {
        key: "proofs",
        title_en: "Order proof: photos and videos, with their receipts",
        title_bn: "অর্ডার প্রুফ: ছবি ও ভিডিও, রসিদসহ",
        fields: &[
            ("proofs.blob_key", "proofs[].file"),
            ("proofs.poster_key", "proofs[].poster"),
            ("proofs.file_name_enc", "proofs[].file_name"),
            ("proofs.captured_at", "proofs[].captured_at"),
            ("proofs.received_at", "proofs[].received_at"),
            ("uploads.file_name_enc", "unfinished_uploads[].file_name"),
            ("uploads.captured_at", "unfinished_uploads[].captured_at"),
            ("uploads.tail_enc", "unfinished_uploads[].bytes_received"),
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
pub struct Withheld {
    pub field: String,
    pub label_en: String,
    pub label_bn: String,
    pub reason_en: String,
    pub reason_bn: String,
}

pub(super) fn field_label(name: &str) -> Labelled {
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
pub fn section_docs(periods: &catalog::Periods) -> Vec<SectionDoc> {
    SECTIONS
        .iter()
        .map(|s| {
            let fields: Vec<&catalog::Field> = s
                .fields
                .iter()
                .filter_map(|(name, _)| {
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
                        retention_en: f.retention.describe(Lang::En, periods),
                        retention_bn: f.retention.describe(Lang::Bn, periods),
                    })
                    .collect(),
            }
        })
        .collect()
}

pub(super) fn withheld() -> Vec<Withheld> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Tables whose rows belong to one customer: those the catalog lists
    /// with a `customer_id` column, those found through the customer's
    /// orders, and `customers` itself.
    fn customer_linked(table: &str) -> bool {
        table == "customers"
            || catalog::is_classified(table, "customer_id")
            || catalog::table(table).is_some_and(|t| t.owner == catalog::Owner::Order)
    }

    #[test]
    fn every_erasable_field_of_a_customer_is_in_the_export() {
        let covered: Vec<&str> = SECTIONS
            .iter()
            .flat_map(|s| s.fields.iter().map(|(name, _)| *name))
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
             (add them to a section in privacy_export/sections.rs)"
        );
    }

    #[test]
    fn sections_name_only_catalog_fields_and_withheld_fields_are_explained() {
        for s in SECTIONS {
            for (name, _) in s.fields {
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
            .flat_map(|s| s.fields.iter().map(|(name, _)| *name))
            .collect();
        for (field, en, bn) in WITHHELD {
            assert!(
                covered.contains(field),
                "{field} is withheld but in no section"
            );
            assert!(!en.is_empty() && !bn.is_empty());
        }
        let docs = section_docs(&Default::default());
        let profile = docs.iter().find(|d| d.key == "profile").unwrap();
        assert!(profile
            .categories
            .iter()
            .any(|c| c.en == "Identity" && c.bn == "পরিচয়"));
        let claims = docs.iter().find(|d| d.key == "claims").unwrap();
        assert!(claims
            .fields
            .iter()
            .any(|f| f.field == "claims.description_enc"));
    }
}
