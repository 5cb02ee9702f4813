//! The desk's answers to a claim: taking it up (the first response) and
//! deciding it. A decision is stored once (a second one is a conflict),
//! a replacement creates its order in the same transaction, the hold on
//! the order's proof then runs to the end of the appeal period, and the
//! customer is told by a message job queued with it.
use super::{number, ClaimView};
use crate::audit;
use crate::error::{Result, ServiceError};
use crate::orders::local_time;
use crate::vault::{open_delivery, open_text};
use crate::{Actor, Services};
use chotomoni_domain::catalog::{sealed, Lang};
use chotomoni_domain::claim::CheckedDecision;
use chotomoni_domain::staff::Permission;
use chotomoni_domain::AuditAction;
use chotomoni_domain::{CustomerId, Decision, FieldError, JobKind, OrderStatus, PaymentStatus};
use chotomoni_storage::claims::{self as rows, ClaimRow, Decided};
use chotomoni_storage::orders::{self as orders_repo, FullOrder, ItemRow, NewOrder};
use chotomoni_storage::Conn;
use serde::Deserialize;
use utoipa::ToSchema;

/// The email subject of a decision.
pub const DECISION_SUBJECT: &str =
    "ছোটমনি: আপনার ক্লেইমের সিদ্ধান্ত / Chotomoni: your claim was decided";

/// A decision as the desk gives it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub decision: Decision,
    /// Poisha to refund: required for a partial refund (at most what was
    /// paid, less earlier refunds), optional for a full one (it must then
    /// be that amount), absent otherwise.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100000000000_i64)]
    pub amount: Option<i64>,
    /// Why, in words the customer will read.
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

impl Services {
    /// The desk takes a claim up: its first response. Only an open claim.
    pub async fn review_claim(&self, actor: &Actor, id: i64) -> Result<ClaimView> {
        if !actor.staff_may(Permission::HandleClaims) {
            return Err(ServiceError::Forbidden);
        }
        let now = self.now_ms();
        let mut tx = self.db.begin().await?;
        let row = self.claim_for(&mut tx, actor, id).await?;
        if !rows::mark_in_review(&mut tx, id, now).await? {
            return Err(ServiceError::Conflict(format!(
                "the claim is {}; only an open claim is taken up",
                row.status
            )));
        }
        audit::change(
            &mut tx,
            actor,
            AuditAction::ClaimReview,
            &format!("claim:{id}"),
            "",
        )
        .await?;
        let row = rows::get(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("claim"))?;
        tx.commit().await?;
        let mut conn = self.db.conn().await?;
        self.claim_view(&mut conn, row, now).await
    }

    /// Decides a claim. A refund is at most what was paid for the order,
    /// less what earlier claims refunded (422 naming `amount`).
    pub async fn decide_claim(
        &self,
        actor: &Actor,
        id: i64,
        input: &DecisionInput,
    ) -> Result<ClaimView> {
        if !actor.staff_may(Permission::HandleClaims) {
            return Err(ServiceError::Forbidden);
        }
        let now = self.now_ms();
        let mut tx = self.db.begin().await?;
        let claim = self.claim_for(&mut tx, actor, id).await?;
        if claim.status.is_closed() {
            return Err(ServiceError::Conflict(
                "the claim was already decided".into(),
            ));
        }
        let full =
            orders_repo::get_full(&mut tx, self.db.engine, claim.order_id, Default::default())
                .await?
                .ok_or(ServiceError::NotFound("order"))?;
        let refunded = rows::refunded_on_order(&mut tx, claim.order_id).await?;
        let paid = (full.order.total - refunded).max(0);
        let checked = CheckedDecision::new(input.decision, input.amount, &input.reason, paid)?;
        let replacement = match checked.decision {
            Decision::Replacement => Some(
                self.replacement_order(&mut tx, actor, &claim, &full)
                    .await?,
            ),
            _ => None,
        };
        let decided = rows::decide(
            &mut tx,
            id,
            &Decided {
                decision: checked.decision,
                refund_amount: checked.refund,
                reason: &checked.reason,
                replacement_order_id: replacement,
                decided_by: actor.staff_id(),
                decided_at: now,
            },
        )
        .await?;
        if !decided {
            return Err(ServiceError::Conflict(
                "the claim was already decided".into(),
            ));
        }
        if let Some(amount) = checked.refund {
            self.open_refund(&mut tx, id, claim.order_id, amount)
                .await?;
        }
        let hold_until = self.settings.claims.hold_until(now);
        rows::end_hold_at(&mut tx, claim.hold_id, hold_until).await?;
        let mut detail = format!("decision={}", checked.decision);
        if let Some(amount) = checked.refund {
            detail.push_str(&format!(" amount={amount}"));
        }
        if let Some(r) = replacement {
            detail.push_str(&format!(" replacement=order:{}", number(r)));
        }
        audit::change(
            &mut tx,
            actor,
            AuditAction::ClaimDecide,
            &format!("claim:{id}"),
            &detail,
        )
        .await?;
        if self.can_tell() {
            if let Some(reach) = self.reach_on(&mut tx, CustomerId(claim.customer_id)).await {
                let text = decision_text(&claim, &checked, replacement, hold_until);
                self.queue_message(&mut tx, JobKind::ClaimDecisionNotice, id, reach, text)
                    .await?;
            }
        }
        let row = rows::get(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("claim"))?;
        tx.commit().await?;
        tracing::info!(claim = id, decision = %checked.decision, "claim decided");
        let mut conn = self.db.conn().await?;
        self.claim_view(&mut conn, row, now).await
    }

