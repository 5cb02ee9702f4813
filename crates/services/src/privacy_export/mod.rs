//! Access exports (the right of access): a ZIP with everything kept about a
//! customer, as `data.json` (machine-readable) and `index.html` (bilingual,
//! for people), with the proof files of their orders and each proof's
//! receipt. It is built in the background ([`build`]) with its progress in
//! the `exports` row, stored encrypted under a key sealed under the
//! customer's own key (erasing the customer makes it unreadable), and
//! downloaded with a random token shown once and stored only as a keyed
//! hash, until the link expires and the sweeper deletes the file.
//!
//! Who may: the customer themself, staff who may see contact details and
//! proofs (support, admin), and the system (privacy requests). Another
//! customer's export does not exist for a customer; other staff get 403.
pub mod archive;
pub(crate) mod build;
pub mod collect;
mod data;
pub mod html;
mod order_extras;
pub mod sections;

use crate::error::Context as _;
use crate::error::{Result, ServiceError};
use crate::jobs::Job;
use crate::orders::millis_to_rfc3339;
use crate::proofs::read::{plaintext, PlainStream};
use crate::{audit, Actor, Services};
use base64::Engine;
use chotomoni_crypto::proof_stream::ProofKey;
use chotomoni_domain::catalog::sealed;
use chotomoni_domain::staff::Permission;
use chotomoni_domain::AuditAction;
use chotomoni_domain::{CustomerId, ExportStage, JobKind, StoredExportStatus as Stored};
use chotomoni_storage::customers;
use chotomoni_storage::exports::{self as repo, ExportRow};
use chotomoni_storage::Conn;
use serde::Serialize;
use utoipa::ToSchema;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// Random bytes in a download token (256 bits).
const TOKEN_BYTES: usize = 32;
/// Where a download link points; the token follows.
pub const DOWNLOAD_PATH: &str = "/privacy/exports/download/";
/// A build that has not reported progress for this long is taken as dead
/// (its server stopped) and marked failed by the sweeper.
const STALLED_MS: i64 = 30 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportState {
    Building,
    Ready,
    Failed,
    Expired,
}

/// The secret link to a ready export. Shown once: later answers say it was
/// shown, and a new link (which ends the old one) can be asked for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DownloadLink {
    pub token: String,
    /// `/privacy/exports/download/{token}`.
    pub path: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportStatus {
    pub id: i64,
    pub customer_id: i64,
    /// The privacy request this export answers, if any.
    pub request_id: Option<i64>,
    pub status: ExportState,
    /// 0 to 100.
    pub progress: i64,
    /// `queued`, `collecting`, `copying_proofs`, `writing_documents`,
    /// `storing`, `ready`, `failed` or `expired`.
    pub stage: String,
    pub created_at: String,
    pub ready_at: Option<String>,
    /// When the download link stops working and the file is deleted.
    pub expires_at: Option<String>,
    /// Bytes of the ZIP.
    pub size: Option<i64>,
    /// Present in the one answer that shows the link.
    pub download: Option<DownloadLink>,
    /// Whether a link was shown already (it is never shown twice).
    pub link_shown: bool,
    /// Why building failed (no personal data).
    pub error: Option<String>,
}

/// A ready export's file: its name, size and decrypted bytes, checked as
/// they are read.
pub struct ExportFile {
    pub export_id: i64,
    /// `chotomoni-export-YYYY-MM-DD.zip`.
    pub file_name: String,
    pub size: u64,
    pub stream: PlainStream,
}

/// What a download link leads to.
pub enum Download {
    Ready(ExportFile),
    /// The link expired (at this time) and the file is, or is about to be, deleted.
    Expired {
        expired_at: String,
    },
}

/// Whether `actor` may start or see exports of `customer_id`.
fn may_export(actor: &Actor, customer_id: i64, missing: &'static str) -> Result<()> {
    match actor {
        Actor::System => Ok(()),
        Actor::Staff { .. }
            if actor.staff_may(Permission::ViewCustomerContact)
                && actor.staff_may(Permission::ViewProofs) =>
        {
            Ok(())
        }
        Actor::Staff { .. } => Err(ServiceError::Forbidden),
        Actor::Customer(CustomerId(me)) if *me == customer_id => Ok(()),
        Actor::Customer(_) => Err(ServiceError::NotFound(missing)),
        Actor::Visitor => Err(ServiceError::Unauthenticated),
    }
}

