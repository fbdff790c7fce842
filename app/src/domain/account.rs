//! Accounts: user names, passwords and tenant space names.

use serde::{Deserialize, Serialize};

pub const USERNAME_MAX: usize = 64;
pub const PASSWORD_MIN: usize = 8;
/// Long enough for any passphrase, short enough that hashing cannot be abused.
pub const PASSWORD_MAX: usize = 256;
pub const TENANT_NAME_MAX: usize = 64;

/// A sign-in name: 3–64 characters, ASCII letters, digits, `.`, `_`, `-`, `@`, starting with a
/// letter or digit. Stored and compared in lower case, so `Alice` and `alice` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    pub fn parse(input: &str) -> Result<Self, String> {
        let name = input.trim();
        if name.is_empty() {
            return Err("Enter a username.".into());
        }
        let len = name.chars().count();
        if len < 3 {
            return Err("The username must be at least 3 characters.".into());
        }
        if len > USERNAME_MAX {
            return Err(format!(
                "The username must be at most {USERNAME_MAX} characters."
            ));
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err("The username must start with a letter or a digit.".into());
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
        {
            return Err(format!(
                "The username may contain only letters, digits, '.', '_', '-' and '@' (found '{bad}')."
            ));
        }
        Ok(Self(name.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password someone chose: 8–256 characters. Whitespace is kept as typed.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(input: &str) -> Result<Self, String> {
        let len = input.chars().count();
        if len == 0 {
            return Err("Enter a password.".into());
        }
        if len < PASSWORD_MIN {
            return Err(format!(
                "The password must be at least {PASSWORD_MIN} characters."
            ));
        }
        if len > PASSWORD_MAX {
            return Err(format!(
                "The password must be at most {PASSWORD_MAX} characters."
            ));
        }
        if input.trim().is_empty() {
            return Err("The password cannot be only spaces.".into());
        }
        Ok(Self(input.to_owned()))
    }

    /// Checks that the confirmation matches, for forms that ask twice.
    pub fn confirm(&self, confirmation: &str) -> Result<(), String> {
        if self.0 == confirmation {
            Ok(())
        } else {
            Err("The passwords do not match.".into())
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(****)")
    }
}

/// The name of a tenant space: 2–64 characters; letters (any script), digits, spaces, `_` and
/// `-`; starting with a letter or digit. Inner runs of spaces are folded to one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TenantName(String);

impl TenantName {
    pub fn parse(input: &str) -> Result<Self, String> {
        let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err("Enter a tenant space name.".into());
        }
        let len = name.chars().count();
        if len < 2 {
            return Err("The tenant space name must be at least 2 characters.".into());
        }
        if len > TENANT_NAME_MAX {
            return Err(format!(
                "The tenant space name must be at most {TENANT_NAME_MAX} characters."
            ));
        }
        if !name.starts_with(char::is_alphanumeric) {
            return Err("The tenant space name must start with a letter or a digit.".into());
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_alphanumeric() || matches!(c, ' ' | '_' | '-')))
        {
            return Err(format!(
                "The tenant space name may contain only letters, digits, spaces, '_' and '-' (found '{bad}')."
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_rules() {
        assert_eq!(Username::parse(" Alice ").unwrap().as_str(), "alice");
        assert_eq!(
            Username::parse("ops.admin@acme-1").unwrap().as_str(),
            "ops.admin@acme-1"
        );
        assert_eq!(Username::parse("").unwrap_err(), "Enter a username.");
        assert!(Username::parse("ab").unwrap_err().contains("at least 3"));
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(64)).is_ok());
        assert!(
            Username::parse(&"a".repeat(65))
                .unwrap_err()
                .contains("at most 64")
        );
        assert!(Username::parse("_abc").unwrap_err().contains("start with"));
        assert!(Username::parse("ab c").unwrap_err().contains("found ' '"));
        assert!(Username::parse("abé").unwrap_err().contains("found 'é'"));
    }

    #[test]
    fn password_rules() {
        assert_eq!(NewPassword::parse("").unwrap_err(), "Enter a password.");
        assert!(
            NewPassword::parse("1234567")
                .unwrap_err()
                .contains("at least 8")
        );
        assert!(NewPassword::parse("12345678").is_ok());
        // characters, not bytes: 8 two-byte characters are a valid password
        assert!(NewPassword::parse("éééééééé").is_ok());
        assert!(NewPassword::parse(&"x".repeat(256)).is_ok());
        assert!(
            NewPassword::parse(&"x".repeat(257))
                .unwrap_err()
                .contains("at most 256")
        );
        assert!(
            NewPassword::parse("        ")
                .unwrap_err()
                .contains("only spaces")
        );
        let p = NewPassword::parse(" spaced pass ").unwrap();
        assert_eq!(p.expose(), " spaced pass ");
        assert!(p.confirm(" spaced pass ").is_ok());
        assert_eq!(
            p.confirm("spaced pass").unwrap_err(),
            "The passwords do not match."
        );
        assert_eq!(format!("{p:?}"), "NewPassword(****)");
    }

    #[test]
    fn tenant_name_rules() {
        assert_eq!(
            TenantName::parse("  Acme   Support ").unwrap().as_str(),
            "Acme Support"
        );
        assert!(TenantName::parse("Zürich-2").is_ok());
        assert_eq!(
            TenantName::parse("   ").unwrap_err(),
            "Enter a tenant space name."
        );
        assert!(TenantName::parse("A").unwrap_err().contains("at least 2"));
        assert!(TenantName::parse(&"a".repeat(64)).is_ok());
        assert!(
            TenantName::parse(&"a".repeat(65))
                .unwrap_err()
                .contains("at most 64")
        );
        assert!(
            TenantName::parse("-acme")
                .unwrap_err()
                .contains("start with")
        );
        assert!(
            TenantName::parse("acme/ops")
                .unwrap_err()
                .contains("found '/'")
        );
    }
}
