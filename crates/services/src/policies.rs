//! Versions of the privacy policy. Version 1 is the published text, seeded
//! on first start; an admin publishes later ones (both languages), which take
//! effect at once. Every version stays readable; what each customer accepted,
//! and when, is recorded, and a signed-in customer is told once of a change.
use crate::error::{Result, ServiceError};
use crate::orders::millis_to_rfc3339;
use crate::{audit, Actor, Services};
use chotomoni_domain::catalog::Lang;
use chotomoni_domain::policy::{self, PolicyDraft};
use chotomoni_domain::staff::Permission;
use chotomoni_domain::AuditAction;
use chotomoni_domain::CustomerId;
use chotomoni_storage::policies::{self, PolicyRow};
use chotomoni_storage::{Conn, StorageError};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicyVersion {
    pub version: i64,
    /// Bangla text.
    pub bn: String,
    /// English text.
    pub en: String,
    pub published_at: String,
}

impl PolicyVersion {
    fn of(row: PolicyRow) -> PolicyVersion {
        PolicyVersion {
            version: row.version,
            bn: row.text_bn,
            en: row.text_en,
            published_at: millis_to_rfc3339(row.published_at),
        }
    }

    pub fn text(&self, lang: Lang) -> &str {
        lang.pick(&self.en, &self.bn)
    }
}

pub use chotomoni_domain::policy::Acceptance;

impl Services {
    /// Seeds version 1, the published text, if no version exists yet.
    pub async fn ensure_first_policy(&self) -> Result<()> {
        let mut conn = self.db.conn().await?;
        if policies::latest(&mut conn).await?.is_some() {
            return Ok(());
        }
        let row = PolicyRow {
            version: 1,
            text_bn: policy::v1(Lang::Bn).to_owned(),
            text_en: policy::v1(Lang::En).to_owned(),
            published_at: self.now_ms(),
            published_by: None,
        };
        match policies::insert(&mut conn, &row).await {
            // Another server seeded it at the same moment.
            Ok(()) | Err(StorageError::Duplicate(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn current_policy(&self) -> Result<PolicyVersion> {
        let mut conn = self.db.conn().await?;
        current(&mut conn).await
    }

    pub async fn policy_version(&self, version: i64) -> Result<PolicyVersion> {
        let mut conn = self.db.conn().await?;
        policies::get(&mut conn, version)
            .await?
            .map(PolicyVersion::of)
            .ok_or(ServiceError::NotFound("policy version"))
    }

    /// Every version's number and publication time, newest first.
    pub async fn policy_versions(&self) -> Result<Vec<(i64, String)>> {
        let mut conn = self.db.conn().await?;
        Ok(policies::list(&mut conn)
            .await?
            .into_iter()
            .map(|(v, at)| (v, millis_to_rfc3339(at)))
            .collect())
    }

    /// Publishes the next version (admins only); it is in effect at once.
    pub async fn publish_policy(
        &self,
        actor: &Actor,
        draft: &PolicyDraft,
    ) -> Result<PolicyVersion> {
        if !actor.staff_may(Permission::Administer) || actor.staff_id().is_none() {
            return Err(ServiceError::Forbidden);
        }
        let mut tx = self.db.begin().await?;
        let version = current(&mut tx).await?.version + 1;
        let row = PolicyRow {
            version,
            text_bn: draft.bn.clone(),
            text_en: draft.en.clone(),
            published_at: self.now_ms(),
            published_by: actor.staff_id(),
        };
        policies::insert(&mut tx, &row).await?;
        audit::change(
            &mut tx,
            actor,
            AuditAction::PolicyPublish,
            &format!("policy:{version}"),
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(PolicyVersion::of(row))
    }

    /// `(accepted, current)` when the customer has not yet seen the current
    /// version: the newest one they accepted (1 when none was recorded, the
    /// version in force when they first ordered) is older.
    pub async fn policy_notice(&self, customer: CustomerId) -> Result<Option<(i64, i64)>> {
        let mut conn = self.db.conn().await?;
        let accepted = policies::accepted(&mut conn, customer.0)
            .await?
            .unwrap_or(1);
        let Some(latest) = policies::latest(&mut conn).await? else {
            return Ok(None);
        };
        Ok((latest.version > accepted).then_some((accepted, latest.version)))
    }

    /// Records that the customer accepted `version` (the current one only).
    pub async fn accept_policy(&self, actor: &Actor, version: i64, how: Acceptance) -> Result<()> {
        let Actor::Customer(customer) = actor else {
            return Err(ServiceError::Forbidden);
        };
        let mut tx = self.db.begin().await?;
        if current(&mut tx).await?.version != version {
            return Err(ServiceError::Conflict(
                "a newer policy version was published; read that one".into(),
            ));
        }
        policies::accept(&mut tx, customer.0, version, how, self.now_ms()).await?;
        audit::change(
            &mut tx,
            actor,
            AuditAction::PolicyAccept,
            &actor.audit_ref(),
            &format!("version={version} via={}", how.as_str()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn current(conn: &mut Conn) -> Result<PolicyVersion> {
    policies::latest(conn)
        .await?
        .map(PolicyVersion::of)
        .ok_or_else(|| ServiceError::Internal("no privacy policy version is published".into()))
}
