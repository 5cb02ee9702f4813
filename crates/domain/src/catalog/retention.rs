//! How long each field is kept, and the configured periods that say it in
//! words: what `/privacy/data` and the export state is what the sweeps apply.
use super::bangla_digits;
use super::Lang;
use serde::Serialize;
use utoipa::ToSchema;

/// How long a field is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "days")]
pub enum Retention {
    /// Kept while the person is a customer, removed on erasure.
    UntilErasure,
    /// Purged by the sweeper after the configured technical-data period (default 90 days).
    TechnicalPeriod,
    /// Kept for this many days whatever happens, then purged.
    Days(u32),
    /// Kept for legal record-keeping (invoices) for this many years, pseudonymised on erasure.
    LegalYears(u32),
    /// Proof media: each kind its configured days after the order's end
    /// (delivery, return or cancellation), claim evidence until its claim is
    /// decided and the appeal period has passed; longer only under a hold.
    ProofPeriods,
}

/// The configured periods retention is stated with: what `/privacy/data`
/// and the export say is what the sweeps apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Periods {
    /// Technical data (IP address, user agent).
    pub technical_days: u32,
    pub proofs: ProofDays,
    /// Days a decided claim still holds its order's proof.
    pub appeal_days: u32,
}

/// Days each kind of proof is kept after its order ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofDays {
    pub packing: u32,
    pub delivery: u32,
    pub returned: u32,
}

impl Default for ProofDays {
    fn default() -> Self {
        ProofDays {
            packing: 60,
            delivery: 60,
            returned: 60,
        }
    }
}

impl Default for Periods {
    fn default() -> Self {
        Periods {
            technical_days: 90,
            proofs: ProofDays::default(),
            appeal_days: 30,
        }
    }
}

impl Retention {
    pub fn describe(self, lang: Lang, periods: &Periods) -> String {
        let technical_days = periods.technical_days;
        let ProofDays {
            packing,
            delivery,
            returned,
        } = periods.proofs;
        let appeal = periods.appeal_days;
        match (self, lang) {
            (Retention::ProofPeriods, Lang::En) => format!(
                "packing proof {packing} days, delivery proof {delivery} days and return proof \
                 {returned} days after the order was delivered, returned or cancelled; claim \
                 evidence until its claim is decided and {appeal} days after, for an appeal; \
                 longer only while a claim or a legal hold keeps it; your request to delete it \
                 ends it sooner, except what such a hold keeps"
            ),
            (Retention::ProofPeriods, Lang::Bn) => format!(
                "অর্ডার ডেলিভারি, ফেরত বা বাতিল হওয়ার পর প্যাকিং প্রুফ {} দিন, ডেলিভারি প্রুফ {} দিন ও \
                 ফেরতের প্রুফ {} দিন; ক্লেইমের প্রমাণ ক্লেইমের সিদ্ধান্ত পর্যন্ত, তারপর আপিলের জন্য {} দিন; \
                 কোনো ক্লেইম বা আইনি হোল্ড থাকলে শুধু ততদিন বেশি; আপনি মুছে ফেলতে বললে তার আগেই মুছে ফেলা হয়, \
                 যদি না এমন কোনো হোল্ড তা রাখে",
                bangla_digits(packing),
                bangla_digits(delivery),
                bangla_digits(returned),
                bangla_digits(appeal)
            ),
            (Retention::UntilErasure, Lang::En) => "until you ask us to delete it".into(),
            (Retention::UntilErasure, Lang::Bn) => "আপনি মুছে ফেলতে না বলা পর্যন্ত".into(),
            (Retention::TechnicalPeriod, Lang::En) => format!("{technical_days} days"),
            (Retention::TechnicalPeriod, Lang::Bn) => {
                format!("{} দিন", bangla_digits(technical_days))
            }
            (Retention::Days(d), Lang::En) => format!("{d} days"),
            (Retention::Days(d), Lang::Bn) => format!("{} দিন", bangla_digits(d)),
            (Retention::LegalYears(y), Lang::En) => {
                format!("{y} years for legal record-keeping, without anything that identifies you")
            }
            (Retention::LegalYears(y), Lang::Bn) => {
                format!(
                    "আইনি রেকর্ডের জন্য {} বছর, আপনাকে শনাক্ত করা যায় এমন কিছু ছাড়া",
                    bangla_digits(y)
                )
            }
        }
    }
}
