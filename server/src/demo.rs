//! `switchboard seed-demo`: OUs, skill queues and valid channels of every provider in one
//! tenant space, for trying the product and for benchmarks.

use crate::db::channels::SqlChannels;
use crate::db::entities::{channel, tenant};
use crate::state::AppState;
use app::domain::channel::{ChannelDraft, ValidChannel, ValidationContext};
use app::domain::worktime::SegmentInput;
use app::domain::{AccessCode, OuName, SkillQueueName, TrustPrefix};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// The trustlist prefixes the demo channels use (added for the tenant when missing).
pub const DEMO_PREFIXES: [&str; 5] = [
    "https://api.infobip.com",
    "https://graph.facebook.com",
    "https://api.twilio.com",
    "https://bsp.demo.example",
    "https://bsp.demo.example:8443",
];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("there is no tenant space named '{0}'")]
    NoTenant(String),
    #[error("{0}")]
    Failed(String),
}

fn failed(context: &str) -> impl Fn(app::ports::RepoError) -> DemoError + '_ {
    move |e| DemoError::Failed(format!("{context}: {e}"))
}

/// One draft per provider variant, for channel number `i`.
pub fn demo_draft(i: usize, queue: i64, ou: Option<i64>) -> ChannelDraft {
    let mut d = ChannelDraft {
        name: format!("demo_{i:06}"),
        skill_queue_id: queue.to_string(),
        ou_id: ou.map(|o| o.to_string()).unwrap_or_default(),
        workday: vec![
            SegmentInput::new("09:00", "12:00"),
            SegmentInput::new("13:00", "18:00"),
        ],
        non_workday: vec![SegmentInput::new("10:00", "16:00")],
        non_working_notification: "Our agents are back at 09:00.".into(),
        keywords: "agent, human".into(),
        last_agent_mode: i.is_multiple_of(3),
        last_agent_days: "7".into(),
        offline_messages: i.is_multiple_of(2),
        offline_prompt: "Leave us a message".into(),
        offline_limit_minutes: "30".into(),
        ..ChannelDraft::default()
    };
    match i % 5 {
        0 => {
            d.provider = "infobip".into();
            d.phone_number = format!("+49151{i:08}");
            d.username = "demo".into();
            d.password = "demo-password".into();
            d.base_url = "https://api.infobip.com/whatsapp".into();
            d.account_key = "demo-account-key".into();
            d.webhook_password = "demo-webhook-pass".into();
        }
        1 => {
            d.provider = "other".into();
            d.verification_method = "basic".into();
            d.phone_number = format!("5511{i:09}");
            d.username = "demo".into();
            d.password = "demo-password".into();
            d.base_url = "https://bsp.demo.example/api".into();
            d.authentication_key = "demo-auth-key".into();
            d.webhook_password = "demo-webhook-pass".into();
        }
        2 => {
            d.provider = "other".into();
            d.verification_method = "oAuth".into();
            d.username = "demo-app-key".into();
            d.password = "demo-app-secret".into();
            d.base_url = "https://bsp.demo.example:8443/apiaccess/rest/ccmessaging".into();
            d.webhook_password = "demo-webhook-pass".into();
        }
        3 => {
            d.provider = "cloud-api".into();
            d.app_key = "1234567890".into();
            d.app_secret = "demo-app-secret".into();
            d.phone_number = format!("1555{i:07}");
            d.base_url = "https://graph.facebook.com/v19.0".into();
            d.access_token = "demo-access-token".into();
            d.token_valid_until = "2099-12-31".into();
        }
        _ => {
            d.provider = "twilio".into();
            d.phone_number = format!("+1415{i:07}");
            d.api_key_sid = format!("SK{}", "0123456789abcdef".repeat(2));
            d.api_key_secret = "demo-api-key-secret".into();
            d.base_url = "https://api.twilio.com/2010-04-01".into();
            d.account_sid = format!("AC{}", "fedcba9876543210".repeat(2));
            d.webhook_user = "demo_hook".into();
            d.webhook_password = "demo-webhook-pass".into();
        }
    }
    d
}

/// `tenants` tenant spaces `<prefix> 0001`, `<prefix> 0002`… (made when missing, without an
/// administrator: a system administrator adds one), each seeded with `count` channels.
pub async fn seed_tenants(
    state: &AppState,
    prefix: &str,
    tenants: usize,
    count: usize,
) -> Result<(), DemoError> {
    use sea_orm::{ActiveModelTrait, Set};
    let db = &state.db.conn;
    for k in 1..=tenants {
        let name = format!("{} {k:04}", prefix.trim());
        app::domain::TenantName::parse(&name)
            .map_err(|e| DemoError::Failed(format!("tenant space name '{name}': {e}")))?;
        let exists = tenant::Entity::find()
            .filter(tenant::Column::NameKey.eq(name.to_lowercase()))
            .count(db)
            .await
            .map_err(|e| DemoError::Failed(e.to_string()))?;
        if exists == 0 {
            tenant::ActiveModel {
                name: Set(name.clone()),
                name_key: Set(name.to_lowercase()),
                disabled: Set(false),
                created_at: Set(crate::db::now()),
                ..Default::default()
            }
            .insert(db)
            .await
            .map_err(|e| DemoError::Failed(format!("tenant space '{name}': {e}")))?;
        }
        seed(state, &name, count).await?;
    }
    analyze(db).await
}

