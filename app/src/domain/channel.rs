//! The channel model and every rule of SPEC §3.2: a `ChannelDraft` (what the form sends, all
//! text) becomes a `ValidChannel` only through `ChannelDraft::validate`, which runs in the
//! browser (instant messages) and on the server (the authority). Each rejected field gets its
//! own message under the form field's name.

use super::CertificateKind;
use super::fields::FieldErrors;
use super::trustlist::TrustPrefix;
use super::worktime::{SegmentInput, WorkTime};
use serde::{Deserialize, Serialize};

pub const CHANNEL_NAME_MAX: usize = 64;
pub const KEYWORDS_MAX: usize = 10;
pub const KEYWORD_MAX: usize = 50;
pub const TEXT_MAX: usize = 256;
pub const OFFLINE_PROMPT_FORBIDDEN: &[char] = &['\'', '"', '/', '<', '>', '\\', ';'];
pub const OFFLINE_LIMIT_DEFAULT: u16 = 30;
/// The path an oAuth BaseUrl must have.
pub const OAUTH_PATH: &str = "/apiaccess/rest/ccmessaging";

/// Channel Name: 1–64 characters, ASCII letters, digits and `_`, starting with a letter or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChannelName(String);

impl ChannelName {
    pub fn parse(input: &str) -> Result<Self, String> {
        let name = input.trim();
        if name.is_empty() {
            return Err("Enter a channel name.".into());
        }
        if name.chars().count() > CHANNEL_NAME_MAX {
            return Err(format!(
                "The channel name can have at most {CHANNEL_NAME_MAX} characters."
            ));
        }
        if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            return Err("The channel name must start with a letter or '_'.".into());
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
        {
            return Err(format!(
                "The channel name can contain only letters, digits and '_' (found '{bad}')."
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProviderKind {
    Infobip,
    Other,
    CloudApi,
    Twilio,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 4] = [Self::Infobip, Self::Other, Self::CloudApi, Self::Twilio];

    /// The value shown and sent by the form: `infobip`, `other`, `cloud-api`, `twilio`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Infobip => "infobip",
            Self::Other => "other",
            Self::CloudApi => "cloud-api",
            Self::Twilio => "twilio",
        }
    }

    pub fn parse(input: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == input.trim())
            .ok_or_else(|| "Choose a Business Solution Provider.".to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VerificationMethod {
    Basic,
    OAuth,
}

impl VerificationMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "basic",
            Self::OAuth => "oAuth",
        }
    }

    pub fn parse(input: &str) -> Result<Self, String> {
        match input.trim() {
            "basic" => Ok(Self::Basic),
            "oAuth" | "oauth" => Ok(Self::OAuth),
            _ => Err("Choose a Verification Method.".into()),
        }
    }
}

/// The secret fields. Their values are encrypted at rest and never sent back to a browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SecretField {
    Password,
    AccountKey,
    AuthenticationKey,
    WebhookPassword,
    AppSecret,
    AccessToken,
    ApiKeySecret,
    /// twilio, optional: the account's Auth Token, which checks `X-Twilio-Signature`.
    AuthToken,
}

impl SecretField {
    /// Secrets that authenticate us to the provider (sent to its BaseUrl), as opposed to
    /// those that authenticate the provider's webhook calls to us.
    pub fn sent_to_provider(self) -> bool {
        !matches!(
            self,
            Self::WebhookPassword | Self::AppSecret | Self::AuthToken
        )
    }

    /// A secret a channel may go without (it turns a check on when set).
    pub fn optional(self) -> bool {
        matches!(self, Self::AuthToken)
    }

    pub const ALL: [SecretField; 8] = [
        Self::Password,
        Self::AccountKey,
        Self::AuthenticationKey,
        Self::WebhookPassword,
        Self::AppSecret,
        Self::AccessToken,
        Self::ApiKeySecret,
        Self::AuthToken,
    ];

    /// The form field's name.
    pub fn field(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::AccountKey => "account_key",
            Self::AuthenticationKey => "authentication_key",
            Self::WebhookPassword => "webhook_password",
            Self::AppSecret => "app_secret",
            Self::AccessToken => "access_token",
            Self::ApiKeySecret => "api_key_secret",
            Self::AuthToken => "auth_token",
        }
    }

    /// The label on the form.
    pub fn label(self) -> &'static str {
        match self {
            Self::Password => "Password",
            Self::AccountKey => "AccountKey",
            Self::AuthenticationKey => "Authentication Key",
            Self::WebhookPassword => "Webhook Password",
            Self::AppSecret => "APP Secret",
            Self::AccessToken => "Access Token",
            Self::ApiKeySecret => "API Key Secret",
            Self::AuthToken => "Auth Token",
        }
    }

    /// The secrets a provider (and verification method) asks for: the secret fields of
    /// [`ProviderKind::fields`].
    pub fn required_by(
        provider: ProviderKind,
        method: Option<VerificationMethod>,
    ) -> Vec<SecretField> {
        provider
            .fields(method)
            .iter()
            .filter_map(|f| match f {
                ProviderField::Secret(s) if !s.optional() => Some(*s),
                _ => None,
            })
            .collect()
    }
}

