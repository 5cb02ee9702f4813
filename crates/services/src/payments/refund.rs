//! Refunds: of decided claims, and of held payments staff send back
//! instead of accepting (a second payment of a paid order, a wrong
//! amount). Deciding a claim's refund opens one in the same transaction: through the gateway that paid the order (a `refund.send`
//! job asks it), or, for cash on delivery, one staff pay by hand and
//! record with the wallet's transaction id. The job moves the refund to
//! `sending` by compare-and-set before it calls, so the gateway is asked
//! once; a call cut off (no answer, a server stopped) is not repeated but
//! asked about by `refunds.follow`, which follows processing refunds until
//! the gateway says they are final.
use super::number;
use crate::disclosures::disclose;
use crate::error::Result;
use crate::jobs::Job;
use crate::orders::millis_to_rfc3339;
use crate::{audit, Actor, ServiceError, Services};
use chotomoni_domain::catalog::{Purpose, Recipient};
use chotomoni_domain::refund::gateway_refund_refusal;
use chotomoni_domain::staff::Permission;
use chotomoni_domain::{
    AuditAction, FieldError, JobKind, RefundMethod, RefundState, RefundWallet, WalletTrxId,
};
use chotomoni_gateway::{
    Gateway, GatewayError, PaymentFacts, PaymentOutcome, RefundFacts, RefundOutcome, RefundRequest,
};
use chotomoni_storage::payments::{self as payment_rows, PaymentRow};
use chotomoni_storage::refunds::{self as rows, NewRefund, RefundRow, Said};
use chotomoni_storage::Conn;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// What a gateway refund tells the gateway (and the disclosure log says).
const SENT_FIELDS: &[&str] = &["refunds.amount", "payments.gateway_transaction_id"];
/// Refunds followed per run of `refunds.follow`.
const FOLLOW_BATCH: i64 = 50;
/// A refund not heard of for this long is asked about again.
const FOLLOW_AFTER_MS: i64 = 10 * 60_000;
const STAFF_LIST_LIMIT: i64 = 200;

/// A claim's refund, as its customer and the desk see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RefundView {
    pub id: i64,
    pub order: String,
    /// The claim it pays; none for a held payment sent back.
    pub claim: Option<i64>,
    /// `bkash`, `sslcommerz`, or `manual` (paid by the shop by hand).
    pub method: RefundMethod,
    /// Poisha given back.
    pub amount: i64,
    pub status: RefundState,
    /// The gateway's reference for the refund.
    pub gateway_reference: Option<String>,
    /// Why the gateway refused it, in its words, or ours.
    pub message: Option<String>,
    /// A refund paid by hand: the wallet (or bank) and its transaction id.
    pub wallet: Option<RefundWallet>,
    pub wallet_trx_id: Option<String>,
    pub requested_at: String,
    pub finished_at: Option<String>,
}

pub(crate) fn refund_view(r: RefundRow) -> RefundView {
    RefundView {
        id: r.id,
        order: number(r.order_id),
        claim: r.claim_id,
        method: r.method,
        amount: r.amount,
        status: r.state,
        gateway_reference: r.gateway_ref,
        message: r.message,
        wallet: r.wallet,
        wallet_trx_id: r.wallet_trx_id,
        requested_at: millis_to_rfc3339(r.requested_at),
        finished_at: r.finished_at.map(millis_to_rfc3339),
    }
}

