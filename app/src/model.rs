//! Data that crosses the wire between server functions and pages.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    SystemAdmin,
    TenantAdmin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SystemAdmin => "system_admin",
            Self::TenantAdmin => "tenant_admin",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        match value {
            "system_admin" => Some(Self::SystemAdmin),
            "tenant_admin" => Some(Self::TenantAdmin),
            _ => None,
        }
    }

    /// Where this role lands after signing in.
    pub fn home(self) -> &'static str {
        match self {
            Self::SystemAdmin => "/system/tenants",
            Self::TenantAdmin => "/config/channels",
        }
    }
}

/// The signed-in person, as the pages need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub tenant_id: Option<i64>,
    pub tenant_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSummary {
    pub user_id: i64,
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSummary {
    pub id: i64,
    pub name: String,
    pub disabled: bool,
    /// `YYYY-MM-DD HH:MM UTC`
    pub created: String,
    pub admins: Vec<AdminSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustEntry {
    pub id: i64,
    pub prefix: String,
    /// `None` for a global entry.
    pub tenant_id: Option<i64>,
    pub tenant_name: Option<String>,
    /// Calls under this prefix may reach private network addresses (an internal BSP).
    pub allow_private: bool,
    pub created: String,
}

/// Whether the first-run setup can still be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetupStatus {
    /// No system administrator yet: the page asks for one.
    Open,
    /// A system administrator exists; the link is spent.
    Done,
}

/// An OU, listed depth-first: parents before their children.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ou {
    pub id: i64,
    pub name: String,
    pub parent_id: Option<i64>,
    /// 0 for a top-level OU.
    pub depth: u32,
    /// `Parent / Child`
    pub path: String,
    pub children: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillQueue {
    pub id: i64,
    pub name: String,
    pub access_code: String,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateMember {
    pub subject: String,
    pub issuer: String,
    /// `YYYY-MM-DD`
    pub not_after: String,
    pub expired: bool,
    /// SHA-256 of the DER bytes, `AB:CD:…`
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSummary {
    pub id: i64,
    pub name: String,
    pub kind: crate::domain::CertificateKind,
    /// Every certificate of the uploaded file (a keystore may hold a chain), the one a
    /// private key belongs to first.
    pub members: Vec<CertificateMember>,
    /// An identity certificate's private key is stored (sealed; it never leaves the server).
    pub has_private_key: bool,
    /// The earliest expiry of the members, `YYYY-MM-DD`.
    pub not_after: String,
    pub expired: bool,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonWorkingDate {
    pub id: i64,
    /// `YYYY-MM-DD`
    pub date: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceTime {
    pub weekdays: crate::domain::service_time::WeekdayRules,
    /// IANA time zone of the tenant (`UTC` unless set): work time is in it.
    pub time_zone: String,
    /// In date order.
    pub dates: Vec<NonWorkingDate>,
}

/// One row of the channel list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSummary {
    pub id: i64,
    pub name: String,
    /// `WhatsApp`
    pub channel_type: String,
    /// `infobip`, `other`, `cloud-api`, `twilio`
    pub provider: String,
    pub ou: Option<String>,
    pub skill_queue: String,
    pub scenario_key: bool,
    pub updated: String,
    /// When a webhook last delivered something for this channel.
    pub last_received: Option<String>,
    /// The last Test connection, if any.
    pub last_test: Option<LastTest>,
    /// OK, Attention or Failing, with the reasons (computed when read).
    pub health: crate::domain::health::Health,
}

/// The outcome of the last Test connection, as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastTest {
    pub ok: bool,
    pub at: String,
    pub summary: String,
}

/// What Test connection found: connected or not, in plain words, and how long it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionTest {
    pub ok: bool,
    /// `Connected`, or what failed, in a sentence.
    pub summary: String,
    pub latency_ms: u64,
    pub at: String,
}

/// One test delivery "Send a test delivery" posted to a webhook URL through the public
/// address, and where it stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestDelivery {
    pub at: String,
    /// The URL as Channel Integration names it.
    pub endpoint: String,
    /// Received and accepted by this Switchboard.
    pub ok: bool,
    pub summary: String,
}

/// What Send test message did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessage {
    /// The provider's id of the message: its delivery reports name it.
    pub provider_message_id: String,
    pub latency_ms: u64,
}

