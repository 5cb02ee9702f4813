//! Filing a claim: by the customer on their own delivered order, or by the
//! desk for them or for a marketplace or courier. One transaction stores
//! the claim, its lines and sealed description, and the hold that keeps
//! the order's proof while it is open.
use super::ClaimView;
use crate::audit;
use crate::error::{Result, ServiceError};
use crate::{Actor, Services};
use chotomoni_domain::catalog::{sealed, Lang};
use chotomoni_domain::claim::{MAX_DESCRIPTION, MAX_REFERENCE};
use chotomoni_domain::error::optional_text;
use chotomoni_domain::staff::Permission;
use chotomoni_domain::AuditAction;
use chotomoni_domain::{
    ClaimKind, CustomerId, FieldError, HoldReason, OrderNumber, OrderStatus, RaisedBy,
};
use chotomoni_storage::claims::{self as rows, NewClaim};
use chotomoni_storage::orders::ItemRow;
use chotomoni_storage::StorageError;
use serde::Deserialize;
use utoipa::ToSchema;

/// One line of the order the claim is about.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimItemInput {
    /// The order line's number (1 for its first line).
    #[schema(minimum = 1, maximum = 1000)]
    pub line_no: i64,
    /// How many of that line, at most as many as were ordered.
    #[schema(minimum = 1, maximum = 10000)]
    pub quantity: i64,
}

/// A claim as filed.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimInput {
    pub kind: ClaimKind,
    /// Which lines and how many; may be empty only for `not_received` and `other`.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub items: Vec<ClaimItemInput>,
    /// What happened, in the customer's words.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// Staff only: `support` (for the customer, by phone or message; the
    /// default), `marketplace` or `courier`. A customer's own claim is `customer`.
    #[serde(default)]
    pub raised_by: Option<RaisedBy>,
    /// The marketplace's or courier's reference; required when they raised it.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub reference: Option<String>,
    /// The language the customer is told the decision in: `bn` (default) or `en`.
    #[serde(default)]
    #[schema(pattern = "^(bn|en)$")]
    pub lang: Option<String>,
}

/// The input, checked against the order it is about.
struct Checked {
    raised_by: RaisedBy,
    reference: Option<String>,
    description: Option<String>,
    lang: Lang,
    items: Vec<(i64, i64)>,
}

impl ClaimInput {
    fn check(&self, actor: &Actor, lines: &[ItemRow]) -> Result<Checked> {
        let raised_by = match (actor, self.raised_by) {
            (Actor::Customer(_), None | Some(RaisedBy::Customer)) => RaisedBy::Customer,
            (Actor::Customer(_), Some(_)) => {
                return Err(
                    FieldError::new("raised_by", "only the desk sets who raised a claim").into(),
                )
            }
            (_, None) => RaisedBy::Support,
            (_, Some(RaisedBy::Customer)) => {
                return Err(FieldError::new(
                    "raised_by",
                    "the desk files for a customer as `support`",
                )
                .into())
            }
            (_, Some(r)) => r,
        };
        let reference = optional_text(
            "reference",
            self.reference.as_deref().unwrap_or(""),
            MAX_REFERENCE,
        )?;
        match raised_by {
            RaisedBy::Marketplace | RaisedBy::Courier if reference.is_none() => {
                return Err(FieldError::new(
                    "reference",
                    "is required when a marketplace or courier raised the claim",
                )
                .into())
            }
            RaisedBy::Customer if reference.is_some() => {
                return Err(FieldError::new(
                    "reference",
                    "is only for a marketplace's or courier's claim",
                )
                .into())
            }
            _ => {}
        }
        let description = optional_text(
            "description",
            self.description.as_deref().unwrap_or(""),
            MAX_DESCRIPTION,
        )?;
        let lang = match self.lang.as_deref() {
            None | Some("bn") => Lang::Bn,
            Some("en") => Lang::En,
            Some(_) => return Err(FieldError::new("lang", "must be `bn` or `en`").into()),
        };
        Ok(Checked {
            raised_by,
            reference,
            description,
            lang,
            items: check_items(self.kind, &self.items, lines)?,
        })
    }
}

