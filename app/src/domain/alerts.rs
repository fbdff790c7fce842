//! Alerts of a tenant space: where they go (e-mail addresses, an HTTPS webhook), when they are
//! raised (a channel turning Failing and recovering, a certificate or access token entering
//! its warning window, a daily digest, a test), what they say, and how often a failed
//! delivery is tried again. Pure rules, shared by the Alerts page and the server.

use serde::{Deserialize, Serialize};

/// E-mail addresses one tenant space may send its alerts to.
pub const MAX_EMAILS: usize = 10;
/// The longest address (RFC 5321's path limit less the brackets).
pub const MAX_EMAIL: usize = 254;
/// The longest webhook URL.
pub const MAX_URL: usize = 2048;
/// Days before a certificate's or token's end at which an alert is raised, once each.
pub const THRESHOLDS: [i64; 3] = [30, 14, 7];
/// Attempts shown on the Alerts page (the older ones are not kept).
pub const ATTEMPTS_KEPT: usize = 100;
/// Seconds to wait after the n-th failed attempt (n from 1); a delivery whose attempts are
/// all used is given up.
pub const RETRY_AFTER: [i64; 5] = [30, 120, 600, 3_600, 21_600];

/// Why an alert was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlertKind {
    Failing,
    Recovered,
    CertificateExpiring,
    TokenExpiring,
    Digest,
    Test,
}

impl AlertKind {
    pub const ALL: [Self; 6] = [
        Self::Failing,
        Self::Recovered,
        Self::CertificateExpiring,
        Self::TokenExpiring,
        Self::Digest,
        Self::Test,
    ];

    /// As stored, and as the webhook's `kind`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Failing => "failing",
            Self::Recovered => "recovered",
            Self::CertificateExpiring => "certificate_expiring",
            Self::TokenExpiring => "token_expiring",
            Self::Digest => "digest",
            Self::Test => "test",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Failing => "Channel failing",
            Self::Recovered => "Channel recovered",
            Self::CertificateExpiring => "Certificate expiring",
            Self::TokenExpiring => "Access token expiring",
            Self::Digest => "Daily digest",
            Self::Test => "Test alert",
        }
    }
}

