//! A channel's health: `OK`, `Attention` or `Failing`, with the reasons, from what is stored
//! about it and the time now. The server keeps the level in the channel row (for sorting and
//! filtering in SQL) and recomputes it when a fact changes or when [`next_change`] comes; pages
//! show [`assess`] computed on read.

use super::dates::{SECONDS_PER_DAY, date_of_day, day_number};
use serde::{Deserialize, Serialize};

/// A token expiring within this many days needs attention.
pub const TOKEN_WARNING_DAYS: i64 = 14;
/// A certificate expiring within this many days needs attention.
pub const CERTIFICATE_WARNING_DAYS: i64 = 30;
/// A channel that has received nothing this long after its creation needs attention.
pub const SILENCE_GRACE_SECONDS: i64 = SECONDS_PER_DAY;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub enum HealthLevel {
    #[default]
    Ok,
    Attention,
    Failing,
}

impl HealthLevel {
    pub const ALL: [Self; 3] = [Self::Ok, Self::Attention, Self::Failing];

    /// What the database keeps: 0, 1, 2 (worse is larger).
    pub fn rank(self) -> i16 {
        match self {
            Self::Ok => 0,
            Self::Attention => 1,
            Self::Failing => 2,
        }
    }

    pub fn from_rank(rank: i16) -> Self {
        match rank {
            i16::MIN..=0 => Self::Ok,
            1 => Self::Attention,
            _ => Self::Failing,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Attention => "Attention",
            Self::Failing => "Failing",
        }
    }
}

/// Where the administrator goes to fix a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Fix {
    /// The channel's activity page: the refused deliveries and their fixes.
    Activity,
    /// Channel Integration: the webhook URLs to copy, Test connection.
    Integration,
    /// Edit the channel (token, certificate, skill queue, OU).
    Edit,
    /// The certificates page (upload a new one).
    Certificates,
}

impl Fix {
    pub fn label(self) -> &'static str {
        match self {
            Self::Activity => "See the refused deliveries",
            Self::Integration => "Open Channel Integration",
            Self::Edit => "Edit the channel",
            Self::Certificates => "Upload a new certificate",
        }
    }

    pub fn href(self, channel_id: i64) -> String {
        match self {
            Self::Activity => format!("/config/channels/{channel_id}/activity"),
            Self::Integration => format!("/config/channels/{channel_id}/integration"),
            Self::Edit => format!("/config/channels/{channel_id}/edit"),
            Self::Certificates => "/config/certificates".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReasonKind {
    Refused,
    NeverReceived,
    TestFailed,
    TokenExpired,
    TokenExpiring,
    CertificateExpired,
    CertificateExpiring,
    SkillQueueRemoved,
    OuRemoved,
}

/// One reason, in words, with how bad it is and where it is fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReason {
    pub kind: ReasonKind,
    pub level: HealthLevel,
    pub message: String,
    pub fix: Fix,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Health {
    pub level: HealthLevel,
    /// Worst first.
    pub reasons: Vec<HealthReason>,
}

/// A certificate the channel names, with its earliest expiry (of every certificate in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateUse {
    /// `Trust Certificate`, `Identity Certificate`, `Authentication Certificate`.
    pub role: String,
    pub name: String,
    /// Unix seconds.
    pub not_after: i64,
}

/// What health is computed from. Times are Unix seconds, except the two delivery times:
/// Unix milliseconds, since an accepted and a refused delivery often share a second.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HealthFacts {
    pub created_at: i64,
    pub last_accepted_at: Option<i64>,
    pub last_refused_at: Option<i64>,
    /// The words of the newest refusal's reason.
    pub last_refused_reason: Option<String>,
    /// The last Test connection: whether it connected, and its summary.
    pub last_test: Option<(bool, String)>,
    /// cloud-api: the Token Validity Period, `YYYY-MM-DD` (valid through that day, UTC).
    pub token_valid_until: Option<String>,
    pub certificates: Vec<CertificateUse>,
    /// The channel names a skill queue that no longer exists.
    pub skill_queue_missing: bool,
    /// The channel names an OU that no longer exists.
    pub ou_missing: bool,
}

