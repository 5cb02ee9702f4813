//! A new order as it arrives, and its validation into domain values.
use chotomoni_domain::customer::{instructions, DISTRICTS, MAX_INSTRUCTIONS};
use chotomoni_domain::order::check_items;
use chotomoni_domain::schema;
use chotomoni_domain::{
    Address, CustomerName, Email, FieldError, ItemLine, OrderSource, PaymentMethod, Phone,
};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    #[schema(schema_with = schema::text::<{ CustomerName::MAX_CHARS }>)]
    pub name: String,
    /// A Bangladeshi mobile number in any usual form.
    #[schema(schema_with = schema::phone)]
    pub phone: String,
    #[serde(default)]
    #[schema(schema_with = schema::nullable_email)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    #[schema(schema_with = schema::text::<{ Address::MAX_LINE }>)]
    pub line: String,
    /// Area or thana.
    #[schema(schema_with = schema::text::<{ Address::MAX_AREA }>)]
    pub area: String,
    /// One of the 64 districts (English or Bangla).
    #[schema(schema_with = district)]
    pub district: String,
}

/// One line of a new order. In a shop order every line is a product of the
/// shop's catalogue: `sku` is required, the name is the catalogue's, and
/// `unit_price` must be the catalogue's price (a changed price is refused,
/// so the customer never pays what they were not shown). Staff entering a
/// phone or Facebook order may set any name and price; a price that
/// differs from the catalogue's is in the audit log.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    #[schema(schema_with = schema::text::<{ ItemLine::MAX_NAME }>)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = schema::nullable_text::<{ ItemLine::MAX_SKU }>)]
    pub sku: Option<String>,
    // The bounds are `ItemLine::MAX_QUANTITY` and `MAX_UNIT_PRICE` (utoipa takes literals).
    #[schema(minimum = 1, maximum = 10000)]
    pub quantity: i64,
    /// Price of one unit in poisha (1 taka = 100 poisha).
    #[schema(minimum = 0, maximum = 100000000)]
    pub unit_price: i64,
}

/// A catalogue product as pricing needs it.
#[derive(Debug, Clone)]
pub struct CatalogueItem {
    pub sku: String,
    pub name: String,
    pub price: i64,
}

/// A line whose price staff set apart from the catalogue's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceOverride {
    pub line: usize,
    pub sku: String,
    pub catalogue: i64,
    pub entered: i64,
}

impl PriceOverride {
    /// How the audit log records it: `items[0]:SAR-01:850000->800000`.
    pub fn audit_text(&self) -> String {
        format!(
            "items[{}]:{}:{}->{}",
            self.line, self.sku, self.catalogue, self.entered
        )
    }
}

/// Prices a shop order's lines from the catalogue (`find` looks a SKU up
/// among active products); staff lines keep what was entered, with the
/// differences from the catalogue returned for the audit log.
pub fn price_lines(
    lines: Vec<ItemLine>,
    staff_entry: bool,
    find: impl Fn(&str) -> Option<CatalogueItem>,
) -> Result<(Vec<ItemLine>, Vec<PriceOverride>), FieldError> {
    let mut overrides = Vec::new();
    let mut priced = Vec::with_capacity(lines.len());
    for (i, mut line) in lines.into_iter().enumerate() {
        let at = |e: FieldError| e.within(&format!("items[{i}]"));
        let product = line.sku.as_deref().and_then(&find);
        match (staff_entry, product) {
            (true, Some(p)) if p.price != line.unit_price => overrides.push(PriceOverride {
                line: i,
                sku: p.sku,
                catalogue: p.price,
                entered: line.unit_price,
            }),
            (true, _) => {}
            (false, None) => {
                return Err(at(FieldError::new(
                    "sku",
                    "must be the SKU of a product the shop sells",
                )))
            }
            (false, Some(p)) if p.price != line.unit_price => {
                return Err(at(FieldError::new(
                    "unit_price",
                    format!(
                    "is not the shop's price of {}, which is {} poisha now; reload and try again",
                    p.sku, p.price
                ),
                )))
            }
            (false, Some(p)) => line.name = p.name,
        }
        priced.push(line);
    }
    Ok((priced, overrides))
}

/// A new order, as the API and the checkout form send it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    pub customer: CustomerInput,
    pub address: AddressInput,
    #[schema(min_items = 1, max_items = 100)]
    pub items: Vec<ItemInput>,
    #[serde(default)]
    #[schema(schema_with = schema::nullable_text::<{ MAX_INSTRUCTIONS }>)]
    pub delivery_instructions: Option<String>,
    pub payment_method: PaymentMethod,
    /// Staff entry only: `phone` or `facebook`. Shop orders are `shop`.
    #[serde(default)]
    pub source: Option<OrderSource>,
    /// An explicit, unticked-by-default opt-in to marketing messages.
    #[serde(default)]
    pub marketing_opt_in: bool,
    /// The language the customer orders in; messages about the order (the
    /// parcel's hand-over and delivery) use it. Bangla when not given.
    #[serde(default)]
    pub lang: Option<chotomoni_domain::catalog::Lang>,
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

/// The districts `Address::parse` knows, in every spelling it takes
/// (it also ignores the case of the English ones).
fn district() -> utoipa::openapi::schema::Object {
    let names = DISTRICTS
        .iter()
        .flat_map(|(en, bn, old)| [*en, *bn].into_iter().chain(old.iter().copied()));
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(names))
        .build()
}
