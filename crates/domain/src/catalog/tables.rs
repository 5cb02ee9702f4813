//! How the rows of each table belong to a customer, and what erasure does
//! to them. With the fields' own erasure effects this is the whole of
//! erasure: [`erasure_steps`] turns it into the statements the storage layer
//! runs, so a field added to the catalog is erased the way the catalog says
//! without anyone writing a new query.
use super::{Erasure, FIELDS};
use serde::Serialize;
use utoipa::ToSchema;

/// How to find one customer's rows in a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "by", content = "column")]
pub enum Owner {
    /// The customer's own row (`customers.id`).
    Customer,
    /// A `customer_id` column.
    CustomerColumn,
    /// Through the order the row belongs to (`order_id`).
    Order,
    /// Through the proof the row belongs to (`proof_id`).
    Proof,
    /// Through the privacy request the row belongs to (`request_id`).
    Request,
    /// Through the claim the row belongs to (`claim_id`).
    Claim,
    /// A keyed fingerprint of the customer's phone number or email address
    /// (the blind index kept on the customer row) in this column.
    ContactIndex(&'static str),
    /// A rate-limit fingerprint made from the customer's phone number or
    /// email address in this column.
    SignInFingerprint(&'static str),
    /// Not looked up by customer, for the reason given.
    Unlinked(&'static str),
}

/// What erasure does to a customer's rows of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rows {
    /// Every row goes (every personal field in it is deleted).
    Deleted,
    /// Rows stay; each personal field gets its own erasure effect.
    Kept,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Table {
    pub name: &'static str,
    pub owner: Owner,
    pub rows: Rows,
}

const fn t(name: &'static str, owner: Owner, rows: Rows) -> Table {
    Table { name, owner, rows }
}

use Owner::*;

/// Every table with a personal field or a link to a customer, in the order
/// erasure visits them (rows that point at others first).
pub const TABLES: &[Table] = &[
    t("share_links", Proof, Rows::Deleted),
    // Proofs a legal hold keeps are moved to a stand-in first; the rest go.
    t("proofs", CustomerColumn, Rows::Deleted),
    t("uploads", CustomerColumn, Rows::Deleted),
    t("exports", CustomerColumn, Rows::Deleted),
    t("claim_packs", CustomerColumn, Rows::Deleted),
    t("sessions", CustomerColumn, Rows::Deleted),
    t("consents", CustomerColumn, Rows::Deleted),
    t("policy_acceptances", CustomerColumn, Rows::Deleted),
    t("cookie_choices", CustomerColumn, Rows::Deleted),
    t("disclosures", CustomerColumn, Rows::Deleted),
    t("phone_verifications", ContactIndex("phone_index"), Rows::Deleted),
    t("request_codes", ContactIndex("address_index"), Rows::Deleted),
    t("sign_in_attempts", SignInFingerprint("key_hash"), Rows::Deleted),
    t("order_items", Order, Rows::Kept),
    t("consignments", Order, Rows::Kept),
    t("payments", Order, Rows::Kept),
    t("courier_events", Order, Rows::Kept),
    t("order_events", Order, Rows::Kept),
    t("legal_holds", Order, Rows::Kept),
    t("order_signals", Order, Rows::Deleted),
    t("order_phone_checks", Order, Rows::Deleted),
    t("privacy_request_events", Request, Rows::Kept),
    t("privacy_requests", CustomerColumn, Rows::Kept),
    t("erasures", CustomerColumn, Rows::Kept),
    t("claim_items", Claim, Rows::Kept),
    t("refunds", Claim, Rows::Kept),
    // A refund's legal record stays, under the stand-in.
    t("claims", CustomerColumn, Rows::Kept),
    // Last among the rows that point at the customer: they are found by
    // the customer's number until the stand-in takes it over.
    t("orders", CustomerColumn, Rows::Kept),
    t("customers", Customer, Rows::Kept),
    // Destroying the key is what makes every earlier copy unreadable.
    t("customer_keys", CustomerColumn, Rows::Deleted),
    t(
        "marketing_suppressions",
        Unlinked("kept on purpose: a fingerprint of a number or address that must never be messaged again"),
        Rows::Kept,
    ),
    t(
        "jobs",
        Unlinked("its one personal field is a sealed contact (a message to send, an erasure's outbox clean-up), written by the change that queues the job and deleted once the job is done"),
        Rows::Kept,
    ),
    t("staff", Unlinked("staff accounts, not customers"), Rows::Kept),
];

pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// One statement of an erasure, over the rows `owner` finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErasureStep {
    DeleteRows {
        table: &'static str,
        owner: Owner,
    },
    /// Deleted fields are emptied; a pseudonymised link is pointed at the
    /// stand-in that keeps the legal record.
    Clear {
        table: &'static str,
        owner: Owner,
        emptied: Vec<&'static str>,
        pseudonymised: Vec<&'static str>,
    },
}

impl ErasureStep {
    pub fn table(&self) -> &'static str {
        match self {
            ErasureStep::DeleteRows { table, .. } | ErasureStep::Clear { table, .. } => table,
        }
    }
}

/// The statements that erase one customer, in order, read from the catalog.
pub fn erasure_steps() -> Vec<ErasureStep> {
    TABLES
        .iter()
        .filter(|t| !matches!(t.owner, Unlinked(_)))
        .filter_map(|t| match t.rows {
            Rows::Deleted => Some(ErasureStep::DeleteRows {
                table: t.name,
                owner: t.owner,
            }),
            Rows::Kept => {
                let with = |effect: Erasure| -> Vec<&'static str> {
                    FIELDS
                        .iter()
                        .filter(|f| f.table == t.name && f.erasure == effect)
                        .map(|f| f.column)
                        .collect()
                };
                let (emptied, pseudonymised) = (with(Erasure::Delete), with(Erasure::Pseudonymise));
                (!emptied.is_empty() || !pseudonymised.is_empty()).then_some(ErasureStep::Clear {
                    table: t.name,
                    owner: t.owner,
                    emptied,
                    pseudonymised,
                })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{is_classified, NOT_PERSONAL};
    use super::*;

    #[test]
    fn every_table_with_a_personal_field_or_a_customer_link_is_declared() {
        let linked = NOT_PERSONAL
            .iter()
            .map(|n| (n.table, n.column))
            .chain(FIELDS.iter().map(|f| (f.table, f.column)))
            .filter(|(_, c)| *c == "customer_id")
            .map(|(t, _)| t);
        for name in FIELDS.iter().map(|f| f.table).chain(linked) {
            assert!(
                table(name).is_some(),
                "{name} holds personal data or points at a customer; declare how erasure finds its rows in catalog/tables.rs"
            );
        }
        for t in TABLES {
            if let ContactIndex(c) | SignInFingerprint(c) = t.owner {
                assert!(is_classified(t.name, c), "{}.{c}", t.name);
            }
        }
    }

    #[test]
    fn deleted_rows_keep_nothing_and_only_the_customer_link_is_pseudonymised() {
        for f in FIELDS {
            let t = table(f.table).unwrap();
            if t.rows == Rows::Deleted {
                assert_eq!(
                    f.erasure,
                    Erasure::Delete,
                    "{}.{}: its rows are deleted",
                    f.table,
                    f.column
                );
            }
            if f.erasure == Erasure::Pseudonymise && !matches!(t.owner, Unlinked(_)) {
                assert_eq!(
                    (t.owner, f.column),
                    (CustomerColumn, "customer_id"),
                    "{}.{}: pseudonymising means pointing the row at the stand-in",
                    f.table,
                    f.column
                );
            }
        }
    }

    #[test]
    fn orders_keep_their_legal_record_under_the_stand_in() {
        let steps = erasure_steps();
        let orders = steps.iter().find(|s| s.table() == "orders").unwrap();
        let ErasureStep::Clear {
            emptied,
            pseudonymised,
            ..
        } = orders
        else {
            panic!("orders are kept: {orders:?}")
        };
        assert_eq!(
            emptied,
            &["address_enc", "instructions_enc", "marketing_opt_in"]
        );
        assert_eq!(pseudonymised, &["customer_id"]);
        // A table whose fields are all kept needs no statement.
        assert!(steps.iter().all(|s| s.table() != "order_items"));
        // The customer's row is emptied after everything that finds rows through it.
        let position = |name| steps.iter().position(|s| s.table() == name).unwrap();
        assert!(position("sessions") < position("orders"));
        assert!(position("orders") < position("customers"));
        assert!(position("share_links") < position("proofs"));
    }
}