fn days_word(days: i64) -> String {
    match days {
        0 => "today".into(),
        1 => "in 1 day".into(),
        n => format!("in {n} days"),
    }
}

/// The first second after the token's last valid day, and the first second of its warning.
fn token_bounds(until: &str) -> Option<(i64, i64)> {
    let day = day_number(until)?;
    let expired_from = (day + 1) * SECONDS_PER_DAY;
    let warn_from = (day - TOKEN_WARNING_DAYS) * SECONDS_PER_DAY;
    Some((warn_from, expired_from))
}

/// The channel's health at `now`.
pub fn assess(f: &HealthFacts, now: i64) -> Health {
    let mut reasons = Vec::new();
    let mut add = |kind, level, message: String, fix| {
        reasons.push(HealthReason {
            kind,
            level,
            message,
            fix,
        })
    };
    if let Some(refused) = f.last_refused_at
        && f.last_accepted_at.is_none_or(|a| refused > a)
    {
        let why = f
            .last_refused_reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let since = if f.last_accepted_at.is_some() {
            "after the last accepted one"
        } else {
            "and none was ever accepted"
        };
        add(
            ReasonKind::Refused,
            HealthLevel::Failing,
            format!("The last delivery was refused {since}{why}."),
            Fix::Activity,
        );
    }
    if let Some((false, summary)) = &f.last_test {
        add(
            ReasonKind::TestFailed,
            HealthLevel::Failing,
            format!("The last Test connection failed: {summary}"),
            Fix::Integration,
        );
    }
    if let Some(until) = f.token_valid_until.as_deref()
        && let Some((warn_from, expired_from)) = token_bounds(until)
    {
        if now >= expired_from {
            add(
                ReasonKind::TokenExpired,
                HealthLevel::Failing,
                format!(
                    "The Access Token expired: its Token Validity Period ended on {until}. Enter a new token and its date."
                ),
                Fix::Edit,
            );
        } else if now >= warn_from {
            let left =
                expired_from.div_euclid(SECONDS_PER_DAY) - 1 - now.div_euclid(SECONDS_PER_DAY);
            add(
                ReasonKind::TokenExpiring,
                HealthLevel::Attention,
                format!(
                    "The Access Token expires {} (Token Validity Period {until}). Renew it before then.",
                    days_word(left)
                ),
                Fix::Edit,
            );
        }
    }
    for c in &f.certificates {
        let date = date_of_day(c.not_after.div_euclid(SECONDS_PER_DAY));
        if now >= c.not_after {
            add(
                ReasonKind::CertificateExpired,
                HealthLevel::Failing,
                format!(
                    "The {} '{}' expired on {date}: TLS with it fails.",
                    c.role, c.name
                ),
                Fix::Certificates,
            );
        } else if c.not_after - now <= CERTIFICATE_WARNING_DAYS * SECONDS_PER_DAY {
            let left = (c.not_after - now).div_euclid(SECONDS_PER_DAY);
            add(
                ReasonKind::CertificateExpiring,
                HealthLevel::Attention,
                format!(
                    "The {} '{}' expires {} ({date}). Upload its successor and choose it on Edit.",
                    c.role,
                    c.name,
                    days_word(left)
                ),
                Fix::Certificates,
            );
        }
    }
    if f.skill_queue_missing {
        add(
            ReasonKind::SkillQueueRemoved,
            HealthLevel::Failing,
            "The skill queue this channel routes to was removed: choose another one.".into(),
            Fix::Edit,
        );
    }
    if f.ou_missing {
        add(
            ReasonKind::OuRemoved,
            HealthLevel::Attention,
            "The OU this channel was in was removed: choose another one.".into(),
            Fix::Edit,
        );
    }
    if f.last_accepted_at.is_none()
        && f.last_refused_at.is_none()
        && now - f.created_at >= SILENCE_GRACE_SECONDS
    {
        let days = (now - f.created_at).div_euclid(SECONDS_PER_DAY);
        add(
            ReasonKind::NeverReceived,
            HealthLevel::Attention,
            format!(
                "No delivery has arrived in the {} since the channel was created: copy the webhook URLs into the provider's portal.",
                if days == 1 {
                    "day".to_string()
                } else {
                    format!("{days} days")
                }
            ),
            Fix::Integration,
        );
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.level));
    Health {
        level: reasons.iter().map(|r| r.level).max().unwrap_or_default(),
        reasons,
    }
}

