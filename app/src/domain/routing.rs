//! How a channel routes a customer's message at a given local date and time: work time or not
//! (the tenant's weekday rules and non-working dates choose Workday or Non-workday segments),
//! the Non-Working Time Notification outside it, and whether the message matches a Keyword
//! for Transfer to Agent (case-insensitive, whole word). The routing preview shows exactly this.
//!
//! Times here are local to the tenant's time zone; [`zone`] (server only) turns an instant or
//! a typed local time into them, across DST changes.

use super::dates::{date_of_day, weekday_of_day};
use super::service_time::{WEEKDAYS, WeekdayRules};
use super::worktime::{TimeOfDay, WorkTime};
use serde::{Deserialize, Serialize};

/// What the routing of one channel depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingRules {
    pub weekdays: WeekdayRules,
    /// The tenant's non-working dates: `(YYYY-MM-DD, name)`.
    pub non_working_dates: Vec<(String, String)>,
    pub workday: WorkTime,
    pub non_workday: WorkTime,
    pub notification: String,
    pub keywords: Vec<String>,
    pub skill_queue: String,
    /// Connecting to the Intelligent Robot is on.
    pub robot: bool,
    /// Offline Messages on: the prompt.
    pub offline_prompt: Option<String>,
}

/// The answer of the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingPreview {
    /// `YYYY-MM-DD`
    pub date: String,
    /// `HH:MM`
    pub time: String,
    pub weekday: String,
    /// `Workday` or `Non-workday`.
    pub day_kind: String,
    /// Why the day is what it is, in words.
    pub day_reason: String,
    /// That day's work time, `09:00-12:00, 13:00-18:00`.
    pub segments: String,
    pub work_time: bool,
    /// Outside work time: the notification the customer gets (`None` when none is set).
    pub notification: Option<String>,
    /// The keyword the message matched.
    pub keyword: Option<String>,
    /// What happens to the message, in a sentence.
    pub outcome: String,
    /// The time zone, and what a DST change did to the typed time.
    pub zone_note: String,
}

fn is_spaced_word_char(c: char) -> bool {
    // scripts written without spaces between words have no word boundaries to require
    let unspaced = matches!(c as u32,
        0x0E00..=0x0EFF   // Thai, Lao
        | 0x1000..=0x109F // Myanmar
        | 0x1780..=0x17FF // Khmer
        | 0x3040..=0x30FF // Hiragana, Katakana
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF // Han
        | 0x20000..=0x2FA1F);
    (c.is_alphanumeric() || c == '_') && !unspaced
}

/// The first keyword the message contains as a whole word (or phrase), ignoring case. A
/// boundary is required only where both sides are letters of a script that spaces its words,
/// so `转人工` matches inside `我要转人工`, while `agent` does not match `agents` or `reagent`.
pub fn match_keyword<'a>(keywords: &'a [String], message: &str) -> Option<&'a str> {
    let text: Vec<char> = message.chars().flat_map(char::to_lowercase).collect();
    keywords.iter().map(String::as_str).find(|kw| {
        let k: Vec<char> = kw.trim().chars().flat_map(char::to_lowercase).collect();
        if k.is_empty() || k.len() > text.len() {
            return false;
        }
        (0..=text.len() - k.len()).any(|i| {
            text[i..i + k.len()] == k[..]
                && (i == 0 || !(is_spaced_word_char(text[i - 1]) && is_spaced_word_char(k[0])))
                && (i + k.len() == text.len()
                    || !(is_spaced_word_char(text[i + k.len()])
                        && is_spaced_word_char(k[k.len() - 1])))
        })
    })
}

/// Whether `minute` (0..1440) falls in one of the segments; a segment ending 24:00 covers
/// 23:59 and the end of a segment is not in it.
pub fn in_segments(work: &WorkTime, minute: u16) -> bool {
    work.segments()
        .iter()
        .any(|s| s.start.minutes() <= minute && minute < s.end.minutes())
}