/// A field of a channel's provider section (Channel information after the provider).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderField {
    PhoneNumber,
    UserName,
    BaseUrl,
    AppKey,
    TokenValidUntil,
    ApiKeySid,
    AccountSid,
    WebhookUser,
    Secret(SecretField),
    Certificate(CertificateKind),
}

impl ProviderField {
    /// The form field's (and the draft's) name.
    pub fn name(self) -> &'static str {
        match self {
            Self::PhoneNumber => "phone_number",
            Self::UserName => "username",
            Self::BaseUrl => "base_url",
            Self::AppKey => "app_key",
            Self::TokenValidUntil => "token_valid_until",
            Self::ApiKeySid => "api_key_sid",
            Self::AccountSid => "account_sid",
            Self::WebhookUser => "webhook_user",
            Self::Secret(s) => s.field(),
            Self::Certificate(CertificateKind::Authentication) => "auth_certificate_id",
            Self::Certificate(CertificateKind::Trust) => "trust_certificate_id",
            Self::Certificate(CertificateKind::Identity) => "identity_certificate_id",
        }
    }

    /// The label on the form (the reference page's).
    pub fn label(self) -> &'static str {
        match self {
            Self::PhoneNumber => "Phone Number",
            Self::UserName => "UserName",
            Self::BaseUrl => "BaseUrl",
            Self::AppKey => "APP Key",
            Self::TokenValidUntil => "Token Validity Period",
            Self::ApiKeySid => "API Key SID",
            Self::AccountSid => "Account SID",
            Self::WebhookUser => "Webhook User",
            Self::Secret(s) => s.label(),
            Self::Certificate(CertificateKind::Authentication) => "Authentication Certificate",
            Self::Certificate(CertificateKind::Trust) => "Trust Certificate",
            Self::Certificate(CertificateKind::Identity) => "Identity Certificate",
        }
    }

    /// Whether a channel needs it (certificates and the Auth Token are optional).
    pub fn required(self) -> bool {
        match self {
            Self::Certificate(_) => false,
            Self::Secret(s) => !s.optional(),
            _ => true,
        }
    }
}

impl ProviderKind {
    /// The provider section's fields in the order the form shows them (the reference page's
    /// order): the one table the form, the secrets a provider asks for and the tests read.
    /// `method` matters only for `other` (`None` is basic).
    pub fn fields(self, method: Option<VerificationMethod>) -> &'static [ProviderField] {
        use CertificateKind::{Authentication, Identity, Trust};
        use ProviderField::*;
        match (self, method) {
            (Self::Infobip, _) => &[
                PhoneNumber,
                UserName,
                Secret(SecretField::Password),
                BaseUrl,
                Secret(SecretField::AccountKey),
                Secret(SecretField::WebhookPassword),
                Certificate(Authentication),
            ],
            (Self::Other, Some(VerificationMethod::OAuth)) => &[
                UserName,
                Secret(SecretField::Password),
                BaseUrl,
                Secret(SecretField::WebhookPassword),
                Certificate(Trust),
            ],
            (Self::Other, _) => &[
                PhoneNumber,
                UserName,
                Secret(SecretField::Password),
                BaseUrl,
                Secret(SecretField::AuthenticationKey),
                Secret(SecretField::WebhookPassword),
                Certificate(Trust),
                Certificate(Identity),
            ],
            (Self::CloudApi, _) => &[
                AppKey,
                Secret(SecretField::AppSecret),
                PhoneNumber,
                BaseUrl,
                Secret(SecretField::AccessToken),
                TokenValidUntil,
                Certificate(Trust),
                Certificate(Identity),
            ],
            (Self::Twilio, _) => &[
                PhoneNumber,
                ApiKeySid,
                Secret(SecretField::ApiKeySecret),
                BaseUrl,
                AccountSid,
                WebhookUser,
                Secret(SecretField::WebhookPassword),
                Secret(SecretField::AuthToken),
                Certificate(Authentication),
            ],
        }
    }
}

/// A secret after validation: a new value, or (when editing and left empty) the stored one.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecretValue {
    Set(String),
    Keep,
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Set(_) => f.write_str("Set(****)"),
            Self::Keep => f.write_str("Keep"),
        }
    }
}

