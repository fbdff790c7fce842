//! Certificates: the `Certificates` port. Every query is scoped by tenant. An uploaded file
//! (DER, PEM, JKS, PKCS#12) is read in a child process, in its tenant space's turn
//! (`keystore::Inspectors`); all its
//! certificates are kept as one entry, and an identity's private key is sealed like a provider
//! secret, bound to the tenant, the certificate and the field.

use super::audit;
use super::entities::certificate;
use super::{UniqueOr, display_time, internal, is_foreign_key_violation, now};
use crate::certificates::keystore::{self, InspectError, Inspectors, KeyDer};
use crate::certificates::x509::{ParsedCertificate, parse_certificate};
use crate::secrets::{SecretBox, SecretScope};
use app::domain::audit::{AuditAction, ObjectKind, created as created_fields};
use app::domain::{CertificateKind, CertificateName};
use app::model::{CertificateMember, CertificateSummary};
use app::ports::{Actor, AuditEvent, Certificates, RepoError};
use async_trait::async_trait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use std::path::PathBuf;
use std::sync::Arc;

/// The field a certificate's private key is sealed under.
pub const KEY_FIELD: &str = "private_key";

/// What a sealed private key is bound to besides the tenant: its certificate's uid.
pub fn key_owner(uid: &str) -> String {
    format!("certificate:{uid}")
}

#[derive(Clone)]
pub struct SqlCertificates {
    db: DatabaseConnection,
    secrets: SecretBox,
    inspectors: Arc<Inspectors>,
}

impl SqlCertificates {
    pub fn new(db: DatabaseConnection, secrets: SecretBox, inspector: PathBuf) -> Self {
        Self {
            db,
            secrets,
            inspectors: Arc::new(Inspectors::new(inspector)),
        }
    }
}

/// The certificates of a stored entry, parsed (the first is the entry's own).
pub fn members_of(m: &certificate::Model) -> Vec<ParsedCertificate> {
    let ders = match &m.chain_pem {
        Some(pem) => keystore::from_pem(pem),
        None => vec![m.der.clone()],
    };
    ders.iter()
        .filter_map(|d| parse_certificate(d).ok())
        .collect()
}

/// The private key of an identity certificate, opened (only ever for a TLS handshake).
pub fn open_key(secrets: &SecretBox, m: &certificate::Model) -> Option<KeyDer> {
    let sealed = m.key_enc.as_ref()?;
    let uid = m.uid.as_deref()?;
    let owner = key_owner(uid);
    let bytes = secrets
        .open_bytes(
            sealed,
            SecretScope {
                tenant_id: m.tenant_id,
                channel: &owner,
                field: KEY_FIELD,
            },
        )
        .map_err(|e| tracing::error!(error = %e, certificate_id = m.id, "opening a private key"))
        .ok()?;
    KeyDer::from_bytes(&bytes)
}

fn conflict(field: &'static str, message: impl Into<String>) -> RepoError {
    RepoError::Conflict {
        field,
        message: message.into(),
    }
}

pub(crate) fn day(t: time::OffsetDateTime) -> String {
    display_time(t)[..10].to_string()
}

impl SqlCertificates {
    /// Why a certificate cannot be deleted: the channel that names it.
    async fn in_use(&self, tenant_id: i64, id: i64) -> RepoError {
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
            .await;
        let message = match user {
            Ok(Some(c)) => format!(
                "The channel '{}' uses this certificate: choose another one there first.",
                c.name
            ),
            Ok(None) => {
                "A channel uses this certificate: choose another one there first.".to_owned()
            }
            Err(e) => {
                tracing::error!(error = %e, "finding the channel that uses a certificate");
                return RepoError::Internal;
            }
        };
        conflict("form", message)
    }
}

#[async_trait]
impl Certificates for SqlCertificates {
    async fn list(&self, tenant_id: i64) -> Result<Vec<CertificateSummary>, RepoError> {
        let rows = certificate::Entity::find()
            .filter(certificate::Column::TenantId.eq(tenant_id))
            .order_by_asc(certificate::Column::NameKey)
            .all(&self.db)
            .await
            .map_err(internal("list certificates"))?;
        let today = now();
        Ok(rows
            .into_iter()
            .filter_map(|m| {
                let members = members_of(&m);
                let earliest = members
                    .iter()
                    .map(|p| p.not_after)
                    .min()
                    .unwrap_or(m.not_after);
                Some(CertificateSummary {
                    id: m.id,
                    name: m.name.clone(),
                    kind: CertificateKind::parse(&m.kind).ok()?,
                    members: members
                        .into_iter()
                        .map(|p| CertificateMember {
                            subject: p.subject,
                            issuer: p.issuer,
                            not_after: day(p.not_after),
                            expired: p.not_after < today,
                            fingerprint: p.fingerprint,
                        })
                        .collect(),
                    has_private_key: m.key_enc.is_some(),
                    not_after: day(earliest),
                    expired: earliest < today,
                    created: display_time(m.created_at),
                })
            })
            .collect())
    }

