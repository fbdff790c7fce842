//! The audit log's rules: the actions recorded, the field-level diff of an edit (secrets only as
//! "changed"), and the filters of the audit pages.

use serde::{Deserialize, Serialize};

/// The actor of a refused sign-in whose name no account has: what was typed is not kept.
pub const UNKNOWN_USERNAME: &str = "(unknown username)";

/// What an entry says a secret field became: never its value.
pub const SECRET_CHANGED: &str = "changed";

/// Every action the audit log records. The stored code (`as_str`) never changes meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditAction {
    SignIn,
    SignInRefused,
    SignOut,
    Setup,
    TenantCreated,
    TenantDisabled,
    TenantEnabled,
    AdminPasswordReset,
    TrustAdded,
    TrustRemoved,
    ChannelCreated,
    ChannelEdited,
    ChannelDeleted,
    ScenarioKeyGenerated,
    ConnectionTested,
    TestMessageSent,
    CertificateUploaded,
    CertificateDeleted,
    OuCreated,
    OuDeleted,
    SkillQueueCreated,
    SkillQueueDeleted,
    WeekdaysSaved,
    NonWorkingDateAdded,
    NonWorkingDateRemoved,
    TimeZoneSaved,
    ExportStarted,
    ExportDownloaded,
    ImportStarted,
    ImportApplied,
    ChannelImported,
    AlertsSaved,
    AlertSecretChanged,
    TestAlertSent,
    AppCreated,
    AppSecretReset,
    AppDisabled,
    AppEnabled,
    AppDeleted,
    AppTokenRefused,
    WebhookCredentialChangeStarted,
    WebhookCredentialSwitchSeen,
    WebhookCredentialChangeEnded,
    TestDeliverySent,
}

