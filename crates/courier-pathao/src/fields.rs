//! What is sent to book one parcel, checked before anything leaves the shop.
use crate::{
    CourierError, Parcel, Poisha, DELIVERY_TYPE_NORMAL, ITEM_TYPE_PARCEL, MAX_WEIGHT_GRAMS,
    MIN_ADDRESS_CHARS, MIN_WEIGHT_GRAMS,
};
use serde::{Deserialize, Serialize};

/// The fields sent for one order, exactly these (Pathao's published names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderFields {
    pub store_id: u64,
    pub merchant_order_id: String,
    pub recipient_name: String,
    pub recipient_phone: String,
    pub recipient_address: String,
    pub delivery_type: u32,
    pub item_type: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub special_instruction: Option<String>,
    pub item_quantity: u32,
    /// Kilograms.
    pub item_weight: f64,
    /// Whole taka.
    pub amount_to_collect: i64,
}

impl OrderFields {
    /// Checks what Pathao would refuse before anything leaves the shop.
    pub fn from_parcel(parcel: &Parcel, store_id: u64) -> Result<OrderFields, CourierError> {
        let local = |message: String| CourierError::Refused { status: 0, message };
        if parcel.address.trim().chars().count() < MIN_ADDRESS_CHARS {
            return Err(local(format!(
                "the address must have at least {MIN_ADDRESS_CHARS} characters for Pathao"
            )));
        }
        if parcel.weight_grams > MAX_WEIGHT_GRAMS {
            return Err(local(format!(
                "Pathao takes parcels of at most {} kg",
                MAX_WEIGHT_GRAMS / 1000
            )));
        }
        if parcel.cash_to_collect < 0 {
            return Err(local("the amount to collect cannot be negative".into()));
        }
        Ok(OrderFields {
            store_id,
            merchant_order_id: parcel.invoice.clone(),
            recipient_name: parcel.recipient_name.clone(),
            recipient_phone: parcel.recipient_phone.as_str().to_owned(),
            recipient_address: parcel.address.clone(),
            delivery_type: DELIVERY_TYPE_NORMAL,
            item_type: ITEM_TYPE_PARCEL,
            special_instruction: parcel.note.clone().filter(|n| !n.trim().is_empty()),
            item_quantity: parcel.item_count.max(1),
            // Pathao bills from half a kilo: a lighter parcel is declared as that.
            item_weight: f64::from(parcel.weight_grams.max(MIN_WEIGHT_GRAMS)) / 1000.0,
            amount_to_collect: whole_taka(parcel.cash_to_collect),
        })
    }
}

/// Pathao collects whole taka; a fraction is rounded up so the shop never
/// collects less than the order's due.
pub fn whole_taka(poisha: Poisha) -> i64 {
    (poisha + 99).div_euclid(100)
}

/// Decimal taka, as Pathao writes amounts, to poisha.
pub fn poisha_of(taka: f64) -> Poisha {
    (taka * 100.0).round() as Poisha
}
