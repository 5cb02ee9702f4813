//! Erasure, driven by the data catalog. Contact, delivery and technical
//! data are deleted; the legal record of each order (number, amounts,
//! dates, items) is kept under a stand-in customer with nothing linking it
//! to the person; proof media is deleted unless a legal hold covers its
//! order, in which case it is kept, sealed under the stand-in's key, until
//! the hold ends. The person's key is destroyed in the database and in the
//! key vault, so every earlier copy (backups, object-store versions) of
//! their sealed data is unreadable at once (crypto-shredding).
use crate::error::{Result, ServiceError};
use crate::outboxes::SentTo;
use crate::requests::ForRequest;
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::AuditAction;
use cleanup::Leftovers;

mod cleanup;
use crate::{audit, Actor, Services};
use chotomoni_domain::catalog;
use chotomoni_domain::staff::Permission;
use chotomoni_domain::{CustomerId, HoldReason, OrderId, OrderNumber, OrderStatus};
use chotomoni_storage::erasure as rows;
use serde::Serialize;
use utoipa::ToSchema;

/// A proof kept past the erasure, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct HeldProofs {
    pub order: String,
    pub reason: String,
    pub note: String,
    /// When the hold ends on its own (Unix ms); `None`: until released.
    pub until: Option<i64>,
    pub proofs: usize,
}

/// What an erasure did, by category and count; no personal data.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct ErasureReport {
    /// The person had already been erased; nothing more was done.
    pub already_erased: bool,
    pub erased_at: i64,
    /// Orders kept for legal records, without address or instructions.
    pub orders_pseudonymised: u64,
    pub proofs_deleted: usize,
    pub held: Vec<HeldProofs>,
}

