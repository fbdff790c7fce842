//! The traits the server implements (server builds only). Server functions reach the database
//! through these, so `app` never depends on sea-orm and can be tested against fakes.

use crate::domain::apps::{Api, AppName};
use crate::domain::audit::{AuditAction, AuditQuery, FieldChange, ObjectKind};
use crate::domain::channel::{ValidChannel, ValidationContext};
use crate::domain::import::RowOutcome;
use crate::domain::service_time::WeekdayRules;
use crate::domain::{
    AccessCode, NewPassword, OuName, SkillQueueName, TenantName, TrustPrefix, Username,
};
use crate::domain::{CertificateKind, CertificateName};
use crate::model::{AlertSettings, AppSecretShown, AppSummary, AuditPage, Role};
use crate::model::{
    CertificateSummary, ChannelForEdit, ChannelIntegration, ChannelPage, ChannelQuery, Me,
    NonWorkingDate, Ou, ServiceTime, SetupStatus, SkillQueue, TenantSummary, TrustEntry,
};
use crate::model::{ChannelActivity, ConnectionTest, ExportTask, SentMessage};
use crate::model::{ImportSummary, ImportView};
use async_trait::async_trait;
use std::net::IpAddr;
use std::sync::Arc;

/// A file as it arrives, piece by piece; an error (the file is too large, the request broke
/// off) ends it.
pub type Upload = std::pin::Pin<Box<dyn futures::Stream<Item = Result<Vec<u8>, RepoError>> + Send>>;

/// Whether the caller is still who they were when a long request began (signed in, not reset,
/// the tenant space enabled), asked again before what the request did is committed.
pub type Recheck =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), RepoError>> + Send>>;

/// What a repository can answer besides success. `Internal` carries no detail: the
/// implementation logs the cause with its context before answering it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    #[error("not found")]
    NotFound,
    #[error("{field}: {message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// Too much work at once (every password hasher is busy): try again in a moment.
    #[error("busy")]
    Busy,
    #[error("internal error")]
    Internal,
}

/// A signed-in account as the server sees it: the page view plus the session epoch that a
/// password reset advances (which ends every older session of that account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub me: Me,
    pub epoch: i64,
}

#[async_trait]
pub trait Accounts: Send + Sync {
    /// Checks a username and password. Unknown users cost the same hashing work as known ones.
    /// Accounts of a disabled tenant do not authenticate.
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Principal>, RepoError>;
    /// The current state of an account, `None` when it no longer exists or its tenant is
    /// disabled.
    async fn principal(&self, user_id: i64) -> Result<Option<Principal>, RepoError>;
    async fn setup_state(&self) -> Result<SetupStatus, RepoError>;
    /// Whether an account has this username (for the entry of a refused sign-in).
    async fn username_exists(&self, username: &str) -> Result<bool, RepoError>;
    /// Creates the first system administrator with a one-time setup token.
    async fn complete_setup(
        &self,
        actor: &Actor,
        token: &str,
        username: &Username,
        password: &NewPassword,
    ) -> Result<Principal, RepoError>;
}

#[async_trait]
pub trait Tenants: Send + Sync {
    async fn list(&self) -> Result<Vec<TenantSummary>, RepoError>;
    /// Creates a tenant space and its first tenant administrator in one transaction.
    async fn create(
        &self,
        actor: &Actor,
        name: &TenantName,
        admin: &Username,
        password: &NewPassword,
    ) -> Result<i64, RepoError>;
    /// Sets a tenant administrator's password and ends that account's sessions.
    async fn reset_admin_password(
        &self,
        actor: &Actor,
        user_id: i64,
        password: &NewPassword,
    ) -> Result<(), RepoError>;
    async fn set_disabled(
        &self,
        actor: &Actor,
        tenant_id: i64,
        disabled: bool,
    ) -> Result<(), RepoError>;
}

