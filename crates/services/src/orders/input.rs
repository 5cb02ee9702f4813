//! A new order as it arrives, and its validation into domain values.
use chotomoni_domain::customer::instructions;
use chotomoni_domain::order::check_items;
use chotomoni_domain::{
    Address, CustomerName, Email, FieldError, ItemLine, OrderSource, PaymentMethod, Phone,
};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    pub name: String,
    /// A Bangladeshi mobile number in any usual form.
    pub phone: String,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    pub line: String,
    /// Area or thana.
    pub area: String,
    /// One of the 64 districts (English or Bangla).
    pub district: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    pub name: String,
    #[serde(default)]
    pub sku: Option<String>,
    pub quantity: i64,
    /// Price of one unit in poisha (1 taka = 100 poisha).
    pub unit_price: i64,
}

/// A new order, as the API and the checkout form send it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    pub customer: CustomerInput,
    pub address: AddressInput,
    pub items: Vec<ItemInput>,
    #[serde(default)]
    pub delivery_instructions: Option<String>,
    pub payment_method: PaymentMethod,
    /// Staff entry only: `phone` or `facebook`. Shop orders are `shop`.
    #[serde(default)]
    pub source: Option<OrderSource>,
    /// An explicit, unticked-by-default opt-in to marketing messages.
    #[serde(default)]
    pub marketing_opt_in: bool,
}

/// A validated order, ready to store.
pub struct ValidOrder {
    pub name: CustomerName,
    pub phone: Phone,
    pub email: Option<Email>,
    pub address: Address,
    pub items: Vec<ItemLine>,
    pub instructions: Option<String>,
    pub payment_method: PaymentMethod,
    pub source: Option<OrderSource>,
    pub marketing_opt_in: bool,
}

impl OrderInput {
    /// Parses every field; the first bad one is reported with its path.
    pub fn validate(&self) -> Result<ValidOrder, FieldError> {
        let name = CustomerName::parse(&self.customer.name).map_err(|e| e.within("customer"))?;
        let phone = Phone::parse(&self.customer.phone).map_err(|e| e.within("customer"))?;
        let email = match self.customer.email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(e) => Some(Email::parse(e).map_err(|e| e.within("customer"))?),
        };
        let address = Address::parse(
            &self.address.line,
            &self.address.area,
            &self.address.district,
        )?;
        let items = self
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| {
                ItemLine::parse(i, &it.name, it.sku.as_deref(), it.quantity, it.unit_price)
            })
            .collect::<Result<Vec<_>, _>>()?;
        check_items(&items)?;
        let instructions = instructions(self.delivery_instructions.as_deref())?;
        Ok(ValidOrder {
            name,
            phone,
            email,
            address,
            items,
            instructions,
            payment_method: self.payment_method,
            source: self.source,
            marketing_opt_in: self.marketing_opt_in,
        })
    }
}