/// A refund staff paid by hand.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualRefundInput {
    pub wallet: RefundWallet,
    /// The wallet's transaction id (6 to 30 letters and digits), never
    /// the wallet's number.
    #[schema(min_length = 6, max_length = 30, pattern = "^[A-Za-z0-9]+$")]
    pub trx_id: String,
}

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
    /// Opens the refund of claim `claim_id`'s decision in `tx`: through the
    /// gateway that paid the order, else one staff pay by hand.
    pub(crate) async fn open_refund(
        &self,
        tx: &mut Conn,
        claim_id: i64,
        order_id: i64,
        amount: i64,
    ) -> Result<()> {
        let now = self.now_ms();
        let paid = payment_rows::paid_of_order(tx, order_id).await?;
        let (method, state) = match &paid {
            Some(p) => (RefundMethod::from(p.gateway), RefundState::Queued),
            None => (RefundMethod::Manual, RefundState::AwaitingManual),
        };
        let id = rows::insert(
            tx,
            &NewRefund {
                claim_id: Some(claim_id),
                order_id,
                payment_id: paid.as_ref().map(|p| p.id),
                method,
                amount,
                state,
                at: now,
            },
        )
        .await?;
        if state == RefundState::Queued {
            self.enqueue(tx, Job::about(JobKind::RefundSend, id))
                .await?;
        }
        Ok(())
    }

    /// Staff send a held payment back through its gateway instead of
    /// accepting it: what the gateway confirmed is refunded by the
    /// `refund.send` job, and the payment is no longer held nor acceptable.
    /// Only a held payment, once.
    pub async fn refund_held_payment(&self, actor: &Actor, tran_id: &str) -> Result<RefundView> {
        actor.require(Permission::ViewCustomerContact)?;
        let now = self.now_ms();
        let mut tx = self.db.begin().await?;
        let payment = payment_rows::by_tran_id(&mut tx, tran_id)
            .await?
            .ok_or(ServiceError::NotFound("payment"))?;
        if !payment_rows::open_held_refund(&mut tx, tran_id, now).await? {
            return Err(ServiceError::Conflict(format!(
                "only a held payment not already being sent back is sent back; this one is {}",
                payment.status
            )));
        }
        let id = rows::insert(
            &mut tx,
            &NewRefund {
                claim_id: None,
                order_id: payment.order_id,
                payment_id: Some(payment.id),
                method: RefundMethod::from(payment.gateway),
                amount: payment.paid_amount.unwrap_or(payment.amount),
                state: RefundState::Queued,
                at: now,
            },
        )
        .await?;
        self.enqueue(&mut tx, Job::about(JobKind::RefundSend, id))
            .await?;
        audit::change(
            &mut tx,
            actor,
            AuditAction::PaymentReturn,
            &format!("payment:{tran_id}"),
            &format!("refund:{id}"),
        )
        .await?;
        let row = rows::get(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("refund"))?;
        tx.commit().await?;
        tracing::info!(%tran_id, refund = id, by = %actor.audit_ref(), "a held payment is sent back");
        Ok(refund_view(row))
    }

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

    /// A refund finished: audited, and the order marked refunded once
    /// everything it was paid is given back.
    async fn refund_done(
        &self,
        tx: &mut Conn,
        refund: &RefundRow,
        actor: &Actor,
        action: AuditAction,
        detail: &str,
    ) -> Result<()> {
        audit::change(
            tx,
            actor,
            action,
            &format!("refund:{}", refund.id),
            format!("amount={} {detail}", refund.amount).trim_end(),
        )
        .await?;
        let order = chotomoni_storage::orders::get(tx, refund.order_id)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        let refunded = rows::refunded_on_order(tx, refund.order_id).await?;
        if refunded >= order.total {
            payment_rows::mark_order_refunded(tx, refund.order_id, self.now_ms()).await?;
        }
        Ok(())
    }

    async fn order_customer(&self, conn: &mut Conn, order_id: i64) -> Result<i64> {
        Ok(chotomoni_storage::orders::get(conn, order_id)
            .await?
            .ok_or(ServiceError::NotFound("order"))?
            .customer_id)
    }

    /// Staff record a refund they paid by hand (cash on delivery, or one a
    /// gateway refused): the wallet and its transaction id.
    pub async fn record_manual_refund(
        &self,
        actor: &Actor,
        id: i64,
        input: &ManualRefundInput,
    ) -> Result<RefundView> {
        actor.require(Permission::HandleClaims)?;
        let trx = WalletTrxId::parse("trx_id", &input.trx_id)?;
        let by = actor.staff_id().ok_or(ServiceError::Forbidden)?;
        let now = self.now_ms();
        let mut tx = self.db.begin().await?;
        let refund = rows::get(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("refund"))?;
        if !refund.state.may_be_paid_by_hand() {
            return Err(ServiceError::Conflict(format!(
                "the refund is {}; only one awaiting payment by hand or refused by its gateway is recorded",
                refund.state
            )));
        }
        if !rows::record_manual(&mut tx, id, input.wallet, trx.as_str(), by, now).await? {
            return Err(ServiceError::Conflict(
                "the refund was recorded meanwhile".into(),
            ));
        }
        let detail = format!("wallet={}", input.wallet);
        self.refund_done(&mut tx, &refund, actor, AuditAction::RefundManual, &detail)
            .await?;
        let row = rows::get(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("refund"))?;
        tx.commit().await?;
        tracing::info!(refund = id, by = %actor.audit_ref(), "a refund paid by hand was recorded");
        Ok(refund_view(row))
    }

    /// Refunds staff must pay by hand (awaiting it, or refused by the
    /// gateway), oldest first.
    pub async fn refunds_to_pay(&self, actor: &Actor) -> Result<Vec<RefundView>> {
        actor.require(Permission::HandleClaims)?;
        let mut conn = self.db.conn().await?;
        Ok(rows::needing_staff(&mut conn, STAFF_LIST_LIMIT)
            .await?
            .into_iter()
            .map(refund_view)
            .collect())
    }

    /// A claim's refund, if its decision gave one.
    pub(crate) async fn claim_refund(
        &self,
        conn: &mut Conn,
        claim_id: i64,
    ) -> Result<Option<RefundView>> {
        Ok(rows::of_claim(conn, claim_id).await?.map(refund_view))
    }
}

impl ManualRefundInput {
    /// For the desk's form: a wallet named by its text.
    pub fn from_form(wallet: &str, trx_id: &str) -> Result<ManualRefundInput> {
        Ok(ManualRefundInput {
            wallet: RefundWallet::parse(wallet).ok_or_else(|| {
                FieldError::new("wallet", "must be bkash, nagad, rocket, upay or bank")
            })?,
            trx_id: trx_id.to_owned(),
        })
    }
}