impl AuditAction {
    pub const ALL: [AuditAction; 44] = [
        Self::SignIn,
        Self::SignInRefused,
        Self::SignOut,
        Self::Setup,
        Self::TenantCreated,
        Self::TenantDisabled,
        Self::TenantEnabled,
        Self::AdminPasswordReset,
        Self::TrustAdded,
        Self::TrustRemoved,
        Self::ChannelCreated,
        Self::ChannelEdited,
        Self::ChannelDeleted,
        Self::ScenarioKeyGenerated,
        Self::ConnectionTested,
        Self::TestMessageSent,
        Self::CertificateUploaded,
        Self::CertificateDeleted,
        Self::OuCreated,
        Self::OuDeleted,
        Self::SkillQueueCreated,
        Self::SkillQueueDeleted,
        Self::WeekdaysSaved,
        Self::NonWorkingDateAdded,
        Self::NonWorkingDateRemoved,
        Self::TimeZoneSaved,
        Self::ExportStarted,
        Self::ExportDownloaded,
        Self::ImportStarted,
        Self::ImportApplied,
        Self::ChannelImported,
        Self::AlertsSaved,
        Self::AlertSecretChanged,
        Self::TestAlertSent,
        Self::AppCreated,
        Self::AppSecretReset,
        Self::AppDisabled,
        Self::AppEnabled,
        Self::AppDeleted,
        Self::AppTokenRefused,
        Self::WebhookCredentialChangeStarted,
        Self::WebhookCredentialSwitchSeen,
        Self::WebhookCredentialChangeEnded,
        Self::TestDeliverySent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignInRefused => "sign_in_refused",
            Self::SignOut => "sign_out",
            Self::Setup => "setup",
            Self::TenantCreated => "tenant_created",
            Self::TenantDisabled => "tenant_disabled",
            Self::TenantEnabled => "tenant_enabled",
            Self::AdminPasswordReset => "admin_password_reset",
            Self::TrustAdded => "trust_added",
            Self::TrustRemoved => "trust_removed",
            Self::ChannelCreated => "channel_created",
            Self::ChannelEdited => "channel_edited",
            Self::ChannelDeleted => "channel_deleted",
            Self::ScenarioKeyGenerated => "scenario_key_generated",
            Self::ConnectionTested => "connection_tested",
            Self::TestMessageSent => "test_message_sent",
            Self::CertificateUploaded => "certificate_uploaded",
            Self::CertificateDeleted => "certificate_deleted",
            Self::OuCreated => "ou_created",
            Self::OuDeleted => "ou_deleted",
            Self::SkillQueueCreated => "skill_queue_created",
            Self::SkillQueueDeleted => "skill_queue_deleted",
            Self::WeekdaysSaved => "weekdays_saved",
            Self::NonWorkingDateAdded => "non_working_date_added",
            Self::NonWorkingDateRemoved => "non_working_date_removed",
            Self::TimeZoneSaved => "time_zone_saved",
            Self::ExportStarted => "export_started",
            Self::ExportDownloaded => "export_downloaded",
            Self::ImportStarted => "import_started",
            Self::ImportApplied => "import_applied",
            Self::ChannelImported => "channel_imported",
            Self::AlertsSaved => "alerts_saved",
            Self::AlertSecretChanged => "alert_secret_changed",
            Self::TestAlertSent => "test_alert_sent",
            Self::AppCreated => "app_created",
            Self::AppSecretReset => "app_secret_reset",
            Self::AppDisabled => "app_disabled",
            Self::AppEnabled => "app_enabled",
            Self::AppDeleted => "app_deleted",
            Self::AppTokenRefused => "app_token_refused",
            Self::WebhookCredentialChangeStarted => "webhook_change_started",
            Self::WebhookCredentialSwitchSeen => "webhook_switch_seen",
            Self::WebhookCredentialChangeEnded => "webhook_change_ended",
            Self::TestDeliverySent => "test_delivery_sent",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == code)
    }

    /// How the pages name it.
    pub fn label(self) -> &'static str {
        match self {
            Self::SignIn => "Signed in",
            Self::SignInRefused => "Sign-in refused",
            Self::SignOut => "Signed out",
            Self::Setup => "First-run setup",
            Self::TenantCreated => "Tenant space created",
            Self::TenantDisabled => "Tenant space disabled",
            Self::TenantEnabled => "Tenant space enabled",
            Self::AdminPasswordReset => "Administrator password reset",
            Self::TrustAdded => "Trustlist entry added",
            Self::TrustRemoved => "Trustlist entry removed",
            Self::ChannelCreated => "Channel created",
            Self::ChannelEdited => "Channel edited",
            Self::ChannelDeleted => "Channel deleted",
            Self::ScenarioKeyGenerated => "Scenario key generated",
            Self::ConnectionTested => "Connection tested",
            Self::TestMessageSent => "Test message sent",
            Self::CertificateUploaded => "Certificate uploaded",
            Self::CertificateDeleted => "Certificate deleted",
            Self::OuCreated => "OU created",
            Self::OuDeleted => "OU deleted",
            Self::SkillQueueCreated => "Skill queue created",
            Self::SkillQueueDeleted => "Skill queue deleted",
            Self::WeekdaysSaved => "Weekday rules saved",
            Self::NonWorkingDateAdded => "Non-working date added",
            Self::NonWorkingDateRemoved => "Non-working date removed",
            Self::TimeZoneSaved => "Time zone saved",
            Self::ExportStarted => "Export started",
            Self::ExportDownloaded => "Export downloaded",
            Self::ImportStarted => "Import checked (dry run)",
            Self::ImportApplied => "Import applied",
            Self::ChannelImported => "Channel changed by import",
            Self::AlertsSaved => "Alert settings saved",
            Self::AlertSecretChanged => "Alert signing secret changed",
            Self::TestAlertSent => "Test alert sent",
            Self::AppCreated => "App created",
            Self::AppSecretReset => "App secret reset",
            Self::AppDisabled => "App disabled",
            Self::AppEnabled => "App enabled",
            Self::AppDeleted => "App deleted",
            Self::AppTokenRefused => "App token refused",
            Self::WebhookCredentialChangeStarted => "Webhook credential change started",
            Self::WebhookCredentialSwitchSeen => "Provider switched to the new webhook credential",
            Self::WebhookCredentialChangeEnded => "Webhook credential overlap ended",
            Self::TestDeliverySent => "Test delivery sent",
        }
    }

    /// Whether a tenant administrator can do it (the tenant page's action filter lists these).
    /// Whether it can be in a tenant space's log: everything done in it, and what the system
    /// administrator did to it (its status, its administrator's password, its trustlist).
    pub fn is_tenant_action(self) -> bool {
        !matches!(self, Self::Setup)
    }
}

