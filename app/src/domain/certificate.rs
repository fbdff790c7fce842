//! Certificates a tenant uploads for its channels (Managing a Certificate).

use serde::{Deserialize, Serialize};

/// The largest certificate or keystore file accepted.
pub const MAX_CERT_BYTES: usize = 128 * 1024;
/// The longest keystore password.
pub const MAX_KEYSTORE_PASSWORD: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CertificateKind {
    Trust,
    Identity,
    Authentication,
}

impl CertificateKind {
    pub const ALL: [CertificateKind; 3] = [Self::Trust, Self::Identity, Self::Authentication];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trust => "trust",
            Self::Identity => "identity",
            Self::Authentication => "authentication",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Trust => "Trust certificate",
            Self::Identity => "Identity certificate",
            Self::Authentication => "Authentication certificate",
        }
    }

    pub fn parse(input: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == input.trim())
            .ok_or_else(|| "Choose the kind: trust, identity or authentication.".to_string())
    }
}

/// A certificate's name in the tenant: 1–64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateName(String);

impl CertificateName {
    pub fn parse(input: &str) -> Result<Self, String> {
        let v = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if v.is_empty() {
            return Err("Enter a certificate name.".into());
        }
        if v.chars().count() > 64 {
            return Err("The certificate name can have at most 64 characters.".into());
        }
        if v.chars().any(|c| c.is_control() || matches!(c, '<' | '>')) {
            return Err(
                "The certificate name cannot contain '<', '>' or control characters.".into(),
            );
        }
        Ok(Self(v))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks an uploaded file's size before it is parsed.
pub fn check_certificate_size(len: usize) -> Result<(), String> {
    if len == 0 {
        Err("Choose a certificate file (DER, PEM, JKS or PKCS#12).".into())
    } else if len > MAX_CERT_BYTES {
        Err(format!(
            "The file is larger than {} KiB: a certificate or keystore file is much smaller.",
            MAX_CERT_BYTES / 1024
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_names_and_sizes() {
        assert_eq!(
            CertificateKind::parse("trust").unwrap(),
            CertificateKind::Trust
        );
        assert!(CertificateKind::parse("root").is_err());
        assert_eq!(
            CertificateName::parse("  infobip   api ").unwrap().as_str(),
            "infobip api"
        );
        assert!(CertificateName::parse("").is_err());
        assert!(CertificateName::parse(&"x".repeat(65)).is_err());
        assert!(CertificateName::parse("<x>").is_err());
        assert!(check_certificate_size(0).is_err());
        assert!(check_certificate_size(128 * 1024).is_ok());
        assert!(
            check_certificate_size(128 * 1024 + 1)
                .unwrap_err()
                .contains("128 KiB")
        );
    }
}
