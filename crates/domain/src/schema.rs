//! JSON Schemas of what the parsers here accept, for the API's OpenAPI
//! document (`#[schema(schema_with = …)]`): a client that follows the
//! schema is not refused for a field's shape, and one that breaks it is.
//! Each pattern says exactly what its parser does (surrounding white space
//! is trimmed, control characters refused, lengths counted after the trim),
//! and the tests hold them to each other.
use utoipa::openapi::schema::{
    AnyOfBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};

/// Unicode `White_Space`, what `str::trim` removes, spelled out: `\s`
/// means other things in other regex engines.
const WS: &str = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Neither white space nor a control character: how trimmed text begins and ends.
const EDGE: &str = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// Any character but a control one; a line break may be inside text.
const INNER: &str = r"[^\x00-\x09\x0b-\x1f\x7f-\x9f]";

/// What `error::required_text` (`blank = false`) or `optional_text`
/// (`blank = true`) accepts with `max_chars`.
pub fn text_pattern(max_chars: usize, blank: bool) -> String {
    let text = match max_chars {
        0 => String::new(),
        1 => EDGE.to_owned(),
        n => format!("{EDGE}(?:{INNER}{{0,{}}}{EDGE})?", n - 2),
    };
    let text = if blank { format!("(?:{text})?") } else { text };
    format!("^[{WS}]*{text}[{WS}]*$")
}

fn string(pattern: String, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description))
}

fn nullable(o: ObjectBuilder) -> Object {
    o.schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .build()
}

/// Required text of at most `MAX` characters, trimmed, without control characters.
pub fn text<const MAX: usize>() -> Object {
    string(
        text_pattern(MAX, false),
        &format!("At most {MAX} characters once trimmed; not blank; no control characters but line breaks."),
    )
    .build()
}

/// Optional text: empty, blank, or at most `MAX` characters once trimmed.
pub fn blank_or_text<const MAX: usize>() -> Object {
    string(
        text_pattern(MAX, true),
        &format!("At most {MAX} characters once trimmed; no control characters but line breaks; blank is none."),
    )
    .build()
}

/// `blank_or_text`, or null.
pub fn nullable_text<const MAX: usize>() -> Object {
    nullable(string(
        text_pattern(MAX, true),
        &format!("At most {MAX} characters once trimmed; no control characters but line breaks; blank or null is none."),
    ))
}

/// What `Phone::parse` accepts: a Bangladeshi mobile number in Latin or
/// Bangla digits, with or without +880/880/00880, with spaces, dashes,
/// dots or brackets.
pub fn phone_pattern(blank: bool) -> String {
    let sep = r"[ .()\xa0-]*";
    let digit = |d: char| {
        let bangla =
            char::from_u32('০' as u32 + d.to_digit(10).expect("a digit")).expect("Bangla digit");
        format!("[{d}{bangla}]{sep}")
    };
    let (zero, one, eight) = (digit('0'), digit('1'), digit('8'));
    let number = format!(
        r"\+?{sep}(?:(?:{zero}{zero})?{eight}{eight})?{zero}{one}[3-9৩-৯](?:{sep}[0-9০-৯]){{8}}{sep}"
    );
    let number = if blank {
        format!("(?:{number})?")
    } else {
        number
    };
    format!("^[{WS}]*{number}[{WS}]*$")
}

pub fn phone() -> Object {
    string(
        phone_pattern(false),
        "A Bangladeshi mobile number such as 01712345678 or +8801712345678, in Latin or Bangla digits; spaces, dashes, dots and brackets are ignored.",
    )
    .build()
}

/// A phone number to filter by; blank is none.
pub fn blank_or_phone() -> Object {
    string(
        phone_pattern(true),
        "A Bangladeshi mobile number such as 01712345678; blank is none.",
    )
    .build()
}

/// What `Email::parse` accepts, in ASCII (the server also takes
/// international domains).
pub fn email_pattern() -> String {
    let label = "[A-Za-z0-9-]";
    let domain = format!(r"{label}[A-Za-z0-9.-]*\.[A-Za-z0-9.-]*{label}");
    format!("^[{WS}]*(?:[!-~]{{1,64}}@{domain})?[{WS}]*$")
}

/// An email address, blank, or null (none).
pub fn nullable_email() -> Object {
    nullable(
        string(
            email_pattern(),
            "An email address such as name@example.com; blank or null is none.",
        )
        .max_length(Some(254)),
    )
}

/// What `OrderNumber::parse` accepts.
pub const ORDER_NUMBER: &str = "^[Cc][Mm]-0{0,11}[1-9][0-9]{0,11}$";