/// A test message and its timeline of delivery reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundTimeline {
    pub provider_message_id: String,
    /// The app that sent it through the send API (its name); `None`: Send test message.
    pub app: Option<String>,
    pub recipient: String,
    pub text: String,
    pub sent: String,
    /// (status, time, the provider's reason when it failed), oldest first.
    pub statuses: Vec<(String, String, Option<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ChannelSort {
    #[default]
    Name,
    Provider,
    Updated,
    /// Worst first when descending.
    Health,
}

/// What the channel list asks for: search, filter, sort and page, all done in SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelQuery {
    /// Part of the channel name (three characters or more), or how it starts (one or two);
    /// empty for all.
    pub search: String,
    /// A provider's value, or empty for all.
    pub provider: String,
    pub sort: ChannelSort,
    pub descending: bool,
    /// Only channels whose health is Attention or Failing.
    #[serde(default)]
    pub attention: bool,
    /// Which page: found from a row's place in the sort order, never by counting rows.
    #[serde(default)]
    pub at: PageAt,
    /// 10, 20, 50 or 100.
    pub per_page: u32,
}

/// A page of a list that pages by seeking: from either end, or next to a row of the page the
/// browser shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum PageAt {
    #[default]
    First,
    Last,
    /// The rows after this one (the last row of the page shown).
    After(PageKey),
    /// The rows before this one (the first row of the page shown).
    Before(PageKey),
}

/// A row's place in a sort order, as the server wrote it (the browser only sends it back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageKey(pub String);

impl Default for ChannelQuery {
    fn default() -> Self {
        Self {
            search: String::new(),
            provider: String::new(),
            sort: ChannelSort::Name,
            descending: false,
            attention: false,
            at: PageAt::First,
            per_page: 20,
        }
    }
}

impl ChannelQuery {
    pub const PAGE_SIZES: [u32; 4] = [10, 20, 50, 100];

