//! The shop's catalogue as the storefront and the order entry page read
//! it: its own small service, holding only the database, so pages never
//! reach into storage for it.
use crate::error::Result;
use crate::Services;
use chotomoni_storage::products::{self, ProductRow};
use chotomoni_storage::Db;

/// A product as pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub sku: String,
    pub name_en: String,
    pub name_bn: String,
    /// Poisha.
    pub price: i64,
    /// Sold in the shop now (an old one still prices old orders' lines).
    pub on_sale: bool,
}

impl From<ProductRow> for Product {
    fn from(p: ProductRow) -> Self {
        Product {
            sku: p.sku,
            name_en: p.name_en,
            name_bn: p.name_bn,
            price: p.price,
            on_sale: p.active != 0,
        }
    }
}

#[derive(Clone)]
pub struct Catalogue {
    db: Db,
}

impl Catalogue {
    /// What the shop sells now.
    pub async fn on_sale(&self) -> Result<Vec<Product>> {
        let mut conn = self.db.conn().await?;
        Ok(products::active(&mut conn)
            .await?
            .into_iter()
            .map(Product::from)
            .collect())
    }

    /// One product by its SKU, on sale or not.
    pub async fn product(&self, sku: &str) -> Result<Option<Product>> {
        let mut conn = self.db.conn().await?;
        Ok(products::by_sku(&mut conn, sku).await?.map(Product::from))
    }
}

impl Services {
    pub fn catalogue(&self) -> Catalogue {
        Catalogue {
            db: self.db.clone(),
        }
    }
}
