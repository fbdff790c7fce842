//! Channels of the signed-in tenant administrator's tenant space. The channel form travels as
//! JSON (a `ChannelDraft`); the server validates it with the same rules the browser ran.

use crate::domain::channel::ChannelDraft;
use crate::error::AppError;
use crate::model::{
    ChannelForEdit, ChannelFormOptions, ChannelIntegration, ChannelPage, ChannelQuery,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::ctx;

#[server(endpoint = "list_channels", input = Json)]
pub async fn list_channels(query: ChannelQuery) -> Result<ChannelPage, AppError> {
    let tenant = ctx::require_tenant().await?;
    ctx::ports()?
        .channels
        .list(tenant, &query.normalized())
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "get_channel_options")]
pub async fn get_channel_options() -> Result<ChannelFormOptions, AppError> {
    let tenant = ctx::require_tenant().await?;
    let ports = ctx::ports()?;
    let context = ports.channels.validation_context(tenant, None).await?;
    let names: std::collections::HashMap<i64, String> = ports
        .apps
        .list(Some(tenant))
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let apps = context
        .apps
        .iter()
        .map(|(id, key)| crate::model::PickableApp {
            id: *id,
            name: names.get(id).cloned().unwrap_or_default(),
            app_key: key.clone(),
        })
        .collect();
    let own = &ports.public_url;
    let own_base_url = (own.scheme() == "https").then(|| {
        format!(
            "https://{}:{}{}",
            own.host_str().unwrap_or_default(),
            own.port_or_known_default().unwrap_or(443),
            crate::domain::channel::OAUTH_PATH
        )
    });
    Ok(ChannelFormOptions {
        apps,
        own_base_url,
        ous: ports.ous.list(tenant).await?,
        skill_queues: ports.skill_queues.list(tenant).await?,
        certificates: ports.certificates.list(tenant).await?,
        trust: context
            .trust
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
        today: context.today,
    })
}

/// Validates and saves a new channel; answers its id (Channel Integration comes next).
#[server(endpoint = "create_channel", input = Json)]
pub async fn create_channel(draft: ChannelDraft) -> Result<i64, AppError> {
    let (tenant, actor) = ctx::tenant_actor().await?;
    let channels = ctx::ports()?.channels;
    let context = channels.validation_context(tenant, None).await?;
    let valid = draft.validate(&context)?;
    let id = channels.create(&actor, tenant, &valid).await?;
    tracing::info!(tenant_id = tenant, channel_id = id, "channel created");
    Ok(id)
}

#[server(endpoint = "get_channel")]
pub async fn get_channel(id: i64) -> Result<ChannelForEdit, AppError> {
    let tenant = ctx::require_tenant().await?;
    ctx::ports()?
        .channels
        .for_edit(tenant, id)
        .await
        .map_err(AppError::from)
}

/// Saves an edit made on version `version`; empty secret fields keep their stored values.
#[server(endpoint = "update_channel", input = Json)]
pub async fn update_channel(id: i64, version: i64, draft: ChannelDraft) -> Result<(), AppError> {
    let (tenant, actor) = ctx::tenant_actor().await?;
    let channels = ctx::ports()?.channels;
    let context = channels.validation_context(tenant, Some(id)).await?;
    let valid = draft.validate(&context)?;
    channels.update(&actor, tenant, id, version, &valid).await?;
    tracing::info!(tenant_id = tenant, channel_id = id, "channel updated");
    Ok(())
}

#[server(endpoint = "delete_channel")]
pub async fn delete_channel(id: i64) -> Result<(), AppError> {
    let (tenant, actor) = ctx::tenant_actor().await?;
    ctx::ports()?.channels.delete(&actor, tenant, id).await?;
    tracing::info!(tenant_id = tenant, channel_id = id, "channel deleted");
    Ok(())
}

#[server(endpoint = "get_channel_integration")]
pub async fn get_channel_integration(id: i64) -> Result<ChannelIntegration, AppError> {
    let tenant = ctx::require_tenant().await?;
    ctx::holds_secrets();
    ctx::ports()?
        .channels
        .integration(tenant, id)
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "generate_scenario_key")]
pub async fn generate_scenario_key(id: i64) -> Result<(), AppError> {
    let (tenant, actor) = ctx::tenant_actor().await?;
    ctx::ports()?
        .channels
        .generate_scenario_key(&actor, tenant, id)
        .await
        .map_err(AppError::from)
}

/// Changes a webhook credential of the channel (`credential`: see `WebhookCredential`) to
/// `value`, or to one Switchboard makes (`generate`), keeping the previous value accepted for
/// `overlap_hours` (0 to 720; empty is 24).
#[server(endpoint = "change_webhook_credential")]
pub async fn change_webhook_credential(
    id: i64,
    credential: String,
    value: Option<String>,
    generate: Option<String>,
    overlap_hours: String,
) -> Result<crate::model::CredentialChanged, AppError> {
    use crate::domain::FieldErrors;
    use crate::domain::rotation::{WebhookCredential, parse_overlap_hours};
    let (tenant, actor) = ctx::tenant_actor().await?;
    ctx::holds_secrets();
    let mut errors = FieldErrors::new();
    let credential = errors.check(
        "credential",
        WebhookCredential::parse(&credential)
            .ok_or_else(|| "Choose the credential to change.".to_string()),
    );
    let generate = generate.is_some_and(|g| !g.is_empty());
    let value = value.unwrap_or_default();
    let value = match credential {
        Some(c) if generate && value.is_empty() => {
            if c.can_generate() {
                Some(None)
            } else {
                errors.add(
                    "value",
                    "Meta makes the APP Secret: copy the new one from Meta for Developers.",
                );
                None
            }
        }
        Some(c) => errors.check("value", c.check_value(&value)).map(Some),
        None => None,
    };
    let hours = errors.check("overlap_hours", parse_overlap_hours(&overlap_hours));
    errors.into_result()?;
    let (Some(credential), Some(value), Some(overlap_hours)) = (credential, value, hours) else {
        return Err(AppError::Internal);
    };
    let change = crate::model::CredentialChange {
        credential,
        value,
        overlap_hours,
    };
    let changed = ctx::ports()?
        .channels
        .change_webhook_credential(&actor, tenant, id, &change)
        .await?;
    tracing::info!(
        tenant_id = tenant,
        channel_id = id,
        credential = credential.as_str(),
        overlap_hours,
        "webhook credential changed"
    );
    Ok(changed)
}