    /// The query with its page size forced into range.
    pub fn normalized(mut self) -> Self {
        if !Self::PAGE_SIZES.contains(&self.per_page) {
            self.per_page = 20;
        }
        // control characters cannot be part of a channel name (and NUL cannot reach SQL)
        self.search = self
            .search
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(64)
            .collect();
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelPage {
    pub rows: Vec<ChannelSummary>,
    /// How many channels match: exact up to [`ChannelPage::COUNTED_UP_TO`] for a name search,
    /// always exact without one.
    pub total: u64,
    /// More than `total` match (a name search counts no further).
    pub more: bool,
    pub per_page: u32,
    /// The place of the first and of the last row, for Previous and Next.
    pub first: Option<PageKey>,
    pub last: Option<PageKey>,
    pub has_previous: bool,
    pub has_next: bool,
}

impl ChannelPage {
    /// How far a name search counts its matches.
    pub const COUNTED_UP_TO: u64 = 10_000;

    /// `1 channel`, `2,001 channels`, `10,000+ channels`.
    pub fn total_text(&self) -> String {
        format!(
            "{}{} {}",
            thousands(self.total),
            if self.more { "+" } else { "" },
            if self.total == 1 && !self.more {
                "channel"
            } else {
                "channels"
            }
        )
    }

    /// How many pages there are, when the total is exact.
    pub fn pages(&self) -> Option<u64> {
        (!self.more).then(|| self.total.div_ceil(u64::from(self.per_page)).max(1))
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A channel as the edit form shows it: every non-secret value, and which secrets are set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelForEdit {
    pub id: i64,
    pub version: i64,
    /// The secret fields are empty here, always.
    pub draft: crate::domain::channel::ChannelDraft,
    pub configured: Vec<crate::domain::channel::SecretField>,
    pub health: crate::domain::health::Health,
}

/// What Channel Integration shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelIntegration {
    pub id: i64,
    pub name: String,
    pub provider: String,
    /// infobip, other, twilio: where the provider sends messages.
    pub message_url: Option<String>,
    /// infobip, other, twilio: where the provider sends delivery reports.
    pub report_url: Option<String>,
    /// cloud-api: the callback URL.
    pub callback_url: Option<String>,
    /// cloud-api: the verify token to enter at Meta.
    pub verification_code: Option<String>,
    /// `None` until generated (not for cloud-api).
    pub scenario_key: Option<String>,
    pub health: crate::domain::health::Health,
    /// The tenant's time zone (the routing preview's times are in it).
    pub time_zone: String,
    /// The webhook credentials the provider's deliveries are checked with (what "Change"
    /// offers).
    pub credentials: Vec<crate::domain::rotation::WebhookCredential>,
    /// The running (or last) credential change with an overlap.
    pub rotation: Option<crate::domain::rotation::RotationStatus>,
    /// twilio: an Auth Token is stored, so `X-Twilio-Signature` is checked.
    pub signatures_checked: bool,
}

/// A credential change asked for on Channel Integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialChange {
    pub credential: crate::domain::rotation::WebhookCredential,
    /// `None`: Switchboard makes the new value.
    pub value: Option<String>,
    pub overlap_hours: u32,
}

/// A credential change made: the new value when Switchboard made it (shown once, to copy into
/// the provider's portal), and until when the previous one is accepted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialChanged {
    pub label: String,
    pub generated: Option<String>,
    pub until: String,
}

impl std::fmt::Debug for CredentialChanged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialChanged")
            .field("label", &self.label)
            .field("generated", &self.generated.as_ref().map(|_| "****"))
            .field("until", &self.until)
            .finish()
    }
}

/// The choices the channel form offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ChannelFormOptions {
    pub ous: Vec<Ou>,
    pub skill_queues: Vec<SkillQueue>,
    pub certificates: Vec<CertificateSummary>,
    /// The trustlist prefixes that apply to this tenant (for the browser's own check).
    pub trust: Vec<String>,
    /// `YYYY-MM-DD` on the server.
    pub today: String,
    /// The apps an oAuth channel may pick (enabled, subscribed to `sendWhatsappMessage`).
    pub apps: Vec<PickableApp>,
    /// This Switchboard's own send API, as an oAuth BaseUrl (`None` when its public address
    /// is not https, which an oAuth BaseUrl must be).
    pub own_base_url: Option<String>,
}

/// An app an oAuth channel may pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickableApp {
    pub id: i64,
    pub name: String,
    pub app_key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportStatus {
    Running,
    Success,
    Failed,
}

impl ExportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::Success => "Success",
            Self::Failed => "Failed",
        }
    }
}

/// One export task, as the Export Tasks page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportTask {
    pub id: i64,
    pub status: ExportStatus,
    pub record_count: i64,
    pub file_count: i64,
    pub created: String,
    pub finished: Option<String>,
    /// Why it failed, for Failed tasks.
    pub error: Option<String>,
    /// `channels-20261125-1530.zip`, for Success tasks.
    pub file_name: Option<String>,
}

/// One message or report a provider delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEvent {
    /// `message` or `report`
    pub kind: String,
    pub provider_message_id: String,
    pub sender: String,
    pub recipient: String,
    pub text: Option<String>,
    pub status: Option<String>,
    pub received: String,
    /// During a credential change: which value the delivery came with, in words ("previous
    /// Webhook Password"); and for a signed twilio delivery, what its signature covered.
    pub authenticated: Option<String>,
}

/// One webhook URL of a channel: its last accepted and last refused delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointActivity {
    /// What the Channel Integration page calls the URL.
    pub label: String,
    pub last_accepted: Option<String>,
    pub last_refused: Option<String>,
    /// The last delivery to this URL was refused (refused after the last accepted one).
    pub refused_last: bool,
}