/// The next moment after `now` at which time alone changes [`assess`]' level or reasons
/// (a token or certificate entering its warning or expiring, the silence grace ending).
pub fn next_change(f: &HealthFacts, now: i64) -> Option<i64> {
    let mut moments = Vec::new();
    if let Some((warn_from, expired_from)) = f.token_valid_until.as_deref().and_then(token_bounds) {
        moments.extend([warn_from, expired_from]);
    }
    for c in &f.certificates {
        moments.extend([
            c.not_after - CERTIFICATE_WARNING_DAYS * SECONDS_PER_DAY,
            c.not_after,
        ]);
    }
    if f.last_accepted_at.is_none() && f.last_refused_at.is_none() {
        moments.push(f.created_at + SILENCE_GRACE_SECONDS);
    }
    moments.into_iter().filter(|m| *m > now).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = SECONDS_PER_DAY;
    // 2026-11-28 12:00 UTC
    const NOW: i64 = 20_785 * DAY + 12 * 3600;

    fn fresh() -> HealthFacts {
        HealthFacts {
            created_at: NOW - 3600,
            ..Default::default()
        }
    }

    fn kinds(h: &Health) -> Vec<ReasonKind> {
        h.reasons.iter().map(|r| r.kind).collect()
    }

    #[test]
    fn a_new_channel_is_ok_until_the_grace_ends() {
        let f = fresh();
        assert_eq!(assess(&f, NOW), Health::default());
        assert_eq!(next_change(&f, NOW), Some(f.created_at + DAY));
        let later = assess(&f, f.created_at + DAY);
        assert_eq!(later.level, HealthLevel::Attention);
        assert_eq!(kinds(&later), [ReasonKind::NeverReceived]);
        assert!(later.reasons[0].message.contains("in the day since"));
        let h = assess(&f, f.created_at + 3 * DAY + 5);
        assert!(h.reasons[0].message.contains("3 days"), "{h:?}");
        assert_eq!(h.reasons[0].fix, Fix::Integration);
    }

    #[test]
    fn refused_after_accepted_fails_and_an_accepted_one_clears_it() {
        let mut f = fresh();
        f.last_refused_at = Some(NOW - 10);
        f.last_refused_reason = Some("AccountKey header missing".into());
        let h = assess(&f, NOW);
        assert_eq!(h.level, HealthLevel::Failing);
        assert_eq!(
            h.reasons[0].message,
            "The last delivery was refused and none was ever accepted: AccountKey header missing."
        );
        assert_eq!(h.reasons[0].fix, Fix::Activity);
        f.last_accepted_at = Some(NOW - 20);
        assert!(
            assess(&f, NOW).reasons[0]
                .message
                .contains("after the last accepted one")
        );
        f.last_accepted_at = Some(NOW - 5);
        assert_eq!(assess(&f, NOW), Health::default(), "accepted after refused");
        f.last_accepted_at = Some(NOW - 10);
        assert_eq!(
            assess(&f, NOW).level,
            HealthLevel::Ok,
            "same instant: not newer"
        );
        // refused only: silence is not reported as well
        let mut g = fresh();
        g.created_at = NOW - 10 * DAY;
        g.last_refused_at = Some(NOW - DAY);
        assert_eq!(kinds(&assess(&g, NOW)), [ReasonKind::Refused]);
    }

    #[test]
    fn a_failed_test_fails_and_a_passed_one_is_ok() {
        let mut f = fresh();
        f.last_test = Some((false, "TLS handshake failed.".into()));
        let h = assess(&f, NOW);
        assert_eq!(h.level, HealthLevel::Failing);
        assert_eq!(
            h.reasons[0].message,
            "The last Test connection failed: TLS handshake failed."
        );
        f.last_test = Some((true, "Connected".into()));
        assert_eq!(assess(&f, NOW).level, HealthLevel::Ok);
    }

    #[test]
    fn token_validity_warns_14_days_ahead_and_fails_after_its_day() {
        let mut f = fresh();
        f.token_valid_until = Some("2026-12-01".into());
        let h = assess(&f, NOW);
        assert_eq!(h.level, HealthLevel::Attention);
        assert_eq!(
            h.reasons[0].message,
            "The Access Token expires in 3 days (Token Validity Period 2026-12-01). Renew it before then."
        );
        f.token_valid_until = Some("2026-12-12".into());
        assert_eq!(assess(&f, NOW).reasons[0].kind, ReasonKind::TokenExpiring);
        f.token_valid_until = Some("2026-12-13".into());
        assert_eq!(assess(&f, NOW).level, HealthLevel::Ok, "15 days ahead");
        assert_eq!(
            next_change(&f, NOW),
            Some((20_800 - 14) * DAY),
            "warning starts 14 days before 2026-12-13 (day 20,800)"
        );
        f.token_valid_until = Some("2026-11-28".into());
        assert!(assess(&f, NOW).reasons[0].message.contains("expires today"));
        f.token_valid_until = Some("2026-11-27".into());
        let h = assess(&f, NOW);
        assert_eq!(h.level, HealthLevel::Failing);
        assert_eq!(h.reasons[0].kind, ReasonKind::TokenExpired);
        assert_eq!(h.reasons[0].fix, Fix::Edit);
        // the last valid second, and the first expired one
        f.token_valid_until = Some("2026-11-28".into());
        assert_eq!(
            assess(&f, 20_786 * DAY - 1).reasons[0].kind,
            ReasonKind::TokenExpiring
        );
        assert_eq!(
            assess(&f, 20_786 * DAY).reasons[0].kind,
            ReasonKind::TokenExpired
        );
    }

    #[test]
    fn certificates_warn_30_days_ahead_and_fail_when_expired() {
        let mut f = fresh();
        f.certificates = vec![CertificateUse {
            role: "Trust Certificate".into(),
            name: "meta-root".into(),
            not_after: NOW + 30 * DAY,
        }];
        let h = assess(&f, NOW);
        assert_eq!(h.level, HealthLevel::Attention);
        assert_eq!(
            h.reasons[0].message,
            "The Trust Certificate 'meta-root' expires in 30 days (2026-12-28). Upload its successor and choose it on Edit."
        );
        f.certificates[0].not_after = NOW + 30 * DAY + 1;
        assert_eq!(assess(&f, NOW).level, HealthLevel::Ok);
        assert_eq!(next_change(&f, NOW), Some(NOW + 1));
        f.certificates[0].not_after = NOW;
        let h = assess(&f, NOW);
        assert_eq!(h.reasons[0].kind, ReasonKind::CertificateExpired);
        assert_eq!(h.reasons[0].fix, Fix::Certificates);
    }

    #[test]
    fn removed_references_and_the_worst_reason_first() {
        let mut f = fresh();
        f.ou_missing = true;
        f.skill_queue_missing = true;
        f.token_valid_until = Some("2026-12-01".into());
        let h = assess(&f, NOW);
        assert_eq!(h.level, HealthLevel::Failing);
        assert_eq!(h.reasons[0].kind, ReasonKind::SkillQueueRemoved);
        assert!(
            h.reasons[1..]
                .iter()
                .all(|r| r.level == HealthLevel::Attention)
        );
        assert_eq!(h.reasons.len(), 3);
    }

    #[test]
    fn next_change_is_the_earliest_future_threshold() {
        let mut f = fresh();
        f.last_accepted_at = Some(NOW);
        assert_eq!(next_change(&f, NOW), None);
        f.certificates = vec![CertificateUse {
            role: "Identity Certificate".into(),
            name: "id".into(),
            not_after: NOW + 40 * DAY,
        }];
        assert_eq!(next_change(&f, NOW), Some(NOW + 10 * DAY));
        assert_eq!(next_change(&f, NOW + 10 * DAY), Some(NOW + 40 * DAY));
        assert_eq!(next_change(&f, NOW + 40 * DAY), None);
    }

    #[test]
    fn levels_round_trip_through_their_rank() {
        for l in HealthLevel::ALL {
            assert_eq!(HealthLevel::from_rank(l.rank()), l);
        }
        assert!(HealthLevel::Failing > HealthLevel::Attention);
    }
}
