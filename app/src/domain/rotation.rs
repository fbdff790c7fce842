//! Changing a webhook credential without an outage: which credentials a provider authenticates
//! its deliveries with, the overlap during which the previous value is still accepted, and
//! what the Channel Integration page says about where the provider is.

use super::channel::ProviderKind;
use serde::{Deserialize, Serialize};

/// The overlap follows the rules of an app secret's reset (0 to 720 hours, 24 by default).
pub use super::apps::{DEFAULT_OVERLAP_HOURS, MAX_OVERLAP_HOURS, parse_overlap_hours};

/// A credential a provider's deliveries are checked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WebhookCredential {
    /// infobip, other (`AccountKey`) and twilio (HTTP Basic).
    WebhookPassword,
    /// cloud-api: the key of `X-Hub-Signature-256`.
    AppSecret,
    /// cloud-api: the `hub.verify_token` of Meta's verification handshake.
    VerificationCode,
}

impl WebhookCredential {
    pub const ALL: [Self; 3] = [
        Self::WebhookPassword,
        Self::AppSecret,
        Self::VerificationCode,
    ];

    /// The stored name (and the form's value).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WebhookPassword => "webhook_password",
            Self::AppSecret => "app_secret",
            Self::VerificationCode => "verification_code",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::WebhookPassword => "Webhook Password",
            Self::AppSecret => "APP Secret",
            Self::VerificationCode => "Verification Code",
        }
    }

    /// The credentials deliveries of `provider` are checked with.
    pub fn of(provider: ProviderKind) -> &'static [Self] {
        match provider {
            ProviderKind::CloudApi => &[Self::AppSecret, Self::VerificationCode],
            _ => &[Self::WebhookPassword],
        }
    }

    /// Whether Switchboard may make the new value (the APP Secret is Meta's: it is copied
    /// from Meta for Developers, never made here).
    pub fn can_generate(self) -> bool {
        !matches!(self, Self::AppSecret)
    }

    /// Whether the value is a secret (never shown again after it is set).
    pub fn secret(self) -> bool {
        !matches!(self, Self::VerificationCode)
    }

    /// A typed new value, checked: the same rules as the channel form's field.
    pub fn check_value(self, raw: &str) -> Result<String, String> {
        let label = self.label();
        let n = raw.chars().count();
        let (min, max) = match self {
            Self::WebhookPassword => (8, 128),
            Self::AppSecret => (1, 1024),
            Self::VerificationCode => (8, 128),
        };
        if raw.is_empty() {
            return Err(format!("Enter the new {label}, or choose Generate."));
        }
        if n < min {
            return Err(format!("The {label} must be at least {min} characters."));
        }
        if n > max {
            return Err(format!("The {label} can have at most {max} characters."));
        }
        if raw.chars().any(char::is_control) {
            return Err(format!("The {label} cannot contain control characters."));
        }
        // Meta sends the verify token in a query string, and people paste it into a form
        if self == Self::VerificationCode
            && !raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
        {
            return Err(
                "The Verification Code may hold only letters, digits and - _ . ~ (it travels in a URL)."
                    .into(),
            );
        }
        Ok(raw.to_owned())
    }
}

/// Which credential an accepted delivery came with, during a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UsedCredential {
    New,
    Previous,
}

impl UsedCredential {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Previous => "previous",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "new" => Some(Self::New),
            "previous" => Some(Self::Previous),
            _ => None,
        }
    }

    /// How Activity names it, e.g. "new Webhook Password".
    pub fn words(self, credential: WebhookCredential) -> String {
        match self {
            Self::New => format!("new {}", credential.label()),
            Self::Previous => format!("previous {}", credential.label()),
        }
    }
}

/// A channel's credential change, as the Channel Integration page shows it. Times are display
/// times (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationStatus {
    pub credential: WebhookCredential,
    pub started: String,
    /// Until when the previous value is accepted (the moment it was retired, once over).
    pub until: String,
    /// The overlap is running: the previous value is still accepted.
    pub active: bool,
    /// The first delivery (or handshake) that came with the new value.
    pub new_first_seen: Option<String>,
    /// The latest that came with the previous value (written at most once a minute).
    pub previous_last_seen: Option<String>,
}

