//! Starting a payment: an attempt row and the disclosure log written in
//! one transaction before anything is sent, then the gateway's session.
//! SSLCommerz's session API requires the customer's name, phone, email
//! (empty when there is none) and address; bKash's needs none of them.
use crate::disclosures::disclose;
use crate::error::Result;
use crate::vault::{open_delivery, open_text};
use crate::{audit, Actor, ServiceError, Services};
use chotomoni_domain::catalog::{sealed, Purpose, Recipient};
use chotomoni_domain::staff::Permission;
use chotomoni_domain::{
    AuditAction, CustomerId, GatewayName, OrderNumber, OrderStatus, PaymentMethod, PaymentState,
    PaymentStatus,
};
use chotomoni_gateway::{Checkout, CheckoutCustomer, GatewayError};
use chotomoni_storage::orders::{self as orders_repo, Contact, FullOrder};
use chotomoni_storage::payments::{self as rows, Finish, NewPayment};
use serde::Serialize;
use utoipa::ToSchema;

/// A payment session the customer is sent to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StartedPayment {
    pub order: String,
    pub tran_id: String,
    pub gateway: GatewayName,
    /// Where to send the customer (the gateway's payment page).
    pub redirect_url: String,
}

/// What every session tells the gateway about the order.
const ORDER_FIELDS: &[&str] = &["orders.total", "orders.payment_method"];

/// Our id for an attempt: the order number and eight random letters
/// (SSLCommerz takes at most 30 characters).
fn new_tran_id(number: OrderNumber) -> String {
    use rand::distributions::Alphanumeric;
    use rand::Rng;
    let tail: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(8)
        .map(char::from)
        .collect();
    format!("{number}-{}", tail.to_ascii_uppercase())
}

impl Services {
    /// Opens a payment session for an unpaid online order, through
    /// `gateway`; `site` is this shop's address the gateway sends the
    /// customer back to and posts its notices to. Its customer (or, at
    /// checkout, the system on their behalf) and staff who see contact
    /// details may start one.
    pub async fn start_payment(
        &self,
        actor: &Actor,
        number: OrderNumber,
        gateway: GatewayName,
        site: &str,
    ) -> Result<StartedPayment> {
        let id = number.id().0;
        let full = orders_repo::load_full(&self.db, id, Contact::Load)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        match actor {
            Actor::Customer(CustomerId(c)) if full.order.account_owner() == Some(*c) => {}
            Actor::Staff { .. } => actor.require(Permission::ViewCustomerContact)?,
            Actor::System => {}
            _ => return Err(ServiceError::NotFound("order")),
        }
        payable(&full)?;
        let adapter = self.gateway(gateway)?;
        let tran_id = new_tran_id(number);
        let site = site.trim_end_matches('/');
        let customer = match gateway {
            GatewayName::Sslcommerz => Some(self.checkout_customer(&full)?),
            GatewayName::Bkash => None,
        };
        let checkout = Checkout {
            tran_id: tran_id.clone(),
            order_number: number.to_string(),
            amount: full.order.total,
            return_url: format!("{site}/payments/{gateway}/return/{tran_id}"),
            notice_url: format!("{site}/webhooks/payments/{gateway}"),
            item_count: u32::try_from(full.items.iter().map(|i| i.quantity).sum::<i64>().max(1))
                .unwrap_or(u32::MAX),
            customer,
        };
        let disclosed = disclosed_fields(&checkout);
        self.record_start(actor, &full, gateway, &tran_id, &disclosed)
            .await?;
        let started = match adapter.start(&checkout).await {
            Ok(started) => started,
            Err(e) => return Err(self.start_failed(&tran_id, e).await),
        };
        if let Some(extra) = started
            .customer_fields_sent
            .iter()
            .find(|f| !disclosed.contains(f))
        {
            tracing::error!(field = *extra, %gateway, "a gateway session sent a field the disclosure log does not name");
        }
        let mut conn = self.db.conn().await?;
        rows::set_session(&mut conn, &tran_id, &started.gateway_ref, self.now_ms()).await?;
        tracing::info!(order = %number, %tran_id, %gateway, "payment session opened");
        Ok(StartedPayment {
            order: number.to_string(),
            tran_id,
            gateway,
            redirect_url: started.redirect_url,
        })
    }