/// PostgreSQL: the planner's statistics of the new rows now, not when autovacuum gets to them
/// (a search plans by how many names a pattern matches).
async fn analyze(db: &sea_orm::DatabaseConnection) -> Result<(), DemoError> {
    use sea_orm::ConnectionTrait;
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared("ANALYZE channels")
            .await
            .map_err(|e| DemoError::Failed(format!("analyze: {e}")))?;
    }
    Ok(())
}

/// Seeds `count` channels (and, when missing, two OUs, two skill queues and the demo
/// trustlist prefixes) into the tenant space `tenant_name`. Answers the tenant id.
pub async fn seed(state: &AppState, tenant_name: &str, count: usize) -> Result<i64, DemoError> {
    let db = &state.db.conn;
    let tenant = tenant::Entity::find()
        .filter(tenant::Column::NameKey.eq(tenant_name.trim().to_lowercase()))
        .one(db)
        .await
        .map_err(|e| DemoError::Failed(e.to_string()))?
        .ok_or_else(|| DemoError::NoTenant(tenant_name.to_owned()))?;
    let t = tenant.id;
    let ports = &state.ports;
    let operator = app::ports::Actor::operator("switchboard demo");

    let existing: Vec<String> = ports
        .trustlist
        .list()
        .await
        .map_err(failed("trustlist"))?
        .into_iter()
        .filter(|e| e.tenant_id.is_none() || e.tenant_id == Some(t))
        .map(|e| e.prefix)
        .collect();
    for prefix in DEMO_PREFIXES {
        if !existing.iter().any(|p| p == prefix) {
            let p = TrustPrefix::parse(prefix).map_err(DemoError::Failed)?;
            ports
                .trustlist
                .add(&operator, &p, Some(t), false)
                .await
                .map_err(failed("trust prefix"))?;
        }
    }

    let mut queues = ports
        .skill_queues
        .list(t)
        .await
        .map_err(failed("skill queues"))?;
    if queues.is_empty() {
        for (name, code) in [("Demo Care", "90001"), ("Demo Sales", "90002")] {
            let name = SkillQueueName::parse(name).map_err(DemoError::Failed)?;
            let code = AccessCode::parse(code).map_err(DemoError::Failed)?;
            ports
                .skill_queues
                .create(&operator, t, &name, &code)
                .await
                .map_err(failed("skill queue"))?;
        }
        queues = ports
            .skill_queues
            .list(t)
            .await
            .map_err(failed("skill queues"))?;
    }
    let mut ous = ports.ous.list(t).await.map_err(failed("ous"))?;
    if ous.is_empty() {
        let top = ports
            .ous
            .create(
                &operator,
                t,
                &OuName::parse("Demo Region").map_err(DemoError::Failed)?,
                None,
            )
            .await
            .map_err(failed("ou"))?;
        ports
            .ous
            .create(
                &operator,
                t,
                &OuName::parse("Demo Team").map_err(DemoError::Failed)?,
                Some(top),
            )
            .await
            .map_err(failed("ou"))?;
        ous = ports.ous.list(t).await.map_err(failed("ous"))?;
    }

    // numbering continues after the demo channels already there
    let start = channel::Entity::find()
        .filter(channel::Column::TenantId.eq(t))
        .filter(channel::Column::NameKey.starts_with("demo_"))
        .count(db)
        .await
        .map_err(|e| DemoError::Failed(e.to_string()))? as usize;
    let context: ValidationContext = ports
        .channels
        .validation_context(t, None)
        .await
        .map_err(failed("validation context"))?;
    let repo = SqlChannels::new(db.clone(), state.secrets.clone(), String::new());
    let mut batch: Vec<ValidChannel> = Vec::with_capacity(2000);
    for i in start..start + count {
        let queue = queues[i % queues.len()].id;
        let ou = (!i.is_multiple_of(4)).then(|| ous[i % ous.len()].id);
        let valid = demo_draft(i, queue, ou)
            .validate(&context)
            .map_err(|e| DemoError::Failed(format!("demo channel {i} is not valid: {e}")))?;
        batch.push(valid);
        if batch.len() == 2000 {
            repo.insert_batch(t, &batch)
                .await
                .map_err(failed("channels"))?;
            batch.clear();
        }
    }
    repo.insert_batch(t, &batch)
        .await
        .map_err(failed("channels"))?;
    crate::db::tallies::compact_tenant(db, t)
        .await
        .map_err(|e| DemoError::Failed(format!("channel tallies: {e}")))?;
    if count >= 10_000 {
        analyze(db).await?;
    }
    Ok(t)
}