impl ErasureReport {
    fn already(erased_at: i64) -> ErasureReport {
        ErasureReport {
            already_erased: true,
            erased_at,
            orders_pseudonymised: 0,
            proofs_deleted: 0,
            held: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErasureResult {
    Done(ErasureReport),
    /// Not now: an order is on its way. Retried by the request job.
    Postponed {
        reason: String,
    },
}

impl Services {
    /// Erases one customer. Idempotent: a second call reports the first.
    pub async fn erase_customer(
        &self,
        actor: &Actor,
        customer: CustomerId,
        request_id: Option<i64>,
    ) -> Result<ErasureResult> {
        self.erase_customer_for(actor, customer, request_id, None)
            .await
    }

    /// Erases one customer; with `request`, that privacy request is
    /// completed (and its last message queued) in the erasure's own
    /// transaction, so the two happen together or not at all.
    pub(crate) async fn erase_customer_for(
        &self,
        actor: &Actor,
        customer: CustomerId,
        request_id: Option<i64>,
        request: Option<ForRequest<'_>>,
    ) -> Result<ErasureResult> {
        if !actor.staff_may(Permission::HandlePrivacyRequests) {
            return Err(ServiceError::Forbidden);
        }
        let mut conn = self.db.conn().await?;
        if let Some(done) = rows::journal_entry(&mut conn, customer.0).await? {
            drop(conn);
            // A key vault that was unreachable the first time catches up.
            if let Err(e) = self.finish_in_key_vault(customer.0, done.erased_at).await {
                tracing::error!(error = %crate::error::chain(&e), "key vault: an erasure is not complete there");
            }
            return Ok(ErasureResult::Done(ErasureReport::already(done.erased_at)));
        }
        drop(conn);
        self.erase_now(actor, customer.0, (request_id, request), true)
            .await
    }

    /// `wait_for_couriers`: postpone while an order is out for delivery
    /// (not when a restore re-applies an erasure that was already made).
    pub(crate) async fn erase_now(
        &self,
        actor: &Actor,
        customer_id: i64,
        (request_id, request): (Option<i64>, Option<ForRequest<'_>>),
        wait_for_couriers: bool,
    ) -> Result<ErasureResult> {
        let now = self.now_ms();
        let mut tx = self.db.begin().await?;
        if let Some(done) = rows::journal_entry(&mut tx, customer_id).await? {
            // Another server's job got there first.
            return Ok(ErasureResult::Done(ErasureReport::already(done.erased_at)));
        }
        // Checked here, in the transaction that erases, so an order handed
        // over meanwhile cannot slip through.
        let on_the_way =
            rows::orders_in_status(&mut tx, customer_id, OrderStatus::HandedToCourier.as_str())
                .await?;
        if wait_for_couriers && !on_the_way.is_empty() {
            let numbers: Vec<String> = on_the_way
                .iter()
                .map(|id| OrderNumber::from_id(OrderId(*id)).to_string())
                .collect();
            return Ok(ErasureResult::Postponed {
                reason: format!(
                    "order {} is out for delivery; erasure resumes once it is delivered or returned",
                    numbers.join(", ")
                ),
            });
        }
        let customer = chotomoni_storage::customers::get(&mut tx, customer_id)
            .await?
            .ok_or(ServiceError::NotFound("customer"))?;
        let indexes = rows::contact_indexes(&mut tx, customer_id).await?;
        // Read before the key goes: the outboxes are cleared by it afterwards.
        let sent_to = self.contact_of(&customer);
        let attempts = crate::rate_limit::fingerprints_of(
            self.vault.keyring(),
            sent_to.phone.as_deref(),
            sent_to.email.as_deref(),
        );
        let proofs = rows::proofs_of_customer(&mut tx, customer_id).await?;
        let holds = rows::active_holds_of_customer(&mut tx, customer_id, now).await?;
        let (held, gone): (Vec<_>, Vec<_>) = proofs
            .into_iter()
            .partition(|p| holds.iter().any(|h| h.order_id == p.order_id));

        let placeholder = rows::insert_placeholder(&mut tx, now).await?;
        if !held.is_empty() {
            // Held proofs move to the stand-in, their keys re-sealed under its
            // own key, so the person's key can be destroyed now. When that key
            // is already gone (an erasure re-applied to a restored backup), the
            // held copies cannot be re-sealed: the live installation kept them.
            let old = self
                .vault
                .customer_key(customer_id, customer.wrapped_key.as_deref())
                .ok();
            let new = match &old {
                Some(_) => {
                    let (new, wrapped) = self.vault.new_customer_key(placeholder);
                    chotomoni_storage::customers::insert_key(&mut tx, placeholder, &wrapped, now)
                        .await?;
                    Some(new)
                }
                None => {
                    tracing::warn!(
                        proofs = held.len(),
                        "held proofs of an erased customer cannot be re-sealed: the key is gone"
                    );
                    None
                }
            };
            for p in &held {
                let resealed = match (&p.proof_key_enc, &old, &new) {
                    (Some(sealed), Some(old), Some(new)) => {
                        let context = sealed::PROOF_KEY.at(&p.blob_key);
                        let secret = old
                            .open_string(&context, sealed)
                            .map_err(|_| ServiceError::Sealed)?;
                        Some(new.seal_str(&context, &secret))
                    }
                    _ => None,
                };
                rows::move_proof(&mut tx, p.id, placeholder, resealed).await?;
            }
        }
        // What lies outside the database goes once the erasure has committed.
        let uploads = rows::upload_ids(&mut tx, customer_id).await?;
        let export_files = rows::export_files(&mut tx, customer_id).await?;
        let subject = rows::Subject {
            customer_id,
            stand_in: placeholder,
            contact_indexes: &indexes,
            sign_in_fingerprints: &attempts,
        };
        let mut orders = 0;
        for step in catalog::erasure_steps() {
            let changed = rows::run_step(&mut tx, &step, &subject).await?;
            if step.table() == "orders" {
                orders = changed;
            }
        }
        rows::mark_erased(&mut tx, customer_id, now).await?;
        rows::journal(&mut tx, customer_id, request_id, now, held.len() as i64).await?;
        audit::change(
            &mut tx,
            actor,
            AuditAction::CustomerErase,
            &format!("customer:{customer_id}"),
            &format!(
                "orders_pseudonymised={orders} proofs_deleted={} proofs_held={}",
                gone.len(),
                held.len()
            ),
        )
        .await?;
        let report = ErasureReport {
            already_erased: false,
            erased_at: now,
            orders_pseudonymised: orders,
            proofs_deleted: gone.len(),
            held: describe_holds(&holds, &held),
        };
        if let Some(request) = request {
            self.complete_erasure_request(&mut tx, request, &report)
                .await?;
        }
        let leftovers = Leftovers {
            customer_id,
            erased_at: now,
            files: gone
                .iter()
                .flat_map(|p| std::iter::once(p.blob_key.clone()).chain(p.poster_key.clone()))
                .chain(export_files)
                .collect(),
            staging: uploads,
        };
        self.queue_cleanup(&mut tx, &leftovers, &sent_to).await?;
        tx.commit().await?;

        if let Err(e) = self.clean_up_after_erasure(&leftovers, &sent_to).await {
            tracing::warn!(error = %crate::error::chain(&e), "an erasure left something behind; its job retries");
        }
        Ok(ErasureResult::Done(report))
    }

    /// The person's number and address, from which rate limiting made its
    /// fingerprints (see `rate_limit::fingerprints_of`) and to which the
    /// outboxes wrote; none when their key is already gone.
    fn contact_of(&self, c: &chotomoni_storage::customers::CustomerRow) -> SentTo {
        let Ok(key) = self.vault.customer_key(c.id, c.wrapped_key.as_deref()) else {
            return SentTo::default();
        };
        let open = |column: sealed::Sealed, value: Option<&[u8]>| {
            crate::vault::open_text(&key, column, c.id, value)
                .ok()
                .flatten()
        };
        SentTo {
            phone: open(sealed::CUSTOMER_PHONE, c.phone_enc.as_deref()),
            email: open(sealed::CUSTOMER_EMAIL, c.email_enc.as_deref())
                .map(|e| e.trim().to_lowercase()),
        }
    }

    /// Deletes proofs kept past an erasure whose holds have ended, and the
    /// stand-in keys that no longer seal anything. Run by the request job.
    pub async fn release_ended_holds(&self) -> Result<usize> {
        let mut conn = self.db.conn().await?;
        let ended = rows::proofs_no_longer_held(&mut conn, self.now_ms()).await?;
        drop(conn);
        if ended.is_empty() {
            return Ok(0);
        }
        let mut tx = self.db.begin().await?;
        crate::proofs::retention::forget_proofs(&mut tx, &ended, AuditAction::ProofEraseAfterHold)
            .await?;
        tx.commit().await?;
        for p in &ended {
            self.delete_proof_media(p).await;
        }
        Ok(ended.len())
    }

    /// Places a legal hold on an order's proof media.
    pub async fn place_hold(
        &self,
        actor: &Actor,
        order: OrderNumber,
        reason: HoldReason,
        note: &str,
        until: Option<i64>,
    ) -> Result<rows::HoldRow> {
        if !actor.staff_may(Permission::PlaceLegalHolds) {
            return Err(ServiceError::Forbidden);
        }
        let note = chotomoni_domain::error::optional_text(
            "note",
            note,
            chotomoni_domain::privacy_request::MAX_HOLD_NOTE,
        )?
        .unwrap_or_default();
        let now = self.now_ms();
        if until.is_some_and(|u| u <= now) {
            return Err(chotomoni_domain::FieldError::new("until", "must be in the future").into());
        }
        let order_id = order.id().0;
        let mut tx = self.db.begin().await?;
        chotomoni_storage::orders::get(&mut tx, order_id)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        let id = rows::place_hold(
            &mut tx,
            order_id,
            reason,
            &note,
            actor.staff_id(),
            now,
            until,
        )
        .await?;
        audit::change(
            &mut tx,
            actor,
            AuditAction::HoldPlace,
            &format!("order:{order}"),
            reason.as_str(),
        )
        .await?;
        let hold = rows::get_hold(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("hold"))?;
        tx.commit().await?;
        Ok(hold)
    }

    /// Releases a hold; proofs it kept past an erasure are deleted by the job.
    pub async fn release_hold(&self, actor: &Actor, hold_id: i64) -> Result<rows::HoldRow> {
        if !actor.staff_may(Permission::PlaceLegalHolds) {
            return Err(ServiceError::Forbidden);
        }
        let mut tx = self.db.begin().await?;
        let hold = rows::get_hold(&mut tx, hold_id)
            .await?
            .ok_or(ServiceError::NotFound("hold"))?;
        if !rows::release_hold(&mut tx, hold_id, actor.staff_id(), self.now_ms()).await? {
            return Err(ServiceError::Conflict(
                "the hold was already released".into(),
            ));
        }
        audit::change(
            &mut tx,
            actor,
            AuditAction::HoldRelease,
            &format!("hold:{}", hold.id),
            "",
        )
        .await?;
        let hold = rows::get_hold(&mut tx, hold_id)
            .await?
            .ok_or(ServiceError::NotFound("hold"))?;
        tx.commit().await?;
        Ok(hold)
    }
}

fn describe_holds(holds: &[rows::HoldRow], held: &[rows::ErasedProof]) -> Vec<HeldProofs> {
    let mut out: Vec<HeldProofs> = Vec::new();
    for h in holds {
        let count = held.iter().filter(|p| p.order_id == h.order_id).count();
        if count == 0 || out.iter().any(|o| o.order == number(h.order_id)) {
            continue;
        }
        // Of several holds on one order, the one that lasts longest says until when.
        let longest = holds
            .iter()
            .filter(|o| o.order_id == h.order_id)
            .max_by_key(|o| o.until_at.unwrap_or(i64::MAX))
            .unwrap_or(h);
        out.push(HeldProofs {
            order: number(h.order_id),
            reason: longest.reason.as_str().to_owned(),
            note: longest.note.clone(),
            until: longest.until_at,
            proofs: count,
        });
    }
    out
}

fn number(order_id: i64) -> String {
    OrderNumber::from_id(OrderId(order_id)).to_string()
}
