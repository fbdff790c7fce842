//! Service time: which weekdays are workdays, and the non-working dates of the tenant.

use serde::{Deserialize, Serialize};

pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Workday flags, Monday first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekdayRules(pub [bool; 7]);

impl Default for WeekdayRules {
    /// Monday to Friday.
    fn default() -> Self {
        Self([true, true, true, true, true, false, false])
    }
}

impl WeekdayRules {
    /// `1111100`: what the database keeps.
    pub fn encode(self) -> String {
        self.0.iter().map(|w| if *w { '1' } else { '0' }).collect()
    }

    pub fn decode(s: &str) -> Option<Self> {
        let bytes = s.as_bytes();
        if bytes.len() != 7 || !bytes.iter().all(|b| matches!(b, b'0' | b'1')) {
            return None;
        }
        let mut days = [false; 7];
        for (d, b) in days.iter_mut().zip(bytes) {
            *d = *b == b'1';
        }
        Some(Self(days))
    }
}

/// A holiday's name: optional, at most 64 characters.
pub fn parse_holiday_name(input: &str) -> Result<String, String> {
    let v = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if v.chars().count() > 64 {
        return Err("The name can have at most 64 characters.".into());
    }
    if v.chars().any(|c| c.is_control() || matches!(c, '<' | '>')) {
        return Err("The name cannot contain '<', '>' or control characters.".into());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_rules_round_trip() {
        assert_eq!(WeekdayRules::default().encode(), "1111100");
        let r = WeekdayRules([false, true, false, true, false, true, false]);
        assert_eq!(WeekdayRules::decode(&r.encode()), Some(r));
        assert_eq!(WeekdayRules::decode("111110"), None);
        assert_eq!(WeekdayRules::decode("11111x0"), None);
    }

    #[test]
    fn holiday_names() {
        assert_eq!(parse_holiday_name("  New   Year ").unwrap(), "New Year");
        assert_eq!(parse_holiday_name("").unwrap(), "");
        assert!(parse_holiday_name(&"x".repeat(65)).is_err());
        assert!(parse_holiday_name("<b>").is_err());
    }
}
