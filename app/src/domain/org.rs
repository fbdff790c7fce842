//! OUs and skill queues: names and access codes.

use serde::{Deserialize, Serialize};

pub const ORG_NAME_MAX: usize = 64;
pub const ACCESS_CODE_MAX: usize = 32;

fn name(input: &str, what: &str) -> Result<String, String> {
    let v = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if v.is_empty() {
        return Err(format!("Enter the {what} name."));
    }
    if v.chars().count() > ORG_NAME_MAX {
        return Err(format!(
            "The {what} name can have at most {ORG_NAME_MAX} characters."
        ));
    }
    if let Some(bad) = v
        .chars()
        .find(|c| c.is_control() || matches!(c, '<' | '>' | '/' | '\\'))
    {
        return Err(format!("The {what} name cannot contain '{bad}'."));
    }
    Ok(v)
}

/// An organizational unit's name: 1–64 characters, spaces folded, no `< > / \`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OuName(String);

impl OuName {
    pub fn parse(input: &str) -> Result<Self, String> {
        name(input, "OU").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A skill queue's name, by the same rule as an OU's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillQueueName(String);

impl SkillQueueName {
    pub fn parse(input: &str) -> Result<Self, String> {
        name(input, "skill queue").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The access code of a multimedia called route: 1–32 letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessCode(String);

impl AccessCode {
    pub fn parse(input: &str) -> Result<Self, String> {
        let v = input.trim();
        if v.is_empty() {
            return Err("Enter the access code.".into());
        }
        if v.len() > ACCESS_CODE_MAX || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!(
                "The access code is 1 to {ACCESS_CODE_MAX} letters and digits."
            ));
        }
        Ok(Self(v.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ou_and_queue_names() {
        assert_eq!(
            OuName::parse("  Sales   EMEA ").unwrap().as_str(),
            "Sales EMEA"
        );
        assert_eq!(OuName::parse("").unwrap_err(), "Enter the OU name.");
        assert!(OuName::parse(&"x".repeat(64)).is_ok());
        assert!(
            OuName::parse(&"x".repeat(65))
                .unwrap_err()
                .contains("at most 64")
        );
        assert!(OuName::parse("a/b").unwrap_err().contains("'/'"));
        assert!(OuName::parse("Zürich Süd").is_ok());
        assert_eq!(
            SkillQueueName::parse(" ").unwrap_err(),
            "Enter the skill queue name."
        );
        assert!(SkillQueueName::parse("<script>").is_err());
    }

    #[test]
    fn access_codes() {
        assert_eq!(AccessCode::parse(" 10086 ").unwrap().as_str(), "10086");
        assert!(AccessCode::parse("wa01").is_ok());
        assert!(AccessCode::parse(&"1".repeat(32)).is_ok());
        assert!(AccessCode::parse(&"1".repeat(33)).is_err());
        assert!(AccessCode::parse("10 086").is_err());
        assert_eq!(AccessCode::parse("").unwrap_err(), "Enter the access code.");
    }
}
