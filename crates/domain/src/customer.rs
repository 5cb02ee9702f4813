use crate::error::{optional_text, required_text, FieldError};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(transparent)]
pub struct CustomerId(pub i64);

/// A person's name as they gave it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerName(String);

impl CustomerName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        required_text("name", input, Self::MAX_CHARS).map(CustomerName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CustomerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CustomerName(…)")
    }
}

/// An email address, checked for shape only (delivery is what proves it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let value = required_text("email", input, 254)?;
        let bad = || FieldError::new("email", "must be an email address such as name@example.com");
        let (local, domain) = value.rsplit_once('@').ok_or_else(bad)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || !domain_ok || value.contains(char::is_whitespace)
        {
            return Err(bad());
        }
        Ok(Email(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lookup form: the whole address in lower case.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(…)")
    }
}

/// A delivery address in the shape Bangladeshi couriers use.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// House, road, village or para.
    pub line: String,
    /// Area or thana (upazila).
    pub area: String,
    /// One of the 64 districts, in its canonical English spelling.
    pub district: String,
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Address(…)")
    }
}

impl Address {
    pub const MAX_LINE: usize = 200;
    pub const MAX_AREA: usize = 80;

    pub fn parse(line: &str, area: &str, district: &str) -> Result<Self, FieldError> {
        let line = required_text("line", line, Self::MAX_LINE).map_err(|e| e.within("address"))?;
        let area = required_text("area", area, Self::MAX_AREA).map_err(|e| e.within("address"))?;
        let district = canonical_district(district).ok_or_else(|| {
            FieldError::new(
                "address.district",
                "must be one of Bangladesh's 64 districts",
            )
        })?;
        Ok(Address {
            line,
            area,
            district: district.to_owned(),
        })
    }
}

/// The longest delivery instructions, in characters.
pub const MAX_INSTRUCTIONS: usize = 500;

/// Parses optional free text such as delivery instructions.
pub fn instructions(input: Option<&str>) -> Result<Option<String>, FieldError> {
    input.map_or(Ok(None), |s| {
        optional_text("delivery_instructions", s, MAX_INSTRUCTIONS)
    })
}

