//! The personal-data catalog: the one declaration of every personal field the
//! system stores, in the database and in files of its own ([`FILE_STORES`]). The privacy page, the JSON catalog, the schema check, and
//! (later) access export and erasure are all read from here.

use crate::order::string_enum;
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

/// The categories the published policy names under "Information we collect".
/// A category the policy does not name (location, say) must not exist here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Identity,
    Contact,
    Delivery,
    PaymentStatus,
    Technical,
    Proof,
}

impl Category {
    pub const ALL: &'static [Category] = &[
        Category::Identity,
        Category::Contact,
        Category::Delivery,
        Category::PaymentStatus,
        Category::Technical,
        Category::Proof,
    ];

    /// The words of the published policy (English, then Bangla) that name this
    /// category; a test checks they are really there.
    pub fn policy_terms(self) -> (&'static str, &'static str) {
        match self {
            Category::Identity => ("Personal data: name", "ব্যক্তিগত তথ্য: নাম"),
            Category::Contact => ("phone number, email address", "ফোন নম্বর, ইমেইল"),
            Category::Delivery => (
                "Order & delivery data: shipping address, order details, delivery instructions",
                "ডেলিভারি তথ্য: ঠিকানা, অর্ডার বিবরণ, ডেলিভারি নির্দেশনা",
            ),
            Category::PaymentStatus => (
                "we only receive payment status confirmation",
                "শুধু পেমেন্ট সফল হয়েছে কি না",
            ),
            Category::Technical => (
                "Technical data: IP address, device type, browser information, and cookies",
                "প্রযুক্তিগত তথ্য: আইপি অ্যাড্রেস, ডিভাইস তথ্য, ব্রাউজার ডেটা এবং কুকি",
            ),
            Category::Proof => (
                "Order proof: photos or videos",
                "অর্ডার প্রুফ: প্যাকিং/ডেলিভারি প্রমাণের জন্য ছবি বা ভিডিও",
            ),
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        let (en, bn) = match self {
            Category::Identity => ("Identity", "পরিচয়"),
            Category::Contact => ("Contact", "যোগাযোগ"),
            Category::Delivery => ("Order and delivery", "অর্ডার ও ডেলিভারি"),
            Category::PaymentStatus => ("Payment status", "পেমেন্টের অবস্থা"),
            Category::Technical => ("Technical", "প্রযুক্তিগত"),
            Category::Proof => ("Order proof", "অর্ডার প্রুফ"),
        };
        lang.pick(en, bn)
    }
}

string_enum! {
    /// The uses the policy lists under "How we use your data".
    Purpose {
        Fulfilment = "fulfilment",
        Security = "security",
        Improvement = "improvement",
        Legal = "legal",
    }
}

impl Purpose {
    /// The policy's own words for this purpose (English, Bangla).
    pub fn policy_terms(self) -> (&'static str, &'static str) {
        match self {
            Purpose::Fulfilment => (
                "To process orders, deliver products, and provide customer support.",
                "অর্ডার প্রসেসিং, ডেলিভারি এবং কাস্টমার সাপোর্টের জন্য।",
            ),
            Purpose::Security => (
                "To maintain website security and prevent fraud.",
                "সাইট নিরাপদ রাখা এবং প্রতারণা (fraud) প্রতিরোধের জন্য।",
            ),
            Purpose::Improvement => (
                "To improve our services and user experience.",
                "সেবা উন্নত করা এবং ব্যবহারকারীর অভিজ্ঞতা ভালো করার জন্য।",
            ),
            Purpose::Legal => (
                "To comply with legal obligations.",
                "আইনি বাধ্যবাধকতা পূরণের জন্য।",
            ),
        }
    }
}

string_enum! {
    /// Who a field may be shared with, from the policy's "Data sharing".
    Recipient {
        Courier = "courier",
        PaymentGateway = "payment_gateway",
        ServiceProvider = "service_provider",
    }
}

impl Recipient {
    pub fn label(self, lang: Lang) -> &'static str {
        let (en, bn) = match self {
            Recipient::Courier => ("courier", "কুরিয়ার কোম্পানি"),
            Recipient::PaymentGateway => ("payment gateway", "পেমেন্ট গেটওয়ে"),
            Recipient::ServiceProvider => (
                "service provider (SMS, email)",
                "সার্ভিস প্রোভাইডার (এসএমএস, ইমেইল)",
            ),
        };
        lang.pick(en, bn)
    }
}