/// The kinds of object an entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ObjectKind {
    Account,
    Tenant,
    TrustEntry,
    Channel,
    Certificate,
    Ou,
    SkillQueue,
    ServiceTime,
    Export,
    Import,
    Alerts,
    App,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 12] = [
        Self::Account,
        Self::Tenant,
        Self::TrustEntry,
        Self::Channel,
        Self::Certificate,
        Self::Ou,
        Self::SkillQueue,
        Self::ServiceTime,
        Self::Export,
        Self::Import,
        Self::Alerts,
        Self::App,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Tenant => "tenant",
            Self::TrustEntry => "trust_entry",
            Self::Channel => "channel",
            Self::Certificate => "certificate",
            Self::Ou => "ou",
            Self::SkillQueue => "skill_queue",
            Self::ServiceTime => "service_time",
            Self::Export => "export",
            Self::Import => "import",
            Self::Alerts => "alerts",
            Self::App => "app",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Account => "Account",
            Self::Tenant => "Tenant space",
            Self::TrustEntry => "Trustlist entry",
            Self::Channel => "Channel",
            Self::Certificate => "Certificate",
            Self::Ou => "OU",
            Self::SkillQueue => "Skill queue",
            Self::ServiceTime => "Service time",
            Self::Export => "Export task",
            Self::Import => "Import",
            Self::Alerts => "Alert settings",
            Self::App => "App",
        }
    }
}

/// One field of an edit, before and after. A secret's values are never kept: both sides read
/// `SECRET_CHANGED`-style words ("set", "changed", "removed").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
    #[serde(default)]
    pub secret: bool,
}

impl FieldChange {
    /// A secret field that was written: whether it was set, replaced or removed, no value.
    pub fn secret(field: &str, had: bool, has: bool) -> Self {
        let word = |on: bool| if on { "set" } else { "not set" };
        Self {
            field: field.to_owned(),
            before: word(had).to_owned(),
            after: if had && has {
                SECRET_CHANGED.to_owned()
            } else {
                word(has).to_owned()
            },
            secret: true,
        }
    }
}

/// The fields whose value differs between `before` and `after`, in `after`'s order (then any
/// field only `before` has). Both are `(label, value)` lists of the same object.
pub fn diff(before: &[(&str, String)], after: &[(&str, String)]) -> Vec<FieldChange> {
    let mut out = Vec::new();
    for (field, value) in after {
        let old = before
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        if old != value {
            out.push(FieldChange {
                field: (*field).to_owned(),
                before: old.to_owned(),
                after: value.clone(),
                secret: false,
            });
        }
    }
    for (field, value) in before {
        if !value.is_empty() && !after.iter().any(|(f, _)| f == field) {
            out.push(FieldChange {
                field: (*field).to_owned(),
                before: value.clone(),
                after: String::new(),
                secret: false,
            });
        }
    }
    out
}

/// The fields of a new object, as changes from nothing (empty values left out).
pub fn created(after: &[(&str, String)]) -> Vec<FieldChange> {
    diff(&[], after)
}

/// Entries per page of the audit pages.
pub const PAGE_SIZE: u64 = 50;
/// At most this many entries go into one `.csv` export.
pub const CSV_MAX_ROWS: u64 = 100_000;