/// Everything the Configure Channel form sends, as typed. Missing fields read as empty.
/// `Debug` shows the secret fields only as set or empty.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelDraft {
    // Channel information
    pub provider: String,
    pub verification_method: String,
    pub phone_number: String,
    pub username: String,
    pub password: String,
    pub base_url: String,
    pub account_key: String,
    pub authentication_key: String,
    pub webhook_user: String,
    pub webhook_password: String,
    pub app_key: String,
    pub app_secret: String,
    pub access_token: String,
    pub token_valid_until: String,
    pub api_key_sid: String,
    pub api_key_secret: String,
    pub account_sid: String,
    pub auth_certificate_id: String,
    pub trust_certificate_id: String,
    pub identity_certificate_id: String,
    // Basic configuration
    pub name: String,
    pub ou_id: String,
    pub skill_queue_id: String,
    pub keywords: String,
    pub workday: Vec<SegmentInput>,
    pub non_workday: Vec<SegmentInput>,
    pub non_working_notification: String,
    pub last_agent_mode: bool,
    pub last_agent_days: String,
    pub no_reply_end: bool,
    pub no_reply_minutes: String,
    pub no_reply_message: String,
    pub no_agent_transfer: bool,
    pub no_agent_seconds: String,
    pub no_agent_queue_id: String,
    pub session_transfer: bool,
    pub offline_messages: bool,
    pub offline_prompt: String,
    pub offline_limit_minutes: String,
    // Robot configuration
    pub robot: bool,
    pub robot_access_code: String,
    pub robot_assistant: bool,
    /// other + oAuth: the id of the app of APP Management picked (empty: the key of an app on
    /// another platform is typed in UserName, with its secret in Password).
    #[serde(default)]
    pub oauth_app_id: String,
    /// twilio: the account's Auth Token (optional: when set, `X-Twilio-Signature` is checked).
    #[serde(default)]
    pub auth_token: String,
    /// twilio: remove the stored Auth Token (signatures are no longer checked).
    #[serde(default)]
    pub remove_auth_token: bool,
    /// Edit: a new Webhook Password or APP Secret keeps the current one accepted for 24 hours
    /// (an overlap, as a change on Channel Integration makes); off: it stops at once.
    #[serde(default)]
    pub keep_previous_webhook_secret: bool,
}

impl std::fmt::Debug for ChannelDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &str| if v.is_empty() { "" } else { "****" };
        f.debug_struct("ChannelDraft")
            .field("provider", &self.provider)
            .field("verification_method", &self.verification_method)
            .field("name", &self.name)
            .field("phone_number", &self.phone_number)
            .field("username", &self.username)
            .field("password", &hidden(&self.password))
            .field("base_url", &self.base_url)
            .field("account_key", &hidden(&self.account_key))
            .field("authentication_key", &hidden(&self.authentication_key))
            .field("webhook_user", &self.webhook_user)
            .field("webhook_password", &hidden(&self.webhook_password))
            .field("app_key", &self.app_key)
            .field("app_secret", &hidden(&self.app_secret))
            .field("access_token", &hidden(&self.access_token))
            .field("token_valid_until", &self.token_valid_until)
            .field("api_key_sid", &self.api_key_sid)
            .field("api_key_secret", &hidden(&self.api_key_secret))
            .field("auth_token", &hidden(&self.auth_token))
            .field("account_sid", &self.account_sid)
            .field("skill_queue_id", &self.skill_queue_id)
            .field("ou_id", &self.ou_id)
            .finish_non_exhaustive()
    }
}

/// What validation needs to know besides the form.
#[derive(Debug, Clone, Default)]
pub struct ValidationContext {
    /// The trustlist prefixes that apply to the tenant (global and its own).
    pub trust: Vec<TrustPrefix>,
    /// When editing: the secrets already stored (an empty field keeps them).
    pub configured: Vec<SecretField>,
    /// Today, `YYYY-MM-DD`, for the token validity date.
    pub today: String,
    /// The apps of the tenant space an oAuth channel may pick (enabled, subscribed to
    /// `sendWhatsappMessage`): id and app key.
    pub apps: Vec<(i64, String)>,
    /// When editing: where the stored secrets were saved for. A secret that is sent to the
    /// provider is kept only while the provider and the BaseUrl's server stay the same, so an
    /// edit cannot send a stored credential to another server.
    pub saved_for: Option<SavedFor>,
}

/// The provider and BaseUrl server a channel's stored credentials belong to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SavedFor {
    pub provider: String,
    pub verification_method: String,
    pub base_url: String,
}

impl SavedFor {
    pub fn of(draft: &ChannelDraft) -> Self {
        Self {
            provider: draft.provider.clone(),
            verification_method: draft.verification_method.clone(),
            base_url: draft.base_url.clone(),
        }
    }
}

