//! The Alerts page's server functions: where the signed-in tenant administrator's tenant
//! space sends its alerts, the webhook's signing secret, a test alert.

use crate::error::AppError;
use crate::model::{AlertSettings, AlertsSaved};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ctx;

#[server(endpoint = "get_alerts")]
pub async fn get_alerts() -> Result<AlertSettings, AppError> {
    let tenant = ctx::require_tenant().await?;
    ctx::ports()?
        .alerts
        .settings(tenant)
        .await
        .map_err(AppError::from)
}

/// `emails`: addresses one a line (or separated by commas); `trust_certificate_id`: empty for
/// the public web roots; `digest`: present when checked.
#[server(endpoint = "save_alerts")]
pub async fn save_alerts(
    emails: String,
    webhook_url: String,
    trust_certificate_id: String,
    digest: Option<String>,
) -> Result<AlertsSaved, AppError> {
    use crate::domain::FieldErrors;
    use crate::domain::alerts::{parse_emails, parse_webhook_url};
    use crate::ports::AlertTargets;
    let (tenant, actor) = ctx::tenant_actor().await?;
    let mut errors = FieldErrors::new();
    let emails = errors.check("emails", parse_emails(&emails));
    let webhook_url = errors.check("webhook_url", parse_webhook_url(&webhook_url));
    let trust_certificate_id = errors.check(
        "trust_certificate_id",
        match trust_certificate_id.trim() {
            "" => Ok(None),
            id => id
                .parse::<i64>()
                .map(Some)
                .map_err(|_| "Choose a certificate from the list".to_owned()),
        },
    );
    errors.into_result()?;
    let (Some(emails), Some(webhook_url), Some(trust_certificate_id)) =
        (emails, webhook_url, trust_certificate_id)
    else {
        return Err(AppError::Internal);
    };
    let targets = AlertTargets {
        emails,
        webhook_url,
        trust_certificate_id,
        digest: digest.is_some(),
    };
    let secret = ctx::ports()?
        .alerts
        .save(&actor, tenant, &targets)
        .await
        .map_err(AppError::from)?;
    Ok(AlertsSaved { secret })
}

/// A new signing secret for the webhook, shown once.
#[server(endpoint = "new_alert_secret")]
pub async fn new_alert_secret() -> Result<String, AppError> {
    let (tenant, actor) = ctx::tenant_actor().await?;
    ctx::ports()?
        .alerts
        .new_secret(&actor, tenant)
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "send_test_alert")]
pub async fn send_test_alert() -> Result<(), AppError> {
    let (tenant, actor) = ctx::tenant_actor().await?;
    ctx::ports()?
        .alerts
        .send_test(&actor, tenant)
        .await
        .map_err(AppError::from)
}
