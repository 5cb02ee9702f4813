use chotomoni_domain::catalog::{self, Category, Field, FileStore, Lang, Purpose};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct CatalogDoc {
    /// Categories the published policy names, with its own words.
    pub categories: Vec<CategoryDoc>,
    pub purposes: Vec<PurposeDoc>,
    /// Every personal field the system stores in its database.
    pub fields: Vec<FieldDoc>,
    /// Files of the server's own that hold personal data (the development
    /// outboxes).
    pub files: Vec<FileStoreDoc>,
}

#[derive(Serialize, ToSchema)]
pub struct CategoryDoc {
    pub category: Category,
    pub label_en: &'static str,
    pub label_bn: &'static str,
    pub policy_en: &'static str,
    pub policy_bn: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct PurposeDoc {
    pub purpose: Purpose,
    pub policy_en: &'static str,
    pub policy_bn: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct FieldDoc {
    #[serde(flatten)]
    pub field: Field,
    pub retention_en: String,
    pub retention_bn: String,
}

#[derive(Serialize, ToSchema)]
pub struct FileStoreDoc {
    #[serde(flatten)]
    pub file: FileStore,
    pub retention_en: String,
    pub retention_bn: String,
}

pub fn catalog_doc(periods: &chotomoni_domain::catalog::Periods) -> CatalogDoc {
    CatalogDoc {
        categories: Category::ALL
            .iter()
            .map(|c| {
                let (policy_en, policy_bn) = c.policy_terms();
                CategoryDoc {
                    category: *c,
                    label_en: c.label(Lang::En),
                    label_bn: c.label(Lang::Bn),
                    policy_en,
                    policy_bn,
                }
            })
            .collect(),
        purposes: Purpose::ALL
            .iter()
            .map(|p| {
                let (policy_en, policy_bn) = p.policy_terms();
                PurposeDoc {
                    purpose: *p,
                    policy_en,
                    policy_bn,
                }
            })
            .collect(),
        fields: catalog::FIELDS
            .iter()
            .map(|f| FieldDoc {
                field: *f,
                retention_en: f.retention.describe(Lang::En, periods),
                retention_bn: f.retention.describe(Lang::Bn, periods),
            })
            .collect(),
        files: catalog::FILE_STORES
            .iter()
            .map(|f| FileStoreDoc {
                file: *f,
                retention_en: f.entry.retention.describe(Lang::En, periods),
                retention_bn: f.entry.retention.describe(Lang::Bn, periods),
            })
            .collect(),
    }
}

/// The personal-data catalog: what is collected, why, for how long, shared
/// with whom, and what erasure does.
#[utoipa::path(get, path = "/api/v1/privacy/catalog", responses((status = 200, body = CatalogDoc)))]
pub async fn catalog(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
) -> axum::Json<CatalogDoc> {
    axum::Json(catalog_doc(&state.services.settings().periods()))
}