/// Deliveries refused for one reason within one second (a row counts them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedDelivery {
    /// The last one's time.
    pub at: String,
    pub count: u64,
    /// `message`, `report`, `cloud` or `verify`
    pub endpoint: String,
    pub status: u16,
    /// In plain words, with the parser's detail where there is one.
    pub reason: String,
    pub fix: String,
    pub source: String,
    pub content_type: String,
    pub size: u64,
}

/// What a channel's webhooks received, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelActivity {
    pub id: i64,
    pub name: String,
    pub provider: String,
    pub last_message: Option<String>,
    pub last_report: Option<String>,
    /// Test messages sent from Channel Integration, newest first, with their reports.
    pub sent: Vec<OutboundTimeline>,
    /// Per webhook URL: when a delivery was last accepted and last refused.
    pub endpoints: Vec<EndpointActivity>,
    /// Refused deliveries, newest first (at most 200 kept per channel).
    pub refused: Vec<RefusedDelivery>,
    /// Test deliveries sent from Channel Integration, newest first (at most 20 kept): never
    /// counted as traffic.
    pub test_deliveries: Vec<TestDelivery>,
    /// A page of the received messages and reports, newest first, found by seeking.
    pub events: Vec<ActivityEvent>,
    /// How many were received: exact up to [`ChannelPage::COUNTED_UP_TO`], `more` beyond.
    pub total: u64,
    pub more: bool,
    pub per_page: u32,
    /// The place of the page's newest and oldest event, for Newer and Older.
    pub first: Option<PageKey>,
    pub last: Option<PageKey>,
    pub has_previous: bool,
    pub has_next: bool,
}

/// A channel on the dashboard's "needs attention" list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttentionChannel {
    pub id: i64,
    pub name: String,
    pub provider: String,
    pub health: crate::domain::health::Health,
}

/// A certificate that expires within 30 days or has expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiringCertificate {
    pub id: i64,
    pub name: String,
    pub kind: String,
    /// `YYYY-MM-DD` of the earliest expiry in the file.
    pub not_after: String,
    pub expired: bool,
}

/// The Configuration Center home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Dashboard {
    pub ok: u64,
    pub attention: u64,
    pub failing: u64,
    /// The worst channels first (at most 20), with their reasons.
    pub needs_attention: Vec<AttentionChannel>,
    pub certificates: Vec<ExpiringCertificate>,
    /// Deliveries to the tenant's webhook URLs in the last 24 hours.
    pub accepted_24h: u64,
    pub refused_24h: u64,
}

/// One audit log entry as the audit pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// `YYYY-MM-DD HH:MM:SS UTC`
    pub at: String,
    /// The username (or, for a refused sign-in, the name that was typed).
    pub actor: String,
    /// "System administrator", "Tenant administrator", or empty when nobody was signed in.
    pub role: String,
    pub tenant: Option<String>,
    pub client: String,
    /// Its code (`AuditAction::as_str`) and label.
    pub action: String,
    pub action_label: String,
    pub object_kind: String,
    pub object_id: Option<i64>,
    pub object_name: String,
    pub changes: Vec<crate::domain::audit::FieldChange>,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// The `before` of the next (older) page, when there is one.
    pub next_before: Option<i64>,
}

/// An import as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub id: i64,
    pub status: crate::domain::import::ImportStatus,
    pub file_name: String,
    /// Rows the dry run has read so far.
    pub rows_read: i64,
    pub counts: crate::domain::import::RowCounts,
    pub created: String,
    pub finished: Option<String>,
    /// Why the file was refused or Apply failed.
    pub error: Option<String>,
}

/// One row of a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRowView {
    pub seq: i64,
    /// The zip member, for a zip of exports.
    pub file: Option<String>,
    /// The row number as the sheet shows it.
    pub row: i64,
    pub channel_name: String,
    pub channel_id: Option<i64>,
    pub outcome: crate::domain::import::RowOutcome,
    pub changes: Vec<crate::domain::audit::FieldChange>,
    pub errors: Vec<crate::domain::import::RowError>,
}

