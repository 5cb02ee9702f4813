//! A few seconds' memory of staff sessions. A packing station sends a
//! request per scan, each carrying the same bearer token; resolving it from
//! the database every time doubled the queries of a lookup. Entries live at
//! most `TTL` (and never past the session's own expiry), so a sign-out or a
//! disabled account on another server takes effect within that time; on
//! this server sign-out removes the entry at once.
use crate::auth::Session;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(5);
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, (Instant, Session)>>,
}

impl SessionCache {
    pub fn get(&self, token_hash: &str) -> Option<Session> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(token_hash)
            .filter(|(until, _)| Instant::now() < *until)
            .map(|(_, s)| s.clone())
    }

    /// Remembers a session until `TTL` from now or `expires_in`, whichever is sooner.
    pub fn put(&self, session: &Session, expires_in: Duration) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let now = Instant::now();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (until, _)| now < *until);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            session.token_hash.clone(),
            (now + TTL.min(expires_in), session.clone()),
        );
    }

    pub fn forget(&self, token_hash: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(token_hash);
        }
    }
}