/// The routing of a message at local day `day` (days since 1970-01-01), minute `minute`.
pub fn preview(rules: &RoutingRules, day: i64, minute: u16, message: &str) -> RoutingPreview {
    let date = date_of_day(day);
    let weekday_index = weekday_of_day(day);
    let weekday = WEEKDAYS[weekday_index];
    let holiday = rules.non_working_dates.iter().find(|(d, _)| *d == date);
    let (workday, day_reason) = match holiday {
        Some((_, name)) if name.is_empty() => (
            false,
            format!("{date} is one of the tenant's non-working dates."),
        ),
        Some((_, name)) => (
            false,
            format!("{date} ({name}) is one of the tenant's non-working dates."),
        ),
        None if rules.weekdays.0[weekday_index] => {
            (true, format!("{weekday} is a workday in Service Time."))
        }
        None => (
            false,
            format!("{weekday} is not a workday in Service Time."),
        ),
    };
    let work = if workday {
        &rules.workday
    } else {
        &rules.non_workday
    };
    let work_time = in_segments(work, minute);
    let keyword = match_keyword(&rules.keywords, message).map(str::to_owned);
    let notification =
        (!work_time && !rules.notification.trim().is_empty()).then(|| rules.notification.clone());
    let queue = &rules.skill_queue;
    let outcome = if !work_time {
        let answer = match &notification {
            Some(_) => "The customer gets the Non-Working Time Notification".to_string(),
            None => {
                "No Non-Working Time Notification is set: the customer gets no answer".to_string()
            }
        };
        match &rules.offline_prompt {
            Some(_) => format!(
                "{answer}; the message is kept as an offline message for skill queue '{queue}'."
            ),
            None => format!("{answer}; no agent takes the message."),
        }
    } else if let Some(k) = &keyword {
        format!(
            "The message matches the keyword '{k}': it is transferred to an agent of skill queue '{queue}'."
        )
    } else if rules.robot {
        "No transfer keyword matches: the intelligent robot answers.".to_string()
    } else {
        format!("The message goes to an agent of skill queue '{queue}'.")
    };
    let time = TimeOfDay::from_minutes(minute.min(1439))
        .map(|t| t.to_string())
        .unwrap_or_default();
    RoutingPreview {
        date,
        time,
        weekday: weekday.to_owned(),
        day_kind: if workday { "Workday" } else { "Non-workday" }.to_owned(),
        day_reason,
        segments: work.describe(),
        work_time,
        notification,
        keyword,
        outcome,
        zone_note: String::new(),
    }
}

/// Time zones (server only: the zone database stays out of the browser's bundle).
#[cfg(feature = "ssr")]
pub mod zone {
    use super::super::dates::{SECONDS_PER_DAY, civil_from_days};
    use chrono::{LocalResult, NaiveDate, TimeZone};
    use chrono_tz::Tz;

    /// An IANA zone name (`Europe/Berlin`, `UTC`).
    pub fn parse_zone(input: &str) -> Result<Tz, String> {
        let v = input.trim();
        v.parse::<Tz>().map_err(|_| {
            format!(
                "'{v}' is not a time zone: choose one from the list (for example Europe/Berlin)."
            )
        })
    }