pub fn order_number() -> Object {
    string(
        ORDER_NUMBER.into(),
        "An order number such as CM-000123 (any case).",
    )
    .max_length(Some(15))
    .build()
}

/// What `OrderNumber::from_scan` accepts: the last `CM` followed by digits
/// (maybe after dashes, spaces or underscores) is an order number.
/// Lookaheads say "the last": fine for JSON Schema's ECMA-262 patterns.
pub const SCANNED: &str =
    r"^[\s\S]*[Cc][Mm][-_ ]*(?=[0-9]{1,12}(?![0-9]))0*[1-9](?![\s\S]*[Cc][Mm][-_ ]*[0-9])";

pub fn scanned() -> Object {
    string(
        SCANNED.into(),
        "What a scanner read: anything around an order number, whose last `CM` followed by digits counts.",
    )
    .build()
}

/// What `PolicyDraft::parse` accepts: any text that is not blank, of at
/// most `policy::MAX_CHARS` characters as sent (padding counts, as maxLength says).
pub fn policy_text() -> Object {
    string(format!("[^{WS}]"), "The text; not blank.")
        .max_length(Some(crate::policy::MAX_CHARS))
        .build()
}

/// A day, `YYYY-MM-DD`, or empty for none.
pub fn empty_or_date() -> Schema {
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([""])),
        )
        .description(Some(
            "A day such as 2026-11-25 (Dhaka time); empty is none.",
        ))
        .build()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{optional_text, required_text};
    use crate::{Email, OrderNumber, Phone};
    use regex::Regex;

    fn agree(pattern: &str, parses: impl Fn(&str) -> bool, samples: &[&str]) {
        let re = Regex::new(pattern).expect("the pattern compiles");
        for s in samples {
            assert_eq!(re.is_match(s), parses(s), "{s:?} against {pattern}");
        }
    }

    const TEXTS: &[&str] = &[
        "",
        " ",
        "a",
        " a ",
        "ab",
        "abc",
        "abcd",
        "a\nb",
        "a\tb",
        "\ta\t",
        "a\u{85}",
        "\u{a0}a\u{3000}",
        "a b c",
        "আমি",
        "abcde",
        "\u{7f}",
        "a\u{1c}",
        "\u{1c}a",
    ];

    #[test]
    fn text_patterns_are_the_parsers() {
        agree(
            &text_pattern(4, false),
            |s| required_text("f", s, 4).is_ok(),
            TEXTS,
        );
        agree(
            &text_pattern(4, true),
            |s| optional_text("f", s, 4).is_ok(),
            TEXTS,
        );
        agree(
            &text_pattern(1, false),
            |s| required_text("f", s, 1).is_ok(),
            TEXTS,
        );
    }

    #[test]
    fn the_phone_pattern_is_the_parser() {
        let samples = [
            "01712345678",
            "+8801712345678",
            "8801712345678",
            "008801712345678",
            "০১৭১২৩৪৫৬৭৮",
            "+৮৮০১৭১২৩৪৫৬৭৮",
            " 017-1234-5678 ",
            "(017) 1234.5678",
            "01212345678",
            "0171234567",
            "017123456789",
            "+ 01712345678",
            " +01712345678",
            "0+1712345678",
            "88001712345678",
            "0088 01712345678",
            "01712345678\u{a0}",
            "017 12345678x",
            "",
            "\t01712345678\n",
        ];
        agree(&phone_pattern(false), |s| Phone::parse(s).is_ok(), &samples);
        agree(
            &phone_pattern(true),
            |s| s.trim().is_empty() || Phone::parse(s).is_ok(),
            &samples,
        );
    }

    #[test]
    fn the_email_pattern_is_the_parser_in_ascii() {
        let samples = [
            "a@b.c", " a@b.c ", "a@b", "a@.b.c", "a@b.c.", "a b@c.d", "@b.c", "a@@b.c", "a@b..c",
            "x@a-b.c", "a@b_c.d", "",
        ];
        agree(
            &email_pattern(),
            |s| s.trim().is_empty() || Email::parse(s.trim()).is_ok(),
            &samples,
        );
    }

    #[test]
    fn the_order_number_pattern_is_the_parser() {
        let samples = [
            "CM-000123",
            "cm-1",
            "CM-0",
            "CM-",
            "CM-123456789012",
            "CM-0000000000001",
            "CX-1",
            "CM-12a",
            "CM-000000000001",
            " CM-1",
        ];
        let re = Regex::new(ORDER_NUMBER).expect("compiles");
        for s in samples {
            let schema = re.is_match(s) && s.chars().count() <= 15;
            assert_eq!(schema, OrderNumber::parse(s).is_ok(), "{s:?}");
        }
    }
}
