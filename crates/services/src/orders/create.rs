//! Placing an order: the one transaction that stores it, with its prices.
use super::*;
use crate::consents::ConsentChannel;
use crate::customers::find_or_create;
use chotomoni_domain::AuditAction;
use chotomoni_domain::{ConsentPurpose, OrderSource, PaymentStatus};
use chotomoni_storage::orders::{ItemRow, NewOrder as NewOrderRow};

impl Services {
    /// Stores a new order in one transaction: the customer (found by phone or
    /// created with a new key), the order, its items, its first event, the
    /// marketing choice when given, and the audit entry.
    ///
    /// An order placed without signing in (`Actor::Visitor`) never shows or
    /// changes anything of an existing customer: it is linked to the record
    /// its phone leads to, but stays out of that customer's history until a
    /// code sent to the phone confirms it (registration), its marketing
    /// opt-in waits on the order until then, and the answer carries only
    /// what the request itself sent.
    pub async fn create_order(&self, actor: &Actor, input: &OrderInput) -> Result<OrderView> {
        let v = input.validate()?;
        let source = match (actor, v.source) {
            (Actor::Staff { .. } | Actor::System, s)
                if actor.staff_may(Permission::EnterOrders) =>
            {
                s.unwrap_or(OrderSource::Phone)
            }
            (Actor::Staff { .. }, _) => return Err(ServiceError::Forbidden),
            (_, None | Some(OrderSource::Shop)) => OrderSource::Shop,
            (_, Some(_)) => {
                return Err(FieldError::new(
                    "source",
                    "only staff can enter phone or Facebook orders",
                )
                .into())
            }
        };
        let guest = matches!(actor, Actor::Visitor);
        let mut tx = self.db.begin().await?;
        let (items, overrides) = self
            .price(&mut tx, v.items.clone(), source != OrderSource::Shop)
            .await?;
        let total: i64 = items.iter().map(ItemLine::total).sum();
        let at = self.now_ms();
        let (customer_id, key) = match actor {
            Actor::Customer(CustomerId(id)) => {
                let row = customers::get(&mut tx, *id)
                    .await?
                    .ok_or(ServiceError::Unauthenticated)?;
                (
                    row.id,
                    self.vault
                        .customer_key(row.id, row.wrapped_key.as_deref())?,
                )
            }
            _ => {
                let (id, key, _) =
                    find_or_create(&mut tx, &self.vault, &v.name, &v.phone, v.email.as_ref())
                        .await?;
                (id, key)
            }
        };
        let id = repo::insert(
            &mut tx,
            &NewOrderRow {
                customer_id,
                status: OrderStatus::Placed,
                payment_method: v.payment_method,
                payment_status: PaymentStatus::Pending,
                source,
                total,
                created_by: actor.staff_id(),
                at,
                unconfirmed: guest,
                marketing_opt_in: guest && v.marketing_opt_in,
            },
        )
        .await?;
        let address = self.vault.seal_delivery(&key, id, &v.name, &v.address);
        let instructions = v
            .instructions
            .as_deref()
            .map(|t| self.vault.seal_instructions(&key, id, t));
        repo::set_sealed(&mut tx, id, &address, instructions.as_deref()).await?;
        if let Some(lang) = input.lang {
            repo::set_lang(&mut tx, id, lang).await?;
        }
        let rows: Vec<ItemRow> = items
            .iter()
            .enumerate()
            .map(|(i, it)| ItemRow {
                order_id: id,
                line_no: i as i64 + 1,
                sku: it.sku.clone(),
                name: it.name.clone(),
                quantity: it.quantity,
                unit_price: it.unit_price,
            })
            .collect();
        repo::insert_items(&mut tx, &rows).await?;
        repo::insert_event(&mut tx, id, None, OrderStatus::Placed, actor.staff_id(), at).await?;
        if v.marketing_opt_in && !guest {
            let channel = if source == OrderSource::Shop {
                ConsentChannel::Checkout
            } else {
                ConsentChannel::StaffEntry
            };
            crate::consents::record(
                &mut tx,
                customer_id,
                ConsentPurpose::MarketingSms,
                true,
                channel,
            )
            .await?;
        }
        let number = OrderNumber::from_id(OrderId(id));
        let mut detail = format!("customer:{customer_id}");
        if guest {
            detail.push_str(" guest=unconfirmed");
        }
        for o in &overrides {
            detail.push_str(&format!(" price_override={}", o.audit_text()));
        }
        audit::change(
            &mut tx,
            actor,
            AuditAction::OrderCreate,
            &format!("order:{number}"),
            &detail,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(order = %number, source = source.as_str(), total, "order placed");
        if guest {
            let full = self.load(id, Contact::Skip).await?;
            let mut view = self.view(actor, full, Visibility::OrderOnly)?;
            view.customer = Some(ContactView {
                name: v.name.as_str().to_owned(),
                phone: v.phone.as_e164().to_owned(),
                email: v.email.as_ref().map(|e| e.normalized()),
            });
            return Ok(view);
        }
        // The one who placed it sees it in full: it is what they just typed.
        let full = self.load(id, Contact::Load).await?;
        self.view(actor, full, Visibility::Full)
    }

    /// The lines as they will be stored: a shop order's from the catalogue.
    async fn price(
        &self,
        conn: &mut chotomoni_storage::Conn,
        lines: Vec<ItemLine>,
        staff_entry: bool,
    ) -> Result<(Vec<ItemLine>, Vec<PriceOverride>)> {
        let skus: Vec<String> = lines.iter().filter_map(|l| l.sku.clone()).collect();
        let found = chotomoni_storage::products::active_by_skus(conn, &skus).await?;
        Ok(price_lines(lines, staff_entry, |sku| {
            found.iter().find(|p| p.sku == sku).map(|p| CatalogueItem {
                sku: p.sku.clone(),
                name: p.name_en.clone(),
                price: p.price,
            })
        })?)
    }
}