/// Each claimed line is a line of the order, once, at most as many as were
/// ordered.
fn check_items(
    kind: ClaimKind,
    items: &[ClaimItemInput],
    lines: &[ItemRow],
) -> Result<Vec<(i64, i64)>> {
    let field = |message: String| -> ServiceError { FieldError::new("items", message).into() };
    if items.is_empty() && !matches!(kind, ClaimKind::NotReceived | ClaimKind::Other) {
        return Err(field("name the items and how many of each".into()));
    }
    if items.len() > 100 {
        return Err(field("at most 100 lines".into()));
    }
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(items.len());
    for it in items {
        let Some(line) = lines.iter().find(|l| l.line_no == it.line_no) else {
            return Err(field(format!("the order has no line {}", it.line_no)));
        };
        if out.iter().any(|(n, _)| *n == it.line_no) {
            return Err(field(format!("line {} is named twice", it.line_no)));
        }
        if it.quantity < 1 || it.quantity > line.quantity {
            return Err(field(format!(
                "line {} was ordered {} times; claim between 1 and {}",
                it.line_no, line.quantity, line.quantity
            )));
        }
        out.push((it.line_no, it.quantity));
    }
    out.sort_unstable();
    Ok(out)
}

impl Services {
    /// Files a claim on a delivered order. Someone else's order is not
    /// found; an order not yet delivered, or one with an open claim, is a
    /// conflict; a claim outside the window is refused naming `window`.
    pub async fn file_claim(
        &self,
        actor: &Actor,
        number: OrderNumber,
        input: &ClaimInput,
    ) -> Result<ClaimView> {
        match actor {
            Actor::Customer(_) => {}
            _ if actor.staff_may(Permission::HandleClaims) => {}
            Actor::Staff { .. } => return Err(ServiceError::Forbidden),
            _ => return Err(ServiceError::Unauthenticated),
        }
        let now = self.now_ms();
        let rules = self.settings.claims;
        let mut tx = self.db.begin().await?;
        let full = chotomoni_storage::orders::get_full(
            &mut tx,
            self.db.engine,
            number.id().0,
            Default::default(),
        )
        .await?
        .ok_or(ServiceError::NotFound("order"))?;
        let order = &full.order;
        if let Actor::Customer(CustomerId(id)) = actor {
            if order.account_owner() != Some(*id) {
                return Err(ServiceError::NotFound("order"));
            }
        }
        if order.erased_at.is_some() {
            return Err(ServiceError::Conflict(
                "this order's customer was erased; it can take no new claim".into(),
            ));
        }
        if order.status != OrderStatus::Delivered {
            return Err(ServiceError::Conflict(
                "the order has not been delivered; a claim can be filed once it is".into(),
            ));
        }
        let checked = input.check(actor, &full.items)?;
        if matches!(checked.raised_by, RaisedBy::Customer | RaisedBy::Support) {
            let delivered_at = rows::delivered_at(&mut tx, order.id)
                .await?
                .unwrap_or(order.updated_at);
            rules.check_window(delivered_at, now)?;
        }
        if let Some(open) = rows::open_on_order(&mut tx, order.id).await? {
            return Err(open_already(open.id));
        }
        let hold_id = chotomoni_storage::erasure::place_hold(
            &mut tx,
            order.id,
            HoldReason::OpenClaim,
            "",
            actor.staff_id(),
            now,
            None,
        )
        .await?;
        let filed_by = actor.audit_ref();
        let id = rows::insert(
            &mut tx,
            &NewClaim {
                order_id: order.id,
                customer_id: order.customer_id,
                kind: input.kind,
                raised_by: checked.raised_by,
                reference: checked.reference.as_deref(),
                lang: checked.lang,
                filed_by: &filed_by,
                filed_at: now,
                first_response_due_at: rules.first_response_due(now),
                decision_due_at: rules.decision_due(now),
                hold_id,
            },
        )
        .await
        .map_err(|e| match e {
            // Another filing won the race for the one open claim.
            StorageError::Duplicate(_) => {
                ServiceError::Conflict("a claim is already open on this order".into())
            }
            e => e.into(),
        })?;
        for (line_no, quantity) in &checked.items {
            rows::insert_item(&mut tx, id, *line_no, *quantity).await?;
        }
        if let Some(text) = &checked.description {
            let key = self.claimant_key(&mut tx, order.customer_id).await?;
            let sealed = crate::vault::seal_text(&key, sealed::CLAIM_DESCRIPTION, id, text);
            rows::set_description(&mut tx, id, &sealed).await?;
        }
        audit::change(
            &mut tx,
            actor,
            AuditAction::ClaimFile,
            &format!("claim:{id}"),
            &format!(
                "order:{number} kind={} raised_by={}",
                input.kind, checked.raised_by
            ),
        )
        .await?;
        let row = rows::get(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("claim"))?;
        tx.commit().await?;
        tracing::info!(claim = id, order = %number, kind = %input.kind, "claim filed");
        let mut conn = self.db.conn().await?;
        self.claim_view(&mut conn, row, now).await
    }
}

/// Filing again while a claim is open shows which one is open.
fn open_already(id: i64) -> ServiceError {
    ServiceError::Conflict(format!(
        "claim {id} is already open on this order; add to it instead of filing again"
    ))
}
