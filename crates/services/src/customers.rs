//! Customers: found by the blind index of their phone, created with their own key.
use crate::error::Result;
use crate::vault::{open_text, Vault};
use chotomoni_crypto::SealKey;
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::{CustomerName, Email, Phone};
use chotomoni_storage::{customers, Conn};
use serde::Serialize;
use utoipa::ToSchema;

/// A customer's contact details, opened.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct ContactView {
    pub name: String,
    /// E.164, e.g. +8801712345678.
    pub phone: String,
    pub email: Option<String>,
}

/// The customer with this phone, or a new one with their own key. Existing
/// customers' details are not overwritten by an order: a guest typing
/// someone else's number must not be able to rename them.
pub async fn find_or_create(
    conn: &mut Conn,
    vault: &Vault,
    name: &CustomerName,
    phone: &Phone,
    email: Option<&Email>,
) -> Result<(i64, SealKey, bool)> {
    if let Some(row) = customers::find_by_phone_index(conn, &vault.phone_index(phone)).await? {
        let key = vault.customer_key(row.id, row.wrapped_key.as_deref())?;
        return Ok((row.id, key, false));
    }
    let at = crate::now_ms();
    let id = customers::insert_empty(conn, at).await?;
    let (key, wrapped) = vault.new_customer_key(id);
    customers::insert_key(conn, id, &wrapped, at).await?;
    customers::set_contact(conn, id, &vault.seal_contact(&key, id, name, phone, email)).await?;
    Ok((id, key, true))
}

pub fn open_contact(
    key: &SealKey,
    id: i64,
    name: Option<&[u8]>,
    phone: Option<&[u8]>,
    email: Option<&[u8]>,
) -> Result<ContactView> {
    Ok(ContactView {
        name: open_text(key, sealed::CUSTOMER_NAME, id, name)?.unwrap_or_default(),
        phone: open_text(key, sealed::CUSTOMER_PHONE, id, phone)?.unwrap_or_default(),
        email: open_text(key, sealed::CUSTOMER_EMAIL, id, email)?,
    })
}