#[async_trait]
pub trait Trustlist: Send + Sync {
    async fn list(&self) -> Result<Vec<TrustEntry>, RepoError>;
    /// `tenant_id` `None` adds a global entry; `allow_private` lets calls under it reach
    /// private network addresses.
    async fn add(
        &self,
        actor: &Actor,
        prefix: &TrustPrefix,
        tenant_id: Option<i64>,
        allow_private: bool,
    ) -> Result<i64, RepoError>;
    async fn remove(&self, actor: &Actor, id: i64) -> Result<(), RepoError>;
}

/// A tenant's OUs. Every method takes the tenant: another tenant's id answers `NotFound`,
/// exactly like an id that does not exist.
#[async_trait]
pub trait Ous: Send + Sync {
    async fn list(&self, tenant_id: i64) -> Result<Vec<Ou>, RepoError>;
    async fn create(
        &self,
        actor: &Actor,
        tenant_id: i64,
        name: &OuName,
        parent_id: Option<i64>,
    ) -> Result<i64, RepoError>;
    /// Refused while the OU has sub-OUs.
    async fn delete(&self, actor: &Actor, tenant_id: i64, id: i64) -> Result<(), RepoError>;
}

/// A tenant's multimedia skill queues, scoped like `Ous`.
#[async_trait]
pub trait SkillQueues: Send + Sync {
    async fn list(&self, tenant_id: i64) -> Result<Vec<SkillQueue>, RepoError>;
    async fn create(
        &self,
        actor: &Actor,
        tenant_id: i64,
        name: &SkillQueueName,
        access_code: &AccessCode,
    ) -> Result<i64, RepoError>;
    async fn delete(&self, actor: &Actor, tenant_id: i64, id: i64) -> Result<(), RepoError>;
}

/// A tenant's certificates, scoped like `Ous`.
#[async_trait]
pub trait Certificates: Send + Sync {
    async fn list(&self, tenant_id: i64) -> Result<Vec<CertificateSummary>, RepoError>;
    /// Reads `bytes` (DER, PEM, JKS or PKCS#12, keystores opened with `password`) and stores
    /// every certificate in it as one entry, with an identity's private key sealed. A file
    /// that is not a certificate is a `Conflict` on `file`; a wrong password one on `password`.
    async fn upload(
        &self,
        actor: &Actor,
        tenant_id: i64,
        name: &CertificateName,
        kind: CertificateKind,
        bytes: &[u8],
        password: &str,
    ) -> Result<i64, RepoError>;
    async fn delete(&self, actor: &Actor, tenant_id: i64, id: i64) -> Result<(), RepoError>;
}

/// A tenant's service time, scoped like `Ous`.
#[async_trait]
pub trait ServiceTimes: Send + Sync {
    async fn get(&self, tenant_id: i64) -> Result<ServiceTime, RepoError>;
    async fn set_weekdays(
        &self,
        actor: &Actor,
        tenant_id: i64,
        rules: WeekdayRules,
    ) -> Result<(), RepoError>;
    /// `date` is a valid `YYYY-MM-DD`; a date already listed is a `Conflict` on `date`.
    async fn add_date(
        &self,
        actor: &Actor,
        tenant_id: i64,
        date: &str,
        name: &str,
    ) -> Result<NonWorkingDate, RepoError>;
    async fn remove_date(&self, actor: &Actor, tenant_id: i64, id: i64) -> Result<(), RepoError>;
    /// `zone` is a valid IANA name.
    async fn set_time_zone(
        &self,
        actor: &Actor,
        tenant_id: i64,
        zone: &str,
    ) -> Result<(), RepoError>;
}

