//! Checking that the master key is the one this database was made with.
//! A wrong key cannot open anyone's data: every customer would look erased
//! and every returning phone would get a duplicate customer (its blind index
//! no longer matches). So the first start stores a canary of the key, and
//! every later start compares; a database made before the canary existed is
//! checked by opening one customer's key instead.
use crate::error::{Result, ServiceError};
use crate::Services;
use chotomoni_storage::installation;

/// What the canary is a keyed hash of; only the same master key gives the
/// same bytes.
const CANARY_TEXT: &str = "chotomoni master key canary v1";

impl Services {
    fn key_canary(&self) -> Vec<u8> {
        self.vault.keyring().blind_index("key-canary", CANARY_TEXT)
    }

    /// Refuses a master key other than the one this database was made with;
    /// writes the canary at the first start.
    pub async fn check_master_key(&self) -> Result<()> {
        let mut conn = self.db.conn().await?;
        let mine = self.key_canary();
        match installation::key_canary(&mut conn).await? {
            Some(stored) if stored == mine => return Ok(()),
            Some(_) => return Err(ServiceError::WrongMasterKey),
            None => {}
        }
        if let Some((customer, wrapped)) = installation::any_wrapped_key(&mut conn).await? {
            if self.vault.customer_key(customer, Some(&wrapped)).is_err() {
                return Err(ServiceError::WrongMasterKey);
            }
        }
        installation::set_key_canary(&mut conn, &mine, self.now_ms()).await?;
        Ok(())
    }
}
