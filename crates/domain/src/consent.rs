//! What a person can consent to, and the exact words they were shown.
use crate::order::string_enum;
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

string_enum! {
    /// Where a choice was made.
    ConsentChannel {
        Checkout = "checkout",
        StaffEntry = "staff_entry",
        AccountPage = "account_page",
        UnsubscribeLink = "unsubscribe_link",
        SmsStop = "sms_stop",
        PrivacyRequest = "privacy_request",
        CookieSettings = "cookie_settings",
    }
}

string_enum! {
    /// Which kind of address a marketing suppression holds the keyed hash of.
    SuppressionChannel {
        Sms = "sms",
        Email = "email",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentPurpose {
    MarketingSms,
    MarketingEmail,
    FunctionalCookies,
    AnalyticsCookies,
}

impl ConsentPurpose {
    pub const ALL: [ConsentPurpose; 4] = [
        ConsentPurpose::MarketingSms,
        ConsentPurpose::MarketingEmail,
        ConsentPurpose::FunctionalCookies,
        ConsentPurpose::AnalyticsCookies,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsentPurpose::MarketingSms => "marketing_sms",
            ConsentPurpose::MarketingEmail => "marketing_email",
            ConsentPurpose::FunctionalCookies => "functional_cookies",
            ConsentPurpose::AnalyticsCookies => "analytics_cookies",
        }
    }

    pub fn parse(text: &str) -> Option<ConsentPurpose> {
        ConsentPurpose::ALL.into_iter().find(|p| p.as_str() == text)
    }

    pub fn is_marketing(self) -> bool {
        matches!(
            self,
            ConsentPurpose::MarketingSms | ConsentPurpose::MarketingEmail
        )
    }

    /// The words shown next to the choice (English / Bangla), recorded with
    /// every grant and withdrawal so the ledger says what was agreed to.
    pub fn wording(self) -> &'static str {
        match self {
            ConsentPurpose::MarketingSms => {
                "Send me offers and news from Chotomoni by SMS. / ছোটমনির অফার ও খবর এসএমএসে পাঠান।"
            }
            ConsentPurpose::MarketingEmail => {
                "Send me offers and news from Chotomoni by email. / ছোটমনির অফার ও খবর ইমেইলে পাঠান।"
            }
            ConsentPurpose::FunctionalCookies => {
                "Remember my preferences on this device (functional cookies). / এই ডিভাইসে আমার পছন্দ মনে রাখুন (ফাংশনাল কুকি)।"
            }
            ConsentPurpose::AnalyticsCookies => {
                "Help improve the shop with anonymous usage statistics (analytics cookies). / বেনামি ব্যবহার-পরিসংখ্যান দিয়ে দোকান উন্নত করতে সাহায্য করুন (অ্যানালিটিক্স কুকি)।"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_round_trip_and_say_both_languages() {
        for p in ConsentPurpose::ALL {
            assert_eq!(ConsentPurpose::parse(p.as_str()), Some(p));
            assert!(
                p.wording().contains(" / "),
                "{p:?} needs English and Bangla"
            );
        }
        assert_eq!(ConsentPurpose::parse("marketing"), None);
    }
}