/// What erasure does to a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Erasure {
    Delete,
    /// Kept for legal records with no way back to the person.
    Pseudonymise,
    /// Not about the person once the rest is gone (kept as is).
    Keep,
}

impl Erasure {
    pub fn label(self, lang: Lang) -> &'static str {
        let (en, bn) = match self {
            Erasure::Delete => ("deleted", "মুছে ফেলা হয়"),
            Erasure::Pseudonymise => (
                "kept without your identity (legal record)",
                "পরিচয় ছাড়া রাখা হয় (আইনি রেকর্ড)",
            ),
            Erasure::Keep => (
                "kept, as it no longer relates to you",
                "রাখা হয়, কারণ তা আর আপনার সাথে যুক্ত থাকে না",
            ),
        };
        lang.pick(en, bn)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    En,
    Bn,
}

impl Lang {
    pub fn pick<'a>(self, en: &'a str, bn: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Bn => bn,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Bn => "bn",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "bn" => Some(Lang::Bn),
            _ => None,
        }
    }
}

pub fn bangla_digits(n: impl ToString) -> String {
    n.to_string()
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32('০' as u32 + d).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// One personal-data column.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Field {
    pub table: &'static str,
    pub column: &'static str,
    pub label_en: &'static str,
    pub label_bn: &'static str,
    pub category: Category,
    pub purposes: &'static [Purpose],
    pub retention: Retention,
    pub shared_with: &'static [Recipient],
    pub erasure: Erasure,
    /// Stored encrypted under the person's own key (crypto-shredded on erasure).
    pub encrypted: bool,
}

/// A column that holds no personal data, with the reason.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct NotPersonal {
    pub table: &'static str,
    pub column: &'static str,
    pub why: &'static str,
}

use Category::*;
use Purpose::*;
use Recipient::*;

const LEGAL_YEARS: u32 = 6;

macro_rules! field {
    ($table:literal . $column:literal, $en:literal, $bn:literal, $cat:expr, [$($p:expr),*], $ret:expr, [$($r:expr),*], $er:expr, $enc:expr) => {
        Field { table: $table, column: $column, label_en: $en, label_bn: $bn, category: $cat,
                purposes: &[$($p),*], retention: $ret, shared_with: &[$($r),*], erasure: $er, encrypted: $enc }
    };
}

