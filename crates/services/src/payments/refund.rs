//! Refunds: of decided claims, and of held payments staff send back
//! instead of accepting them (a second payment of a paid order, a wrong
//! amount). Deciding a claim's refund opens one in the same transaction:
//! through the gateway that paid the order (`refund_send` asks it), or,
//! for cash on delivery, one staff pay back by hand and record with the
//! wallet's transaction id. What the desk and the customer see of one.
use super::number;
use crate::error::Result;
use crate::jobs::Job;
use crate::orders::millis_to_rfc3339;
use crate::{audit, Actor, ServiceError, Services};
use chotomoni_domain::staff::Permission;
use chotomoni_domain::{
    AuditAction, FieldError, JobKind, RefundMethod, RefundState, RefundWallet, WalletTrxId,
};
use chotomoni_storage::payments as payment_rows;
use chotomoni_storage::refunds::{self as rows, NewRefund, RefundRow};
use chotomoni_storage::Conn;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

    /// A refund finished: audited, and the order marked refunded once
    /// everything it was paid is given back.
    pub(super) async fn refund_done(
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
