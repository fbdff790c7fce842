//! Reading X.509 certificates (DER or PEM) with a real parser.

use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509Certificate};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCertificate {
    pub der: Vec<u8>,
    pub subject: String,
    pub issuer: String,
    pub not_before: time::OffsetDateTime,
    pub not_after: time::OffsetDateTime,
    /// SHA-256 of the DER bytes, upper-case hex pairs joined by `:`.
    pub fingerprint: String,
}

pub const NOT_A_CERTIFICATE: &str = "This file is not an X.509 certificate.";

/// Parses one certificate: PEM (the first `CERTIFICATE` block) or DER.
pub fn parse_certificate(bytes: &[u8]) -> Result<ParsedCertificate, String> {
    let der = if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        let (_, pem) =
            x509_parser::pem::parse_x509_pem(bytes).map_err(|_| NOT_A_CERTIFICATE.to_string())?;
        if pem.label != "CERTIFICATE" {
            return Err(format!(
                "This PEM file holds a {}, not a certificate.",
                pem.label.to_lowercase()
            ));
        }
        pem.contents
    } else {
        bytes.to_vec()
    };
    let (rest, cert) =
        X509Certificate::from_der(&der).map_err(|_| NOT_A_CERTIFICATE.to_string())?;
    if !rest.is_empty() {
        return Err(NOT_A_CERTIFICATE.to_string());
    }
    let fingerprint = Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    Ok(ParsedCertificate {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: cert.validity().not_before.to_datetime(),
        not_after: cert.validity().not_after.to_datetime(),
        fingerprint,
        der: der.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &[u8] = include_bytes!("../../tests/fixtures/infobip.pem");
    const DER: &[u8] = include_bytes!("../../tests/fixtures/infobip.der");
    const FINGERPRINT: &str = "A2:5F:60:1F:40:7E:3D:CA:3A:41:62:8E:1B:9A:BB:A0:B7:46:5D:0C:28:48:70:67:44:10:BF:CB:59:74:02:FA";

    #[test]
    fn reads_pem_and_der_alike() {
        let pem = parse_certificate(PEM).unwrap();
        let der = parse_certificate(DER).unwrap();
        assert_eq!(pem, der);
        assert_eq!(
            pem.fingerprint, FINGERPRINT,
            "matches openssl's SHA-256 fingerprint"
        );
        assert!(
            pem.subject.contains("CN=api.infobip.example"),
            "{}",
            pem.subject
        );
        assert!(
            pem.issuer.contains("O=Switchboard Test CA"),
            "{}",
            pem.issuer
        );
        assert_eq!(pem.not_after.year(), 2036);
    }

    #[test]
    fn refuses_what_is_not_a_certificate() {
        assert_eq!(
            parse_certificate(b"this is not a certificate").unwrap_err(),
            NOT_A_CERTIFICATE
        );
        assert_eq!(
            parse_certificate(&DER[..DER.len() - 10]).unwrap_err(),
            NOT_A_CERTIFICATE
        );
        let mut trailing = DER.to_vec();
        trailing.extend_from_slice(b"junk");
        assert!(parse_certificate(&trailing).is_err());
        let key =
            b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB1n\n-----END PRIVATE KEY-----\n";
        assert!(parse_certificate(key).unwrap_err().contains("private key"));
    }
}