    async fn upload(
        &self,
        actor: &Actor,
        tenant_id: i64,
        name: &CertificateName,
        kind: CertificateKind,
        bytes: &[u8],
        password: &str,
    ) -> Result<i64, RepoError> {
        let bundle = self
            .inspectors
            .inspect(tenant_id, bytes, password)
            .await
            .map_err(|e| match e {
                InspectError::PasswordNeeded | InspectError::WrongPassword => {
                    conflict("password", e.to_string())
                }
                InspectError::Busy => RepoError::Busy,
                e => conflict("file", e.to_string()),
            })?;
        match (kind, bundle.key.is_some()) {
            (CertificateKind::Identity, false) => {
                return Err(conflict(
                    "file",
                    "An identity certificate needs its private key: upload a PKCS#12 or JKS keystore that holds it, or a PEM file with the certificate and its key.",
                ));
            }
            (CertificateKind::Trust | CertificateKind::Authentication, true) => {
                return Err(conflict(
                    "file",
                    "This file holds a private key, which only an identity certificate needs: choose the kind Identity certificate, or upload the certificates alone.",
                ));
            }
            _ => {}
        }
        let first = bundle
            .certificates
            .first()
            .and_then(|d| parse_certificate(d).ok())
            .ok_or_else(|| conflict("file", InspectError::NoCertificate.to_string()))?;
        let uid = crate::secrets::crypto::random_token()[..32].to_owned();
        let key_enc = match &bundle.key {
            Some(key) => Some(
                self.secrets
                    .seal_bytes(
                        &key.to_bytes(),
                        SecretScope {
                            tenant_id,
                            channel: &key_owner(&uid),
                            field: KEY_FIELD,
                        },
                    )
                    .map_err(|e| {
                        tracing::error!(error = %e, "sealing a private key");
                        RepoError::Internal
                    })?,
            ),
            None => None,
        };
        let fields = vec![
            ("Name", name.as_str().to_owned()),
            ("Kind", kind.as_str().to_owned()),
            ("Subject", first.subject.clone()),
            ("Issuer", first.issuer.clone()),
            ("Fingerprint (SHA-256)", first.fingerprint.clone()),
            (
                "Private key",
                if bundle.key.is_some() {
                    "Included"
                } else {
                    "None"
                }
                .to_owned(),
            ),
            (
                "Certificates in the file",
                bundle.certificates.len().to_string(),
            ),
        ];
        let txn = self
            .db
            .begin()
            .await
            .map_err(internal("begin certificate"))?;
        let created = certificate::ActiveModel {
            tenant_id: Set(tenant_id),
            name: Set(name.as_str().to_owned()),
            name_key: Set(name.as_str().to_lowercase()),
            kind: Set(kind.as_str().to_owned()),
            subject: Set(first.subject),
            issuer: Set(first.issuer),
            not_before: Set(first.not_before),
            not_after: Set(first.not_after),
            fingerprint: Set(first.fingerprint),
            der: Set(first.der),
            created_at: Set(now()),
            uid: Set(Some(uid)),
            chain_pem: Set(
                (bundle.certificates.len() > 1).then(|| keystore::to_pem(&bundle.certificates))
            ),
            key_enc: Set(key_enc),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .unique_or(
            "name",
            format!("A certificate named '{}' exists already.", name.as_str()),
            "insert certificate",
        )?;
        audit::record(
            &txn,
            actor,
            AuditEvent::new(
                AuditAction::CertificateUploaded,
                Some(tenant_id),
                ObjectKind::Certificate,
                Some(created.id),
                name.as_str(),
            )
            .with(created_fields(&fields)),
        )
        .await?;
        txn.commit().await.map_err(internal("commit certificate"))?;
        Ok(created.id)
    }

    async fn delete(&self, actor: &Actor, tenant_id: i64, id: i64) -> Result<(), RepoError> {
        // Whether a channel names the certificate is decided by the database inside the
        // delete's transaction (the channels' RESTRICT foreign keys, on SQLite and PostgreSQL
        // alike): a channel saved with it at the same moment either lands first, and the
        // delete is refused, or finds it gone, and its save is refused (`write_refused` in
        // `db/channels.rs`). Never both.
        let txn = self
            .db
            .begin()
            .await
            .map_err(internal("begin certificate delete"))?;
        // a write comes first: on SQLite it takes the write lock before anything is read (a
        // read first would make the later delete fail to upgrade its lock), so what is read
        // next is what the delete deletes
        let touched = certificate::Entity::update_many()
            .col_expr(
                certificate::Column::Id,
                sea_orm::sea_query::Expr::col(certificate::Column::Id).into(),
            )
            .filter(certificate::Column::TenantId.eq(tenant_id))
            .filter(certificate::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(internal("lock certificate"))?;
        if touched.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        let found = certificate::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(internal("find certificate"))?
            .ok_or(RepoError::NotFound)?;
        let deleted = certificate::Entity::delete_many()
            .filter(certificate::Column::TenantId.eq(tenant_id))
            .filter(certificate::Column::Id.eq(id))
            .exec(&txn)
            .await;
        match deleted {
            Ok(_) => {}
            Err(e) if is_foreign_key_violation(&e) => {
                let _ = txn.rollback().await;
                return Err(self.in_use(tenant_id, id).await);
            }
            Err(e) => return Err(internal("delete certificate")(e)),
        }
        audit::record(
            &txn,
            actor,
            AuditEvent::new(
                AuditAction::CertificateDeleted,
                Some(tenant_id),
                ObjectKind::Certificate,
                Some(id),
                found.name,
            )
            .with(vec![app::domain::audit::FieldChange {
                field: "Fingerprint (SHA-256)".into(),
                before: found.fingerprint,
                after: String::new(),
                secret: false,
            }]),
        )
        .await?;
        txn.commit()
            .await
            .map_err(internal("commit certificate delete"))?;
        Ok(())
    }
}