/// `scheme://host[:port]` of a URL, lower-cased, with the scheme's default port dropped: what
/// decides which server a credential goes to.
pub fn server_of(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    let authority = match (
        scheme.as_str(),
        authority.strip_suffix(":443"),
        authority.strip_suffix(":80"),
    ) {
        ("https", Some(a), _) | ("http", _, Some(a)) => a.to_owned(),
        _ => authority,
    };
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Credentials {
    Infobip {
        phone_number: String,
        username: String,
        password: SecretValue,
        base_url: String,
        account_key: SecretValue,
        webhook_password: SecretValue,
        auth_certificate_id: Option<i64>,
    },
    OtherBasic {
        phone_number: String,
        username: String,
        password: SecretValue,
        base_url: String,
        authentication_key: SecretValue,
        webhook_password: SecretValue,
        trust_certificate_id: Option<i64>,
        identity_certificate_id: Option<i64>,
    },
    OtherOAuth {
        app_key: String,
        /// The app of APP Management picked: its token is minted by this server, and no
        /// secret is kept on the channel (`app_secret` is `None`).
        app_id: Option<i64>,
        app_secret: Option<SecretValue>,
        base_url: String,
        webhook_password: SecretValue,
        trust_certificate_id: Option<i64>,
    },
    CloudApi {
        app_key: String,
        app_secret: SecretValue,
        phone_number: String,
        base_url: String,
        access_token: SecretValue,
        token_valid_until: String,
        trust_certificate_id: Option<i64>,
        identity_certificate_id: Option<i64>,
    },
    Twilio {
        phone_number: String,
        api_key_sid: String,
        api_key_secret: SecretValue,
        base_url: String,
        account_sid: String,
        webhook_user: String,
        webhook_password: SecretValue,
        /// `None`: no Auth Token (none stored, or the stored one removed).
        auth_token: Option<SecretValue>,
        auth_certificate_id: Option<i64>,
    },
}

impl Credentials {
    pub fn provider(&self) -> ProviderKind {
        match self {
            Self::Infobip { .. } => ProviderKind::Infobip,
            Self::OtherBasic { .. } | Self::OtherOAuth { .. } => ProviderKind::Other,
            Self::CloudApi { .. } => ProviderKind::CloudApi,
            Self::Twilio { .. } => ProviderKind::Twilio,
        }
    }

    /// The value a save gives a secret webhook credential (`None`: the provider has none).
    pub fn webhook_secret(
        &self,
        credential: crate::domain::rotation::WebhookCredential,
    ) -> Option<&SecretValue> {
        use crate::domain::rotation::WebhookCredential as W;
        match (self, credential) {
            (
                Self::Infobip {
                    webhook_password, ..
                }
                | Self::OtherBasic {
                    webhook_password, ..
                }
                | Self::OtherOAuth {
                    webhook_password, ..
                }
                | Self::Twilio {
                    webhook_password, ..
                },
                W::WebhookPassword,
            ) => Some(webhook_password),
            (Self::CloudApi { app_secret, .. }, W::AppSecret) => Some(app_secret),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoReplyEnd {
    pub minutes: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasicConfig {
    pub ou_id: Option<i64>,
    pub skill_queue_id: i64,
    pub keywords: Vec<String>,
    pub workday: WorkTime,
    pub non_workday: WorkTime,
    pub non_working_notification: String,
    /// Days (1–30) when Last Agent Mode is on.
    pub last_agent_days: Option<u8>,
    /// Timeout in minutes (1–1440) and the closing message, when on.
    pub no_reply_end: Option<(u16, String)>,
    /// Timeout in seconds (10–3600) and the target skill queue, when on.
    pub no_agent_transfer: Option<(u16, i64)>,
    pub session_transfer: bool,
    /// Prompt and routing time limit in minutes (1–60), when on.
    pub offline_messages: Option<(String, u16)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotConfig {
    /// The chatbot access code, when Connecting to the Intelligent Robot is on.
    pub access_code: Option<String>,
    pub assistant: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidChannel {
    pub name: ChannelName,
    pub credentials: Credentials,
    pub basic: BasicConfig,
    pub robot: RobotConfig,
    /// See `ChannelDraft::keep_previous_webhook_secret`.
    pub keep_previous_webhook_secret: bool,
}

// ---------- single-field rules ----------

fn required_text(input: &str, label: &str, max: usize) -> Result<String, String> {
    let v = input.trim();
    if v.is_empty() {
        return Err(format!("Enter the {label}."));
    }
    if v.chars().count() > max {
        return Err(format!("The {label} can have at most {max} characters."));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("The {label} cannot contain control characters."));
    }
    Ok(v.to_owned())
}

/// Free text: at most `max` characters; line breaks and tabs are kept, other control
/// characters (NUL among them, which a database cannot store in text) are refused.
fn optional_text(input: &str, label: &str, max: usize) -> Result<String, String> {
    if input.chars().count() > max {
        return Err(format!("The {label} can have at most {max} characters."));
    }
    if input
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(format!("The {label} cannot contain control characters."));
    }
    Ok(input.trim().to_owned())
}

/// A phone number in international form: an optional `+` and 6–15 digits (spaces and dashes
/// are ignored).
pub fn parse_phone(input: &str) -> Result<String, String> {
    let v: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if v.is_empty() {
        return Err("Enter the Phone Number.".into());
    }
    let digits = v.strip_prefix('+').unwrap_or(&v);
    if !(6..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(
            "Enter the Phone Number as 6 to 15 digits, optionally starting with '+'.".into(),
        );
    }
    Ok(v)
}

/// A BaseUrl: an https URL under one of the trustlist prefixes, answered in the form it is
/// checked and stored in (`https://host[:port]/path`, host in lower case, no default port, no
/// trailing `/`), so whatever later reads it sees the host the check approved. Anything two URL
/// parsers could read differently is refused: `\`, `@`, whitespace, control characters,
/// encoded separators and dot segments.
pub fn parse_base_url(input: &str, trust: &[TrustPrefix]) -> Result<String, String> {
    normalized_base_url(input, trust, false)
}

/// `parse_base_url`; with `explicit_port` the port is always written (the oAuth form asks for
/// one, so a stored value must still show it).
fn normalized_base_url(
    input: &str,
    trust: &[TrustPrefix],
    explicit_port: bool,
) -> Result<String, String> {
    let v = input.trim();
    if v.is_empty() {
        return Err("Enter the BaseUrl.".into());
    }
    if v.chars().count() > 512 {
        return Err("The BaseUrl can have at most 512 characters.".into());
    }
    if let Some(bad) = v
        .chars()
        .find(|c| c.is_control() || c.is_whitespace() || matches!(c, '\\' | '@'))
    {
        let shown = match bad {
            '\\' => "\\".to_string(),
            '@' => "@".to_string(),
            _ => "spaces or control characters".to_string(),
        };
        return Err(format!("The BaseUrl cannot contain {shown}."));
    }
    let lower = v.to_ascii_lowercase();
    if [
        "%2f", "%5c", "%2e", "%40", "%3f", "%23", "%3a", "%25", "%00",
    ]
    .iter()
    .any(|e| lower.contains(e))
    {
        return Err(
            "The BaseUrl cannot contain encoded separators (%2F, %5C, %2E, %40, …): write the address plainly."
                .into(),
        );
    }
    let url = url::Url::parse(v)
        .map_err(|_| "Enter the BaseUrl as a complete URL starting with https://.".to_string())?;
    // `https:host` parses too; only the written-out form is taken (and its first 8 bytes are
    // ASCII, so what follows starts on a character boundary)
    let Some(after_scheme) = v
        .get(..8)
        .filter(|s| s.eq_ignore_ascii_case("https://"))
        .and(v.get(8..))
    else {
        return Err("The BaseUrl must start with https:// and name a host.".into());
    };
    if url.scheme() != "https" || url.host_str().is_none_or(str::is_empty) {
        return Err("The BaseUrl must start with https:// and name a host.".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("The BaseUrl cannot contain '?' or '#'.".into());
    }
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    if path.split('/').any(|s| s == "." || s == "..") {
        return Err("The BaseUrl cannot contain '.' or '..' path segments.".into());
    }
    let mut normalized = format!("https://{}", url.host_str().unwrap_or_default());
    let port = if explicit_port {
        url.port_or_known_default()
    } else {
        url.port()
    };
    if let Some(port) = port {
        normalized.push_str(&format!(":{port}"));
    }
    normalized.push_str(url.path().trim_end_matches('/'));
    if !trust.iter().any(|p| p.allows(&normalized)) {
        return Err(
            "This BaseUrl is not on the address trustlist. Ask the system administrator to add its prefix."
                .into(),
        );
    }
    Ok(normalized)
}

/// The oAuth BaseUrl: `https://{host}:{port}/apiaccess/rest/ccmessaging`.
pub fn parse_oauth_base_url(input: &str, trust: &[TrustPrefix]) -> Result<String, String> {
    let form = "The BaseUrl for oAuth must be https://{host}:{port}/apiaccess/rest/ccmessaging.";
    let v = input.trim().trim_end_matches('/');
    let url = url::Url::parse(v).map_err(|_| form.to_string())?;
    // `port()` is None for an explicit default port too, so look at the text itself
    let authority = v
        .strip_prefix("https://")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if url.scheme() != "https"
        || url.host_str().is_none_or(str::is_empty)
        || !has_port
        || url.path() != OAUTH_PATH
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(form.into());
    }
    normalized_base_url(v, trust, true)
}

/// The keywords field: separated by commas or new lines; at most 10, each 1–50 characters,
/// no repeats.
pub fn parse_keywords(input: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for k in input
        .split([',', '\n'])
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        if k.chars().any(char::is_control) {
            return Err("Keywords cannot contain control characters.".into());
        }
        if k.chars().count() > KEYWORD_MAX {
            return Err(format!(
                "Each keyword can have at most {KEYWORD_MAX} characters ('{}…' is longer).",
                k.chars().take(20).collect::<String>()
            ));
        }
        if out.iter().any(|o| o.to_lowercase() == k.to_lowercase()) {
            return Err(format!("The keyword '{k}' is listed twice."));
        }
        out.push(k.to_owned());
    }
    if out.len() > KEYWORDS_MAX {
        return Err(format!(
            "At most {KEYWORDS_MAX} keywords are allowed ({} given).",
            out.len()
        ));
    }
    Ok(out)
}

fn parse_number(input: &str, label: &str, min: u32, max: u32) -> Result<u32, String> {
    let v = input.trim();
    if v.is_empty() {
        return Err(format!("Enter the {label}."));
    }
    match v.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "The {label} must be a whole number from {min} to {max}."
        )),
    }
}

fn parse_id(input: &str, what: &str) -> Result<i64, String> {
    input
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| format!("Choose a {what}."))
}

