//! What a restored database needs before it serves anyone: every erasure
//! made since its backup applied again, and the blind indexes (left out of
//! backups, being keyed by the installation rather than the person) rebuilt
//! from the sealed values of the customers whose keys are in the vault.
use crate::error::Context as _;
use crate::error::Result;
use crate::vault::open_text;
use crate::{Actor, Services};
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::{Email, Phone};
use chotomoni_storage::erasure as rows;

impl Services {
    /// Re-applies every erasure in the key vault's journal that the database
    /// does not show (after a restore from a backup older than the erasure).
    /// Returns how many were re-applied.
    pub async fn reapply_erasures(&self) -> Result<usize> {
        let Some(vault) = &self.key_vault else {
            return Ok(0);
        };
        let journal = vault.erasures().await.context("key vault")?;
        let mut conn = self.db.conn().await?;
        let mut db_journal: Vec<i64> = rows::journal_entries(&mut conn)
            .await?
            .into_iter()
            .map(|e| e.customer_id)
            .collect();
        db_journal.sort_unstable();
        drop(conn);
        let mut applied = 0;
        for entry in journal {
            if db_journal.binary_search(&entry.customer_id).is_ok() {
                continue;
            }
            let mut conn = self.db.conn().await?;
            let exists = chotomoni_storage::customers::get(&mut conn, entry.customer_id)
                .await?
                .is_some();
            drop(conn);
            if exists {
                // No postponement here: the order that was on its way at backup
                // time has long since been erased in the live system.
                self.erase_now(&Actor::System, entry.customer_id, (None, None), false)
                    .await?;
                applied += 1;
            }
        }
        Ok(applied)
    }

    /// Recomputes `customers.phone_index` and `email_index`; returns how
    /// many customers got them back.
    pub async fn rebuild_contact_indexes(&self) -> Result<usize> {
        let mut conn = self.db.conn().await?;
        let sealed = rows::sealed_contacts(&mut conn).await?;
        drop(conn);
        let mut tx = self.db.begin().await?;
        let mut rebuilt = 0;
        for (id, phone_enc, email_enc, wrapped) in sealed {
            let key = self.vault.customer_key(id, Some(&wrapped))?;
            let phone = open_text(&key, sealed::CUSTOMER_PHONE, id, phone_enc.as_deref())?
                .and_then(|p| Phone::parse(&p).ok())
                .map(|p| self.vault.phone_index(&p));
            let email = open_text(&key, sealed::CUSTOMER_EMAIL, id, email_enc.as_deref())?
                .and_then(|e| Email::parse(&e).ok())
                .map(|e| self.vault.email_index(&e));
            rows::set_indexes(&mut tx, id, phone, email).await?;
            rebuilt += 1;
        }
        tx.commit().await?;
        Ok(rebuilt)
    }
}