    /// A new order for the claimed lines, free of charge, to the same
    /// address, ready to pack.
    async fn replacement_order(
        &self,
        tx: &mut Conn,
        actor: &Actor,
        claim: &ClaimRow,
        original: &FullOrder,
    ) -> Result<i64> {
        let claimed = rows::items(tx, claim.id).await?;
        if claimed.is_empty() {
            return Err(FieldError::new(
                "decision",
                "a replacement needs the claim to name the items to replace",
            )
            .into());
        }
        let o = &original.order;
        let key = self.claimant_key(tx, o.customer_id).await?;
        let delivery = open_delivery(&key, o.id, o.address_enc.as_deref())?
            .ok_or_else(|| ServiceError::Conflict("the order has no address to send to".into()))?;
        let instructions = open_text(
            &key,
            sealed::ORDER_INSTRUCTIONS,
            o.id,
            o.instructions_enc.as_deref(),
        )?;
        let at = self.now_ms();
        let id = orders_repo::insert(
            tx,
            &NewOrder {
                customer_id: o.customer_id,
                status: OrderStatus::Confirmed,
                payment_method: o.payment_method,
                // Nothing is collected for a replacement.
                payment_status: PaymentStatus::Paid,
                source: o.source,
                total: 0,
                created_by: actor.staff_id(),
                at,
                unconfirmed: false,
                marketing_opt_in: false,
            },
        )
        .await?;
        let address = self.vault.seal_delivery_record(&key, id, &delivery);
        let instructions = instructions.map(|t| self.vault.seal_instructions(&key, id, &t));
        orders_repo::set_sealed(tx, id, &address, instructions.as_deref()).await?;
        let items: Vec<ItemRow> = claimed
            .iter()
            .enumerate()
            .filter_map(|(i, (line_no, quantity))| {
                let line = original.items.iter().find(|l| l.line_no == *line_no)?;
                Some(ItemRow {
                    order_id: id,
                    line_no: i as i64 + 1,
                    sku: line.sku.clone(),
                    name: line.name.clone(),
                    quantity: *quantity,
                    unit_price: 0,
                })
            })
            .collect();
        orders_repo::insert_items(tx, &items).await?;
        orders_repo::insert_event(tx, id, None, OrderStatus::Confirmed, actor.staff_id(), at)
            .await?;
        audit::change(
            tx,
            actor,
            AuditAction::OrderCreate,
            &format!("order:{}", number(id)),
            &format!(
                "customer:{} replacement_for=claim:{}",
                o.customer_id, claim.id
            ),
        )
        .await?;
        Ok(id)
    }
}

/// The customer's message, in the claim's language.
fn decision_text(
    claim: &ClaimRow,
    d: &CheckedDecision,
    replacement: Option<i64>,
    hold_until: i64,
) -> String {
    let order = number(claim.order_id);
    let bangla = claim.lang == Lang::Bn;
    let taka = |p: i64| format!("{}.{:02}", p / 100, p % 100);
    let outcome = match (d.decision, d.refund, replacement) {
        (Decision::FullRefund | Decision::PartialRefund, Some(p), _) if bangla => {
            format!("৳{} ফেরত দেওয়া হবে।", taka(p))
        }
        (Decision::FullRefund | Decision::PartialRefund, Some(p), _) => {
            format!("We will refund ৳{}.", taka(p))
        }
        (Decision::Replacement, _, Some(r)) if bangla => {
            format!("বদলি পণ্য পাঠানো হবে (অর্ডার {}).", number(r))
        }
        (Decision::Replacement, _, Some(r)) => {
            format!("We will send a replacement (order {}).", number(r))
        }
        (Decision::ReturnPickup, _, _) if bangla => "আমরা পণ্যটি ফেরত নিতে আসব।".into(),
        (Decision::ReturnPickup, _, _) => "We will pick the item up.".into(),
        _ if bangla => "ক্লেইমটি গ্রহণ করা হয়নি।".into(),
        _ => "The claim was not accepted.".into(),
    };
    if bangla {
        format!(
            "ছোটমনি: অর্ডার {order}-এর ক্লেইমের সিদ্ধান্ত: {} {outcome} কারণ: {} আপত্তি থাকলে {} পর্যন্ত জানাতে পারেন।",
            d.decision.label(true),
            d.reason,
            local_time(hold_until, true)
        )
    } else {
        format!(
            "Chotomoni: your claim on order {order} was decided: {}. {outcome} Reason: {} You can appeal until {}.",
            d.decision.label(false),
            d.reason,
            local_time(hold_until, false)
        )
    }
}