fn optional_id(input: &str, what: &str) -> Result<Option<i64>, String> {
    if input.trim().is_empty() {
        Ok(None)
    } else {
        parse_id(input, what).map(Some)
    }
}

/// The offline-message prompt: at most 256 characters, none of `'"/<>\;`.
pub fn parse_offline_prompt(input: &str) -> Result<String, String> {
    let v = optional_text(input, "offline message prompt", TEXT_MAX)?;
    if let Some(bad) = v.chars().find(|c| OFFLINE_PROMPT_FORBIDDEN.contains(c)) {
        return Err(format!(
            "The offline message prompt cannot contain {bad} (none of ' \" / < > \\ ;)."
        ));
    }
    Ok(v)
}

/// `YYYY-MM-DD`, a real date, not before `today`.
pub fn parse_expiry_date(input: &str, today: &str) -> Result<String, String> {
    if input.trim().is_empty() {
        return Err("Enter the Token Validity Period (the token's expiry date).".into());
    }
    let v = super::dates::parse_date(input)
        .map_err(|_| "Enter the Token Validity Period as a date (YYYY-MM-DD).".to_string())?;
    if !today.is_empty() && v.as_str() < today {
        return Err("The token has already expired: choose a date from today on.".into());
    }
    Ok(v)
}

/// Twilio identifiers: a two-letter prefix and 32 hexadecimal digits.
fn parse_twilio_sid(input: &str, prefix: &str, label: &str) -> Result<String, String> {
    let v = input.trim();
    if v.is_empty() {
        return Err(format!("Enter the {label}."));
    }
    let ok =
        v.len() == 34 && v.starts_with(prefix) && v[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(v.to_owned())
    } else {
        Err(format!(
            "The {label} starts with {prefix} followed by 32 hexadecimal digits."
        ))
    }
}