/// A tenant's channels, scoped like `Ous`.
#[async_trait]
pub trait Channels: Send + Sync {
    async fn list(&self, tenant_id: i64, query: &ChannelQuery) -> Result<ChannelPage, RepoError>;
    /// The trustlist prefixes that apply to the tenant, the secrets stored (when editing), and
    /// today's date: what `ChannelDraft::validate` needs.
    async fn validation_context(
        &self,
        tenant_id: i64,
        channel_id: Option<i64>,
    ) -> Result<ValidationContext, RepoError>;
    /// Saves a new channel; ids of OUs, queues and certificates must be the tenant's.
    async fn create(
        &self,
        actor: &Actor,
        tenant_id: i64,
        channel: &ValidChannel,
    ) -> Result<i64, RepoError>;
    /// Saves over version `version`; a newer version in the database is a `Conflict`.
    async fn update(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
        version: i64,
        channel: &ValidChannel,
    ) -> Result<(), RepoError>;
    async fn for_edit(&self, tenant_id: i64, id: i64) -> Result<ChannelForEdit, RepoError>;
    /// Whether the tenant has a channel with this id (a page decides its status with it).
    async fn exists(&self, tenant_id: i64, id: i64) -> Result<bool, RepoError>;
    async fn delete(&self, actor: &Actor, tenant_id: i64, id: i64) -> Result<(), RepoError>;
    async fn integration(&self, tenant_id: i64, id: i64) -> Result<ChannelIntegration, RepoError>;
    async fn generate_scenario_key(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
    ) -> Result<(), RepoError>;
    /// Changes a webhook credential, keeping the previous value accepted for the overlap.
    async fn change_webhook_credential(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
        change: &crate::model::CredentialChange,
    ) -> Result<crate::model::CredentialChanged, RepoError>;
    /// Ends a running overlap now: the previous value is refused from this moment.
    async fn end_webhook_overlap(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
    ) -> Result<(), RepoError>;
    /// The latest events the channel's webhooks received, 20 per page, newest first.
    async fn activity(
        &self,
        tenant_id: i64,
        id: i64,
        at: &crate::model::PageAt,
    ) -> Result<ChannelActivity, RepoError>;
    /// What the channel's routing depends on, and the tenant's time zone.
    async fn routing(
        &self,
        tenant_id: i64,
        id: i64,
    ) -> Result<(crate::domain::routing::RoutingRules, String), RepoError>;
    /// The Configuration Center home: channels by health, certificates expiring, deliveries
    /// in the last 24 hours.
    async fn dashboard(&self, tenant_id: i64) -> Result<crate::model::Dashboard, RepoError>;
}

/// A tenant's export tasks. The work runs in the background, not in the request.
#[async_trait]
pub trait Exports: Send + Sync {
    /// Creates a task for the tenant's channels with these ids (all of them when `None`);
    /// more than the limit is a `Conflict` and creates nothing.
    async fn start(
        &self,
        actor: &Actor,
        tenant_id: i64,
        ids: Option<Vec<i64>>,
    ) -> Result<i64, RepoError>;
    async fn list(&self, tenant_id: i64) -> Result<Vec<ExportTask>, RepoError>;
}

/// Imports of an edited export: a dry run checks every row in the background; Apply saves the
/// changes all or nothing.
#[async_trait]
pub trait Imports: Send + Sync {
    /// Stores the upload as it arrives (never all of it in memory) and starts its dry run;
    /// answers the import's id. An upload that stops with an error stores nothing; nor does
    /// one whose caller is no longer signed in when it has arrived (`still_signed_in`).
    async fn start(
        &self,
        actor: &Actor,
        tenant_id: i64,
        file_name: &str,
        upload: Upload,
        still_signed_in: Recheck,
    ) -> Result<i64, RepoError>;
    /// The tenant's latest imports, newest first.
    async fn list(&self, tenant_id: i64) -> Result<Vec<ImportSummary>, RepoError>;
    /// One import and a page of its rows (of one outcome, or all).
    async fn view(
        &self,
        tenant_id: i64,
        id: i64,
        outcome: Option<RowOutcome>,
        at: &crate::model::PageAt,
    ) -> Result<ImportView, RepoError>;
    /// Asks for the checked import to be applied; the worker saves it.
    async fn apply(&self, actor: &Actor, tenant_id: i64, id: i64) -> Result<(), RepoError>;
}

