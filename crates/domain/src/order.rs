use crate::error::{optional_text, required_text, FieldError};
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(transparent)]
pub struct OrderId(pub i64);

/// Money in poisha (1 taka = 100 poisha), never floating point.
pub type Poisha = i64;

/// The number printed on slips and said on the phone: `CM-000123`. It is the
/// order's id in a fixed human form, so a scan resolves without a search.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderNumber(OrderId);

impl OrderNumber {
    pub const PREFIX: &'static str = "CM-";

    pub fn from_id(id: OrderId) -> Self {
        OrderNumber(id)
    }

    pub fn id(self) -> OrderId {
        self.0
    }

    /// Strict form, as typed into a URL: `CM-000123` (any case).
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let bad = || FieldError::new("number", "must be an order number such as CM-000123");
        let rest = input
            .get(..3)
            .filter(|p| p.eq_ignore_ascii_case(Self::PREFIX))
            .map(|_| &input[3..])
            .ok_or_else(bad)?;
        if rest.is_empty() || rest.len() > 12 || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let id: i64 = rest.parse().map_err(|_| bad())?;
        if id <= 0 {
            return Err(bad());
        }
        Ok(OrderNumber(OrderId(id)))
    }

    /// What a barcode scanner or camera handed us: it may carry whitespace,
    /// control characters, an AIM symbology prefix (`]C0`), a URL, or lose the
    /// dash. The last `CM` followed by digits wins.
    pub fn from_scan(scanned: &str) -> Result<Self, FieldError> {
        let upper: Vec<char> = scanned.chars().map(|c| c.to_ascii_uppercase()).collect();
        let mut found = None;
        let mut i = 0;
        while i + 1 < upper.len() {
            if upper[i] == 'C' && upper[i + 1] == 'M' {
                let mut j = i + 2;
                while j < upper.len() && matches!(upper[j], '-' | ' ' | '_') {
                    j += 1;
                }
                let start = j;
                while j < upper.len() && upper[j].is_ascii_digit() {
                    j += 1;
                }
                if j > start {
                    let digits: String = upper[start..j].iter().collect();
                    found = Some(digits);
                }
                i = j.max(i + 1);
            } else {
                i += 1;
            }
        }
        let digits = found.ok_or_else(|| {
            FieldError::new(
                "scanned",
                "does not contain an order number such as CM-000123",
            )
        })?;
        OrderNumber::parse(&format!("CM-{digits}"))
            .map_err(|e| FieldError::new("scanned", e.message))
    }
}

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:06}", Self::PREFIX, self.0 .0)
    }
}

impl fmt::Debug for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for OrderNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(input: &str) -> Option<Self> {
                match input { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// Where an order sits in its life.
    OrderStatus {
        Placed = "placed",
        Confirmed = "confirmed",
        Packed = "packed",
        HandedToCourier = "handed_to_courier",
        Delivered = "delivered",
        Returned = "returned",
        Cancelled = "cancelled",
    }
}

impl OrderStatus {
    /// The statuses an order may move to from this one.
    pub fn next(self) -> &'static [OrderStatus] {
        use OrderStatus::*;
        match self {
            Placed => &[Confirmed, Cancelled],
            Confirmed => &[Packed, Cancelled],
            Packed => &[HandedToCourier, Confirmed, Cancelled],
            HandedToCourier => &[Delivered, Returned],
            Delivered => &[Returned],
            Returned | Cancelled => &[],
        }
    }

    pub fn can_become(self, to: OrderStatus) -> bool {
        self.next().contains(&to)
    }

    /// Checks a requested change; the message says what is allowed instead.
    pub fn transition(self, to: OrderStatus) -> Result<OrderStatus, String> {
        if self.can_become(to) {
            return Ok(to);
        }
        let allowed: Vec<&str> = self.next().iter().map(|s| s.as_str()).collect();
        Err(if allowed.is_empty() {
            format!("an order that is {self} cannot change status any more")
        } else {
            format!(
                "an order that is {self} cannot become {to}; it can become: {}",
                allowed.join(", ")
            )
        })
    }
}

string_enum! {
    PaymentMethod { Cod = "cod", Online = "online" }
}

string_enum! {
    /// What the payment gateway told us, and nothing more: never card or bank numbers.
    PaymentStatus { Pending = "pending", Paid = "paid", Failed = "failed", Refunded = "refunded" }
}

string_enum! {
    /// How an order reached the shop.
    OrderSource { Shop = "shop", Phone = "phone", Facebook = "facebook" }
}

/// One line of an order, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemLine {
    pub name: String,
    pub sku: Option<String>,
    pub quantity: i64,
    pub unit_price: Poisha,
}

impl ItemLine {
    pub const MAX_QUANTITY: i64 = 10_000;
    pub const MAX_UNIT_PRICE: Poisha = 100_000_000; // 10 lakh taka
    pub const MAX_NAME: usize = 200;
    pub const MAX_SKU: usize = 64;

