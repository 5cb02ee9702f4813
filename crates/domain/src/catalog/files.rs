//! Personal data the server keeps in files of its own, outside the database:
//! the development outboxes, which hold a copy of every message sent instead
//! of sending it. They are catalogued like the database's fields, so the
//! privacy page and the catalog API state them, and erasure and the
//! technical sweep reach them.
use super::{Category, Entry, Erasure, Purpose, Retention};
use serde::Serialize;
use utoipa::ToSchema;

/// A file or folder of the data folder that holds personal data.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct FileStore {
    /// `sms_outbox`, `mail_outbox`.
    pub name: &'static str,
    /// Where it lies in the data folder.
    pub path: &'static str,
    #[serde(flatten)]
    pub entry: Entry,
}

/// A development outbox: a copy of each message instead of sending it,
/// gone with the rest of the person's data and after the technical period.
const fn outbox(
    name: &'static str,
    path: &'static str,
    label_en: &'static str,
    label_bn: &'static str,
) -> FileStore {
    FileStore {
        name,
        path,
        entry: Entry {
            label_en,
            label_bn,
            category: Category::Contact,
            purposes: &[Purpose::Fulfilment, Purpose::Security],
            retention: Retention::TechnicalPeriod,
            shared_with: &[],
            erasure: Erasure::Delete,
            encrypted: false,
        },
    }
}

/// Every file store the server may write.
pub const FILE_STORES: &[FileStore] = &[
    outbox(
        "sms_outbox",
        "sms-outbox.txt",
        "Text messages a development server writes to a file instead of sending them: your phone number, the message and when it was sent",
        "ডেভেলপমেন্ট সার্ভার যে এসএমএস না পাঠিয়ে ফাইলে লিখে রাখে: আপনার ফোন নম্বর, বার্তা ও পাঠানোর সময়",
    ),
    outbox(
        "mail_outbox",
        "mail-outbox/",
        "Emails a development server writes to a folder instead of sending them: your email address, the message and when it was sent",
        "ডেভেলপমেন্ট সার্ভার যে ইমেইল না পাঠিয়ে ফোল্ডারে লিখে রাখে: আপনার ইমেইল, বার্তা ও পাঠানোর সময়",
    ),
];

pub fn file_store(name: &str) -> Option<&'static FileStore> {
    FILE_STORES.iter().find(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Erasure deletes the person's messages and the technical sweep ages
    /// the rest: what the privacy page says must be what the code does.
    #[test]
    fn outboxes_are_erased_and_kept_for_the_technical_period() {
        for name in ["sms_outbox", "mail_outbox"] {
            let store = file_store(name).unwrap_or_else(|| panic!("{name} is catalogued"));
            assert_eq!(store.entry.erasure, Erasure::Delete, "{name}");
            assert_eq!(store.entry.retention, Retention::TechnicalPeriod, "{name}");
        }
        assert_eq!(FILE_STORES.len(), 2);
    }
}