/// Calls to a channel's provider with the channel's own credentials and certificates.
#[async_trait]
pub trait Outbound: Send + Sync {
    /// One read-only authenticated request; the outcome is also stored on the channel.
    async fn test_connection(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
    ) -> Result<ConnectionTest, RepoError>;
    /// Sends `text` to `recipient` with the provider's send API and records the message, so
    /// its delivery reports form a timeline. A provider that refuses is a `Conflict` on `form`
    /// with the diagnosis.
    async fn send_test_message(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
        recipient: &str,
        text: &str,
    ) -> Result<SentMessage, RepoError>;
    /// Posts a synthetic, correctly authenticated delivery to each of the channel's webhook
    /// URLs through the public address, and says where each stopped.
    async fn send_test_deliveries(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
    ) -> Result<Vec<crate::model::TestDelivery>, RepoError>;
}

/// Who makes a change: what its audit entry names as the actor.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Actor {
    /// `None` for a sign-in refused (nobody is signed in).
    pub user_id: Option<i64>,
    /// The account's username, or the name typed at a refused sign-in.
    pub username: String,
    pub role: Option<Role>,
    /// The actor's own tenant (`None` for the system administrator).
    pub tenant_id: Option<i64>,
    pub client: Option<IpAddr>,
}

impl Actor {
    pub fn of(me: &Me, client: Option<IpAddr>) -> Self {
        Self {
            user_id: Some(me.user_id),
            username: me.username.clone(),
            role: Some(me.role),
            tenant_id: me.tenant_id,
            client,
        }
    }

    /// Whoever runs a server command on the host (`switchboard create-tenant`, `demo`): named
    /// by the command, no account, no address.
    pub fn operator(command: &str) -> Self {
        Self::anonymous(command, None)
    }

    /// Someone not signed in (a refused sign-in: `typed` is the name they typed).
    pub fn anonymous(typed: &str, client: Option<IpAddr>) -> Self {
        Self {
            user_id: None,
            username: typed.trim().chars().take(64).collect(),
            role: None,
            tenant_id: None,
            client,
        }
    }
}

/// What an audit entry says besides its actor and time. Repositories write one in the
/// transaction of their change; `Audit::record` writes those that are no change of their own
/// (a sign-in, a sign-out, a refused sign-in, a download).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub action: AuditAction,
    /// The tenant space the entry belongs to (whose administrators see it).
    pub tenant_id: Option<i64>,
    pub object: ObjectKind,
    pub object_id: Option<i64>,
    pub object_name: String,
    /// For an edit, the fields that changed.
    pub changes: Vec<FieldChange>,
}

impl AuditEvent {
    pub fn new(
        action: AuditAction,
        tenant_id: Option<i64>,
        object: ObjectKind,
        object_id: Option<i64>,
        object_name: impl Into<String>,
    ) -> Self {
        Self {
            action,
            tenant_id,
            object,
            object_id,
            object_name: object_name.into(),
            changes: Vec::new(),
        }
    }

    pub fn with(mut self, changes: Vec<FieldChange>) -> Self {
        self.changes = changes;
        self
    }
}

/// The audit log: append-only through the product.
#[async_trait]
pub trait Audit: Send + Sync {
    async fn record(&self, actor: &Actor, event: AuditEvent) -> Result<(), RepoError>;
    /// A page of entries, newest first: one tenant's (`Some`) or everyone's (`None`).
    async fn list(
        &self,
        tenant_id: Option<i64>,
        query: &AuditQuery,
    ) -> Result<AuditPage, RepoError>;
}

/// One sign-in attempt, reserved before the password is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: u64,
    pub client: IpAddr,
    /// The username as the throttle counts it (lower case, at most 64 characters).
    pub username: String,
}

/// How long a browser's device cookie (`LoginThrottle::device_token`) is honoured after the
/// sign-in that issued it.
pub const DEVICE_TOKEN_DAYS: u64 = 30;

/// Counts failed sign-ins per client address and per username, in one place for every instance
/// (the database). An attempt is reserved (and counted) before the password is checked, so
/// attempts made at the same moment cannot all pass the check; a success gives back its own
/// reservation and nothing else.
///
/// A browser that signed in as a username before holds a device token for it; its attempts are
/// not held back by that username's failures (so guessing at an account cannot lock its owner
/// out), only by its own address's.
#[async_trait]
pub trait LoginThrottle: Send + Sync {
    /// `Ok(Err(seconds))` while the address (or, without a valid device token, the username)
    /// must wait.
    async fn reserve(
        &self,
        client: IpAddr,
        username: &str,
        device_token: Option<&str>,
    ) -> Result<Result<Attempt, u64>, RepoError>;
    /// The device token a browser gets after signing in as `username`.
    fn device_token(&self, username: &str) -> String;
    /// `success`: the attempt is not counted; otherwise it stays counted as a failure.
    async fn settle(&self, attempt: Attempt, success: bool);
}