/// Every personal field the system stores.
pub const FIELDS: &[Field] = &[
    field!("customers"."name_enc", "Your name", "আপনার নাম", Identity, [Fulfilment], Retention::UntilErasure, [Courier, PaymentGateway], Erasure::Delete, true),
    field!("customers"."phone_enc", "Phone number", "ফোন নম্বর", Contact, [Fulfilment, Security], Retention::UntilErasure, [Courier, ServiceProvider, PaymentGateway], Erasure::Delete, true),
    field!("customers"."phone_index", "Keyed fingerprint of the phone number, to find your orders", "ফোন নম্বরের চাবিযুক্ত ছাপ, অর্ডার খুঁজে পেতে", Contact, [Fulfilment], Retention::UntilErasure, [], Erasure::Delete, false),
    field!("customers"."email_enc", "Email address (optional)", "ইমেইল (ঐচ্ছিক)", Contact, [Fulfilment], Retention::UntilErasure, [PaymentGateway, ServiceProvider], Erasure::Delete, true),
    field!("customers"."email_index", "Keyed fingerprint of the email address", "ইমেইলের চাবিযুক্ত ছাপ", Contact, [Fulfilment], Retention::UntilErasure, [], Erasure::Delete, false),
    field!("customers"."password_hash", "Account password (only a one-way hash)", "অ্যাকাউন্টের পাসওয়ার্ড (শুধু একমুখী হ্যাশ)", Identity, [Security], Retention::UntilErasure, [], Erasure::Delete, false),
    field!("customers"."phone_verified_at", "When you proved the phone number is yours (a one-time code)", "কখন আপনি ফোন নম্বরটি আপনার বলে প্রমাণ করেছেন (এককালীন কোড)", Contact, [Security], Retention::UntilErasure, [], Erasure::Delete, false),
    field!("customers"."email_verified_at", "When you proved the email address is yours (a code sent to it)", "কখন আপনি ইমেইলটি আপনার বলে প্রমাণ করেছেন (ইমেইলে পাঠানো কোড)", Contact, [Security], Retention::UntilErasure, [], Erasure::Delete, false),
    field!("customers"."created_at", "When you first ordered or registered", "প্রথম অর্ডার বা রেজিস্ট্রেশনের সময়", Identity, [Fulfilment], Retention::UntilErasure, [], Erasure::Keep, false),
    field!("orders"."address_enc", "Delivery address (address line, area/thana, district)", "ডেলিভারি ঠিকানা (ঠিকানা, এলাকা/থানা, জেলা)", Delivery, [Fulfilment], Retention::UntilErasure, [Courier, PaymentGateway], Erasure::Delete, true),
    field!("orders"."instructions_enc", "Delivery instructions", "ডেলিভারি নির্দেশনা", Delivery, [Fulfilment], Retention::UntilErasure, [Courier], Erasure::Delete, true),
    field!("orders"."customer_id", "Which orders are yours", "কোন অর্ডারগুলো আপনার", Delivery, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Pseudonymise, false),
    field!("orders"."created_at", "Order date", "অর্ডারের তারিখ", Delivery, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Keep, false),
    field!("orders"."status", "Order status", "অর্ডারের অবস্থা", Delivery, [Fulfilment], Retention::LegalYears(LEGAL_YEARS), [Courier], Erasure::Keep, false),
    field!("orders"."source", "How the order reached us (shop, phone, Facebook)", "অর্ডার কীভাবে এসেছে (শপ, ফোন, ফেসবুক)", Delivery, [Fulfilment], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Keep, false),
    field!("orders"."total", "Order total", "অর্ডারের মোট মূল্য", PaymentStatus, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [Courier, PaymentGateway], Erasure::Keep, false),
    field!("orders"."payment_method", "Payment method (cash on delivery or online)", "পেমেন্ট পদ্ধতি (ক্যাশ অন ডেলিভারি বা অনলাইন)", PaymentStatus, [Fulfilment], Retention::LegalYears(LEGAL_YEARS), [Courier, PaymentGateway], Erasure::Keep, false),
    field!("orders"."payment_status", "Whether the payment succeeded (never card or bank numbers)", "পেমেন্ট সফল হয়েছে কি না (কার্ড বা ব্যাংক নম্বর কখনো নয়)", PaymentStatus, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [PaymentGateway], Erasure::Keep, false),
    field!("order_items"."name", "What you ordered", "আপনি কী অর্ডার করেছেন", Delivery, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [Courier, ServiceProvider], Erasure::Keep, false),
    field!("order_items"."quantity", "Quantities", "পরিমাণ", Delivery, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [Courier], Erasure::Keep, false),
    field!("order_items"."unit_price", "Prices paid", "মূল্য", PaymentStatus, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Keep, false),
    field!("order_events"."at", "When your order changed status", "অর্ডারের অবস্থা কখন বদলেছে", Delivery, [Fulfilment], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Keep, false),
    field!("orders"."marketing_opt_in", "A marketing opt-in ticked at a checkout without signing in, waiting until a code sent to your phone confirms it", "সাইন ইন না করে চেকআউটে দেওয়া মার্কেটিং সম্মতি, আপনার ফোনে পাঠানো কোডে নিশ্চিত হওয়া পর্যন্ত অপেক্ষমাণ", Contact, [Legal], Retention::UntilErasure, [], Erasure::Delete, false),
    field!("orders"."lang", "The language you ordered in (your parcel's messages use it)", "যে ভাষায় অর্ডার করেছেন (পার্সেলের বার্তা সেই ভাষায় যায়)", Delivery, [Fulfilment], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Keep, false),
    field!("consignments"."tracking_code", "Your parcel's courier and tracking code", "আপনার পার্সেলের কুরিয়ার ও ট্র্যাকিং কোড", Delivery, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [Courier], Erasure::Keep, false),
    field!("consignments"."collected", "Cash the courier collected on delivery", "ডেলিভারিতে কুরিয়ার যে টাকা সংগ্রহ করেছে", PaymentStatus, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [Courier], Erasure::Keep, false),
    field!("consignments"."error", "A courier's message when it refused to book your parcel (it may repeat your address)", "কুরিয়ার পার্সেল বুক করতে অস্বীকার করলে তার বার্তা (এতে আপনার ঠিকানা থাকতে পারে)", Delivery, [Fulfilment], Retention::UntilErasure, [], Erasure::Delete, false),
    field!("payments"."status", "Each online payment: the gateway and how it ended (never card or wallet numbers)", "প্রতিটি অনলাইন পেমেন্ট: কোন গেটওয়ে এবং ফলাফল (কার্ড বা ওয়ালেট নম্বর কখনো নয়)", PaymentStatus, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [PaymentGateway], Erasure::Keep, false),
    field!("payments"."amount", "The amount each online payment was for", "প্রতিটি অনলাইন পেমেন্টের পরিমাণ", PaymentStatus, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [PaymentGateway], Erasure::Keep, false),
    field!("payments"."paid_amount", "The amount the gateway confirmed was paid", "গেটওয়ে যে পরিমাণ পরিশোধ নিশ্চিত করেছে", PaymentStatus, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [PaymentGateway], Erasure::Keep, false),
    field!("payments"."gateway_transaction_id", "The gateway's reference for a payment (bKash trxID, the bank's transaction id), for refunds", "পেমেন্টের জন্য গেটওয়ের রেফারেন্স (বিকাশ trxID, ব্যাংকের লেনদেন আইডি), টাকা ফেরতের জন্য", PaymentStatus, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [PaymentGateway], Erasure::Keep, false),
    field!("payments"."started_at", "When each online payment was started", "প্রতিটি অনলাইন পেমেন্ট কখন শুরু হয়েছে", PaymentStatus, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Keep, false),
    field!("refunds"."state", "How each refund of a claim stands (sent to the gateway, refunded, refused, to be paid by hand)", "দাবির প্রতিটি টাকা ফেরতের অবস্থা (গেটওয়েতে পাঠানো, ফেরত দেওয়া, প্রত্যাখ্যাত, হাতে ফেরত দেওয়া হবে)", PaymentStatus, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [PaymentGateway], Erasure::Keep, false),
    field!("refunds"."amount", "The amount each refund gives back", "প্রতিটি টাকা ফেরতের পরিমাণ", PaymentStatus, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [PaymentGateway], Erasure::Keep, false),
    field!("refunds"."wallet_trx_id", "The wallet's transaction id of a refund the shop paid back by hand (never the wallet's number)", "দোকান হাতে যে টাকা ফেরত দিয়েছে তার ওয়ালেট লেনদেন আইডি (ওয়ালেট নম্বর কখনো নয়)", PaymentStatus, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Keep, false),
    field!("refunds"."requested_at", "When each refund was asked for", "প্রতিটি টাকা ফেরত কখন চাওয়া হয়েছে", PaymentStatus, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Keep, false),
    field!("consents"."granted", "Your marketing and cookie choices", "মার্কেটিং ও কুকি নিয়ে আপনার পছন্দ", Contact, [Legal], Retention::UntilErasure, [], Erasure::Delete, false),
    field!("consents"."wording", "The exact wording you agreed to", "যে লেখায় আপনি সম্মতি দিয়েছেন", Contact, [Legal], Retention::UntilErasure, [], Erasure::Delete, false),
    field!("sessions"."ip_address", "IP address of your visits", "ভিজিটের আইপি অ্যাড্রেস", Technical, [Security], Retention::TechnicalPeriod, [], Erasure::Delete, false),
    field!("sessions"."user_agent", "Browser information", "ব্রাউজার তথ্য", Technical, [Security], Retention::TechnicalPeriod, [], Erasure::Delete, false),
    field!("sessions"."device_kind", "Device type (phone, tablet, computer)", "ডিভাইসের ধরন (ফোন, ট্যাবলেট, কম্পিউটার)", Technical, [Security], Retention::TechnicalPeriod, [], Erasure::Delete, false),
    field!("sessions"."token_hash", "The strictly necessary session cookie (stored only as a hash)", "অত্যাবশ্যক সেশন কুকি (শুধু হ্যাশ হিসেবে)", Technical, [Security], Retention::Days(30), [], Erasure::Delete, false),
    field!("sessions"."cart", "Your shopping cart", "আপনার শপিং কার্ট", Technical, [Fulfilment], Retention::Days(30), [], Erasure::Delete, false),
    field!("order_signals"."ip_index", "Keyed fingerprint of the IP address an order was placed from, to notice many orders from one place (fraud prevention)", "যে আইপি অ্যাড্রেস থেকে অর্ডার এসেছে তার চাবিযুক্ত ছাপ, এক জায়গা থেকে অনেক অর্ডার ধরতে (প্রতারণা প্রতিরোধ)", Technical, [Security], Retention::TechnicalPeriod, [], Erasure::Delete, false),
    field!("order_signals"."device_index", "Keyed fingerprint of the browser an order was placed from, to notice many orders from one device (fraud prevention)", "যে ব্রাউজার থেকে অর্ডার এসেছে তার চাবিযুক্ত ছাপ, এক ডিভাইস থেকে অনেক অর্ডার ধরতে (প্রতারণা প্রতিরোধ)", Technical, [Security], Retention::TechnicalPeriod, [], Erasure::Delete, false),
    field!("order_phone_checks"."outcome", "Whether you confirmed an order when our staff called you", "আমাদের কর্মী ফোন করলে আপনি অর্ডারটি নিশ্চিত করেছেন কি না", Delivery, [Security], Retention::TechnicalPeriod, [], Erasure::Delete, false),
    field!("order_phone_checks"."note", "Staff's short note of that call", "সেই কলের বিষয়ে কর্মীর ছোট নোট", Delivery, [Security], Retention::TechnicalPeriod, [], Erasure::Delete, false),
    field!("sign_in_attempts"."key_hash", "Keyed fingerprint of sign-in attempts, to slow down password guessing", "সাইন-ইন চেষ্টার চাবিযুক্ত ছাপ, পাসওয়ার্ড অনুমান ঠেকাতে", Technical, [Security], Retention::Days(1), [], Erasure::Delete, false),
    field!("sign_in_attempts"."address_hash", "Keyed fingerprint of the IP address an attempt came from, to slow down guessing from one place", "যে আইপি অ্যাড্রেস থেকে চেষ্টা এসেছে তার চাবিযুক্ত ছাপ, এক জায়গা থেকে অনুমান ঠেকাতে", Technical, [Security], Retention::Days(1), [], Erasure::Delete, false),
    field!("phone_verifications"."phone_index", "Keyed fingerprint of a phone number being verified for an account", "অ্যাকাউন্টের জন্য যাচাই হওয়া ফোন নম্বরের চাবিযুক্ত ছাপ", Contact, [Security], Retention::Days(1), [], Erasure::Delete, false),
    field!("phone_verifications"."code_hash", "Keyed hash of the one-time code sent by SMS", "এসএমএসে পাঠানো এককালীন কোডের চাবিযুক্ত হ্যাশ", Contact, [Security], Retention::Days(1), [], Erasure::Delete, false),
    field!("proofs"."blob_key", "Packing and delivery photos and videos (with sound), encrypted", "প্যাকিং ও ডেলিভারির ছবি ও ভিডিও (শব্দসহ), এনক্রিপ্ট করা", Proof, [Fulfilment, Legal], Retention::ProofPeriods, [Courier, ServiceProvider], Erasure::Delete, true),
    field!("proofs"."poster_key", "A still frame or thumbnail of each proof, encrypted", "প্রতিটি প্রুফের একটি স্থির ছবি বা থাম্বনেইল, এনক্রিপ্ট করা", Proof, [Fulfilment], Retention::ProofPeriods, [], Erasure::Delete, true),
    field!("proofs"."file_name_enc", "The proof file's name on the device", "ডিভাইসে প্রুফ ফাইলের নাম", Proof, [Fulfilment], Retention::ProofPeriods, [], Erasure::Delete, true),
    field!("proofs"."captured_at", "When the photo or video was taken (device clock)", "ছবি বা ভিডিও কখন তোলা হয়েছে (ডিভাইসের ঘড়ি)", Proof, [Fulfilment, Legal], Retention::ProofPeriods, [Courier, ServiceProvider], Erasure::Delete, false),
    field!("proofs"."received_at", "When the proof reached us (server clock)", "প্রুফ কখন আমাদের কাছে পৌঁছেছে (সার্ভারের ঘড়ি)", Proof, [Fulfilment, Legal], Retention::ProofPeriods, [Courier, ServiceProvider], Erasure::Delete, false),
    field!("uploads"."tail_enc", "The last part of a proof still being uploaded, encrypted", "আপলোড চলা প্রুফের শেষ অংশ, এনক্রিপ্ট করা", Proof, [Fulfilment], Retention::Days(1), [], Erasure::Delete, true),
    field!("uploads"."file_name_enc", "The name of a proof file still being uploaded", "আপলোড চলা প্রুফ ফাইলের নাম", Proof, [Fulfilment], Retention::Days(1), [], Erasure::Delete, true),
    field!("uploads"."captured_at", "When a proof still being uploaded was taken", "আপলোড চলা প্রুফ কখন তোলা হয়েছে", Proof, [Fulfilment], Retention::Days(1), [], Erasure::Delete, false),
    field!("policy_acceptances"."version", "Which privacy policy versions you accepted", "কোন গোপনীয়তা নীতির সংস্করণ আপনি গ্রহণ করেছেন", Contact, [Legal], Retention::UntilErasure, [], Erasure::Delete, false),
    field!("policy_acceptances"."at", "When you accepted them", "কখন গ্রহণ করেছেন", Contact, [Legal], Retention::UntilErasure, [], Erasure::Delete, false),
    field!("marketing_suppressions"."address_hash", "Keyed fingerprint of a phone number or email that opted out of marketing, so it is never messaged again", "মার্কেটিং বন্ধ করা ফোন নম্বর বা ইমেইলের চাবিযুক্ত ছাপ, যাতে আর কখনো বার্তা না যায়", Contact, [Legal], Retention::UntilErasure, [], Erasure::Keep, false),
    field!("cookie_choices"."id", "The id of your cookie choice, kept in a strictly necessary cookie", "আপনার কুকি-পছন্দের আইডি, একটি অত্যাবশ্যক কুকিতে রাখা", Technical, [Legal], Retention::TechnicalPeriod, [], Erasure::Delete, false),
    field!("cookie_choices"."functional", "Whether you allowed functional cookies", "ফাংশনাল কুকির অনুমতি দিয়েছেন কি না", Technical, [Legal], Retention::TechnicalPeriod, [], Erasure::Delete, false),
    field!("cookie_choices"."analytics", "Whether you allowed analytics cookies", "অ্যানালিটিক্স কুকির অনুমতি দিয়েছেন কি না", Technical, [Legal], Retention::TechnicalPeriod, [], Erasure::Delete, false),
    field!("cookie_choices"."at", "When you made the choice", "কখন পছন্দ করেছেন", Technical, [Legal], Retention::TechnicalPeriod, [], Erasure::Delete, false),
    field!("disclosures"."fields", "Which of your details were shared, with whom and why (the disclosure log)", "আপনার কোন তথ্য কার সাথে কেন শেয়ার হয়েছে (প্রকাশের লগ)", Delivery, [Fulfilment, Legal], Retention::UntilErasure, [], Erasure::Delete, false),
    field!("disclosures"."at", "When they were shared", "কখন শেয়ার হয়েছে", Delivery, [Fulfilment, Legal], Retention::UntilErasure, [], Erasure::Delete, false),
    field!("privacy_requests"."kind", "Your privacy requests (access, deletion, opt-out)", "আপনার গোপনীয়তা অনুরোধ (তথ্যের কপি, মুছে ফেলা, মার্কেটিং বন্ধ)", Contact, [Legal], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Keep, false),
    field!("privacy_requests"."received_at", "When each request was received and completed", "প্রতিটি অনুরোধ কখন পাওয়া ও সম্পন্ন হয়েছে", Contact, [Legal], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Keep, false),
    field!("request_codes"."address_index", "Keyed fingerprint of the number or email a request code was sent to", "যে নম্বর বা ইমেইলে অনুরোধের কোড পাঠানো হয়েছে তার চাবিযুক্ত ছাপ", Contact, [Security], Retention::Days(1), [], Erasure::Delete, false),
    field!("request_codes"."code_hash", "Keyed hash of a request's one-time code", "অনুরোধের এককালীন কোডের চাবিযুক্ত হ্যাশ", Contact, [Security], Retention::Days(1), [], Erasure::Delete, false),
    field!("jobs"."sealed", "Your phone number or email, sealed, for a message queued to you (such as the one that tells you your data was erased) and for clearing a development server of your messages after an erasure; deleted once done", "আপনার ফোন নম্বর বা ইমেইল, সিল করা, আপনাকে পাঠানোর জন্য রাখা বার্তার জন্য (যেমন তথ্য মুছে ফেলার খবর) এবং মুছে ফেলার পর ডেভেলপমেন্ট সার্ভার থেকে আপনার বার্তা সরানোর জন্য; কাজ শেষে মুছে ফেলা হয়", Contact, [Legal], Retention::Days(1), [ServiceProvider], Erasure::Delete, true),
    field!("claims"."customer_id", "Which claims are yours", "কোন দাবিগুলো আপনার", Delivery, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Pseudonymise, false),
    field!("claims"."kind", "What went wrong (damaged, wrong item, missing item, not received)", "কী সমস্যা হয়েছে (ক্ষতিগ্রস্ত, ভুল পণ্য, পণ্য কম, পাইনি)", Delivery, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [Courier, ServiceProvider], Erasure::Keep, false),
    field!("claims"."description_enc", "Your description of the problem, encrypted", "সমস্যার বিবরণ, আপনার লেখা, এনক্রিপ্ট করা", Delivery, [Fulfilment], Retention::UntilErasure, [Courier], Erasure::Delete, true),
    field!("claims"."reference", "A marketplace's or courier's own reference for the claim", "দাবির জন্য মার্কেটপ্লেস বা কুরিয়ারের নিজস্ব রেফারেন্স", Delivery, [Fulfilment], Retention::UntilErasure, [Courier], Erasure::Delete, false),
    field!("claims"."filed_at", "When the claim was filed", "দাবি কখন করা হয়েছে", Delivery, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Keep, false),
    field!("claims"."decision", "How the claim was settled (refund, replacement, return pickup or rejection)", "দাবির নিষ্পত্তি (টাকা ফেরত, বদলে দেওয়া, ফেরত নেওয়া বা প্রত্যাখ্যান)", Delivery, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Keep, false),
    field!("claims"."refund_amount", "The amount refunded", "ফেরত দেওয়া টাকার পরিমাণ", PaymentStatus, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [PaymentGateway], Erasure::Keep, false),
    field!("claims"."reason", "The reason we gave you for the decision", "সিদ্ধান্তের যে কারণ আপনাকে জানানো হয়েছে", Delivery, [Fulfilment], Retention::UntilErasure, [], Erasure::Delete, false),
    field!("claims"."decided_at", "When the claim was decided", "দাবির সিদ্ধান্ত কখন হয়েছে", Delivery, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Keep, false),
    field!("claim_items"."quantity", "Which items a claim is about, and how many", "দাবি কোন পণ্য নিয়ে, কয়টি", Delivery, [Fulfilment, Legal], Retention::LegalYears(LEGAL_YEARS), [], Erasure::Keep, false),
    field!("staff"."username", "Staff member's user name (staff only)", "কর্মীর ইউজারনেম (শুধু কর্মী)", Identity, [Security, Legal], Retention::UntilErasure, [], Erasure::Pseudonymise, false),
];