/// Checks one e-mail address: `local@domain`, ASCII, no spaces or brackets, a domain of at
/// least two labels of letters, digits and inner hyphens.
pub fn check_email(address: &str) -> Result<(), String> {
    let shown = shorten(address);
    if address.len() > MAX_EMAIL {
        return Err(format!("{shown} is longer than {MAX_EMAIL} characters"));
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Err(format!("{shown} has no @"));
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    if !local_ok {
        return Err(format!("{shown}: the part before @ is not a mailbox name"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !domain_ok {
        return Err(format!("{shown}: the part after @ is not a domain name"));
    }
    Ok(())
}

/// The addresses of a text field (one a line, or separated by commas, semicolons or spaces),
/// each checked, the same address (ignoring case) kept once, at most [`MAX_EMAILS`].
pub fn parse_emails(text: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for raw in text.split(|c: char| c == ',' || c == ';' || c.is_whitespace()) {
        let address = raw.trim();
        if address.is_empty() {
            continue;
        }
        check_email(address)?;
        if !out.iter().any(|a| a.eq_ignore_ascii_case(address)) {
            if out.len() == MAX_EMAILS {
                return Err(format!("At most {MAX_EMAILS} addresses"));
            }
            out.push(address.to_owned());
        }
    }
    Ok(out)
}

/// The webhook URL of a text field: none when empty; else an `https://` URL with a host, no
/// user or password and no fragment, at most [`MAX_URL`] characters.
pub fn parse_webhook_url(text: &str) -> Result<Option<String>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > MAX_URL {
        return Err(format!("At most {MAX_URL} characters"));
    }
    let url = url::Url::parse(text).map_err(|e| format!("Not a URL: {e}"))?;
    if url.scheme() != "https" {
        return Err("Must start with https:// (alerts are signed, never sent in clear)".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("Must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "Must not carry a user or password: the alert is signed with the signing secret".into(),
        );
    }
    if url.fragment().is_some() {
        return Err("Must not have a #fragment".into());
    }
    Ok(Some(url.to_string()))
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// The warning threshold a certificate or token `days_left` days from its end is in: the
/// smallest of [`THRESHOLDS`] not below it (10 days left: 14), none when it has ended or is
/// further than 30 days away.
pub fn threshold_for(days_left: i64) -> Option<i64> {
    if days_left < 0 {
        return None;
    }
    THRESHOLDS.into_iter().rev().find(|t| days_left <= *t)
}

/// The wait before the next attempt after `failed` failed attempts; none when it is to be
/// given up.
pub fn retry_after(failed: u32) -> Option<i64> {
    let i = usize::try_from(failed).ok()?.checked_sub(1)?;
    RETRY_AFTER.get(i).copied()
}

/// One reason a channel is failing, with the page that fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertReason {
    pub message: String,
    pub fix: String,
    /// An absolute link.
    pub link: String,
}

/// What an alert says: a subject line and a plain text body. Never a credential: only names,
/// levels, reasons in words, dates and links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertText {
    pub subject: String,
    pub body: String,
}

fn reasons_text(reasons: &[AlertReason]) -> String {
    reasons
        .iter()
        .map(|r| format!("- {}\n  {}: {}\n", r.message, r.fix, r.link))
        .collect()
}

/// A channel that became Failing.
pub fn failing_text(
    tenant: &str,
    channel: &str,
    provider: &str,
    reasons: &[AlertReason],
) -> AlertText {
    AlertText {
        subject: format!("[Switchboard] {channel} is failing"),
        body: format!(
            "The channel {channel} ({provider}) of {tenant} is failing:\n\n{}\nYou receive this because {tenant} sends its alerts here (Overview > Alerts).\n",
            reasons_text(reasons)
        ),
    }
}

/// A channel that was Failing and is not any more.
pub fn recovered_text(
    tenant: &str,
    channel: &str,
    provider: &str,
    level: &str,
    link: &str,
) -> AlertText {
    AlertText {
        subject: format!("[Switchboard] {channel} recovered"),
        body: format!(
            "The channel {channel} ({provider}) of {tenant} is no longer failing; its health is now {level}.\n\n{link}\n\nYou receive this because {tenant} sends its alerts here (Overview > Alerts).\n"
        ),
    }
}

/// A certificate or token within `threshold` days of its end (`what`: "The certificate
/// Acme CA", "The access token of wa_main").
pub fn expiring_text(
    tenant: &str,
    what: &str,
    ends: &str,
    threshold: i64,
    link: &str,
) -> AlertText {
    AlertText {
        subject: format!("[Switchboard] {what} expires within {threshold} days"),
        body: format!(
            "{what} of {tenant} expires on {ends}, within {threshold} days. Replace it before then, or the channels that use it stop working.\n\n{link}\n\nYou receive this because {tenant} sends its alerts here (Overview > Alerts).\n"
        ),
    }
}

/// The test alert a tenant administrator asked for.
pub fn test_text(tenant: &str, asked_by: &str, link: &str) -> AlertText {
    AlertText {
        subject: "[Switchboard] Test alert".into(),
        body: format!(
            "This is a test alert of {tenant}, sent because {asked_by} asked for it on the Alerts page. Alerts for failing channels, recoveries and certificates or tokens about to expire arrive the same way.\n\n{link}\n"
        ),
    }
}

/// Channels of a tenant space by health, for the digest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestFacts {
    pub ok: u64,
    pub attention: u64,
    pub failing: u64,
    /// Names of failing channels (the first few) with their first reason.
    pub failing_channels: Vec<(String, String)>,
    /// Certificates and tokens that end within 30 days: what, and when.
    pub expiring: Vec<(String, String)>,
}

/// The daily digest.
pub fn digest_text(tenant: &str, day: &str, f: &DigestFacts, link: &str) -> AlertText {
    let mut body = format!(
        "{tenant} on {day}: {} channels OK, {} need attention, {} failing.\n",
        f.ok, f.attention, f.failing
    );
    if !f.failing_channels.is_empty() {
        body.push_str("\nFailing:\n");
        for (name, reason) in &f.failing_channels {
            body.push_str(&format!("- {name}: {reason}\n"));
        }
    }
    if !f.expiring.is_empty() {
        body.push_str("\nExpiring within 30 days:\n");
        for (what, when) in &f.expiring {
            body.push_str(&format!("- {what}: {when}\n"));
        }
    }
    body.push_str(&format!("\n{link}\n"));
    AlertText {
        subject: format!(
            "[Switchboard] {tenant}: {} failing, {} need attention",
            f.failing, f.attention
        ),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_one_by_one_and_kept_once() {
        assert_eq!(
            parse_emails("ops@example.com, Ops@Example.com;\nnight.shift+alerts@cc.example.org ")
                .unwrap(),
            ["ops@example.com", "night.shift+alerts@cc.example.org"]
        );
        assert_eq!(parse_emails("  \n ").unwrap(), Vec::<String>::new());
        for (bad, why) in [
            ("ops.example.com", "has no @"),
            ("@example.com", "not a mailbox name"),
            ("a..b@example.com", "not a mailbox name"),
            ("ops@localhost", "not a domain name"),
            ("ops@-x.example", "not a domain name"),
            ("ops@exa_mple.com", "not a domain name"),
            ("öps@example.com", "not a mailbox name"),
            ("ops@example.com<script>", "not a domain name"),
        ] {
            let e = parse_emails(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(parse_emails(&long).unwrap_err().contains("longer than 254"));
        let eleven: Vec<String> = (0..11).map(|i| format!("a{i}@example.com")).collect();
        assert_eq!(
            parse_emails(&eleven.join("\n")).unwrap_err(),
            "At most 10 addresses"
        );
        // the same address eleven times is one
        assert_eq!(parse_emails(&"a@example.com ".repeat(11)).unwrap().len(), 1);
    }

    #[test]
    fn the_webhook_is_https_with_a_host_and_no_credentials() {
        assert_eq!(parse_webhook_url(" ").unwrap(), None);
        assert_eq!(
            parse_webhook_url("https://hooks.example.com/alerts?team=cc").unwrap(),
            Some("https://hooks.example.com/alerts?team=cc".into())
        );
        for (bad, why) in [
            ("http://hooks.example.com/a", "https://"),
            ("https://user:pw@hooks.example.com/", "user or password"),
            ("https://hooks.example.com/#x", "fragment"),
            ("hooks.example.com", "Not a URL"),
        ] {
            let e = parse_webhook_url(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let long = format!("https://h.example/{}", "a".repeat(MAX_URL));
        assert!(parse_webhook_url(&long).unwrap_err().contains("2048"));
    }

    #[test]
    fn a_threshold_is_the_smallest_window_the_end_is_in() {
        assert_eq!(threshold_for(31), None);
        assert_eq!(threshold_for(30), Some(30));
        assert_eq!(threshold_for(15), Some(30));
        assert_eq!(threshold_for(14), Some(14));
        assert_eq!(threshold_for(10), Some(14));
        assert_eq!(threshold_for(7), Some(7));
        assert_eq!(threshold_for(0), Some(7));
        assert_eq!(threshold_for(-1), None);
    }

    #[test]
    fn failed_deliveries_wait_longer_each_time_and_are_given_up_after_six() {
        assert_eq!(retry_after(0), None);
        assert_eq!(retry_after(1), Some(30));
        assert_eq!(retry_after(5), Some(21_600));
        assert_eq!(retry_after(6), None);
        assert_eq!(retry_after(u32::MAX), None);
    }

    #[test]
    fn kinds_round_trip_and_texts_name_the_fix() {
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::parse(k.code()), Some(k));
        }
        assert_eq!(AlertKind::parse("other"), None);
        let t = failing_text(
            "Acme",
            "wa_main",
            "infobip",
            &[AlertReason {
                message: "Deliveries are refused: AccountKey does not match".into(),
                fix: "See the refused deliveries".into(),
                link: "https://cc.example.com/config/channels/7/activity".into(),
            }],
        );
        assert_eq!(t.subject, "[Switchboard] wa_main is failing");
        assert!(t.body.contains("AccountKey does not match"));
        assert!(t.body.contains(
            "See the refused deliveries: https://cc.example.com/config/channels/7/activity"
        ));
        let d = digest_text(
            "Acme",
            "2026-12-05",
            &DigestFacts {
                ok: 3,
                attention: 1,
                failing: 1,
                failing_channels: vec![("wa_main".into(), "refused".into())],
                expiring: vec![],
            },
            "https://cc.example.com/config",
        );
        assert!(
            d.body
                .contains("3 channels OK, 1 need attention, 1 failing")
        );
        assert!(d.body.contains("- wa_main: refused"));
    }
}