/// An import and one page of its dry run's rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportView {
    pub summary: ImportSummary,
    /// The rows shown: of one outcome, or all of them.
    pub outcome: Option<crate::domain::import::RowOutcome>,
    /// A page of them, in file order, found from a row's place (never by skipping rows).
    pub rows: Vec<ImportRowView>,
    /// Rows of the chosen outcome (all rows without one).
    pub total: i64,
    /// The place of the page's first and last row, for Previous and Next.
    pub first: Option<PageKey>,
    pub last: Option<PageKey>,
    pub has_previous: bool,
    pub has_next: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(total: u64, more: bool, per_page: u32) -> ChannelPage {
        ChannelPage {
            rows: vec![],
            total,
            more,
            per_page,
            first: None,
            last: None,
            has_previous: false,
            has_next: false,
        }
    }

    #[test]
    fn totals_read_as_a_person_writes_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(2_001), "2,001");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(page(1, false, 20).total_text(), "1 channel");
        assert_eq!(page(2_001, false, 20).total_text(), "2,001 channels");
        assert_eq!(page(10_000, true, 20).total_text(), "10,000+ channels");
    }

    #[test]
    fn pages_are_known_only_for_an_exact_total() {
        assert_eq!(page(0, false, 20).pages(), Some(1));
        assert_eq!(page(41, false, 20).pages(), Some(3));
        assert_eq!(page(10_000, true, 20).pages(), None);
    }

    #[test]
    fn a_query_without_a_page_starts_at_the_first() {
        let q: ChannelQuery = serde_json::from_str(
            r#"{"search":"","provider":"","sort":"Name","descending":false,"page":3,"per_page":7}"#,
        )
        .unwrap();
        let q = q.normalized();
        assert_eq!(q.at, PageAt::First);
        assert_eq!(q.per_page, 20);
    }
}

/// Where a tenant space's alerts go, as the Alerts page shows it: never the signing secret,
/// only whether there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSettings {
    pub emails: Vec<String>,
    pub webhook_url: Option<String>,
    pub has_secret: bool,
    /// The certificate the webhook's server certificate must chain to; none: the public roots.
    pub trust_certificate_id: Option<i64>,
    pub digest: bool,
    /// Whether this server can send e-mail (its operator set `SWITCHBOARD_SMTP_URL`).
    pub email_ready: bool,
    /// The last attempts to deliver an alert, newest first.
    pub attempts: Vec<AlertAttempt>,
}

/// One attempt to deliver an alert to one address or the webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertAttempt {
    pub at: String,
    /// The alert's kind in words ("Channel failing", "Test alert", …).
    pub kind: String,
    pub subject: String,
    /// "E-mail" or "Webhook".
    pub via: String,
    pub target: String,
    pub ok: bool,
    pub outcome: String,
}

/// What saving the alert settings answered: the webhook's signing secret when one was made
/// (shown this once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertsSaved {
    pub secret: Option<String>,
}

/// An app of APP Management, as its lists show it: never its secret (only a hash is kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSummary {
    pub id: i64,
    pub name: String,
    pub tenant_id: i64,
    pub tenant_name: String,
    /// The app's public id (`sbak_…`): what it presents with its secret.
    pub app_key: String,
    /// The codes of the APIs it subscribes to (`domain::apps::Api`).
    pub apis: Vec<String>,
    pub enabled: bool,
    pub created: String,
    /// When the secret was last set (created or reset).
    pub secret_changed: String,
    /// Until when the previous secret still works, after a reset with an overlap.
    pub previous_secret_until: Option<String>,
    pub last_token: Option<String>,
    pub last_call: Option<String>,
}

/// An app's key and its new secret: shown once, when the app is created or its secret reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSecretShown {
    pub app_id: i64,
    pub name: String,
    pub app_key: String,
    pub app_secret: String,
    /// Until when the previous secret still works (a reset with an overlap).
    pub previous_secret_until: Option<String>,
}