/// The audit pages' filters as typed (query string of the page, arguments of the server
/// function and of the `.csv` route).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AuditFilter {
    /// A username (case-insensitive).
    #[serde(default)]
    pub actor: String,
    /// An action code, or empty for all.
    #[serde(default)]
    pub action: String,
    /// An object kind code, or empty for all.
    #[serde(default)]
    pub object: String,
    /// One object's id (the channel Edit page's history link), or empty.
    #[serde(default)]
    pub object_id: String,
    /// `YYYY-MM-DD` (UTC, inclusive), or empty.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// Show entries older than this id (the next page), or empty for the newest.
    #[serde(default)]
    pub before: String,
}

/// `AuditFilter` checked: what the repository queries with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Lower case.
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    pub object: Option<ObjectKind>,
    pub object_id: Option<i64>,
    /// Unix milliseconds, `from` inclusive, `to` exclusive.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub before: Option<i64>,
}

const DAY_MS: i64 = 86_400_000;

fn parse_day(input: &str) -> Result<i64, String> {
    let v = input.trim();
    super::dates::day_number(v)
        .map(|day| day * DAY_MS)
        .ok_or_else(|| format!("'{v}' is not a date: use YYYY-MM-DD."))
}

impl AuditFilter {
    /// Checks every filter; each error is under its field's name.
    pub fn parse(&self) -> Result<AuditQuery, super::FieldErrors> {
        let mut errors = super::FieldErrors::new();
        let actor = self.actor.trim();
        if actor.chars().count() > 64 {
            errors.add("actor", "A username has at most 64 characters.");
        }
        let action = match self.action.trim() {
            "" => None,
            code => errors.check(
                "action",
                AuditAction::parse(code)
                    .map(Some)
                    .ok_or_else(|| "Choose an action from the list.".to_string()),
            ),
        }
        .flatten();
        let object = match self.object.trim() {
            "" => None,
            code => errors.check(
                "object",
                ObjectKind::parse(code)
                    .map(Some)
                    .ok_or_else(|| "Choose an object type from the list.".to_string()),
            ),
        }
        .flatten();
        let id = |field: &str, v: &str, errors: &mut super::FieldErrors| match v.trim() {
            "" => None,
            v => errors.check(
                field,
                v.parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("'{v}' is not an id.")),
            ),
        };
        let object_id = id("object_id", &self.object_id, &mut errors);
        // an id is looked up with its kind (that is the index)
        if object_id.is_some() && object.is_none() && self.object.trim().is_empty() {
            errors.add("object", "Choose the object type of this id.");
        }
        let before = id("before", &self.before, &mut errors);
        let from_ms = match self.from.trim() {
            "" => None,
            v => errors.check("from", parse_day(v)),
        };
        let to_ms = match self.to.trim() {
            "" => None,
            v => errors.check("to", parse_day(v).map(|d| d + DAY_MS)),
        };
        if let (Some(f), Some(t)) = (from_ms, to_ms)
            && t <= f
        {
            errors.add("to", "The end date must not be before the start date.");
        }
        errors.into_result()?;
        Ok(AuditQuery {
            actor: (!actor.is_empty()).then(|| actor.to_lowercase()),
            action,
            object,
            object_id,
            from_ms,
            to_ms,
            before,
        })
    }

    /// The query string of these filters (empty ones left out), `before` replaced.
    pub fn query_string(&self, before: Option<i64>) -> String {
        let mut pairs: Vec<(&str, String)> = vec![
            ("actor", self.actor.trim().to_owned()),
            ("action", self.action.trim().to_owned()),
            ("object", self.object.trim().to_owned()),
            ("object_id", self.object_id.trim().to_owned()),
            ("from", self.from.trim().to_owned()),
            ("to", self.to.trim().to_owned()),
        ];
        if let Some(b) = before {
            pairs.push(("before", b.to_string()));
        }
        pairs
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", encode(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes everything but unreserved characters.
fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Characters after which a spreadsheet may start a new cell, whichever separator it reads
/// the file with (`,` here, but `;` in many European locales, a tab, a line break).
const CELL_BREAKS: [char; 5] = [',', ';', '\t', '\n', '\r'];
/// What a cell must not start with: a spreadsheet would run it as a formula (a tab or carriage
/// return in front is skipped by some).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Text a user typed, made harmless in a spreadsheet however it splits the line into cells: a
/// formula start at the beginning of the text, or after any character that can end a cell
/// (spaces and quotes between skipped), gets a `'` in front.
pub fn formula_safe(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 1);
    let mut at_cell_start = true;
    for c in v.chars() {
        if at_cell_start && FORMULA_STARTS.contains(&c) {
            out.push('\'');
        }
        out.push(c);
        if CELL_BREAKS.contains(&c) {
            at_cell_start = true;
        } else if c != ' ' && c != '"' {
            // spaces, and quotes (a reader may take them as its own and drop them), leave
            // the next character at the start of the cell
            at_cell_start = false;
        }
    }
    out
}