/// The client's address, put into every request's extensions by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Everything server functions need, provided as context by the server.
#[derive(Clone)]
pub struct Ports {
    pub accounts: Arc<dyn Accounts>,
    pub tenants: Arc<dyn Tenants>,
    pub trustlist: Arc<dyn Trustlist>,
    pub ous: Arc<dyn Ous>,
    pub skill_queues: Arc<dyn SkillQueues>,
    pub certificates: Arc<dyn Certificates>,
    pub service_time: Arc<dyn ServiceTimes>,
    pub channels: Arc<dyn Channels>,
    pub exports: Arc<dyn Exports>,
    pub imports: Arc<dyn Imports>,
    pub throttle: Arc<dyn LoginThrottle>,
    pub outbound: Arc<dyn Outbound>,
    pub audit: Arc<dyn Audit>,
    pub alerts: Arc<dyn Alerts>,
    pub apps: Arc<dyn Apps>,
    /// The address people use (`SWITCHBOARD_PUBLIC_URL`): where a redirect may go.
    pub public_url: Arc<url::Url>,
}

/// Where a tenant space's alerts go, checked (`domain::alerts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertTargets {
    pub emails: Vec<String>,
    pub webhook_url: Option<String>,
    pub trust_certificate_id: Option<i64>,
    pub digest: bool,
}

#[async_trait]
pub trait Alerts: Send + Sync {
    async fn settings(&self, tenant_id: i64) -> Result<AlertSettings, RepoError>;
    /// Saves where alerts go; answers the webhook's signing secret when this made one (the
    /// first webhook URL). A webhook URL off the trustlist, or a certificate of another
    /// space, is a `Conflict` on its field.
    async fn save(
        &self,
        actor: &Actor,
        tenant_id: i64,
        targets: &AlertTargets,
    ) -> Result<Option<String>, RepoError>;
    /// A new signing secret for the webhook, shown once; the old one stops signing at once.
    async fn new_secret(&self, actor: &Actor, tenant_id: i64) -> Result<String, RepoError>;
    /// Raises a test alert to every address and the webhook.
    async fn send_test(&self, actor: &Actor, tenant_id: i64) -> Result<(), RepoError>;
}

/// APP Management: apps bound to a tenant space, with their key and a secret kept only as a
/// hash. The system administrator changes them; a tenant administrator reads those of their
/// tenant space (`list(Some(tenant))`).
#[async_trait]
pub trait Apps: Send + Sync {
    /// Every app (`None`), or a tenant space's, by name.
    async fn list(&self, tenant_id: Option<i64>) -> Result<Vec<AppSummary>, RepoError>;
    /// Creates an app; answers its key and secret (shown once). A tenant space that does not
    /// exist is a `Conflict` on `tenant_id`, a name the space has already one on `name`.
    async fn create(
        &self,
        actor: &Actor,
        tenant_id: i64,
        name: &AppName,
        apis: &[Api],
    ) -> Result<AppSecretShown, RepoError>;
    /// A new secret (shown once); the previous one keeps working for `overlap_hours`.
    async fn reset_secret(
        &self,
        actor: &Actor,
        id: i64,
        overlap_hours: u32,
    ) -> Result<AppSecretShown, RepoError>;
    /// A disabled app gets no token, and its tokens stop working at once.
    async fn set_enabled(&self, actor: &Actor, id: i64, enabled: bool) -> Result<(), RepoError>;
    /// Deletes the app and its tokens; a channel that picked it says so at its next call.
    async fn delete(&self, actor: &Actor, id: i64) -> Result<(), RepoError>;
}
