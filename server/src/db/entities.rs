//! sea-orm entities.

pub mod tenant {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenants")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        /// The name in lower case: tenant names are unique regardless of case.
        #[sea_orm(unique)]
        pub name_key: String,
        pub disabled: bool,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::user::Entity")]
        User,
    }

    impl Related<super::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub username: String,
        pub password_hash: String,
        /// `system_admin` or `tenant_admin`
        pub role: String,
        pub tenant_id: Option<i64>,
        /// Advanced by a password reset: sessions signed in under an older epoch end.
        pub session_epoch: i64,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::tenant::Entity",
            from = "Column::TenantId",
            to = "super::tenant::Column::Id",
            on_delete = "Cascade"
        )]
        Tenant,
    }

    impl Related<super::tenant::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Tenant.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod setup_token {
    use sea_orm::entity::prelude::*;

    /// One-time first-run links; only the SHA-256 of each token is kept.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "setup_tokens")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_digest: String,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod trust_prefix {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "trust_prefixes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub prefix: String,
        /// `None` for a global entry.
        pub tenant_id: Option<i64>,
        /// `global` or the tenant id: makes (prefix, scope) unique without NULL semantics.
        pub scope_key: String,
        pub created_at: TimeDateTimeWithTimeZone,
        /// Calls to URLs under this prefix may go to loopback, private and link-local
        /// addresses (an internal BSP); set by the system administrator.
        pub allow_private: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::tenant::Entity",
            from = "Column::TenantId",
            to = "super::tenant::Column::Id",
            on_delete = "Cascade"
        )]
        Tenant,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ou {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ous")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub parent_id: Option<i64>,
        pub name: String,
        /// Lower-case name: unique per tenant regardless of case.
        pub name_key: String,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod skill_queue {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "skill_queues")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub name: String,
        pub name_key: String,
        pub access_code: String,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod certificate {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certificates")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub name: String,
        pub name_key: String,
        /// `trust`, `identity` or `authentication`
        pub kind: String,
        pub subject: String,
        pub issuer: String,
        pub not_before: TimeDateTimeWithTimeZone,
        pub not_after: TimeDateTimeWithTimeZone,
        pub fingerprint: String,
        /// The first certificate of the file (the identity's own, when it has a key).
        pub der: Vec<u8>,
        pub created_at: TimeDateTimeWithTimeZone,
        /// A stable public id, what the sealed key is bound to.
        pub uid: Option<String>,
        /// Every certificate of the file as PEM, when it held more than `der`.
        pub chain_pem: Option<String>,
        /// An identity certificate's private key, sealed (never sent anywhere).
        pub key_enc: Option<Vec<u8>>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod service_weekdays {
    use sea_orm::entity::prelude::*;

    /// One row per tenant that changed its workdays; no row means Monday to Friday.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "service_weekdays")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: i64,
        /// `1111100`, Monday first
        pub workdays: String,
        /// IANA time zone name.
        pub time_zone: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod non_working_date {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "non_working_dates")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        /// `YYYY-MM-DD`
        pub date: String,
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod channel {
    use sea_orm::entity::prelude::*;

    /// A channel. Secret columns (`*_enc`) hold AES-256-GCM boxes (see `crate::secrets`).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "channels")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        /// Stable public id: binds the secrets' associated data.
        pub uid: String,
        /// The random key in the webhook URLs (128 bits, hex).
        pub webhook_key: String,
        pub name: String,
        pub name_key: String,
        pub channel_type: String,
        pub provider: String,
        pub verification_method: Option<String>,
        pub phone_number: Option<String>,
        pub username: Option<String>,
        pub base_url: String,
        pub app_key: Option<String>,
        pub token_valid_until: Option<String>,
        pub api_key_sid: Option<String>,
        pub account_sid: Option<String>,
        pub webhook_user: Option<String>,
        pub auth_certificate_id: Option<i64>,
        pub trust_certificate_id: Option<i64>,
        pub identity_certificate_id: Option<i64>,
        pub password_enc: Option<Vec<u8>>,
        pub account_key_enc: Option<Vec<u8>>,
        pub authentication_key_enc: Option<Vec<u8>>,
        pub webhook_password_enc: Option<Vec<u8>>,
        pub app_secret_enc: Option<Vec<u8>>,
        pub access_token_enc: Option<Vec<u8>>,
        pub api_key_secret_enc: Option<Vec<u8>>,
        pub ou_id: Option<i64>,
        pub skill_queue_id: i64,
        /// JSON array of strings.
        pub keywords: String,
        /// `09:00-12:00,13:00-18:00`
        pub workday: String,
        pub non_workday: String,
        pub non_working_notification: String,
        pub last_agent_days: Option<i32>,
        pub no_reply_minutes: Option<i32>,
        pub no_reply_message: Option<String>,
        pub no_agent_seconds: Option<i32>,
        pub no_agent_queue_id: Option<i64>,
        pub session_transfer: bool,
        pub offline_prompt: Option<String>,
        pub offline_limit_minutes: Option<i32>,
        pub robot_access_code: Option<String>,
        pub robot_assistant: bool,
        pub verification_code: Option<String>,
        pub scenario_key: Option<String>,
        /// other + oAuth: the app of APP Management the channel picked (its token is minted
        /// by this server's issuer; no secret is kept on the channel).
        pub app_id: Option<i64>,
        pub version: i64,
        pub created_at: TimeDateTimeWithTimeZone,
        pub updated_at: TimeDateTimeWithTimeZone,
        /// The last Test connection: when, whether it connected, and its diagnosis.
        pub last_test_at: Option<TimeDateTimeWithTimeZone>,
        pub last_test_ok: Option<bool>,
        pub last_test_summary: Option<String>,
        /// When Meta last completed the verification handshake (cloud-api).
        pub verified_at: Option<TimeDateTimeWithTimeZone>,
        /// The newest accepted and refused delivery, written by the webhook writer.
        pub last_accepted_at: Option<TimeDateTimeWithTimeZone>,
        pub last_refused_at: Option<TimeDateTimeWithTimeZone>,
        /// The newest refusal's reason code (`app::domain::refusal::Refusal::code`).
        pub last_refused_reason: Option<String>,
        /// `app::domain::health::HealthLevel::rank`, kept for sorting and filtering.
        pub health: i16,
        /// When time alone changes the health next; the sweep recomputes it then.
        pub health_due_at: Option<TimeDateTimeWithTimeZone>,
        /// The webhook credential being changed or last changed with an overlap
        /// (`app::domain::rotation::WebhookCredential::as_str`), its previous value (sealed
        /// as `previous_<credential>`), when the change started and until when the previous
        /// value is accepted; when the provider was first seen with the new value and last
        /// seen with the previous one.
        pub rotation_credential: Option<String>,
        pub previous_secret_enc: Option<Vec<u8>>,
        pub rotation_started_at: Option<TimeDateTimeWithTimeZone>,
        pub rotation_until: Option<TimeDateTimeWithTimeZone>,
        pub rotation_new_seen_at: Option<TimeDateTimeWithTimeZone>,
        pub rotation_previous_seen_at: Option<TimeDateTimeWithTimeZone>,
        /// When the overlap's end was recorded (ended early, or noticed by the sweep).
        pub rotation_ended_at: Option<TimeDateTimeWithTimeZone>,
        /// twilio: the account's Auth Token (sealed), when `X-Twilio-Signature` is checked.
        pub auth_token_enc: Option<Vec<u8>>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    impl Model {
        /// One of this channel's sealed secrets, opened (`field` names it in the seal's
        /// scope); `None` when none is stored, or when it does not open: that is logged with
        /// `purpose` and the channel's id, never with a value.
        pub fn open_secret(
            &self,
            secrets: &crate::secrets::SecretBox,
            sealed: &Option<Vec<u8>>,
            field: &str,
            purpose: &'static str,
        ) -> Option<String> {
            let scope = crate::secrets::SecretScope {
                tenant_id: self.tenant_id,
                channel: &self.uid,
                field,
            };
            secrets
                .open(sealed.as_ref()?, scope)
                .map_err(|e| tracing::error!(error = %e, channel_id = self.id, field, purpose, "opening a secret"))
                .ok()
        }
    }
}

pub mod export_task {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "export_tasks")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        /// `running`, `success`, `failed`
        pub status: String,
        /// JSON array of channel ids; `None` for all of the tenant's channels.
        pub channel_ids: Option<String>,
        pub record_count: i64,
        pub file_count: i64,
        pub file_name: Option<String>,
        pub content_type: Option<String>,
        pub artifact: Option<Vec<u8>>,
        pub error: Option<String>,
        pub attempts: i32,
        pub claimed_by: Option<String>,
        pub claimed_until: Option<TimeDateTimeWithTimeZone>,
        pub created_at: TimeDateTimeWithTimeZone,
        pub finished_at: Option<TimeDateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod webhook_event {
    use sea_orm::entity::prelude::*;

    /// One message or delivery report a provider sent to a channel's webhook URL; stored once
    /// per (channel, kind, provider message id).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub channel_id: i64,
        pub tenant_id: i64,
        /// `message` or `report`
        pub kind: String,
        pub provider_message_id: String,
        pub sender: String,
        pub recipient: String,
        pub text: Option<String>,
        pub status: Option<String>,
        /// Statuses only move forward: a report with a lower rank does not overwrite.
        pub status_rank: i32,
        /// The request that carried this event (its raw body is stored there, once).
        pub delivery_id: Option<i64>,
        pub received_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod webhook_delivery {
    use sea_orm::entity::prelude::*;

    /// One request a provider made to a webhook URL that was accepted: the raw body as
    /// received (bytes, never altered), stored once however many events it carried.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub channel_id: i64,
        pub tenant_id: i64,
        /// `message`, `report` or `cloud`
        pub endpoint: String,
        pub content_type: String,
        pub body: Vec<u8>,
        pub received_at: TimeDateTimeWithTimeZone,
        /// During a credential change: `new` or `previous`, the credential it came with.
        pub credential: Option<String>,
        /// twilio with an Auth Token: the form of the signed URL that matched.
        pub signed_as: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod webhook_self_test {
    use sea_orm::entity::prelude::*;

    /// A test delivery "Send a test delivery" posted through the public address.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_self_tests")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub channel_id: i64,
        pub tenant_id: i64,
        /// 32 hexadecimal characters, carried in `X-Switchboard-Test-Delivery`.
        pub nonce: String,
        /// `message`, `report` or `cloud`
        pub endpoint: String,
        pub started_at: TimeDateTimeWithTimeZone,
        /// When the receiving endpoint accepted it (authenticated, in the provider's format).
        pub received_at: Option<TimeDateTimeWithTimeZone>,
        /// Why the receiving endpoint refused it (`Refusal::code`), with its detail.
        pub refusal: Option<String>,
        pub refusal_detail: Option<String>,
        /// The outcome the sender saw, in words, and the time there and back.
        pub ok: Option<bool>,
        pub summary: Option<String>,
        pub rtt_ms: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod master_key {
    use sea_orm::entity::prelude::*;

    /// A master key that seals something here: its id and a constant sealed with it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "master_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key_id: String,
        pub check_value: Vec<u8>,
        pub genesis: Option<i32>,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod outbound_message {
    use sea_orm::entity::prelude::*;

    /// A test message sent through the provider's API, by the provider's message id.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbound_messages")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub channel_id: i64,
        pub tenant_id: i64,
        pub provider_message_id: String,
        pub recipient: String,
        pub text: String,
        pub sent_at: TimeDateTimeWithTimeZone,
        /// The app that sent it through the send API (`None`: Send test message).
        pub app_id: Option<i64>,
        /// The app's own reference for it: one message per app and reference.
        pub client_reference: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod outbound_status {
    use sea_orm::entity::prelude::*;

    /// One delivery report about a sent message, in the order they came: its timeline.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbound_statuses")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub outbound_id: i64,
        pub status: String,
        pub status_rank: i32,
        pub detail: Option<String>,
        pub received_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod webhook_refusal {
    use sea_orm::entity::prelude::*;

    /// Deliveries a webhook URL refused for one reason within one second (`count` of them);
    /// never the body or a credential.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_refusals")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub channel_id: i64,
        pub tenant_id: i64,
        /// `message`, `report`, `cloud` or `verify`
        pub endpoint: String,
        pub status: i32,
        /// `app::domain::refusal::Refusal::code`
        pub reason: String,
        pub detail: Option<String>,
        pub source: String,
        pub content_type: String,
        pub size: i64,
        /// Unix second of the refusals this row counts.
        pub second: i64,
        pub count: i64,
        pub last_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod webhook_count {
    use sea_orm::entity::prelude::*;

    /// Deliveries accepted and refused per tenant and hour.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_counts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub hour: i64,
        pub accepted: i64,
        pub refused: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit_entry {
    use sea_orm::entity::prelude::*;

    /// One audit log entry: inserted, never updated.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub at_ms: i64,
        pub tenant_id: Option<i64>,
        pub user_id: Option<i64>,
        pub actor: String,
        pub actor_key: String,
        pub role: String,
        pub client: String,
        pub action: String,
        pub object_kind: String,
        pub object_id: Option<i64>,
        pub object_name: String,
        pub changes: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod import_task {
    use sea_orm::entity::prelude::*;

    /// An uploaded edited export: checked by a dry run, applied on request.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "import_tasks")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        /// `receiving` (its upload arriving: not shown, not claimed), `checking`, `checked`,
        /// `applying`, `applied`, `failed`
        pub status: String,
        pub file_name: String,
        /// The upload of a task made before uploads were kept in `import_chunks` (none since).
        pub file: Option<Vec<u8>>,
        pub rows_read: i64,
        pub unchanged: i64,
        pub changed: i64,
        pub errors: i64,
        pub unknown: i64,
        pub error: Option<String>,
        pub applied_by: Option<String>,
        pub attempts: i32,
        pub claimed_by: Option<String>,
        pub claimed_until: Option<TimeDateTimeWithTimeZone>,
        pub created_at: TimeDateTimeWithTimeZone,
        pub finished_at: Option<TimeDateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod import_chunk {
    use sea_orm::entity::prelude::*;

    /// A piece (at most 1 MiB) of an import's upload, `seq` from 0.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "import_chunks")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub task_id: i64,
        pub seq: i32,
        pub data: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod import_row {
    use sea_orm::entity::prelude::*;

    /// One row of an import's dry run.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "import_rows")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub task_id: i64,
        pub seq: i64,
        pub file: Option<String>,
        pub row_number: i64,
        pub channel_name: String,
        pub channel_id: Option<i64>,
        pub version: Option<i64>,
        /// `unchanged`, `changed`, `error`, `unknown`
        pub outcome: String,
        pub details: String,
        pub draft: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod alert_settings {
    use sea_orm::entity::prelude::*;

    /// Where a tenant space's alerts go.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "alert_settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: i64,
        /// One address a line.
        pub emails: String,
        pub webhook_url: Option<String>,
        /// Sealed: opened only to sign a webhook call.
        pub webhook_secret_enc: Option<Vec<u8>>,
        pub trust_certificate_id: Option<i64>,
        pub digest: bool,
        pub updated_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod alert {
    use sea_orm::entity::prelude::*;

    /// An alert raised once (`(tenant_id, dedupe)` is unique).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "alerts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        /// `app::domain::alerts::AlertKind::code`
        pub kind: String,
        pub dedupe: String,
        pub channel_id: Option<i64>,
        pub subject: String,
        /// JSON: what the texts are made from (names, reasons, dates, a path).
        pub payload: String,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod alert_send {
    use sea_orm::entity::prelude::*;

    /// One alert's delivery to one address or the webhook.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "alert_sends")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub alert_id: i64,
        pub tenant_id: i64,
        /// `email` or `webhook`
        pub via: String,
        pub target: String,
        /// `pending`, `sent`, `failed`
        pub state: String,
        pub attempts: i32,
        pub next_at: TimeDateTimeWithTimeZone,
        pub claimed_until: Option<TimeDateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod alert_attempt {
    use sea_orm::entity::prelude::*;

    /// One attempt to deliver an alert, as the Alerts page lists it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "alert_attempts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub alert_id: i64,
        pub kind: String,
        pub subject: String,
        pub via: String,
        pub target: String,
        pub ok: bool,
        pub outcome: String,
        pub at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod app_entry {
    use sea_orm::entity::prelude::*;

    /// An app of APP Management: bound to a tenant space, its secret kept as a hash.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "apps")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub name: String,
        /// The name in lower case: unique within the tenant space.
        pub name_key: String,
        #[sea_orm(unique)]
        pub app_key: String,
        /// SHA-256 of the secret, hex.
        pub secret_hash: String,
        /// The previous secret's hash, accepted until `previous_until`.
        pub previous_hash: Option<String>,
        pub previous_until: Option<TimeDateTimeWithTimeZone>,
        /// The subscribed APIs' codes, comma-separated.
        pub apis: String,
        pub enabled: bool,
        pub created_at: TimeDateTimeWithTimeZone,
        pub secret_changed_at: TimeDateTimeWithTimeZone,
        pub last_token_at: Option<TimeDateTimeWithTimeZone>,
        pub last_call_at: Option<TimeDateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod app_token {
    use sea_orm::entity::prelude::*;

    /// A token issued to an app: only its hash, its scope and its expiry are kept.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "app_tokens")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub app_id: i64,
        #[sea_orm(unique)]
        pub token_hash: String,
        pub scope: String,
        pub created_at: TimeDateTimeWithTimeZone,
        pub expires_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
