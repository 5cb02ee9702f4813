//! The columns whose values are sealed under a person's key, each named as
//! the catalog names it. A sealed value is bound to its column and row (the
//! authenticated context of its encryption), and that context is made here
//! from the column, never written out by hand: a value moved to another
//! row or column does not open, and a sealed column the catalog does not
//! list cannot be made (the tests below hold the two lists together).
use std::fmt;

/// A sealed column of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sealed {
    pub table: &'static str,
    /// The column as stored (`name_enc`).
    pub column: &'static str,
}

/// What one sealed value is bound to: its column and its row.
#[derive(Clone, PartialEq, Eq)]
pub struct SealContext(String);

impl SealContext {
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for SealContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealContext({})", self.0)
    }
}

impl Sealed {
    const fn new(table: &'static str, column: &'static str) -> Sealed {
        Sealed { table, column }
    }

    /// The context of this column's value in the row `row` (an id, or the
    /// row's blob key): `customers.name:42`, the column's name without its
    /// `_enc`. Values sealed since the first release are bound to these
    /// texts, so they must never change.
    pub fn at(self, row: impl fmt::Display) -> SealContext {
        let name = self.column.strip_suffix("_enc").unwrap_or(self.column);
        SealContext(format!("{}.{name}:{row}", self.table))
    }
}

/// The customer's name, by customer id.
pub const CUSTOMER_NAME: Sealed = Sealed::new("customers", "name_enc");
/// The customer's phone number (E.164), by customer id.
pub const CUSTOMER_PHONE: Sealed = Sealed::new("customers", "phone_enc");
/// The customer's email address, by customer id.
pub const CUSTOMER_EMAIL: Sealed = Sealed::new("customers", "email_enc");
/// An order's delivery (recipient and address), by order id.
pub const ORDER_ADDRESS: Sealed = Sealed::new("orders", "address_enc");
/// An order's delivery instructions, by order id.
pub const ORDER_INSTRUCTIONS: Sealed = Sealed::new("orders", "instructions_enc");
/// A claim's description in the customer's words, by claim id.
pub const CLAIM_DESCRIPTION: Sealed = Sealed::new("claims", "description_enc");
/// A proof's own key, by the proof's blob key.
pub const PROOF_KEY: Sealed = Sealed::new("proofs", "proof_key_enc");
/// A proof file's name on the device, by the proof's blob key.
pub const PROOF_FILE_NAME: Sealed = Sealed::new("proofs", "file_name_enc");
/// An upload's proof key, by upload id.
pub const UPLOAD_PROOF_KEY: Sealed = Sealed::new("uploads", "proof_key_enc");
/// An upload's payload key, by upload id.
pub const UPLOAD_PAYLOAD_KEY: Sealed = Sealed::new("uploads", "payload_key_enc");
/// The last, partial piece of an upload, by upload id.
pub const UPLOAD_TAIL: Sealed = Sealed::new("uploads", "tail_enc");
/// An upload's file name, by upload id.
pub const UPLOAD_FILE_NAME: Sealed = Sealed::new("uploads", "file_name_enc");
/// An access export's own key, by the export's blob key.
pub const EXPORT_FILE_KEY: Sealed = Sealed::new("exports", "file_key_enc");
/// A claim pack's own key, by the pack's blob key.
pub const PACK_FILE_KEY: Sealed = Sealed::new("claim_packs", "file_key_enc");

/// Every sealed column.
pub const ALL: &[Sealed] = &[
    CUSTOMER_NAME,
    CUSTOMER_PHONE,
    CUSTOMER_EMAIL,
    ORDER_ADDRESS,
    ORDER_INSTRUCTIONS,
    CLAIM_DESCRIPTION,
    PROOF_KEY,
    PROOF_FILE_NAME,
    UPLOAD_PROOF_KEY,
    UPLOAD_PAYLOAD_KEY,
    UPLOAD_TAIL,
    UPLOAD_FILE_NAME,
    EXPORT_FILE_KEY,
    PACK_FILE_KEY,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{field, FIELDS, NOT_PERSONAL};

    #[test]
    fn contexts_are_the_texts_values_were_sealed_under() {
        assert_eq!(CUSTOMER_PHONE.at(42).0, "customers.phone:42");
        assert_eq!(ORDER_ADDRESS.at(7).0, "orders.address:7");
        assert_eq!(
            PROOF_KEY.at("proofs/1/u.age").0,
            "proofs.proof_key:proofs/1/u.age"
        );
        assert_eq!(UPLOAD_TAIL.at("x").0, "uploads.tail:x");
        assert_eq!(EXPORT_FILE_KEY.at("e").0, "exports.file_key:e");
        assert_eq!(CLAIM_DESCRIPTION.at(3).0, "claims.description:3");
    }

    /// A sealed column is personal data the catalog lists as encrypted, or
    /// a key the catalog lists as not personal (it opens only with the
    /// person's key, and goes with it).
    #[test]
    fn every_sealed_column_is_in_the_catalog() {
        for s in ALL {
            assert!(s.column.ends_with("_enc"), "{}.{}", s.table, s.column);
            match field(s.table, s.column) {
                Some(f) => assert!(
                    f.encrypted,
                    "{}.{} is not marked encrypted",
                    s.table, s.column
                ),
                None => assert!(
                    NOT_PERSONAL
                        .iter()
                        .any(|n| n.table == s.table && n.column == s.column),
                    "{}.{} is not in the catalog",
                    s.table,
                    s.column
                ),
            }
        }
    }

    /// The other way round: every `_enc` column of the catalog is sealed
    /// through one of these, so none is sealed under a context of its own.
    #[test]
    fn every_enc_column_of_the_catalog_is_a_sealed_column() {
        let listed = FIELDS
            .iter()
            .map(|f| (f.table, f.column))
            .chain(NOT_PERSONAL.iter().map(|n| (n.table, n.column)));
        for (table, column) in listed.filter(|(_, c)| c.ends_with("_enc")) {
            assert!(
                ALL.iter().any(|s| s.table == table && s.column == column),
                "{table}.{column} is sealed but has no catalog::sealed column"
            );
        }
    }

    #[test]
    fn no_two_columns_share_a_context() {
        let mut seen = std::collections::HashSet::new();
        for s in ALL {
            assert!(seen.insert(s.at(1).0), "{s:?}");
        }
    }
}