pub(crate) fn state_of(row: &ExportRow, now: i64) -> ExportState {
    match row.status {
        Stored::Ready if row.expires_at.is_some_and(|e| e <= now) => ExportState::Expired,
        Stored::Ready => ExportState::Ready,
        Stored::Failed => ExportState::Failed,
        Stored::Expired => ExportState::Expired,
        Stored::Building => ExportState::Building,
    }
}

fn status_of(row: &ExportRow, download: Option<DownloadLink>, now: i64) -> ExportStatus {
    let state = state_of(row, now);
    ExportStatus {
        id: row.id,
        customer_id: row.customer_id,
        request_id: row.request_id,
        status: state,
        progress: row.progress,
        stage: match state {
            ExportState::Expired => ExportStage::Expired,
            _ => row.stage,
        }
        .as_str()
        .to_owned(),
        created_at: millis_to_rfc3339(row.created_at),
        ready_at: row.ready_at.map(millis_to_rfc3339),
        expires_at: row.expires_at.map(millis_to_rfc3339),
        size: row.size,
        link_shown: row.token_hash.is_some() || download.is_some(),
        download,
        error: row.error.clone(),
    }
}

impl Services {
    /// Starts building an access export of `customer_id` in the background
    /// and returns at once (status `building`). Callable from other services
    /// (a privacy request passes `Actor::System` and its `request_id`). If
    /// the same export is already being built, that one is returned.
    pub async fn start_export(
        &self,
        actor: &Actor,
        customer_id: i64,
        request_id: Option<i64>,
    ) -> Result<ExportStatus> {
        let mut tx = self.db.begin().await?;
        let id = self
            .begin_export(&mut tx, actor, customer_id, request_id)
            .await?;
        tx.commit().await?;
        let mut conn = self.db.conn().await?;
        let row = repo::get(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("export"))?;
        Ok(status_of(&row, None, self.now_ms()))
    }

    /// The export's row and its build job, in the caller's transaction;
    /// returns its id (the one already being built, if there is one).
    pub(crate) async fn begin_export(
        &self,
        tx: &mut Conn,
        actor: &Actor,
        customer_id: i64,
        request_id: Option<i64>,
    ) -> Result<i64> {
        may_export(actor, customer_id, "customer")?;
        let now = self.now_ms();
        let customer = customers::get(tx, customer_id)
            .await?
            .ok_or(ServiceError::NotFound("customer"))?;
        if customer.erased_at.is_some() {
            return Err(ServiceError::NotFound("customer"));
        }
        if let Some(running) = repo::for_customer(tx, customer_id)
            .await?
            .into_iter()
            .find(|r| {
                r.status == Stored::Building
                    && r.request_id == request_id
                    && r.updated_at > now - STALLED_MS
            })
        {
            return Ok(running.id);
        }
        if let Actor::Customer(_) = actor {
            self.check_export_quota(&repo::for_customer(tx, customer_id).await?, now)?;
        }
        // The link is handed to whoever asked, so downloads by it are theirs:
        // the person behind a privacy request, or the signed-in caller.
        let requested_by = match request_id {
            Some(_) => Actor::Customer(CustomerId(customer_id)).audit_ref(),
            None => actor.audit_ref(),
        };
        let id = repo::insert(
            tx,
            customer_id,
            request_id,
            &requested_by,
            ExportStage::Queued,
            now,
        )
        .await?;
        audit::change(
            tx,
            actor,
            AuditAction::ExportStart,
            &format!("customer:{customer_id}"),
            &format!(
                "export={id} request={}",
                request_id.map_or("-".into(), |r| r.to_string())
            ),
        )
        .await?;
        self.enqueue(tx, Job::about(JobKind::ExportBuild, id))
            .await?;
        tracing::info!(export = id, "access export started");
        Ok(id)
    }