    /// `index` places the error in the request: `items[2].quantity`.
    pub fn parse(
        index: usize,
        name: &str,
        sku: Option<&str>,
        quantity: i64,
        unit_price: Poisha,
    ) -> Result<Self, FieldError> {
        let at = |e: FieldError| e.within(&format!("items[{index}]"));
        let name = required_text("name", name, Self::MAX_NAME).map_err(at)?;
        let sku = sku
            .map_or(Ok(None), |s| optional_text("sku", s, Self::MAX_SKU))
            .map_err(at)?;
        if !(1..=Self::MAX_QUANTITY).contains(&quantity) {
            return Err(at(FieldError::new(
                "quantity",
                format!("must be a whole number from 1 to {}", Self::MAX_QUANTITY),
            )));
        }
        if !(0..=Self::MAX_UNIT_PRICE).contains(&unit_price) {
            return Err(at(FieldError::new(
                "unit_price",
                "must be a price in poisha from 0 to 100000000",
            )));
        }
        Ok(ItemLine {
            name,
            sku,
            quantity,
            unit_price,
        })
    }

    pub fn total(&self) -> Poisha {
        self.quantity * self.unit_price
    }
}

/// Checks the list as a whole: at least one line, not absurdly many.
pub fn check_items(items: &[ItemLine]) -> Result<(), FieldError> {
    if items.is_empty() {
        return Err(FieldError::new("items", "must contain at least one item"));
    }
    if items.len() > 100 {
        return Err(FieldError::new("items", "must contain at most 100 items"));
    }
    Ok(())
}

/// Formats poisha as taka for people: `৳1,250.50`.
pub fn format_taka(amount: Poisha) -> String {
    let taka = amount / 100;
    let poisha = (amount % 100).abs();
    let digits = taka.abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if amount < 0 { "-" } else { "" };
    format!("{sign}৳{grouped}.{poisha:02}")
}

/// Taka as staff type them (`9,340.50`, `৯৩৪০`) in poisha; `None` for
/// anything else (negative, more than two decimals, not a number).
pub fn parse_taka(text: &str) -> Option<Poisha> {
    let digits: String = text
        .trim()
        .trim_start_matches('৳')
        .chars()
        .filter(|c| *c != ',')
        .map(|c| match c {
            '০'..='৯' => char::from(b'0' + (c as u32 - '০' as u32) as u8),
            c => c,
        })
        .collect();
    let (whole, frac) = digits.split_once('.').unwrap_or((&digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 12
        || frac.len() > 2
        || !all_digits(whole)
        || !all_digits(frac)
    {
        return None;
    }
    let frac = format!("{frac:0<2}");
    Some(whole.parse::<i64>().ok()? * 100 + frac.parse::<i64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taka_as_typed() {
        assert_eq!(parse_taka("9,340.50"), Some(934_050));
        assert_eq!(parse_taka(" ৳120 "), Some(12_000));
        assert_eq!(parse_taka("৯৩৪০.৫"), Some(934_050));
        for bad in ["", "-5", "1.234", "abc", "1e3", "."] {
            assert_eq!(parse_taka(bad), None, "{bad}");
        }
    }

    #[test]
    fn order_numbers_round_trip() {
        let n = OrderNumber::from_id(OrderId(123));
        assert_eq!(n.to_string(), "CM-000123");
        assert_eq!(OrderNumber::parse("cm-000123").unwrap(), n);
        assert_eq!(
            OrderNumber::from_id(OrderId(1_234_567)).to_string(),
            "CM-1234567"
        );
        for bad in [
            "",
            "CM-",
            "CM-12a",
            "XX-000123",
            "CM-000000",
            "CM-9999999999999",
        ] {
            assert!(OrderNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scans_tolerate_scanner_noise() {
        let want = OrderNumber::from_id(OrderId(42));
        for scanned in [
            "CM-000042",
            "  CM-000042\r\n",
            "]C0CM-000042",
            "\u{1d}CM000042",
            "https://shop.example/track/CM-000042",
            "cm 000042\t",
        ] {
            assert_eq!(
                OrderNumber::from_scan(scanned).unwrap(),
                want,
                "{scanned:?}"
            );
        }
        let err = OrderNumber::from_scan("hello").unwrap_err();
        assert_eq!(err.field, "scanned");
    }

    #[test]
    fn lifecycle() {
        use OrderStatus::*;
        assert!(Placed.can_become(Confirmed));
        assert!(HandedToCourier.can_become(Delivered));
        assert!(!Placed.can_become(Delivered));
        assert!(!Delivered.can_become(Cancelled));
        let msg = Delivered.transition(Placed).unwrap_err();
        assert!(msg.contains("returned"), "{msg}");
        assert!(Cancelled
            .transition(Placed)
            .unwrap_err()
            .contains("cannot change"));
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(*s));
            assert!(!s.can_become(*s), "{s} to itself");
        }
    }

    #[test]
    fn item_lines() {
        assert_eq!(
            ItemLine::parse(0, "Saree", None, 2, 150_000)
                .unwrap()
                .total(),
            300_000
        );
        assert_eq!(
            ItemLine::parse(3, "Saree", None, 0, 1).unwrap_err().field,
            "items[3].quantity"
        );
        assert_eq!(
            ItemLine::parse(1, "Saree", None, -1, 1).unwrap_err().field,
            "items[1].quantity"
        );
        assert_eq!(
            ItemLine::parse(0, "Saree", None, 1, -5).unwrap_err().field,
            "items[0].unit_price"
        );
        assert_eq!(
            ItemLine::parse(0, "", None, 1, 5).unwrap_err().field,
            "items[0].name"
        );
        assert!(check_items(&[]).is_err());
    }

    #[test]
    fn taka() {
        assert_eq!(format_taka(125_050), "৳1,250.50");
        assert_eq!(format_taka(5), "৳0.05");
        assert_eq!(format_taka(100_000_000), "৳1,000,000.00");
    }
}