mod files;
mod not_personal;
mod retention;
pub mod sealed;
mod tables;

pub use files::{file_store, FileStore, FILE_STORES};
pub use not_personal::NOT_PERSONAL;
pub use retention::{Periods, ProofDays, Retention};
pub use sealed::{SealContext, Sealed};
pub use tables::{erasure_steps, table, ErasureStep, Owner, Rows, Table, TABLES};

/// What the privacy page states of a field or a file store: what it is,
/// why it is kept, for how long, shared with whom, and what erasure does.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Entry {
    pub label_en: &'static str,
    pub label_bn: &'static str,
    pub category: Category,
    pub purposes: &'static [Purpose],
    pub retention: Retention,
    pub shared_with: &'static [Recipient],
    pub erasure: Erasure,
    pub encrypted: bool,
}

impl Field {
    pub fn entry(&self) -> Entry {
        Entry {
            label_en: self.label_en,
            label_bn: self.label_bn,
            category: self.category,
            purposes: self.purposes,
            retention: self.retention,
            shared_with: self.shared_with,
            erasure: self.erasure,
            encrypted: self.encrypted,
        }
    }
}

/// Every personal field and then every file store, as the privacy page lists them.
pub fn entries() -> impl Iterator<Item = Entry> {
    let fields = FIELDS.iter().map(Field::entry);
    fields.chain(FILE_STORES.iter().map(|f| f.entry))
}