    /// Refuses a customer's export past their quotas (`exports`: all of theirs).
    fn check_export_quota(&self, exports: &[ExportRow], now: i64) -> Result<()> {
        let quotas = &self.settings.export_quotas;
        let running = exports
            .iter()
            .filter(|r| r.status == Stored::Building && r.updated_at > now - STALLED_MS)
            .count();
        if running >= quotas.running as usize {
            return Err(ServiceError::QuotaExceeded {
                code: "export_running",
                message: "an export of your data is being built; wait until it is ready".into(),
                // Most exports are built within a minute.
                retry_after_secs: Some(60),
            });
        }
        let started: Vec<i64> = exports
            .iter()
            .map(|r| r.created_at)
            .filter(|&t| t > now - crate::quota::DAY_MS)
            .collect();
        crate::quota::per_day(
            "exports_per_day",
            "exports of your data",
            &started,
            quotas.per_day,
            now,
        )
    }

    /// An export's status and progress. The first answer after it is ready
    /// carries its download link; no later one does (see [`Services::new_export_link`]).
    pub async fn export_status(&self, actor: &Actor, export_id: i64) -> Result<ExportStatus> {
        let row = self.visible_export(actor, export_id).await?;
        let now = self.now_ms();
        if state_of(&row, now) == ExportState::Ready && row.token_hash.is_none() {
            if let Some(link) = self.issue_link(actor, &row, true).await? {
                return Ok(status_of(&row, Some(link), self.now_ms()));
            }
            // Someone else was shown the link meanwhile.
            let row = self.visible_export(actor, export_id).await?;
            return Ok(status_of(&row, None, self.now_ms()));
        }
        Ok(status_of(&row, None, self.now_ms()))
    }

    /// A new download link for a ready export; the previous link stops working.
    pub async fn new_export_link(&self, actor: &Actor, export_id: i64) -> Result<ExportStatus> {
        let row = self.visible_export(actor, export_id).await?;
        match state_of(&row, self.now_ms()) {
            ExportState::Ready => {}
            ExportState::Expired => {
                return Err(ServiceError::Conflict(
                    "this export has expired; start a new one".into(),
                ))
            }
            _ => return Err(ServiceError::Conflict("this export is not ready".into())),
        }
        let link = self
            .issue_link(actor, &row, false)
            .await?
            .ok_or_else(|| ServiceError::Conflict("this export is not ready".into()))?;
        Ok(status_of(&row, Some(link), self.now_ms()))
    }

    /// The customer's exports, newest first (without links).
    pub async fn customer_exports(
        &self,
        actor: &Actor,
        customer_id: i64,
    ) -> Result<Vec<ExportStatus>> {
        may_export(actor, customer_id, "customer")?;
        let mut conn = self.db.conn().await?;
        let now = self.now_ms();
        Ok(repo::for_customer(&mut conn, customer_id)
            .await?
            .iter()
            .map(|r| status_of(r, None, now))
            .collect())
    }

    /// Opens the export a download link names. An unknown token, another
    /// customer's export, or one not ready is not found; an expired link
    /// is [`Download::Expired`]. Every download is in the audit log.
    pub async fn open_export_download(&self, actor: &Actor, token: &str) -> Result<Download> {
        let not_found = || ServiceError::NotFound("export");
        if !looks_like_token(token) {
            return Err(not_found());
        }
        let mut conn = self.db.conn().await?;
        let row = repo::by_token_hash(&mut conn, &self.token_hash(token))
            .await?
            .ok_or_else(not_found)?;
        match actor {
            // Anyone holding the link may download (a guest who asked by
            // email has no account), except another signed-in customer or
            // staff who may not see exports.
            Actor::Visitor | Actor::System => {}
            _ => may_export(actor, row.customer_id, "export")?,
        }
        match state_of(&row, self.now_ms()) {
            ExportState::Ready => {}
            ExportState::Expired => {
                return Ok(Download::Expired {
                    expired_at: row.expires_at.map(millis_to_rfc3339).unwrap_or_default(),
                })
            }
            _ => return Err(not_found()),
        }
        let (Some(blob_key), Some(sealed), Some(size), Some(stored)) = (
            row.blob_key.as_deref(),
            row.file_key_enc.as_deref(),
            row.size,
            row.stored_size,
        ) else {
            return Err(not_found());
        };
        let ckey = self
            .customer_key_of(&mut conn, row.customer_id)
            .await
            .map_err(|_| not_found())?;
        let secret = zeroize::Zeroizing::new(
            ckey.open_string(&sealed::EXPORT_FILE_KEY.at(blob_key), sealed)
                .map_err(|_| ServiceError::Sealed)?,
        );
        let key = ProofKey::parse(&secret).map_err(|_| ServiceError::Sealed)?;
        let stream = plaintext(
            &self.proofs.blobs,
            blob_key,
            stored as u64,
            key,
            0..size as u64,
        )
        .await?;
        // A link holder is whoever the link was handed to.
        let (by, via) = match actor {
            Actor::Visitor => (row.requested_by.clone(), "link"),
            _ => (actor.audit_ref(), "session"),
        };
        chotomoni_storage::audit::append(
            &mut conn,
            self.now_ms(),
            &by,
            AuditAction::ExportDownload,
            &format!("customer:{}", row.customer_id),
            &format!("export={} via={via}", row.id),
        )
        .await?;
        tracing::info!(export = row.id, "access export downloaded");
        let day = crate::orders::local_time(row.ready_at.unwrap_or(row.created_at), false);
        Ok(Download::Ready(ExportFile {
            export_id: row.id,
            file_name: format!(
                "chotomoni-export-{}.zip",
                day.split(' ').next().unwrap_or("")
            ),
            size: size as u64,
            stream,
        }))
    }