    /// The contact details SSLCommerz's session requires.
    fn checkout_customer(&self, full: &FullOrder) -> Result<CheckoutCustomer> {
        let o = &full.order;
        let Some(wrapped) = o.wrapped_key.as_deref() else {
            return Err(ServiceError::Conflict(
                "the customer's data was erased: this order cannot be paid online".into(),
            ));
        };
        let key = self.vault.customer_key(o.customer_id, Some(wrapped))?;
        let delivery =
            open_delivery(&key, o.id, o.address_enc.as_deref())?.ok_or(ServiceError::Sealed)?;
        let text = |column, sealed: Option<&[u8]>| open_text(&key, column, o.customer_id, sealed);
        let name = text(sealed::CUSTOMER_NAME, o.name_enc.as_deref())?
            .unwrap_or_else(|| delivery.recipient.clone());
        let phone = text(sealed::CUSTOMER_PHONE, o.phone_enc.as_deref())?.unwrap_or_default();
        let email = text(sealed::CUSTOMER_EMAIL, o.email_enc.as_deref())?;
        let address = [delivery.line.as_str(), &delivery.area]
            .iter()
            .filter(|p| !p.trim().is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        Ok(CheckoutCustomer {
            name,
            phone,
            email,
            address,
            city: delivery.district,
        })
    }

    /// The attempt, what it shares (refused by the catalog if it may not
    /// go to a gateway) and the audit entry, in one transaction.
    async fn record_start(
        &self,
        actor: &Actor,
        full: &FullOrder,
        gateway: GatewayName,
        tran_id: &str,
        disclosed: &[&str],
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        rows::insert(
            &mut tx,
            &NewPayment {
                tran_id,
                order_id: full.order.id,
                gateway,
                amount: full.order.total,
                currency: "BDT",
                at: self.now_ms(),
            },
        )
        .await?;
        disclose(
            &mut tx,
            full.order.customer_id,
            Some(full.order.id),
            Recipient::PaymentGateway,
            disclosed,
            Purpose::Fulfilment,
        )
        .await?;
        audit::change(
            &mut tx,
            actor,
            AuditAction::PaymentStart,
            &format!("payment:{tran_id}"),
            &format!("gateway={gateway}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A session the gateway did not open: the attempt ends failed.
    async fn start_failed(&self, tran_id: &str, e: GatewayError) -> ServiceError {
        tracing::warn!(%tran_id, error = %e, "a payment session was not opened");
        let now = self.now_ms();
        let ended = async {
            let mut conn = self.db.conn().await?;
            rows::finish(
                &mut conn,
                tran_id,
                &Finish {
                    status: PaymentState::Failed,
                    paid_amount: None,
                    gateway_payment_id: None,
                    gateway_transaction_id: None,
                    risk_level: None,
                    gateway_status: "session not opened",
                    hold_reason: None,
                    at: now,
                },
            )
            .await
        };
        if let Err(db) = ended.await {
            return db.into();
        }
        gateway_error(e)
    }
}

/// The catalog fields a session sends, for the disclosure log.
fn disclosed_fields(checkout: &Checkout) -> Vec<&'static str> {
    let mut fields = ORDER_FIELDS.to_vec();
    if let Some(c) = &checkout.customer {
        fields.extend(["customers.name_enc", "customers.phone_enc"]);
        if c.email.as_deref().is_some_and(|e| !e.trim().is_empty()) {
            fields.push("customers.email_enc");
        }
        fields.push("orders.address_enc");
    }
    fields
}

/// Whether the order may be paid online now.
fn payable(full: &FullOrder) -> Result<()> {
    let o = &full.order;
    if o.payment_method != PaymentMethod::Online {
        return Err(ServiceError::Conflict(
            "this order is paid in cash on delivery, not online".into(),
        ));
    }
    if o.payment_status == PaymentStatus::Paid || o.payment_status == PaymentStatus::Refunded {
        return Err(ServiceError::Conflict("this order is paid already".into()));
    }
    if o.total <= 0 {
        return Err(ServiceError::Conflict(
            "this order has nothing to pay".into(),
        ));
    }
    if o.status == OrderStatus::Cancelled {
        return Err(ServiceError::Conflict(
            "a cancelled order is not paid".into(),
        ));
    }
    Ok(())
}

/// A gateway's error as the caller sees it: unreachable or slow is 503,
/// a refusal 422 with the gateway's reason.
pub(crate) fn gateway_error(e: GatewayError) -> ServiceError {
    match e {
        e if e.is_transient() => ServiceError::GatewayUnavailable(format!(
            "the payment gateway did not answer; try again ({e})"
        )),
        GatewayError::BadSignature => ServiceError::Gateway {
            code: "bad_signature",
            message: "the gateway's signature does not match: nothing in it is trusted".into(),
        },
        GatewayError::Refused { code, message } => ServiceError::Gateway {
            code: "gateway_refused",
            message: format!("the payment gateway refused it ({code}): {message}"),
        },
        other => ServiceError::Gateway {
            code: "gateway_error",
            message: other.to_string(),
        },
    }
}