pub fn field(table: &str, column: &str) -> Option<&'static Field> {
    FIELDS
        .iter()
        .find(|f| f.table == table && f.column == column)
}

/// How many days rows of `table` are kept, as the catalog states it: the
/// longest fixed period of its fields. The sweeps delete by this, so what
/// the privacy page says is what happens. `None`: the table has no fixed
/// period (kept until erasure, or only its technical fields are purged).
pub fn kept_days(table: &str) -> Option<u32> {
    FIELDS
        .iter()
        .filter(|f| f.table == table)
        .filter_map(|f| match f.retention {
            Retention::Days(d) => Some(d),
            _ => None,
        })
        .max()
}

/// [`kept_days`] in milliseconds, for a table that must have one.
pub fn kept_ms(table: &str) -> i64 {
    let days = kept_days(table).unwrap_or_else(|| panic!("the catalog gives {table} no period"));
    i64::from(days) * 86_400_000
}

pub fn is_classified(table: &str, column: &str) -> bool {
    field(table, column).is_some()
        || NOT_PERSONAL
            .iter()
            .any(|n| n.table == table && n.column == column)
}

#[cfg(test)]
mod tests {

    #[test]
    fn swept_tables_have_the_periods_the_privacy_page_states() {
        assert_eq!(kept_days("sessions"), Some(30));
        assert_eq!(kept_days("sign_in_attempts"), Some(1));
        assert_eq!(kept_days("phone_verifications"), Some(1));
        assert_eq!(kept_days("request_codes"), Some(1));
        assert_eq!(kept_days("jobs"), Some(1));
        assert_eq!(kept_days("customers"), None);
        assert_eq!(kept_ms("jobs"), 86_400_000);
    }

