//! The gateway side of refunds: the `refund.send` job, which asks the
//! gateway once (the refund moves `queued → sending` by compare-and-set
//! before the call; a lost answer is never sent again but asked about),
//! and `refunds.follow`, which asks about refunds under way until the
//! gateway says they are final. No pooled connection is held while a
//! gateway answers.
use super::number;
use crate::disclosures::disclose;
use crate::error::Result;
use crate::{audit, Actor, ServiceError, Services};
use chotomoni_domain::catalog::{Purpose, Recipient};
use chotomoni_domain::refund::gateway_refund_refusal;
use chotomoni_domain::{AuditAction, RefundState};
use chotomoni_gateway::{
    Gateway, GatewayError, PaymentFacts, PaymentOutcome, RefundFacts, RefundOutcome, RefundRequest,
};
use chotomoni_storage::payments::{self as payment_rows, PaymentRow};
use chotomoni_storage::refunds::{self as rows, RefundRow, Said};
use chotomoni_storage::Conn;
use std::sync::Arc;

/// What a gateway refund tells the gateway (and the disclosure log says).
const SENT_FIELDS: &[&str] = &["refunds.amount", "payments.gateway_transaction_id"];
/// Refunds followed per run of `refunds.follow`.
const FOLLOW_BATCH: i64 = 50;
/// A refund not heard of for this long is asked about again.
const FOLLOW_AFTER_MS: i64 = 10 * 60_000;

fn paid_facts(p: &PaymentRow) -> PaymentFacts {
    PaymentFacts {
        tran_id: p.tran_id.clone(),
        outcome: PaymentOutcome::Paid,
        amount: p.paid_amount,
        currency: Some(p.currency.clone()),
        gateway_payment_id: p.gateway_payment_id.clone(),
        gateway_transaction_id: p.gateway_transaction_id.clone(),
        risk_level: p.risk_level.and_then(|r| u8::try_from(r).ok()),
        gateway_status: p.gateway_status.clone().unwrap_or_default(),
    }
}

/// Our id for a refund at the gateway (bKash `sku`, SSLCommerz `refe_id`).
fn refund_ref(r: &RefundRow) -> String {
    format!("{}-R{}", number(r.order_id), r.id)
}

fn request(r: &RefundRow, payment: &PaymentRow) -> RefundRequest {
    RefundRequest {
        refund_id: refund_ref(r),
        payment: paid_facts(payment),
        amount: r.amount,
        // Never the desk's words, which may name the customer.
        reason: match r.claim_id {
            Some(claim) => format!("Claim {claim} refund"),
            None => format!("Payment {} returned", payment.tran_id),
        },
    }
}

impl Services {
    /// The `refund.send` job: asks the gateway for refund `id`, once. No
    /// pooled connection is held while the gateway answers.
    pub(crate) async fn send_refund(&self, id: i64) -> Result<()> {
        let (refund, target, taken) = {
            let mut conn = self.db.conn().await?;
            let Some(refund) = rows::get(&mut conn, id).await? else {
                return Ok(());
            };
            if refund.state != RefundState::Queued {
                // Sent already, or cut off mid-call: `refunds.follow` asks.
                return Ok(());
            }
            let target = self.refund_target(&mut conn, &refund).await?;
            let taken = match &target {
                Ok((payment, _)) => {
                    rows::taken_from_payment(&mut conn, payment.id, refund.id).await?
                }
                Err(_) => 0,
            };
            (refund, target, taken)
        };
        let (payment, adapter) = match target {
            Ok(found) => found,
            Err(why) => return self.refuse_refund(&refund, RefundState::Queued, &why).await,
        };
        let now = self.now_ms();
        let refundable = payment.paid_amount.unwrap_or(payment.amount) - taken;
        let paid_at = payment.finished_at.unwrap_or(payment.started_at);
        if let Some(why) =
            gateway_refund_refusal(payment.gateway, paid_at, now, refund.amount, refundable)
        {
            return self.refuse_refund(&refund, RefundState::Queued, &why).await;
        }
        // The state moves before the call: only this run calls, and a run
        // that finds it `sending` leaves it to the follow-up's question.
        let mut tx = self.db.begin().await?;
        let said = Said::default();
        if !rows::move_state(
            &mut tx,
            id,
            RefundState::Queued,
            RefundState::Sending,
            &said,
            now,
        )
        .await?
        {
            return Ok(());
        }
        let customer = self.order_customer(&mut tx, refund.order_id).await?;
        disclose(
            &mut tx,
            customer,
            Some(refund.order_id),
            Recipient::PaymentGateway,
            SENT_FIELDS,
            Purpose::Fulfilment,
        )
        .await?;
        audit::change(
            &mut tx,
            &Actor::System,
            AuditAction::RefundSend,
            &format!("refund:{id}"),
            &format!("gateway={} amount={}", payment.gateway, refund.amount),
        )
        .await?;
        tx.commit().await?;
        let answer = adapter.refund(&request(&refund, &payment)).await;
        self.refund_answered(&refund, RefundState::Sending, answer)
            .await
    }

