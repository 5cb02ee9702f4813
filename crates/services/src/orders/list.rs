//! The order list: filters, paging and the summaries staff and customers see.
use super::{millis_to_rfc3339, Visibility};
use crate::customers::open_contact;
use crate::error::{Result, ServiceError};
use crate::vault::open_delivery;
use crate::{Actor, Services};
use chotomoni_domain::staff::Permission;
use chotomoni_domain::AuditAction;
use chotomoni_domain::{
    CustomerId, FieldError, OrderId, OrderNumber, OrderStatus, PaymentMethod, Phone,
};
use chotomoni_storage::customers;
use chotomoni_storage::orders::{self as repo, OrderFilter, OrderRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

impl Services {
    /// A page of orders for the back office, newest first.
    pub async fn list_orders(&self, actor: &Actor, q: &OrderQuery) -> Result<OrderPage> {
        if !actor.staff_may(Permission::ViewOrders) {
            return match actor {
                Actor::Customer(id) => self.customer_orders(*id, q).await,
                _ => Err(ServiceError::Unauthenticated),
            };
        }
        let mut filter = q.filter()?;
        if let Some(phone) = q.phone.as_deref().filter(|p| !p.trim().is_empty()) {
            if !actor.staff_may(Permission::ViewCustomerContact) {
                return Err(ServiceError::Forbidden);
            }
            let phone = Phone::parse(phone)?;
            let mut conn = self.db.conn().await?;
            match customers::find_by_phone_index(&mut conn, &self.vault.phone_index(&phone)).await?
            {
                Some(c) => filter.customer_id = Some(c.id),
                None => {
                    return Ok(OrderPage {
                        orders: vec![],
                        next_before: None,
                    })
                }
            }
        }
        let mut page = self.page(actor, &filter, Visibility::Packing).await?;
        self.add_flags(actor, &mut page.orders).await?;
        if actor.staff_may(Permission::ViewCustomerContact) && !page.orders.is_empty() {
            self.audit
                .view(
                    actor,
                    AuditAction::OrderList,
                    "orders".into(),
                    format!("fields=name,phone,district count={}", page.orders.len()),
                )
                .await;
        }
        Ok(page)
    }

    async fn customer_orders(&self, id: CustomerId, q: &OrderQuery) -> Result<OrderPage> {
        let mut filter = q.filter()?;
        filter.customer_id = Some(id.0);
        filter.confirmed_only = true;
        self.page(&Actor::Customer(id), &filter, Visibility::Full)
            .await
    }

    async fn page(
        &self,
        actor: &Actor,
        filter: &OrderFilter,
        floor: Visibility,
    ) -> Result<OrderPage> {
        let filter = &OrderFilter {
            contact: super::contact_to_load(actor),
            ..filter.clone()
        };
        let mut conn = self.db.conn().await?;
        let rows = repo::list(&mut conn, filter).await?;
        let next_before = (rows.len() as i64 == filter.limit)
            .then(|| rows.last().map(|r| r.id))
            .flatten();
        let mut orders = Vec::with_capacity(rows.len());
        for row in rows {
            let vis = if actor.staff_may(Permission::ViewCustomerContact) {
                Visibility::Full
            } else {
                floor
            };
            orders.push(self.summary(row, vis)?);
        }
        Ok(OrderPage {
            orders,
            next_before,
        })
    }

    fn summary(&self, row: OrderRow, vis: Visibility) -> Result<OrderSummary> {
        // No key: erased. A key that does not open is an error, not an erasure.
        let key = match row.wrapped_key.as_deref() {
            Some(wrapped) => Some(self.vault.customer_key(row.customer_id, Some(wrapped))?),
            None => None,
        };
        let delivery = key
            .as_ref()
            .map(|k| open_delivery(k, row.id, row.address_enc.as_deref()))
            .transpose()?
            .flatten();
        let contact = match (&key, vis) {
            (Some(k), Visibility::Full) => Some(open_contact(
                k,
                row.customer_id,
                row.name_enc.as_deref(),
                row.phone_enc.as_deref(),
                None,
            )?),
            _ => None,
        };
        Ok(OrderSummary {
            number: OrderNumber::from_id(OrderId(row.id)).to_string(),
            status: row.status,
            payment_method: row.payment_method,
            total: row.total,
            created_at: millis_to_rfc3339(row.created_at),
            created_at_ms: row.created_at,
            customer_name: contact.as_ref().map(|c| c.name.clone()),
            phone: contact.map(|c| c.phone),
            district: delivery.map(|d| d.district),
            fraud_flags: None,
            phone_check: None,
        })
    }
}

/// Query of the order list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrderQuery {
    /// An order status; empty is any.
    #[param(schema_with = status_or_empty)]
    pub status: Option<String>,
    /// Customer's phone (staff who may see contact details only).
    #[param(schema_with = chotomoni_domain::schema::blank_or_phone)]
    pub phone: Option<String>,
    /// First day, `YYYY-MM-DD` (Dhaka time).
    #[param(schema_with = chotomoni_domain::schema::empty_or_date)]
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (Dhaka time), inclusive.
    #[param(schema_with = chotomoni_domain::schema::empty_or_date)]
    pub to: Option<String>,
    /// Cursor from the previous page's `next_before`.
    pub before: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// `OrderStatus`'s values, or empty for any.
fn status_or_empty() -> utoipa::openapi::schema::Object {
    let values = OrderStatus::ALL.iter().map(|s| s.as_str()).chain([""]);
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(values))
        .build()
}

impl OrderQuery {
    fn filter(&self) -> Result<OrderFilter, FieldError> {
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                OrderStatus::parse(s)
                    .ok_or_else(|| FieldError::new("status", "is not an order status"))?,
            ),
        };
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(FieldError::new("limit", "must be from 1 to 200"));
        }
        Ok(OrderFilter {
            status,
            customer_id: None,
            created_from: day_start("from", self.from.as_deref(), 0)?,
            created_to: day_start("to", self.to.as_deref(), 1)?,
            before: self.before,
            limit,
            confirmed_only: false,
            contact: Default::default(),
        })
    }
}

/// Midnight in Dhaka of the given day (plus `add_days`), in Unix milliseconds.
fn day_start(field: &str, day: Option<&str>, add_days: i64) -> Result<Option<i64>, FieldError> {
    let Some(day) = day.filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    let date = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "must be a date such as 2026-11-25"))?;
    let midnight = date
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_millis();
    Ok(Some(midnight - 6 * 3600 * 1000 + add_days * 86_400_000))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderSummary {
    pub number: String,
    pub status: OrderStatus,
    pub payment_method: PaymentMethod,
    pub total: i64,
    pub created_at: String,
    #[serde(skip)]
    pub created_at_ms: i64,
    /// Absent for roles that may not see contact details.
    pub customer_name: Option<String>,
    pub phone: Option<String>,
    pub district: Option<String>,
    /// Fraud flags, only for roles that may see them (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fraud_flags: Option<Vec<chotomoni_domain::FraudFlag>>,
    /// The latest confirmation by phone, for the same roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_check: Option<chotomoni_domain::PhoneCheckOutcome>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderPage {
    pub orders: Vec<OrderSummary>,
    /// Pass as `before` to get the next (older) page.
    pub next_before: Option<i64>,
}
