//! A stored channel as people read it: the export's row (names resolved, work time readable,
//! no secret) and the labelled fields an audit entry compares, secrets only as set or not.

use super::entities::{certificate, channel, ou, skill_queue};
use app::domain::audit::FieldChange;
use app::domain::import::COLUMNS;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;

/// The names of the OUs, skill queues and certificates channels refer to.
#[derive(Debug, Default, Clone)]
pub struct Names {
    pub ous: HashMap<i64, String>,
    pub queues: HashMap<i64, String>,
    pub certificates: HashMap<i64, String>,
}

/// `(id, name)` of the tenant's rows of `E`, all of them or those with these ids.
async fn id_names<E, C>(
    conn: &C,
    tenant: E::Column,
    id: E::Column,
    name: E::Column,
    tenant_id: i64,
    ids: Option<Vec<i64>>,
) -> Result<HashMap<i64, String>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut q = E::find()
        .select_only()
        .column(id)
        .column(name)
        .filter(tenant.eq(tenant_id));
    if let Some(ids) = ids {
        q = q.filter(id.is_in(ids));
    }
    Ok(q.into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

impl Names {
    /// Every OU's and skill queue's name of a tenant (no certificates: the export's need).
    pub async fn of_tenant<C: ConnectionTrait>(conn: &C, tenant_id: i64) -> Result<Self, DbErr> {
        use {ou::Column as O, skill_queue::Column as Q};
        Ok(Self {
            ous: id_names::<ou::Entity, _>(conn, O::TenantId, O::Id, O::Name, tenant_id, None)
                .await?,
            queues: id_names::<skill_queue::Entity, _>(
                conn,
                Q::TenantId,
                Q::Id,
                Q::Name,
                tenant_id,
                None,
            )
            .await?,
            certificates: HashMap::new(),
        })
    }

    /// The names `models` refer to, and nothing else.
    pub async fn of_channels<C: ConnectionTrait>(
        conn: &C,
        tenant_id: i64,
        models: &[&channel::Model],
    ) -> Result<Self, DbErr> {
        use {certificate::Column as Ce, ou::Column as O, skill_queue::Column as Q};
        let mut ous = Vec::new();
        let mut queues = Vec::new();
        let mut certs = Vec::new();
        for m in models {
            ous.extend(m.ou_id);
            queues.push(m.skill_queue_id);
            queues.extend(m.no_agent_queue_id);
            certs.extend(m.auth_certificate_id);
            certs.extend(m.trust_certificate_id);
            certs.extend(m.identity_certificate_id);
        }
        Ok(Self {
            ous: id_names::<ou::Entity, _>(conn, O::TenantId, O::Id, O::Name, tenant_id, Some(ous))
                .await?,
            queues: id_names::<skill_queue::Entity, _>(
                conn,
                Q::TenantId,
                Q::Id,
                Q::Name,
                tenant_id,
                Some(queues),
            )
            .await?,
            certificates: id_names::<certificate::Entity, _>(
                conn,
                Ce::TenantId,
                Ce::Id,
                Ce::Name,
                tenant_id,
                Some(certs),
            )
            .await?,
        })
    }
}

fn yes_no(on: bool) -> String {
    if on { "YES" } else { "NO" }.to_string()
}

fn num(v: Option<i32>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

/// The export's row for a channel, in `COLUMNS` order: no secret read at all.
pub fn row(c: &channel::Model, names: &Names) -> Vec<String> {
    let keywords: Vec<String> = serde_json::from_str(&c.keywords).unwrap_or_default();
    let readable = |w: &str| w.replace(',', ", ").replace('-', "–");
    let queue = |id: Option<i64>| {
        id.and_then(|q| names.queues.get(&q).cloned())
            .unwrap_or_default()
    };
    vec![
        c.name.clone(),
        "WhatsApp".into(),
        match (&c.provider[..], c.verification_method.as_deref()) {
            ("other", Some(m)) => format!("other ({m})"),
            (p, _) => p.to_owned(),
        },
        c.ou_id
            .and_then(|o| names.ous.get(&o).cloned())
            .unwrap_or_default(),
        queue(Some(c.skill_queue_id)),
        keywords.join(", "),
        readable(&c.workday),
        readable(&c.non_workday),
        c.non_working_notification.clone(),
        yes_no(c.last_agent_days.is_some()),
        num(c.last_agent_days),
        yes_no(c.no_reply_minutes.is_some()),
        num(c.no_reply_minutes),
        c.no_reply_message.clone().unwrap_or_default(),
        yes_no(c.no_agent_seconds.is_some()),
        num(c.no_agent_seconds),
        queue(c.no_agent_queue_id),
        yes_no(c.session_transfer),
        yes_no(c.offline_limit_minutes.is_some()),
        c.offline_prompt.clone().unwrap_or_default(),
        num(c.offline_limit_minutes),
        yes_no(c.robot_access_code.is_some()),
        c.robot_access_code.clone().unwrap_or_default(),
        yes_no(c.robot_assistant),
    ]
}

/// Every field of a channel but its secrets, labelled: the export's columns, then the
/// provider's settings.
pub fn fields(c: &channel::Model, names: &Names) -> Vec<(&'static str, String)> {
    let cert =
        |id: Option<i64>| id.map(|i| names.certificates.get(&i).cloned().unwrap_or_default());
    let mut out: Vec<(&'static str, String)> = COLUMNS.iter().copied().zip(row(c, names)).collect();
    let oauth = c.verification_method.as_deref() == Some("oauth");
    // only what the channel's provider uses: one label never names two columns
    let provider_fields = [
        ("Phone Number", c.phone_number.clone()),
        (
            if oauth { "APP Key" } else { "Username" },
            c.username.clone(),
        ),
        ("Base URL", Some(c.base_url.clone())),
        ("APP Key", c.app_key.clone()),
        ("Token Validity Period", c.token_valid_until.clone()),
        ("API Key SID", c.api_key_sid.clone()),
        ("Account SID", c.account_sid.clone()),
        ("Webhook User", c.webhook_user.clone()),
        ("Authentication Certificate", cert(c.auth_certificate_id)),
        ("Trust Certificate", cert(c.trust_certificate_id)),
        ("Identity Certificate", cert(c.identity_certificate_id)),
    ];
    out.extend(
        provider_fields
            .into_iter()
            .filter_map(|(label, v)| Some((label, v?)))
            .filter(|(_, v)| !v.is_empty()),
    );
    out
}

/// The sealed secrets of a channel, labelled.
fn secrets(c: &channel::Model) -> [(&'static str, &Option<Vec<u8>>); 8] {
    [
        (
            if c.verification_method.as_deref() == Some("oauth") {
                "APP Secret"
            } else {
                "Password"
            },
            &c.password_enc,
        ),
        ("Account Key", &c.account_key_enc),
        ("Authentication Key", &c.authentication_key_enc),
        ("Webhook Password", &c.webhook_password_enc),
        ("APP Secret", &c.app_secret_enc),
        ("Access Token", &c.access_token_enc),
        ("API Key Secret", &c.api_key_secret_enc),
        ("Auth Token", &c.auth_token_enc),
    ]
}

/// The secrets written between `before` and `after` (each write seals anew, so a secret typed
/// again reads as changed), by name only. `before` `None`: a new channel.
pub fn secret_changes(before: Option<&channel::Model>, after: &channel::Model) -> Vec<FieldChange> {
    let old = before.map(secrets);
    secrets(after)
        .into_iter()
        .enumerate()
        .filter_map(|(i, (label, now))| {
            let was = old.as_ref().map_or(&None, |o| o[i].1);
            (was != now).then(|| FieldChange::secret(label, was.is_some(), now.is_some()))
        })
        .collect()
}