/// One `.csv` field: formula-safe (`formula_safe`), and quoted when it holds a quote or
/// anything that may separate cells or lines (`,`, `;`, tab, line breaks), so a spreadsheet
/// reading it with `,` or `;` keeps it one cell.
pub fn csv_field(v: &str) -> String {
    let guarded = formula_safe(v);
    if guarded.contains(['"']) || guarded.contains(CELL_BREAKS) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    }

    #[test]
    fn action_codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
            assert!(seen.insert(a.as_str()));
        }
        for k in ObjectKind::ALL {
            assert_eq!(ObjectKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(AuditAction::parse("drop table"), None);
        assert!(AuditAction::TrustAdded.is_tenant_action());
        assert!(!AuditAction::Setup.is_tenant_action());
        assert!(AuditAction::ChannelEdited.is_tenant_action());
    }

    #[test]
    fn diff_lists_only_changed_fields_in_order() {
        let before = f(&[("Name", "a"), ("Queue", "q1"), ("Prompt", "hi")]);
        let after = f(&[("Name", "a"), ("Queue", "q2"), ("Prompt", "")]);
        let d = diff(&before, &after);
        assert_eq!(d.len(), 2);
        assert_eq!(
            (
                d[0].field.as_str(),
                d[0].before.as_str(),
                d[0].after.as_str()
            ),
            ("Queue", "q1", "q2")
        );
        assert_eq!((d[1].before.as_str(), d[1].after.as_str()), ("hi", ""));
        assert!(diff(&after, &after).is_empty());
        // a field that is gone (another provider's) reads as cleared
        let d = diff(&f(&[("Username", "u")]), &f(&[]));
        assert_eq!((d[0].before.as_str(), d[0].after.as_str()), ("u", ""));
        // creation leaves empty values out
        assert_eq!(created(&f(&[("A", "1"), ("B", "")])).len(), 1);
    }

    #[test]
    fn secrets_never_carry_values() {
        let c = FieldChange::secret("Password", true, true);
        assert_eq!((c.before.as_str(), c.after.as_str()), ("set", "changed"));
        assert!(c.secret);
        let c = FieldChange::secret("Password", false, true);
        assert_eq!((c.before.as_str(), c.after.as_str()), ("not set", "set"));
        let c = FieldChange::secret("Password", true, false);
        assert_eq!(c.after, "not set");
    }

    #[test]
    fn filters_are_checked_per_field() {
        let q = AuditFilter {
            actor: " Alice ".into(),
            action: "channel_edited".into(),
            object: "channel".into(),
            object_id: "7".into(),
            from: "2026-11-01".into(),
            to: "2026-11-01".into(),
            before: "".into(),
        }
        .parse()
        .unwrap();
        assert_eq!(q.actor.as_deref(), Some("alice"));
        assert_eq!(q.action, Some(AuditAction::ChannelEdited));
        assert_eq!(q.object_id, Some(7));
        // one whole day, `to` exclusive
        assert_eq!(q.to_ms.unwrap() - q.from_ms.unwrap(), DAY_MS);
        assert_eq!(
            q.from_ms,
            Some(1_793_491_200_000),
            "2026-11-01T00:00:00Z in unix ms"
        );

        let errors = AuditFilter {
            actor: "x".repeat(65),
            action: "nope".into(),
            object: "nope".into(),
            object_id: "-1".into(),
            from: "2026-02-30".into(),
            to: "tomorrow".into(),
            before: "x".into(),
        }
        .parse()
        .unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "actor",
                "action",
                "object",
                "object_id",
                "before",
                "from",
                "to"
            ]
        );
        let errors = AuditFilter {
            from: "2026-11-02".into(),
            to: "2026-11-01".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        assert_eq!(errors.0[0].field, "to");
        assert_eq!(
            AuditFilter::default().parse().unwrap(),
            AuditQuery::default()
        );
    }

    #[test]
    fn query_strings_keep_filters_and_encode_them() {
        let f = AuditFilter {
            actor: "a b&c".into(),
            action: "sign_in".into(),
            ..Default::default()
        };
        assert_eq!(f.query_string(None), "actor=a%20b%26c&action=sign_in");
        assert_eq!(
            f.query_string(Some(40)),
            "actor=a%20b%26c&action=sign_in&before=40"
        );
    }

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
        // every separator a spreadsheet may read the line with makes the field quoted
        assert_eq!(csv_field("a;b"), "\"a;b\"");
        assert_eq!(csv_field("a\tb"), "\"a\tb\"");
        // a formula start after any possible cell break, spaces between or not
        assert_eq!(csv_field("h2;=1+1"), "\"h2;'=1+1\"");
        assert_eq!(csv_field("a; @SUM(1)"), "\"a; '@SUM(1)\"");
        assert_eq!(csv_field("x,+1"), "\"x,'+1\"");
        assert_eq!(csv_field("x;\t=1"), "\"x;'\t'=1\"");
        assert_eq!(
            csv_field("Name: a → b; Kind: -"),
            "\"Name: a → b; Kind: -\""
        );
        assert_eq!(
            csv_field("08:00-12:00"),
            "08:00-12:00",
            "a dash inside a cell is text"
        );
        assert_eq!(csv_field(";\"+"), "\";\"\"'+\"");
    }

    /// Splits a CSV line the way a spreadsheet does with separator `sep`: quotes only count at
    /// the start of a cell.
    fn cells(line: &str, sep: char) -> Vec<String> {
        let mut out = Vec::new();
        let mut cell = String::new();
        let mut quoted = false;
        let mut start = true;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if start && c == '"' {
                quoted = true;
                start = false;
                continue;
            }
            start = false;
            if quoted {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        cell.push('"');
                    } else {
                        quoted = false;
                    }
                } else {
                    cell.push(c);
                }
            } else if c == sep || c == '\n' || c == '\r' {
                out.push(std::mem::take(&mut cell));
                start = true;
            } else {
                cell.push(c);
            }
        }
        out.push(cell);
        out
    }

    proptest::proptest! {
        /// Whatever a user types, a line of such fields read with `,`, `;` or a tab as the
        /// separator has no cell a spreadsheet would run as a formula.
        #[test]
        fn no_cell_of_a_line_starts_a_formula(
            fields in proptest::collection::vec("[=+@a-c;,\t\r\n \"'-]{0,12}", 1..5)
        ) {
            let line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
            for sep in [',', ';', '\t'] {
                for cell in cells(&line, sep) {
                    let trimmed = cell.trim_start_matches(' ');
                    proptest::prop_assert!(
                        !trimmed.starts_with(FORMULA_STARTS),
                        "{cell:?} of {line:?} read with {sep:?}"
                    );
                }
            }
        }
    }
}