/// The 64 districts: canonical English name, Bangla name, older spellings.
pub const DISTRICTS: &[(&str, &str, &[&str])] = &[
    ("Bagerhat", "বাগেরহাট", &[]),
    ("Bandarban", "বান্দরবান", &[]),
    ("Barguna", "বরগুনা", &[]),
    ("Barishal", "বরিশাল", &["Barisal"]),
    ("Bhola", "ভোলা", &[]),
    ("Bogura", "বগুড়া", &["Bogra"]),
    ("Brahmanbaria", "ব্রাহ্মণবাড়িয়া", &[]),
    ("Chandpur", "চাঁদপুর", &[]),
    (
        "Chapai Nawabganj",
        "চাঁপাইনবাবগঞ্জ",
        &["Chapainawabganj", "Nawabganj"],
    ),
    ("Chattogram", "চট্টগ্রাম", &["Chittagong"]),
    ("Chuadanga", "চুয়াডাঙ্গা", &[]),
    ("Cox's Bazar", "কক্সবাজার", &["Coxs Bazar", "Cox's Bazaar"]),
    ("Cumilla", "কুমিল্লা", &["Comilla"]),
    ("Dhaka", "ঢাকা", &[]),
    ("Dinajpur", "দিনাজপুর", &[]),
    ("Faridpur", "ফরিদপুর", &[]),
    ("Feni", "ফেনী", &[]),
    ("Gaibandha", "গাইবান্ধা", &[]),
    ("Gazipur", "গাজীপুর", &[]),
    ("Gopalganj", "গোপালগঞ্জ", &[]),
    ("Habiganj", "হবিগঞ্জ", &[]),
    ("Jamalpur", "জামালপুর", &[]),
    ("Jashore", "যশোর", &["Jessore"]),
    ("Jhalokati", "ঝালকাঠি", &["Jhalokathi"]),
    ("Jhenaidah", "ঝিনাইদহ", &[]),
    ("Joypurhat", "জয়পুরহাট", &[]),
    ("Khagrachhari", "খাগড়াছড়ি", &["Khagrachari"]),
    ("Khulna", "খুলনা", &[]),
    ("Kishoreganj", "কিশোরগঞ্জ", &[]),
    ("Kurigram", "কুড়িগ্রাম", &[]),
    ("Kushtia", "কুষ্টিয়া", &[]),
    ("Lakshmipur", "লক্ষ্মীপুর", &["Laxmipur"]),
    ("Lalmonirhat", "লালমনিরহাট", &[]),
    ("Madaripur", "মাদারীপুর", &[]),
    ("Magura", "মাগুরা", &[]),
    ("Manikganj", "মানিকগঞ্জ", &[]),
    ("Meherpur", "মেহেরপুর", &[]),
    ("Moulvibazar", "মৌলভীবাজার", &["Maulvibazar"]),
    ("Munshiganj", "মুন্সীগঞ্জ", &[]),
    ("Mymensingh", "ময়মনসিংহ", &[]),
    ("Naogaon", "নওগাঁ", &[]),
    ("Narail", "নড়াইল", &[]),
    ("Narayanganj", "নারায়ণগঞ্জ", &[]),
    ("Narsingdi", "নরসিংদী", &[]),
    ("Natore", "নাটোর", &[]),
    ("Netrokona", "নেত্রকোণা", &["Netrakona"]),
    ("Nilphamari", "নীলফামারী", &[]),
    ("Noakhali", "নোয়াখালী", &[]),
    ("Pabna", "পাবনা", &[]),
    ("Panchagarh", "পঞ্চগড়", &[]),
    ("Patuakhali", "পটুয়াখালী", &[]),
    ("Pirojpur", "পিরোজপুর", &[]),
    ("Rajbari", "রাজবাড়ী", &[]),
    ("Rajshahi", "রাজশাহী", &[]),
    ("Rangamati", "রাঙ্গামাটি", &[]),
    ("Rangpur", "রংপুর", &[]),
    ("Satkhira", "সাতক্ষীরা", &[]),
    ("Shariatpur", "শরীয়তপুর", &[]),
    ("Sherpur", "শেরপুর", &[]),
    ("Sirajganj", "সিরাজগঞ্জ", &[]),
    ("Sunamganj", "সুনামগঞ্জ", &[]),
    ("Sylhet", "সিলেট", &[]),
    ("Tangail", "টাঙ্গাইল", &[]),
    ("Thakurgaon", "ঠাকুরগাঁও", &[]),
];

/// The canonical English name of a district written in English (any case,
/// older spellings too) or Bangla.
pub fn canonical_district(input: &str) -> Option<&'static str> {
    let wanted = input.trim();
    DISTRICTS
        .iter()
        .find(|(en, bn, old)| {
            en.eq_ignore_ascii_case(wanted)
                || *bn == wanted
                || old.iter().any(|o| o.eq_ignore_ascii_case(wanted))
        })
        .map(|(en, _, _)| *en)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_sixty_four_districts() {
        assert_eq!(DISTRICTS.len(), 64);
    }

    #[test]
    fn districts_in_any_spelling() {
        assert_eq!(canonical_district("chittagong"), Some("Chattogram"));
        assert_eq!(canonical_district(" ঢাকা "), Some("Dhaka"));
        assert_eq!(canonical_district("Atlantis"), None);
    }

    #[test]
    fn address_errors_name_the_field() {
        let err = Address::parse(" ", "Mirpur", "Dhaka").unwrap_err();
        assert_eq!(err.field, "address.line");
        let err = Address::parse("Road 1", "Mirpur", "Nowhere").unwrap_err();
        assert_eq!(err.field, "address.district");
        let long = "x".repeat(201);
        assert_eq!(
            Address::parse(&long, "a", "Dhaka").unwrap_err().field,
            "address.line"
        );
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Rahim@Example.COM ").unwrap().as_str(),
            "Rahim@example.com"
        );
        for bad in [
            "",
            "rahim",
            "rahim@",
            "@x.com",
            "a b@x.com",
            "a@x",
            "a@.com",
        ] {
            assert_eq!(Email::parse(bad).unwrap_err().field, "email", "{bad}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(CustomerName::parse("  করিম  ").unwrap().as_str(), "করিম");
        assert!(CustomerName::parse("").is_err());
        assert!(CustomerName::parse(&"ক".repeat(101)).is_err());
    }
}