    /// Deletes the files of exports whose link expired, and marks builds
    /// whose server stopped as failed. Returns how many files were deleted.
    pub async fn sweep_expired_exports(&self) -> Result<u64> {
        let now = self.now_ms();
        let mut conn = self.db.conn().await?;
        let expired = repo::expired(&mut conn, now).await?;
        for row in &expired {
            if let Some(key) = &row.blob_key {
                self.proofs
                    .blobs
                    .delete(key)
                    .await
                    .context("deleting an export")?;
            }
            repo::set_expired(&mut conn, row.id, now).await?;
            audit::change(
                &mut conn,
                &Actor::System,
                AuditAction::ExportExpire,
                &format!("customer:{}", row.customer_id),
                &format!("export={}", row.id),
            )
            .await?;
        }
        for id in repo::stalled(&mut conn, now - STALLED_MS).await? {
            repo::set_failed(&mut conn, id, "the server stopped while building it", now).await?;
            let _ = tokio::fs::remove_file(self.export_staging_path(id)).await;
        }
        Ok(expired.len() as u64)
    }

    async fn visible_export(&self, actor: &Actor, export_id: i64) -> Result<ExportRow> {
        if let Actor::Visitor = actor {
            return Err(ServiceError::Unauthenticated);
        }
        let mut conn = self.db.conn().await?;
        let row = repo::get(&mut conn, export_id)
            .await?
            .ok_or(ServiceError::NotFound("export"))?;
        may_export(actor, row.customer_id, "export")?;
        Ok(row)
    }

    /// Makes a new token and stores its keyed hash; `None` when `only_first`
    /// and a link was issued meanwhile, or the export is no longer ready.
    async fn issue_link(
        &self,
        actor: &Actor,
        row: &ExportRow,
        only_first: bool,
    ) -> Result<Option<DownloadLink>> {
        use rand::RngCore;
        let mut raw = [0u8; TOKEN_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let token = B64.encode(raw);
        let now = self.now_ms();
        let mut tx = self.db.begin().await?;
        if !repo::set_token_hash(&mut tx, row.id, &self.token_hash(&token), only_first, now).await?
        {
            return Ok(None);
        }
        audit::change(
            &mut tx,
            actor,
            AuditAction::ExportLink,
            &format!("customer:{}", row.customer_id),
            &format!(
                "export={} {}",
                row.id,
                if only_first { "first" } else { "renewed" }
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(DownloadLink {
            path: format!("{DOWNLOAD_PATH}{token}"),
            token,
            expires_at: row.expires_at.map(millis_to_rfc3339).unwrap_or_default(),
        }))
    }

    /// The keyed hash a download token is stored as.
    fn token_hash(&self, token: &str) -> String {
        hex::encode(
            self.vault
                .keyring()
                .link_mac(format!("export-download:{token}").as_bytes()),
        )
    }
}

fn looks_like_token(token: &str) -> bool {
    token.len() == (TOKEN_BYTES * 4).div_ceil(3)
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
