//! Finishing payments. Whatever arrives (SSLCommerz's IPN, the customer's
//! return, the background query) is checked with the gateway by its
//! adapter, never trusted alone, and then settled here: a confirmed payment
//! of the order's exact amount in BDT, not marked risky, pays the order;
//! any other confirmed payment is held for staff with the reason; failed
//! and cancelled ones end so. A payment leaves `started` once
//! (compare-and-set), so it completes once whichever comes first, and a
//! second payment of an order already paid is held, never counted twice.
use super::start::gateway_error;
use super::{view, PaymentView};
use crate::error::Result;
use crate::{audit, Actor, ServiceError, Services};
use chotomoni_domain::payment::hold_reason;
use chotomoni_domain::{AuditAction, FieldError, GatewayName, PaymentState};
use chotomoni_gateway::{GatewayError, Kept, PaymentFacts, PaymentOutcome, Return};
use chotomoni_storage::payments::{self as rows, Finish, PaymentRow};

/// Payments asked about per run of the query job.
const QUERY_BATCH: i64 = 50;
/// A started payment still pending this long after it began ends cancelled.
const GIVE_UP_AFTER_MS: i64 = 24 * 3_600_000;

impl Services {
    /// A gateway's server-to-server notice (SSLCommerz's IPN), as its raw
    /// form pairs: the signature is checked over them, then the payment is
    /// confirmed with the gateway. Unknown transactions, bad signatures and
    /// unconfirmed payments are refused and change nothing.
    pub async fn payment_notice(
        &self,
        gateway: GatewayName,
        pairs: &[(String, String)],
    ) -> Result<PaymentView> {
        // Read before anything else only to find the payment: the value
        // is checked by the signature and against our own row.
        let tran_id = pairs
            .iter()
            .find(|(k, _)| k == "tran_id")
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty() && v.chars().count() <= 30)
            .ok_or_else(|| FieldError::new("tran_id", "is required in a payment notice"))?;
        // The signature counts the first of a repeated name and the reader
        // may take another: a notice that repeats a field it signs or that
        // is read says two things, and is not read at all. (A repeated
        // field neither signed nor read is dropped with the others.)
        let signed: Vec<&str> = pairs
            .iter()
            .find(|(k, _)| k == "verify_key")
            .map(|(_, v)| v.split(',').collect())
            .unwrap_or_default();
        let matters = |k: &str| {
            signed.contains(&k)
                || ["tran_id", "verify_sign", "verify_key"].contains(&k)
                || chotomoni_gateway::KEPT_FIELDS.contains(&k)
        };
        let mut seen = std::collections::HashSet::with_capacity(pairs.len());
        if let Some((name, _)) = pairs
            .iter()
            .find(|(k, _)| !seen.insert(k.as_str()) && matters(k))
        {
            tracing::warn!(%tran_id, "refused a payment notice that repeats a field");
            return Err(FieldError::new(name.clone(), "is repeated in the notice").into());
        }
        let payment = self.known_payment(gateway, &tran_id).await?;
        let adapter = self.gateway(gateway)?;
        match adapter.notice(pairs).await {
            Ok(facts) => self.settle(&payment, &facts, "notice").await,
            Err(e) => {
                tracing::warn!(%tran_id, %gateway, error = %e, "refused a payment notice; nothing changed");
                Err(refusal(e))
            }
        }
    }

    /// The customer's browser back from the gateway with its query or form
    /// `pairs`. Its word is checked with the gateway (validation, execute);
    /// a return the gateway does not confirm leaves the payment as it was,
    /// for the notice or the background query to finish.
    pub async fn payment_return(
        &self,
        gateway: GatewayName,
        tran_id: &str,
        pairs: &[(String, String)],
    ) -> Result<PaymentView> {
        let payment = self.known_payment(gateway, tran_id).await?;
        if payment.status != PaymentState::Started {
            return Ok(view(payment, false));
        }
        let back = Return {
            tran_id: payment.tran_id.clone(),
            gateway_ref: payment.session_ref.clone().unwrap_or_default(),
            fields: Kept::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        };
        let adapter = self.gateway(gateway)?;
        match adapter.complete(&back).await {
            Ok(facts) => self.settle(&payment, &facts, "return").await,
            Err(e) => {
                tracing::warn!(%tran_id, %gateway, error = %e, "a payment return the gateway does not confirm; left as it was");
                self.payment(tran_id).await
            }
        }
    }

    /// The query job (`payments.query`): asks each gateway about started
    /// payments with no news for a while (a closed browser, a lost notice).
    pub async fn query_silent_payments(&self) -> Result<usize> {
        let now = self.now_ms();
        let silent = {
            let mut conn = self.db.conn().await?;
            rows::silent(
                &mut conn,
                now - self.gateways().silent_after_ms,
                QUERY_BATCH,
            )
            .await?
        };
        let mut asked = 0;
        for payment in silent {
            let Some(adapter) = self.gateways().get(payment.gateway).cloned() else {
                continue;
            };
            let session = payment.session_ref.clone().unwrap_or_default();
            asked += 1;
            match adapter.query(&payment.tran_id, &session).await {
                Ok(facts) => {
                    self.settle(&payment, &facts, "query").await?;
                }
                Err(e) => {
                    tracing::warn!(tran_id = %payment.tran_id, error = %e, "asking a gateway about a payment failed");
                    let mut conn = self.db.conn().await?;
                    rows::heard(&mut conn, &payment.tran_id, "query failed", self.now_ms()).await?;
                }
            }
        }
        Ok(asked)
    }

    async fn known_payment(&self, gateway: GatewayName, tran_id: &str) -> Result<PaymentRow> {
        let mut conn = self.db.conn().await?;
        match rows::by_tran_id(&mut conn, tran_id).await? {
            Some(p) if p.gateway == gateway => Ok(p),
            _ => {
                tracing::warn!(%gateway, "refused word about a payment we did not start");
                Err(ServiceError::NotFound("payment"))
            }
        }
    }

    /// Applies what the gateway confirmed to the payment and its order.
    async fn settle(
        &self,
        payment: &PaymentRow,
        facts: &PaymentFacts,
        source: &str,
    ) -> Result<PaymentView> {
        if facts.tran_id != payment.tran_id {
            tracing::warn!(tran_id = %payment.tran_id, "a gateway answered about another transaction");
            return Err(refusal(GatewayError::Protocol(
                "the gateway answered about another transaction".into(),
            )));
        }
        let now = self.now_ms();
        let (status, reason) = match facts.outcome {
            PaymentOutcome::Paid => match hold_reason(
                payment.amount,
                facts.amount,
                facts.currency.as_deref(),
                facts.risk_level,
            ) {
                Some(reason) => (PaymentState::Held, Some(reason)),
                None => (PaymentState::Paid, None),
            },
            PaymentOutcome::Failed => (PaymentState::Failed, None),
            PaymentOutcome::Cancelled => (PaymentState::Cancelled, None),
            // A payment nobody finished within a day is over: the gateways'
            // sessions expire long before, and it is asked about no more.
            PaymentOutcome::Pending if now - payment.started_at > GIVE_UP_AFTER_MS => {
                (PaymentState::Cancelled, None)
            }
            PaymentOutcome::Pending => {
                let mut conn = self.db.conn().await?;
                rows::heard(&mut conn, &payment.tran_id, &facts.gateway_status, now).await?;
                return self.payment(&payment.tran_id).await;
            }
        };
        let mut tx = self.db.begin().await?;
        let finish = Finish {
            status,
            paid_amount: facts.amount,
            gateway_payment_id: facts.gateway_payment_id.as_deref(),
            gateway_transaction_id: facts.gateway_transaction_id.as_deref(),
            risk_level: facts.risk_level.map(i64::from),
            gateway_status: &facts.gateway_status,
            hold_reason: reason.as_deref(),
            at: now,
        };
        if !rows::finish(&mut tx, &payment.tran_id, &finish).await? {
            // The other of the notice and the return, or a replay: done already.
            drop(tx);
            return self.payment(&payment.tran_id).await;
        }
        let (status, reason) = match status {
            PaymentState::Paid => {
                if rows::mark_order_paid(&mut tx, payment.order_id, now).await? {
                    (status, None)
                } else {
                    let reason = "the order was paid already by another payment".to_owned();
                    rows::hold_paid(&mut tx, &payment.tran_id, &reason, now).await?;
                    (PaymentState::Held, Some(reason))
                }
            }
            PaymentState::Failed | PaymentState::Cancelled => {
                rows::mark_order_failed(&mut tx, payment.order_id, now).await?;
                (status, None)
            }
            _ => (status, reason),
        };
        let action = match status {
            PaymentState::Paid => AuditAction::PaymentPaid,
            PaymentState::Held => AuditAction::PaymentHeld,
            _ => AuditAction::PaymentUnpaid,
        };
        audit::change(
            &mut tx,
            &Actor::System,
            action,
            &format!("payment:{}", payment.tran_id),
            &format!("status={status} by={source}"),
        )
        .await?;
        tx.commit().await?;
        match &reason {
            Some(reason) => {
                tracing::warn!(tran_id = %payment.tran_id, %reason, "payment held for staff")
            }
            None => {
                tracing::info!(tran_id = %payment.tran_id, %status, by = source, "payment finished")
            }
        }
        self.payment(&payment.tran_id).await
    }
}

/// Why a notice or answer is refused, for the caller.
fn refusal(e: GatewayError) -> ServiceError {
    match e {
        // bKash sends no notices: there is nothing at this address for it.
        GatewayError::NotSupported(_) => ServiceError::NotFound("payment notices of this gateway"),
        GatewayError::Refused { code, .. } => ServiceError::Gateway {
            code: "payment_not_confirmed",
            message: format!(
                "the gateway does not confirm this payment ({code}); nothing was marked paid"
            ),
        },
        GatewayError::Protocol(why) => ServiceError::Gateway {
            code: "payment_not_confirmed",
            message: format!("the gateway's answer does not confirm this payment: {why}"),
        },
        other => gateway_error(other),
    }
}
