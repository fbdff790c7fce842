//! Certificates: the `Certificates` port. Every query is scoped by tenant.

use super::entities::certificate;
use super::{display_time, internal, is_unique_violation, now};
use crate::certs::parse_certificate;
use app::domain::{CertificateKind, CertificateName};
use app::model::CertificateSummary;
use app::ports::{Certificates, RepoError};
use async_trait::async_trait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

#[derive(Clone)]
pub struct SqlCertificates {
    db: DatabaseConnection,
}

impl SqlCertificates {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Certificates for SqlCertificates {
    async fn list(&self, tenant_id: i64) -> Result<Vec<CertificateSummary>, RepoError> {
        use certificate::Column as C;
        let rows: Vec<(
            i64,
            String,
            String,
            String,
            String,
            time::OffsetDateTime,
            String,
            time::OffsetDateTime,
        )> = certificate::Entity::find()
            .select_only()
            .columns([
                C::Id,
                C::Name,
                C::Kind,
                C::Subject,
                C::Issuer,
                C::NotAfter,
                C::Fingerprint,
                C::CreatedAt,
            ])
            .filter(C::TenantId.eq(tenant_id))
            .order_by_asc(C::NameKey)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(internal("list certificates"))?;
        let today = now();
        Ok(rows
            .into_iter()
            .filter_map(
                |(id, name, kind, subject, issuer, not_after, fingerprint, created)| {
                    Some(CertificateSummary {
                        id,
                        name,
                        kind: CertificateKind::parse(&kind).ok()?,
                        subject,
                        issuer,
                        not_after: display_time(not_after)[..10].to_string(),
                        expired: not_after < today,
                        fingerprint,
                        created: display_time(created),
                    })
                },
            )
            .collect())
    }

    async fn upload(
        &self,
        tenant_id: i64,
        name: &CertificateName,
        kind: CertificateKind,
        bytes: &[u8],
    ) -> Result<i64, RepoError> {
        let parsed = parse_certificate(bytes).map_err(|message| RepoError::Conflict {
            field: "file",
            message,
        })?;
        let created = certificate::ActiveModel {
            tenant_id: Set(tenant_id),
            name: Set(name.as_str().to_owned()),
            name_key: Set(name.as_str().to_lowercase()),
            kind: Set(kind.as_str().to_owned()),
            subject: Set(parsed.subject),
            issuer: Set(parsed.issuer),
            not_before: Set(parsed.not_before),
            not_after: Set(parsed.not_after),
            fingerprint: Set(parsed.fingerprint),
            der: Set(parsed.der),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                RepoError::Conflict {
                    field: "name",
                    message: format!("A certificate named '{}' exists already.", name.as_str()),
                }
            } else {
                internal("insert certificate")(e)
            }
        })?;
        Ok(created.id)
    }

    async fn delete(&self, tenant_id: i64, id: i64) -> Result<(), RepoError> {
        use super::entities::channel::{Column as Ch, Entity as Channel};
        let user = Channel::find()
            .filter(Ch::TenantId.eq(tenant_id))
            .filter(
                sea_orm::Condition::any()
                    .add(Ch::AuthCertificateId.eq(id))
                    .add(Ch::TrustCertificateId.eq(id))
                    .add(Ch::IdentityCertificateId.eq(id)),
            )
            .one(&self.db)
            .await
            .map_err(internal("find channel using certificate"))?;
        if let Some(c) = user {
            return Err(RepoError::Conflict {
                field: "form",
                message: format!(
                    "The channel '{}' uses this certificate: choose another one there first.",
                    c.name
                ),
            });
        }
        let result = certificate::Entity::delete_many()
            .filter(certificate::Column::TenantId.eq(tenant_id))
            .filter(certificate::Column::Id.eq(id))
            .exec(&self.db)
            .await
            .map_err(internal("delete certificate"))?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        Ok(())
    }
}
