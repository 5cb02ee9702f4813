//! Sealing and opening a customer's personal fields under their own key.
use crate::error::{Result, ServiceError};
use chotomoni_crypto::{Keyring, SealKey};
use chotomoni_domain::catalog::sealed::{self, Sealed};
use chotomoni_domain::{Address, CustomerName, Email, Phone};
use chotomoni_storage::customers::SealedContact;
use serde::{Deserialize, Serialize};

#[derive(Clone)]
pub struct Vault {
    keys: Keyring,
}

/// What an order's sealed delivery blob holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Delivery {
    pub recipient: String,
    pub line: String,
    pub area: String,
    pub district: String,
}

impl Vault {
    pub fn new(keys: Keyring) -> Vault {
        Vault { keys }
    }

    pub fn keyring(&self) -> &Keyring {
        &self.keys
    }

    pub fn new_customer_key(&self, customer_id: i64) -> (SealKey, Vec<u8>) {
        self.keys.new_person_key(&customer_id.to_string())
    }

    /// The customer's key; `Sealed` once erasure has destroyed it.
    pub fn customer_key(&self, customer_id: i64, wrapped: Option<&[u8]>) -> Result<SealKey> {
        let wrapped = wrapped.ok_or(ServiceError::Sealed)?;
        self.keys
            .unwrap_person_key(&customer_id.to_string(), wrapped)
            .map_err(|_| ServiceError::Sealed)
    }

    pub fn phone_index(&self, phone: &Phone) -> Vec<u8> {
        self.keys.blind_index("phone", phone.as_e164())
    }

    pub fn email_index(&self, email: &Email) -> Vec<u8> {
        self.keys.blind_index("email", &email.normalized())
    }

    pub fn seal_contact(
        &self,
        key: &SealKey,
        id: i64,
        name: &CustomerName,
        phone: &Phone,
        email: Option<&Email>,
    ) -> SealedContact {
        SealedContact {
            name_enc: seal_text(key, sealed::CUSTOMER_NAME, id, name.as_str()),
            phone_enc: seal_text(key, sealed::CUSTOMER_PHONE, id, phone.as_e164()),
            phone_index: self.phone_index(phone),
            email_enc: email.map(|e| seal_text(key, sealed::CUSTOMER_EMAIL, id, e.as_str())),
            email_index: email.map(|e| self.email_index(e)),
        }
    }

    pub fn seal_delivery(
        &self,
        key: &SealKey,
        order_id: i64,
        recipient: &CustomerName,
        a: &Address,
    ) -> Vec<u8> {
        let d = Delivery {
            recipient: recipient.as_str().to_owned(),
            line: a.line.clone(),
            area: a.area.clone(),
            district: a.district.clone(),
        };
        self.seal_delivery_record(key, order_id, &d)
    }

    /// Seals a delivery already opened from another order (a replacement
    /// goes where the original went).
    pub fn seal_delivery_record(&self, key: &SealKey, order_id: i64, d: &Delivery) -> Vec<u8> {
        key.seal(
            &sealed::ORDER_ADDRESS.at(order_id),
            &serde_json::to_vec(d).expect("serialisable"),
        )
    }

    pub fn seal_instructions(&self, key: &SealKey, order_id: i64, text: &str) -> Vec<u8> {
        seal_text(key, sealed::ORDER_INSTRUCTIONS, order_id, text)
    }
}

/// Seals one column of one row under its customer's key; [`open_text`] opens it.
pub fn seal_text(key: &SealKey, column: Sealed, id: i64, text: &str) -> Vec<u8> {
    key.seal_str(&column.at(id), text)
}

/// Opens one sealed column of one row, if present.
pub fn open_text(
    key: &SealKey,
    column: Sealed,
    id: i64,
    sealed: Option<&[u8]>,
) -> Result<Option<String>> {
    sealed
        .map(|s| {
            key.open_string(&column.at(id), s)
                .map_err(|_| ServiceError::Sealed)
        })
        .transpose()
}

pub fn open_delivery(
    key: &SealKey,
    order_id: i64,
    sealed: Option<&[u8]>,
) -> Result<Option<Delivery>> {
    open_text(key, sealed::ORDER_ADDRESS, order_id, sealed)?
        .map(|json| serde_json::from_str(&json).map_err(|_| ServiceError::Sealed))
        .transpose()
}