    /// Every zone name, for the Service Time form.
    pub fn zone_names() -> Vec<&'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect()
    }

    /// The local day and minute in `tz` at Unix second `now`.
    pub fn local_of(tz: Tz, now: i64) -> (i64, u16) {
        let utc = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default();
        let local = utc.with_timezone(&tz).naive_local();
        let secs = local.and_utc().timestamp();
        (
            secs.div_euclid(SECONDS_PER_DAY),
            (secs.rem_euclid(SECONDS_PER_DAY) / 60) as u16,
        )
    }

    /// A typed local day and minute made real in `tz`: a time that a DST change skips is moved
    /// forward by the change (02:30 becomes 03:30), a time that happens twice is taken at its
    /// first occurrence; the note says so.
    pub fn resolve_local(tz: Tz, day: i64, minute: u16) -> (i64, u16, String) {
        let (y, m, d) = civil_from_days(day);
        let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d) else {
            return (day, minute, format!("Times are in {tz}."));
        };
        let Some(naive) = date.and_hms_opt(u32::from(minute / 60), u32::from(minute % 60), 0)
        else {
            return (day, minute, format!("Times are in {tz}."));
        };
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(_) => (day, minute, format!("Times are in {tz}.")),
            LocalResult::Ambiguous(first, second) => {
                let (a, b) = (first.format("%Z"), second.format("%Z"));
                (
                    day,
                    minute,
                    format!(
                        "Times are in {tz}. This time happens twice on this day (clocks go back); the first, {a}, is shown, not {b}."
                    ),
                )
            }
            LocalResult::None => {
                // the gap: the offset after the change minus the one before it
                let before = tz
                    .from_local_datetime(&(naive - chrono::Duration::hours(3)))
                    .earliest();
                let after = tz
                    .from_local_datetime(&(naive + chrono::Duration::hours(3)))
                    .earliest();
                let shift = match (before, after) {
                    (Some(b), Some(a)) => {
                        use chrono::Offset;
                        i64::from(
                            a.offset().fix().local_minus_utc() - b.offset().fix().local_minus_utc(),
                        ) / 60
                    }
                    _ => 60,
                };
                let moved = i64::from(minute) + shift.max(1);
                let (day2, minute2) = (day + moved / 1440, (moved % 1440) as u16);
                let typed = format!("{:02}:{:02}", minute / 60, minute % 60);
                let real = format!("{:02}:{:02}", minute2 / 60, minute2 % 60);
                (
                    day2,
                    minute2,
                    format!(
                        "Times are in {tz}. {typed} does not exist on this day (clocks go forward); it is read as {real}."
                    ),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dates::day_number;
    use crate::domain::worktime::SegmentInput;

    fn wt(pairs: &[(&str, &str)]) -> WorkTime {
        WorkTime::parse(
            &pairs
                .iter()
                .map(|(a, b)| SegmentInput::new(a, b))
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    fn rules() -> RoutingRules {
        RoutingRules {
            weekdays: WeekdayRules::default(),
            non_working_dates: vec![("2026-12-25".into(), "Christmas".into())],
            workday: wt(&[("09:00", "12:00"), ("13:00", "18:00")]),
            non_workday: wt(&[("10:00", "24:00")]),
            notification: "We are closed; we answer from 09:00.".into(),
            keywords: vec!["agent".into(), "human please".into(), "转人工".into()],
            skill_queue: "support".into(),
            robot: true,
            offline_prompt: None,
        }
    }

    fn at(date: &str, time: &str) -> (i64, u16) {
        (
            day_number(date).unwrap(),
            TimeOfDay::parse(time).unwrap().minutes(),
        )
    }

    #[test]
    fn workday_segments_and_their_edges() {
        let r = rules();
        // 2026-11-30 is a Monday
        let (d, m) = at("2026-11-30", "09:00");
        let p = preview(&r, d, m, "");
        assert!(p.work_time);
        assert_eq!(p.weekday, "Monday");
        assert_eq!(p.day_kind, "Workday");
        assert_eq!(p.segments, "09:00-12:00, 13:00-18:00");
        assert_eq!(p.notification, None);
        assert!(
            !preview(&r, d, at("2026-11-30", "12:00").1, "").work_time,
            "end excluded"
        );
        assert!(!preview(&r, d, at("2026-11-30", "08:59").1, "").work_time);
        assert!(preview(&r, d, at("2026-11-30", "17:59").1, "").work_time);
    }

    #[test]
    fn a_segment_ending_24_00_covers_the_last_minute() {
        let r = rules();
        // Saturday: non-workday segments 10:00-24:00
        let (d, m) = at("2026-11-28", "23:59");
        let p = preview(&r, d, m, "");
        assert_eq!(p.day_kind, "Non-workday");
        assert!(p.work_time, "{p:?}");
        assert!(!preview(&r, d, at("2026-11-28", "09:59").1, "").work_time);
        assert!(preview(&r, d, 0, "").notification.is_some());
    }

    #[test]
    fn a_non_working_date_on_a_workday_uses_the_non_workday_segments() {
        let r = rules();
        // 2026-12-25 is a Friday
        let (d, m) = at("2026-12-25", "09:30");
        let p = preview(&r, d, m, "agent");
        assert_eq!(p.weekday, "Friday");
        assert_eq!(p.day_kind, "Non-workday");
        assert_eq!(
            p.day_reason,
            "2026-12-25 (Christmas) is one of the tenant's non-working dates."
        );
        assert!(!p.work_time);
        assert_eq!(
            p.notification.as_deref(),
            Some("We are closed; we answer from 09:00.")
        );
        assert!(
            p.outcome
                .starts_with("The customer gets the Non-Working Time Notification")
        );
        assert_eq!(
            p.keyword.as_deref(),
            Some("agent"),
            "matched, but outside work time"
        );
    }

    #[test]
    fn weekday_rules_decide_the_day() {
        let mut r = rules();
        r.weekdays = WeekdayRules([true, true, true, true, true, true, false]);
        let (d, m) = at("2026-11-28", "09:30");
        let p = preview(&r, d, m, "");
        assert_eq!(p.day_kind, "Workday");
        assert!(p.work_time);
        assert_eq!(p.day_reason, "Saturday is a workday in Service Time.");
    }

    #[test]
    fn outcomes() {
        let mut r = rules();
        let (d, m) = at("2026-11-30", "10:00");
        assert_eq!(
            preview(&r, d, m, "I want an AGENT now").outcome,
            "The message matches the keyword 'agent': it is transferred to an agent of skill queue 'support'."
        );
        assert_eq!(
            preview(&r, d, m, "hello").outcome,
            "No transfer keyword matches: the intelligent robot answers."
        );
        r.robot = false;
        assert_eq!(
            preview(&r, d, m, "hello").outcome,
            "The message goes to an agent of skill queue 'support'."
        );
        let (d, m) = at("2026-11-30", "20:00");
        r.notification = String::new();
        r.offline_prompt = Some("Leave a message".into());
        let p = preview(&r, d, m, "hello");
        assert_eq!(p.notification, None);
        assert_eq!(
            p.outcome,
            "No Non-Working Time Notification is set: the customer gets no answer; the message is kept as an offline message for skill queue 'support'."
        );
    }

    #[test]
    fn keywords_match_whole_words_ignoring_case() {
        let k: Vec<String> = ["agent", "human please", "转人工", "Ärger"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(match_keyword(&k, "Agent!"), Some("agent"));
        assert_eq!(match_keyword(&k, "talk to an agent."), Some("agent"));
        assert_eq!(match_keyword(&k, "agents"), None);
        assert_eq!(match_keyword(&k, "reagent"), None);
        assert_eq!(match_keyword(&k, "agent_x"), None);
        assert_eq!(
            match_keyword(&k, "a HUMAN   please"),
            None,
            "spaces are kept"
        );
        assert_eq!(match_keyword(&k, "HUMAN PLEASE?"), Some("human please"));
        assert_eq!(match_keyword(&k, "我要转人工"), Some("转人工"));
        assert_eq!(match_keyword(&k, "ÄRGER mit dem Paket"), Some("Ärger"));
        assert_eq!(match_keyword(&k, ""), None);
        assert_eq!(match_keyword(&[], "agent"), None);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn zones_and_dst() {
        use super::zone::*;
        let berlin = parse_zone("Europe/Berlin").unwrap();
        assert!(
            parse_zone("Mars/Olympus")
                .unwrap_err()
                .contains("not a time zone")
        );
        assert!(zone_names().contains(&"America/New_York"));
        // 2026-03-29 01:30 UTC is 03:30 CEST (summer time began at 02:00 local)
        let t = day_number("2026-03-29").unwrap() * 86_400 + 90 * 60;
        assert_eq!(
            local_of(berlin, t),
            (day_number("2026-03-29").unwrap(), 210)
        );
        // 00:30 UTC the same day is 01:30 CET
        assert_eq!(local_of(berlin, t - 3600).1, 90);
        // a skipped time is moved forward by the change
        let (d, m, note) = resolve_local(berlin, day_number("2026-03-29").unwrap(), 150);
        assert_eq!((d, m), (day_number("2026-03-29").unwrap(), 210));
        assert!(note.contains("02:30 does not exist"), "{note}");
        assert!(note.contains("read as 03:30"), "{note}");
        // a repeated time is the first occurrence
        let (_, m, note) = resolve_local(berlin, day_number("2026-10-25").unwrap(), 150);
        assert_eq!(m, 150);
        assert!(note.contains("happens twice"), "{note}");
        assert!(note.contains("CEST"), "{note}");
        let (_, _, note) = resolve_local(berlin, day_number("2026-11-30").unwrap(), 600);
        assert_eq!(note, "Times are in Europe/Berlin.");
        // the evening of New York's last workday is already Saturday in UTC
        let ny = parse_zone("America/New_York").unwrap();
        let friday_evening_utc = day_number("2026-11-28").unwrap() * 86_400 + 60 * 60;
        let (d, m) = local_of(ny, friday_evening_utc);
        assert_eq!((d, m), (day_number("2026-11-27").unwrap(), 20 * 60));
    }
}
