use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A Bangladeshi mobile number, always held in E.164 form (`+8801XXXXXXXXX`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Accepts `01XXXXXXXXX`, `+8801XXXXXXXXX`, `8801XXXXXXXXX` and `008801…`,
    /// with spaces, dashes, dots or brackets, in Latin or Bangla digits.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let mut digits = String::with_capacity(16);
        for (i, c) in input.trim().chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '০'..='৯' => digits.push(char::from(b'0' + (c as u32 - '০' as u32) as u8)),
                '+' if i == 0 => {}
                ' ' | '-' | '.' | '(' | ')' | '\u{a0}' => {}
                _ => return Err(invalid()),
            }
        }
        let national = digits
            .strip_prefix("00880")
            .or_else(|| digits.strip_prefix("880"))
            .map(|rest| format!("0{rest}"))
            .unwrap_or(digits);
        let bytes = national.as_bytes();
        let valid = bytes.len() == 11
            && bytes[0] == b'0'
            && bytes[1] == b'1'
            && (b'3'..=b'9').contains(&bytes[2]);
        if !valid {
            return Err(invalid());
        }
        Ok(Phone(format!("+88{national}")))
    }

    pub fn as_e164(&self) -> &str {
        &self.0
    }

    /// The number as people in Bangladesh write it: `01XXXXXXXXX`.
    pub fn national(&self) -> &str {
        &self.0[3..]
    }

    /// What a packer or a log may see: the operator prefix and last two digits.
    pub fn masked(&self) -> String {
        let n = self.national();
        format!("{}******{}", &n[..3], &n[9..])
    }
}

fn invalid() -> FieldError {
    FieldError::new(
        "phone",
        "must be a Bangladeshi mobile number such as 01712345678 or +8801712345678",
    )
}

impl TryFrom<String> for Phone {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Phone::parse(&value)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

impl fmt::Debug for Phone {
    // Debug output ends up in logs; never show the whole number there.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_ways_people_write_numbers() {
        for input in [
            "01712345678",
            "+8801712345678",
            "8801712345678",
            "008801712345678",
            "017-1234-5678",
            "+880 1712 345678",
            "(017) 1234 5678",
            "০১৭১২৩৪৫৬৭৮",
            "+৮৮০১৭১২৩৪৫৬৭৮",
        ] {
            let phone = Phone::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(phone.as_e164(), "+8801712345678", "{input}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_bangladeshi_mobile() {
        for input in [
            "",
            "0171234567",
            "017123456789",
            "01212345678",
            "+441712345678",
            "02-9876543",
            "01712a45678",
            "+8801712345678+",
            "8801712345678 ext 2",
        ] {
            let err = Phone::parse(input).expect_err(input);
            assert_eq!(err.field, "phone");
        }
    }

    #[test]
    fn masked_form_hides_the_middle() {
        let p = Phone::parse("01712345678").unwrap();
        assert_eq!(p.masked(), "017******78");
        assert_eq!(format!("{p:?}"), "Phone(017******78)");
        assert_eq!(p.national(), "01712345678");
    }
}
