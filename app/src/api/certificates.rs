//! Certificates of the signed-in tenant administrator's tenant space.

use crate::error::AppError;
use crate::model::CertificateSummary;
use leptos::prelude::*;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};

#[cfg(feature = "ssr")]
use super::ctx;

#[server(endpoint = "list_certificates")]
pub async fn list_certificates() -> Result<Vec<CertificateSummary>, AppError> {
    let tenant = ctx::require_tenant().await?;
    ctx::ports()?
        .certificates
        .list(tenant)
        .await
        .map_err(AppError::from)
}

/// A multipart form with `name`, `kind`, `file` (DER, PEM, JKS or PKCS#12, at most 128 KiB)
/// and `password` (a keystore's).
#[server(endpoint = "upload_certificate", input = MultipartFormData)]
pub async fn upload_certificate(data: MultipartData) -> Result<i64, AppError> {
    use crate::domain::certificate::{
        MAX_CERT_BYTES, MAX_KEYSTORE_PASSWORD, check_certificate_size,
    };
    use crate::domain::{CertificateKind, CertificateName, FieldErrors};
    let (tenant, actor) = ctx::tenant_actor().await?;
    let mut form = data.into_inner().ok_or(AppError::BadRequest)?;
    let (mut name, mut kind, mut password, mut file) =
        (String::new(), String::new(), String::new(), Vec::new());
    let mut too_large = false;
    while let Some(mut field) = form.next_field().await.map_err(|_| AppError::BadRequest)? {
        let target = match field.name() {
            Some("name") => Some(&mut name),
            Some("kind") => Some(&mut kind),
            Some("password") => Some(&mut password),
            _ => None,
        };
        if let Some(target) = target {
            let mut buf = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|_| AppError::BadRequest)? {
                if buf.len() + chunk.len() > 4096 {
                    return Err(AppError::BadRequest);
                }
                buf.extend_from_slice(&chunk);
            }
            *target = String::from_utf8(buf).map_err(|_| AppError::BadRequest)?;
        } else if field.name() == Some("file") {
            while let Some(chunk) = field.chunk().await.map_err(|_| AppError::BadRequest)? {
                if file.len() + chunk.len() > MAX_CERT_BYTES {
                    too_large = true;
                    break;
                }
                file.extend_from_slice(&chunk);
            }
        }
    }
    let mut errors = FieldErrors::new();
    let name = errors.check("name", CertificateName::parse(&name));
    let kind = errors.check("kind", CertificateKind::parse(&kind));
    let size = if too_large {
        MAX_CERT_BYTES + 1
    } else {
        file.len()
    };
    errors.check("file", check_certificate_size(size));
    if password.chars().count() > MAX_KEYSTORE_PASSWORD {
        errors.add(
            "password",
            format!("The keystore password can have at most {MAX_KEYSTORE_PASSWORD} characters."),
        );
    }
    errors.into_result()?;
    let (Some(name), Some(kind)) = (name, kind) else {
        return Err(AppError::Internal);
    };
    ctx::ports()?
        .certificates
        .upload(&actor, tenant, &name, kind, &file, &password)
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "delete_certificate")]
pub async fn delete_certificate(id: i64) -> Result<(), AppError> {
    let (tenant, actor) = ctx::tenant_actor().await?;
    ctx::ports()?
        .certificates
        .delete(&actor, tenant, id)
        .await
        .map_err(AppError::from)
}
