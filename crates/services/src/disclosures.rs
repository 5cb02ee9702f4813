//! The disclosure log's one writer. Courier and payment integrations, and
//! share links, record every sharing of personal data through
//! [`disclose`]; it refuses a field the catalog does not allow to go to that
//! recipient, so the log and the catalog cannot disagree.
use crate::error::{Result, ServiceError};
use crate::Services;
use chotomoni_domain::catalog::{self, Purpose, Recipient};
use chotomoni_storage::disclosures::{self, DisclosureRow};
use chotomoni_storage::Conn;

/// Records that `fields` (catalog `table.column` names) of a customer went
/// to `recipient` for `purpose`. Call it in the transaction that shares.
pub async fn disclose(
    conn: &mut Conn,
    customer_id: i64,
    order_id: Option<i64>,
    recipient: Recipient,
    fields: &[&str],
    purpose: Purpose,
) -> Result<()> {
    for name in fields {
        let (table, column) = name.split_once('.').unwrap_or(("", name));
        let allowed =
            catalog::field(table, column).is_some_and(|f| f.shared_with.contains(&recipient));
        if !allowed {
            return Err(ServiceError::Internal(format!(
                "{name} may not be shared with a {}: the data catalog does not allow it",
                recipient.as_str()
            )));
        }
    }
    disclosures::append(
        conn,
        customer_id,
        &DisclosureRow {
            order_id,
            recipient,
            fields: fields.join(","),
            purpose,
            at: crate::now_ms(),
        },
    )
    .await?;
    Ok(())
}

impl Services {
    /// A one-time code went to a customer's phone or email through the SMS
    /// or mail provider: that provider received the number or address.
    pub(crate) async fn code_sent_through_provider(
        &self,
        customer_id: i64,
        field: &str,
    ) -> Result<()> {
        let mut conn = self.db.conn().await?;
        disclose(
            &mut conn,
            customer_id,
            None,
            Recipient::ServiceProvider,
            &[field],
            Purpose::Security,
        )
        .await
    }
}