impl RotationStatus {
    /// Where the provider is, in one sentence.
    pub fn summary(&self) -> String {
        let what = self.credential.label();
        if !self.active {
            return format!("The previous {what} was retired on {}.", self.until);
        }
        match (&self.new_first_seen, &self.previous_last_seen) {
            (Some(new), Some(previous)) => format!(
                "The provider has switched (first seen {new}); the previous {what} was last seen {previous}."
            ),
            (Some(new), None) => format!("The provider has switched (first seen {new})."),
            (None, Some(previous)) => {
                format!("The provider still uses the previous {what} (last seen {previous}).")
            }
            (None, None) => format!(
                "No delivery has come since the change: the provider has used neither the new nor the previous {what} yet."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlaps_are_whole_hours_up_to_thirty_days() {
        assert_eq!(parse_overlap_hours(""), Ok(DEFAULT_OVERLAP_HOURS));
        assert_eq!(parse_overlap_hours(" 0 "), Ok(0));
        assert_eq!(parse_overlap_hours("720"), Ok(MAX_OVERLAP_HOURS));
        for bad in ["721", "-1", "1.5", "99999999999999", "a day"] {
            assert!(parse_overlap_hours(bad).unwrap_err().contains("0 to 720"));
        }
    }

    #[test]
    fn credentials_of_each_provider() {
        assert_eq!(
            WebhookCredential::of(ProviderKind::Twilio),
            &[WebhookCredential::WebhookPassword]
        );
        assert_eq!(
            WebhookCredential::of(ProviderKind::CloudApi),
            &[
                WebhookCredential::AppSecret,
                WebhookCredential::VerificationCode
            ]
        );
        for c in WebhookCredential::ALL {
            assert_eq!(WebhookCredential::parse(c.as_str()), Some(c));
        }
        assert_eq!(WebhookCredential::parse("password"), None);
        assert!(!WebhookCredential::AppSecret.can_generate());
    }

    #[test]
    fn new_values_follow_the_form_rules() {
        use WebhookCredential::*;
        assert!(WebhookPassword.check_value("short").is_err());
        assert!(WebhookPassword.check_value(&"x".repeat(129)).is_err());
        assert!(WebhookPassword.check_value("bell\u{7}1234").is_err());
        assert_eq!(
            WebhookPassword.check_value("Küche-ß-8"),
            Ok("Küche-ß-8".into())
        );
        assert!(
            WebhookPassword
                .check_value("")
                .unwrap_err()
                .contains("Generate")
        );
        assert!(VerificationCode.check_value("with space1").is_err());
        assert!(VerificationCode.check_value("a&b=c1234").is_err());
        assert!(VerificationCode.check_value("Code-2026_ok").is_ok());
        assert!(AppSecret.check_value("0123456789abcdef").is_ok());
    }

    #[test]
    fn the_summary_says_where_the_provider_is() {
        let mut s = RotationStatus {
            credential: WebhookCredential::WebhookPassword,
            started: "2026-12-05 10:00".into(),
            until: "2026-12-06 10:00".into(),
            active: true,
            new_first_seen: None,
            previous_last_seen: Some("2026-12-05 10:05".into()),
        };
        assert_eq!(
            s.summary(),
            "The provider still uses the previous Webhook Password (last seen 2026-12-05 10:05)."
        );
        s.new_first_seen = Some("2026-12-05 11:00".into());
        assert!(
            s.summary()
                .starts_with("The provider has switched (first seen 2026-12-05 11:00)")
        );
        s.previous_last_seen = None;
        s.new_first_seen = None;
        assert!(s.summary().contains("neither"));
        s.active = false;
        assert_eq!(
            s.summary(),
            "The previous Webhook Password was retired on 2026-12-06 10:00."
        );
        assert_eq!(
            UsedCredential::Previous.words(WebhookCredential::AppSecret),
            "previous APP Secret"
        );
        assert_eq!(UsedCredential::parse("new"), Some(UsedCredential::New));
    }
}