impl ChannelDraft {
    /// twilio's optional Auth Token: `Some(None)` when there is none (or it is removed),
    /// `None` when the typed one is refused.
    fn auth_token(
        &self,
        ctx: &ValidationContext,
        errors: &mut FieldErrors,
    ) -> Option<Option<SecretValue>> {
        let raw = self.auth_token.trim();
        if self.remove_auth_token {
            if !raw.is_empty() {
                errors.add(
                    "auth_token",
                    "Either type a new Auth Token or remove the stored one, not both.",
                );
                return None;
            }
            return Some(None);
        }
        if raw.is_empty() {
            return Some(
                ctx.configured
                    .contains(&SecretField::AuthToken)
                    .then_some(SecretValue::Keep),
            );
        }
        if raw.len() == 32 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            Some(Some(SecretValue::Set(raw.to_owned())))
        } else {
            errors.add(
                "auth_token",
                "The Auth Token is 32 hexadecimal characters (Twilio Console → Account Info).",
            );
            None
        }
    }

    /// Whether this draft points its credentials somewhere else than where they were saved.
    fn moved_from(&self, saved: Option<&SavedFor>) -> bool {
        let Some(saved) = saved else { return false };
        saved.provider != self.provider
            || saved.verification_method != self.verification_method
            || server_of(&saved.base_url) != server_of(&self.base_url)
    }

    fn secret(
        &self,
        field: SecretField,
        ctx: &ValidationContext,
        errors: &mut FieldErrors,
    ) -> Option<SecretValue> {
        let raw = match field {
            SecretField::Password => &self.password,
            SecretField::AccountKey => &self.account_key,
            SecretField::AuthenticationKey => &self.authentication_key,
            SecretField::WebhookPassword => &self.webhook_password,
            SecretField::AppSecret => &self.app_secret,
            SecretField::AccessToken => &self.access_token,
            SecretField::ApiKeySecret => &self.api_key_secret,
            SecretField::AuthToken => &self.auth_token,
        };
        if raw.is_empty() {
            if ctx.configured.contains(&field) {
                if field.sent_to_provider() && self.moved_from(ctx.saved_for.as_ref()) {
                    errors.add(
                        field.field(),
                        format!(
                            "Enter the {} again: the stored one was saved for another provider or BaseUrl server, and is not sent anywhere else.",
                            field.label()
                        ),
                    );
                    return None;
                }
                return Some(SecretValue::Keep);
            }
            errors.add(field.field(), format!("Enter the {}.", field.label()));
            return None;
        }
        let (min, max) = match field {
            // the webhook password is what providers authenticate with: not too short
            SecretField::WebhookPassword => (8, 128),
            _ => (1, 1024),
        };
        let n = raw.chars().count();
        if n < min {
            errors.add(
                field.field(),
                format!("The {} must be at least {min} characters.", field.label()),
            );
            return None;
        }
        if n > max {
            errors.add(
                field.field(),
                format!("The {} can have at most {max} characters.", field.label()),
            );
            return None;
        }
        if raw.chars().any(char::is_control) {
            errors.add(
                field.field(),
                format!("The {} cannot contain control characters.", field.label()),
            );
            return None;
        }
        Some(SecretValue::Set(raw.clone()))
    }

    fn credentials(&self, ctx: &ValidationContext, e: &mut FieldErrors) -> Option<Credentials> {
        let provider = e.check("provider", ProviderKind::parse(&self.provider))?;
        let cert = |e: &mut FieldErrors, field: &str, raw: &str| {
            e.check(field, optional_id(raw, "certificate")).flatten()
        };
        Some(match provider {
            ProviderKind::Infobip => {
                let phone = e.check("phone_number", parse_phone(&self.phone_number));
                let user = e.check("username", required_text(&self.username, "UserName", 128));
                let password = self.secret(SecretField::Password, ctx, e);
                let base = e.check("base_url", parse_base_url(&self.base_url, &ctx.trust));
                let key = self.secret(SecretField::AccountKey, ctx, e);
                let hook = self.secret(SecretField::WebhookPassword, ctx, e);
                let auth = cert(e, "auth_certificate_id", &self.auth_certificate_id);
                Credentials::Infobip {
                    phone_number: phone?,
                    username: user?,
                    password: password?,
                    base_url: base?,
                    account_key: key?,
                    webhook_password: hook?,
                    auth_certificate_id: auth,
                }
            }
            ProviderKind::Other => {
                let method = e.check(
                    "verification_method",
                    VerificationMethod::parse(&self.verification_method),
                )?;
                match method {
                    VerificationMethod::Basic => {
                        let phone = e.check("phone_number", parse_phone(&self.phone_number));
                        let user =
                            e.check("username", required_text(&self.username, "UserName", 128));
                        let password = self.secret(SecretField::Password, ctx, e);
                        let base = e.check("base_url", parse_base_url(&self.base_url, &ctx.trust));
                        let key = self.secret(SecretField::AuthenticationKey, ctx, e);
                        let hook = self.secret(SecretField::WebhookPassword, ctx, e);
                        let trust = cert(e, "trust_certificate_id", &self.trust_certificate_id);
                        let identity =
                            cert(e, "identity_certificate_id", &self.identity_certificate_id);
                        Credentials::OtherBasic {
                            phone_number: phone?,
                            username: user?,
                            password: password?,
                            base_url: base?,
                            authentication_key: key?,
                            webhook_password: hook?,
                            trust_certificate_id: trust,
                            identity_certificate_id: identity,
                        }
                    }
                    VerificationMethod::OAuth => {
                        // an app picked, or the key of one of the space's apps typed: the app
                        // itself, with no secret to type or keep
                        let picked = match self.oauth_app_id.trim() {
                            "" => ctx
                                .apps
                                .iter()
                                .find(|(_, key)| key == self.username.trim())
                                .map(|(id, key)| Ok((*id, key.clone()))),
                            id => Some(
                                id.parse::<i64>()
                                    .ok()
                                    .and_then(|id| ctx.apps.iter().find(|(a, _)| *a == id))
                                    .map(|(id, key)| (*id, key.clone()))
                                    .ok_or_else(|| {
                                        "Choose one of this tenant space's apps that subscribe to sendWhatsappMessage, or type the key of an app on another platform."
                                            .to_string()
                                    }),
                            ),
                        };
                        let (app_id, app_key, secret) = match picked {
                            Some(found) => match e.check("oauth_app_id", found) {
                                Some((id, key)) => (Some(id), Some(key), Some(None)),
                                None => (None, None, None),
                            },
                            None => (
                                None,
                                e.check(
                                    "username",
                                    required_text(&self.username, "UserName (the APP key)", 128),
                                ),
                                self.secret(SecretField::Password, ctx, e).map(Some),
                            ),
                        };
                        let base =
                            e.check("base_url", parse_oauth_base_url(&self.base_url, &ctx.trust));
                        let hook = self.secret(SecretField::WebhookPassword, ctx, e);
                        let trust = cert(e, "trust_certificate_id", &self.trust_certificate_id);
                        Credentials::OtherOAuth {
                            app_key: app_key?,
                            app_id,
                            app_secret: secret?,
                            base_url: base?,
                            webhook_password: hook?,
                            trust_certificate_id: trust,
                        }
                    }
                }
            }
            ProviderKind::CloudApi => {
                let app_key = e.check("app_key", {
                    let v = self.app_key.trim();
                    if v.is_empty() {
                        Err("Enter the APP Key (the Meta app ID).".to_string())
                    } else if v.len() > 32 || !v.bytes().all(|b| b.is_ascii_digit()) {
                        Err("The APP Key is the Meta app ID: digits only.".to_string())
                    } else {
                        Ok(v.to_owned())
                    }
                });
                let secret = self.secret(SecretField::AppSecret, ctx, e);
                let phone = e.check("phone_number", parse_phone(&self.phone_number));
                let base = e.check("base_url", parse_base_url(&self.base_url, &ctx.trust));
                let token = self.secret(SecretField::AccessToken, ctx, e);
                let until = e.check(
                    "token_valid_until",
                    parse_expiry_date(&self.token_valid_until, &ctx.today),
                );
                let trust = cert(e, "trust_certificate_id", &self.trust_certificate_id);
                let identity = cert(e, "identity_certificate_id", &self.identity_certificate_id);
                Credentials::CloudApi {
                    app_key: app_key?,
                    app_secret: secret?,
                    phone_number: phone?,
                    base_url: base?,
                    access_token: token?,
                    token_valid_until: until?,
                    trust_certificate_id: trust,
                    identity_certificate_id: identity,
                }
            }
            ProviderKind::Twilio => {
                let phone = e.check("phone_number", parse_phone(&self.phone_number));
                let sid = e.check(
                    "api_key_sid",
                    parse_twilio_sid(&self.api_key_sid, "SK", "API Key SID"),
                );
                let secret = self.secret(SecretField::ApiKeySecret, ctx, e);
                let base = e.check("base_url", parse_base_url(&self.base_url, &ctx.trust));
                let account = e.check(
                    "account_sid",
                    parse_twilio_sid(&self.account_sid, "AC", "Account SID"),
                );
                let user = e.check("webhook_user", {
                    required_text(&self.webhook_user, "Webhook User", 64).and_then(|u| {
                        if u.contains(':') {
                            Err("The Webhook User cannot contain ':'.".to_string())
                        } else {
                            Ok(u)
                        }
                    })
                });
                let hook = self.secret(SecretField::WebhookPassword, ctx, e);
                let token = self.auth_token(ctx, e);
                let auth = cert(e, "auth_certificate_id", &self.auth_certificate_id);
                Credentials::Twilio {
                    phone_number: phone?,
                    api_key_sid: sid?,
                    api_key_secret: secret?,
                    base_url: base?,
                    account_sid: account?,
                    webhook_user: user?,
                    webhook_password: hook?,
                    auth_token: token?,
                    auth_certificate_id: auth,
                }
            }
        })
    }

    fn work_time(field: &str, inputs: &[SegmentInput], e: &mut FieldErrors) -> Option<WorkTime> {
        match WorkTime::parse(inputs) {
            Ok(w) => Some(w),
            Err(errors) => {
                for err in errors {
                    match err.segment {
                        Some(i) => e.add(&format!("{field}.{i}"), err.message),
                        None => e.add(field, err.message),
                    }
                }
                None
            }
        }
    }

    fn basic(&self, e: &mut FieldErrors) -> Option<BasicConfig> {
        let ou = e.check("ou_id", optional_id(&self.ou_id, "OU"));
        let queue = e.check(
            "skill_queue_id",
            parse_id(&self.skill_queue_id, "skill queue"),
        );
        let keywords = e.check("keywords", parse_keywords(&self.keywords));
        if self.robot && keywords.as_ref().is_some_and(Vec::is_empty) {
            e.add(
                "keywords",
                "Enter at least one keyword: the intelligent robot is on.",
            );
        }
        let workday = Self::work_time("workday", &self.workday, e);
        let non_workday = Self::work_time("non_workday", &self.non_workday, e);
        let notification = e.check(
            "non_working_notification",
            optional_text(&self.non_working_notification, "notification", TEXT_MAX),
        );
        let last_agent = if self.last_agent_mode {
            e.check(
                "last_agent_days",
                parse_number(&self.last_agent_days, "period in days", 1, 30),
            )
            .map(|d| Some(d as u8))
        } else {
            Some(None)
        };
        let no_reply = if self.no_reply_end {
            let minutes = e.check(
                "no_reply_minutes",
                parse_number(&self.no_reply_minutes, "timeout in minutes", 1, 1440),
            );
            let message = e.check(
                "no_reply_message",
                optional_text(&self.no_reply_message, "session end message", TEXT_MAX),
            );
            match (minutes, message) {
                (Some(m), Some(msg)) => Some(Some((m as u16, msg))),
                _ => None,
            }
        } else {
            Some(None)
        };
        let no_agent = if self.no_agent_transfer {
            let seconds = e.check(
                "no_agent_seconds",
                parse_number(&self.no_agent_seconds, "timeout in seconds", 10, 3600),
            );
            let target = e.check(
                "no_agent_queue_id",
                parse_id(&self.no_agent_queue_id, "target skill queue"),
            );
            match (seconds, target) {
                (Some(s), Some(t)) => Some(Some((s as u16, t))),
                _ => None,
            }
        } else {
            Some(None)
        };
        let offline = if self.offline_messages {
            let prompt = e.check("offline_prompt", parse_offline_prompt(&self.offline_prompt));
            let limit = if self.offline_limit_minutes.trim().is_empty() {
                Some(u32::from(OFFLINE_LIMIT_DEFAULT))
            } else {
                e.check(
                    "offline_limit_minutes",
                    parse_number(&self.offline_limit_minutes, "routing time limit", 1, 60),
                )
            };
            match (prompt, limit) {
                (Some(p), Some(l)) => Some(Some((p, l as u16))),
                _ => None,
            }
        } else {
            Some(None)
        };
        Some(BasicConfig {
            ou_id: ou?,
            skill_queue_id: queue?,
            keywords: keywords?,
            workday: workday?,
            non_workday: non_workday?,
            non_working_notification: notification?,
            last_agent_days: last_agent?,
            no_reply_end: no_reply?,
            no_agent_transfer: no_agent?,
            session_transfer: self.session_transfer,
            offline_messages: offline?,
        })
    }

    fn robot(&self, e: &mut FieldErrors) -> Option<RobotConfig> {
        let access_code = if self.robot {
            let code = self.robot_access_code.trim();
            if code.is_empty() {
                e.add(
                    "robot_access_code",
                    "Enter the chatbot access code: the intelligent robot is on.",
                );
                return None;
            }
            Some(e.check(
                "robot_access_code",
                required_text(code, "chatbot access code", 64),
            )?)
        } else {
            None
        };
        Some(RobotConfig {
            access_code,
            assistant: self.robot_assistant,
        })
    }

    /// Checks every field; on failure every rejected field has its message.
    pub fn validate(&self, ctx: &ValidationContext) -> Result<ValidChannel, FieldErrors> {
        let mut e = FieldErrors::new();
        let credentials = self.credentials(ctx, &mut e);
        let name = e.check("name", ChannelName::parse(&self.name));
        let basic = self.basic(&mut e);
        let robot = self.robot(&mut e);
        match (name, credentials, basic, robot) {
            (Some(name), Some(credentials), Some(basic), Some(robot)) if e.is_empty() => {
                Ok(ValidChannel {
                    name,
                    credentials,
                    basic,
                    robot,
                    keep_previous_webhook_secret: self.keep_previous_webhook_secret,
                })
            }
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests;
