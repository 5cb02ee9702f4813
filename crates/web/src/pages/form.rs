//! The order form shared by checkout and staff entry, and its field errors.
use chotomoni_domain::{OrderSource, PaymentMethod};
use chotomoni_services::orders::{AddressInput, CustomerInput, ItemInput, OrderInput};
use chotomoni_services::ServiceError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

/// The customer and delivery fields shared by checkout and staff entry.
#[derive(Deserialize, Serialize, Default, Clone)]
pub struct OrderForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub line: String,
    #[serde(default)]
    pub area: String,
    #[serde(default)]
    pub district: String,
    #[serde(default)]
    pub instructions: String,
    #[serde(default)]
    pub payment: String,
    /// The gateway an online payment goes through (checkout).
    #[serde(default)]
    pub gateway: String,
    #[serde(default)]
    pub marketing: Option<String>,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub sku1: String,
    #[serde(default)]
    pub qty1: String,
    #[serde(default)]
    pub sku2: String,
    #[serde(default)]
    pub qty2: String,
    #[serde(default)]
    pub sku3: String,
    #[serde(default)]
    pub qty3: String,
}

impl OrderForm {
    pub fn input(&self, items: Vec<ItemInput>, source: Option<OrderSource>) -> OrderInput {
        OrderInput {
            customer: CustomerInput {
                name: self.name.clone(),
                phone: self.phone.clone(),
                email: Some(self.email.clone()).filter(|e| !e.trim().is_empty()),
            },
            address: AddressInput {
                line: self.line.clone(),
                area: self.area.clone(),
                district: self.district.clone(),
            },
            items,
            delivery_instructions: Some(self.instructions.clone()).filter(|s| !s.trim().is_empty()),
            payment_method: PaymentMethod::parse(&self.payment).unwrap_or(PaymentMethod::Cod),
            source,
            marketing_opt_in: self.marketing.is_some(),
            lang: None,
        }
    }

    /// The form again, without the token, for re-display.
    pub fn values(&self) -> Json {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("csrf");
        }
        v
    }
}

/// Which form field a service's field path points at, and its message key.
pub fn field_error(e: &ServiceError) -> Option<Json> {
    let ServiceError::Invalid(f) = e else {
        return None;
    };
    let name = match f.field.as_str() {
        "customer.name" => "name",
        "customer.phone" => "phone",
        "customer.email" => "email",
        "address.line" => "line",
        "address.area" => "area",
        "address.district" => "district",
        "delivery_instructions" => "instructions",
        "source" => "source",
        _ => "items",
    };
    Some(json!({ name: format!("err-field-{name}") }))
}