    use super::*;

    const POLICY: &str = crate::policy::V1;

    #[test]
    fn every_category_and_purpose_is_named_by_the_policy() {
        for c in Category::ALL {
            let (en, bn) = c.policy_terms();
            assert!(POLICY.contains(en), "{c:?}: policy does not say {en:?}");
            assert!(POLICY.contains(bn), "{c:?}: policy does not say {bn:?}");
        }
        for p in Purpose::ALL {
            let (en, bn) = p.policy_terms();
            assert!(POLICY.contains(en) && POLICY.contains(bn), "{p:?}");
        }
    }

    /// The embedded policy is the published one (`../shared/policy`), where
    /// that copy is present beside the checkout.
    #[test]
    fn embedded_policy_is_the_published_one() {
        let published = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/policy/privacy-policy.txt"
        );
        match std::fs::read_to_string(published) {
            Ok(text) => assert_eq!(
                text, POLICY,
                "policy/privacy-policy.txt differs from {published}"
            ),
            Err(_) => eprintln!("note: {published} is absent; compared nothing"),
        }
    }

    #[test]
    fn no_column_is_listed_twice() {
        let mut seen = std::collections::HashSet::new();
        for (t, c) in FIELDS
            .iter()
            .map(|f| (f.table, f.column))
            .chain(NOT_PERSONAL.iter().map(|n| (n.table, n.column)))
        {
            assert!(seen.insert((t, c)), "{t}.{c} listed twice");
        }
    }

    #[test]
    fn encrypted_fields_are_deleted_on_erasure() {
        for f in FIELDS.iter().filter(|f| f.encrypted) {
            assert_eq!(f.erasure, Erasure::Delete, "{}.{}", f.table, f.column);
        }
    }
}