    /// The `refunds.follow` job: refunds a gateway is processing (or whose
    /// call was cut off) asked about; how many were asked.
    pub async fn follow_refunds(&self) -> Result<usize> {
        let now = self.now_ms();
        let due = {
            let mut conn = self.db.conn().await?;
            rows::to_follow(&mut conn, now - FOLLOW_AFTER_MS, FOLLOW_BATCH).await?
        };
        for refund in &due {
            let target = {
                let mut conn = self.db.conn().await?;
                self.refund_target(&mut conn, refund).await?
            };
            let (payment, adapter) = match target {
                Ok(found) => found,
                Err(why) => {
                    self.refuse_refund(refund, refund.state, &why).await?;
                    continue;
                }
            };
            let answer = match refund.gateway_ref.as_deref() {
                Some(reference) => {
                    adapter
                        .refund_status(&request(refund, &payment), reference)
                        .await
                }
                // SSLCommerz is asked by its refund_ref_id; bKash by the
                // payment, so a cut-off call is asked about there.
                None if payment.gateway == chotomoni_domain::GatewayName::Bkash => {
                    adapter.refund_status(&request(refund, &payment), "").await
                }
                None => {
                    let why = "the gateway's answer to the refund was lost: check it in the \
                               merchant panel, then record it as paid by hand if it was not made";
                    self.refuse_refund(refund, refund.state, why).await?;
                    continue;
                }
            };
            self.refund_answered(refund, refund.state, answer).await?;
        }
        Ok(due.len())
    }

    /// The payment a gateway refund gives back from and its gateway, or
    /// why there is none (the inner error, for the desk).
    async fn refund_target(
        &self,
        conn: &mut Conn,
        refund: &RefundRow,
    ) -> Result<std::result::Result<(PaymentRow, Arc<dyn Gateway>), String>> {
        let payment = match refund.payment_id {
            Some(p) => payment_rows::by_id(conn, p).await?,
            None => None,
        };
        let Some(payment) = payment else {
            return Ok(Err("the refund names no online payment".to_owned()));
        };
        Ok(match self.gateways().get(payment.gateway).cloned() {
            Some(adapter) => Ok((payment, adapter)),
            None => Err(format!(
                "{} is not set up on this server: pay this refund back by hand and record it",
                payment.gateway.label()
            )),
        })
    }

    /// Records what the gateway answered about `refund`, found in `from`.
    async fn refund_answered(
        &self,
        refund: &RefundRow,
        from: RefundState,
        answer: std::result::Result<RefundFacts, GatewayError>,
    ) -> Result<()> {
        let now = self.now_ms();
        let facts = match answer {
            Ok(facts) => facts,
            Err(e) if e.is_transient() || matches!(e, GatewayError::Protocol(_)) => {
                // Whether the gateway acted is unknown: asked about later,
                // never sent again.
                tracing::warn!(refund = refund.id, error = %e, "a refund's answer was lost; it will be asked about");
                let mut conn = self.db.conn().await?;
                let said = Said {
                    message: Some("the gateway did not answer; asking it again"),
                    ..Said::default()
                };
                rows::move_state(
                    &mut conn,
                    refund.id,
                    from,
                    RefundState::Processing,
                    &said,
                    now,
                )
                .await?;
                return Ok(());
            }
            Err(GatewayError::Refused { code, message }) => {
                let why = format!("the gateway refused the refund ({code}): {message}");
                return self.refuse_refund(refund, from, &why).await;
            }
            Err(e) => return self.refuse_refund(refund, from, &e.to_string()).await,
        };
        let to = match facts.outcome {
            RefundOutcome::Refunded => RefundState::Refunded,
            RefundOutcome::Processing => RefundState::Processing,
            RefundOutcome::Refused => {
                let why = format!("the gateway refused the refund: {}", facts.gateway_status);
                return self.refuse_refund(refund, from, &why).await;
            }
        };
        let mut tx = self.db.begin().await?;
        let said = Said {
            gateway_ref: facts.gateway_ref.as_deref(),
            gateway_status: Some(&facts.gateway_status),
            message: None,
        };
        if !rows::move_state(&mut tx, refund.id, from, to, &said, now).await? {
            return Ok(());
        }
        if to == RefundState::Refunded {
            self.refund_done(&mut tx, refund, &Actor::System, AuditAction::RefundPaid, "")
                .await?;
        }
        tx.commit().await?;
        tracing::info!(refund = refund.id, state = %to, "a refund moved");
        Ok(())
    }

    async fn refuse_refund(&self, refund: &RefundRow, from: RefundState, why: &str) -> Result<()> {
        let now = self.now_ms();
        let mut tx = self.db.begin().await?;
        let said = Said {
            message: Some(why),
            ..Said::default()
        };
        if rows::move_state(&mut tx, refund.id, from, RefundState::Refused, &said, now).await? {
            audit::change(
                &mut tx,
                &Actor::System,
                AuditAction::RefundRefused,
                &format!("refund:{}", refund.id),
                why,
            )
            .await?;
        }
        tx.commit().await?;
        tracing::warn!(
            refund = refund.id,
            reason = why,
            "a refund was refused; staff pay it by hand"
        );
        Ok(())
    }

    async fn order_customer(&self, conn: &mut Conn, order_id: i64) -> Result<i64> {
        Ok(chotomoni_storage::orders::get(conn, order_id)
            .await?
            .ok_or(ServiceError::NotFound("order"))?
            .customer_id)
    }
}