/// Ends the running overlap of a credential change now.
#[server(endpoint = "end_webhook_overlap")]
pub async fn end_webhook_overlap(id: i64) -> Result<(), AppError> {
    let (tenant, actor) = ctx::tenant_actor().await?;
    ctx::ports()?
        .channels
        .end_webhook_overlap(&actor, tenant, id)
        .await?;
    tracing::info!(tenant_id = tenant, channel_id = id, "webhook overlap ended");
    Ok(())
}

/// A channel's Activity with the page of received events `at` names (newest first).
#[server(endpoint = "get_channel_activity", input = Json)]
pub async fn get_channel_activity(
    id: i64,
    at: crate::model::PageAt,
) -> Result<crate::model::ChannelActivity, AppError> {
    let tenant = ctx::require_tenant().await?;
    ctx::ports()?
        .channels
        .activity(tenant, id, &at)
        .await
        .map_err(AppError::from)
}

/// Test connection: one read-only authenticated call to the provider with the stored
/// credentials and certificates; the outcome is stored on the channel too.
#[server(endpoint = "test_channel_connection")]
pub async fn test_channel_connection(id: i64) -> Result<crate::model::ConnectionTest, AppError> {
    let (tenant, actor) = ctx::tenant_actor().await?;
    Ok(ctx::ports()?
        .outbound
        .test_connection(&actor, tenant, id)
        .await?)
}

/// Send a test delivery: a synthetic, correctly authenticated delivery posted to each of the
/// channel's webhook URLs through the public address, and where each stopped.
#[server(endpoint = "send_test_delivery")]
pub async fn send_test_delivery(id: i64) -> Result<Vec<crate::model::TestDelivery>, AppError> {
    let (tenant, actor) = ctx::tenant_actor().await?;
    Ok(ctx::ports()?
        .outbound
        .send_test_deliveries(&actor, tenant, id)
        .await?)
}

/// Send test message: the provider's send API, to `recipient`, with `text`.
#[server(endpoint = "send_test_message")]
pub async fn send_test_message(
    id: i64,
    recipient: String,
    text: String,
) -> Result<crate::model::SentMessage, AppError> {
    use crate::domain::FieldErrors;
    use crate::domain::outbound::{parse_recipient, parse_test_text};
    let (tenant, actor) = ctx::tenant_actor().await?;
    let mut errors = FieldErrors::new();
    let recipient = errors.check("recipient", parse_recipient(&recipient));
    let text = errors.check("text", parse_test_text(&text));
    errors.into_result()?;
    let (Some(recipient), Some(text)) = (recipient, text) else {
        return Err(AppError::Internal);
    };
    Ok(ctx::ports()?
        .outbound
        .send_test_message(&actor, tenant, id, &recipient, &text)
        .await?)
}

/// The routing preview: at `date` `time` in the tenant's time zone (both empty: now), is it
/// work time for the channel, what a customer gets outside it, and whether `message` matches a
/// transfer keyword.
#[server(endpoint = "preview_routing")]
pub async fn preview_routing(
    id: i64,
    date: String,
    time: String,
    message: String,
) -> Result<crate::domain::routing::RoutingPreview, AppError> {
    use crate::domain::FieldErrors;
    use crate::domain::dates::{day_number, parse_date};
    use crate::domain::routing::{preview, zone};
    use crate::domain::worktime::TimeOfDay;
    let tenant = ctx::require_tenant().await?;
    let mut errors = FieldErrors::new();
    let date = if date.trim().is_empty() {
        None
    } else {
        errors.check("date", parse_date(&date))
    };
    let time = if time.trim().is_empty() {
        None
    } else {
        errors.check(
            "time",
            TimeOfDay::parse(&time).and_then(|t| {
                if t.minutes() >= 1440 {
                    Err("Enter a time from 00:00 to 23:59.".to_string())
                } else {
                    Ok(t)
                }
            }),
        )
    };
    if message.chars().count() > 1000 {
        errors.add("message", "The message can have at most 1,000 characters.");
    }
    errors.into_result()?;
    let (rules, zone_name) = ctx::ports()?.channels.routing(tenant, id).await?;
    let tz = zone::parse_zone(&zone_name).unwrap_or(chrono_tz::Tz::UTC);
    let (today, now_minute) = zone::local_of(tz, chrono::Utc::now().timestamp());
    let day = date.as_deref().and_then(day_number).unwrap_or(today);
    let minute = time.map_or(now_minute, |t| t.minutes());
    let (day, minute, note) = zone::resolve_local(tz, day, minute);
    let mut p = preview(&rules, day, minute, &message);
    p.zone_note = note;
    Ok(p)
}

/// The Configuration Center home of the signed-in tenant administrator.
#[server(endpoint = "get_dashboard")]
pub async fn get_dashboard() -> Result<crate::model::Dashboard, AppError> {
    let tenant = ctx::require_tenant().await?;
    ctx::ports()?
        .channels
        .dashboard(tenant)
        .await
        .map_err(AppError::from)
}
