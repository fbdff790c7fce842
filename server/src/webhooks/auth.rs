//! Webhook authentication on the raw request, in constant time.

use app::domain::refusal::Refusal;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Equal bytes, compared without an early exit.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// `AccountKey: <Webhook Password>` (infobip, other), compared as bytes: a password with
/// non-ASCII characters arrives as its UTF-8 bytes.
pub fn account_key(header: Option<&[u8]>, webhook_password: &str) -> bool {
    check_account_key(header, webhook_password).is_ok()
}

/// `account_key`, saying what was wrong.
pub fn check_account_key(header: Option<&[u8]>, webhook_password: &str) -> Result<(), Refusal> {
    let header = header.ok_or(Refusal::AccountKeyMissing)?;
    if same(header, webhook_password.as_bytes()) {
        Ok(())
    } else {
        Err(Refusal::AccountKeyMismatch)
    }
}

/// `Authorization: Basic base64(user:password)` (twilio).
pub fn basic(header: Option<&str>, user: &str, password: &str) -> bool {
    check_basic(header, user, password).is_ok()
}

/// `basic`, saying what was wrong.
pub fn check_basic(header: Option<&str>, user: &str, password: &str) -> Result<(), Refusal> {
    let Some(encoded) = header.and_then(|h| h.strip_prefix("Basic ")) else {
        return Err(Refusal::BasicMissing);
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return Err(Refusal::BasicMissing);
    };
    let Some(colon) = decoded.iter().position(|b| *b == b':') else {
        return Err(Refusal::BasicMissing);
    };
    let (u, p) = (&decoded[..colon], &decoded[colon + 1..]);
    // both comparisons always run
    let user_ok = same(u, user.as_bytes());
    let password_ok = same(p, password.as_bytes());
    match (user_ok, password_ok) {
        (true, true) => Ok(()),
        (false, _) => Err(Refusal::BasicUserMismatch),
        (true, false) => Err(Refusal::BasicPasswordMismatch),
    }
}

/// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>` (cloud-api).
pub fn hub_signature(header: Option<&str>, app_secret: &str, body: &[u8]) -> bool {
    check_hub_signature(header, app_secret, body).is_ok()
}

/// `hub_signature`, saying what was wrong.
pub fn check_hub_signature(
    header: Option<&str>,
    app_secret: &str,
    body: &[u8],
) -> Result<(), Refusal> {
    let header = header.ok_or(Refusal::SignatureMissing)?;
    let sig = header
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h.trim()).ok())
        .ok_or(Refusal::SignatureMismatch)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes())
        .map_err(|_| Refusal::SignatureMismatch)?;
    mac.update(body);
    mac.verify_slice(&sig)
        .map_err(|_| Refusal::SignatureMismatch)
}

/// The hex HMAC-SHA256 of `body` with `key`, as a provider would send it.
pub fn hub_signature_of(key: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_signature_test_vector() {
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let expected = "sha256=02fe0c96d28c59ddb7cf81eff0ca05809b360ba73b63c28210b5906a0a107d1f";
        assert_eq!(hub_signature_of("app_secret_123", body), expected);
        assert!(hub_signature(Some(expected), "app_secret_123", body));
        assert!(!hub_signature(Some(expected), "app_secret_124", body));
        assert!(!hub_signature(Some(expected), "app_secret_123", b"{}"));
        assert!(!hub_signature(Some("sha256=zz"), "app_secret_123", body));
        assert!(!hub_signature(Some("md5=00"), "app_secret_123", body));
        assert!(!hub_signature(None, "app_secret_123", body));
    }

    #[test]
    fn basic_credentials_test_vector() {
        assert_eq!(
            base64::engine::general_purpose::STANDARD.encode("aicc_hook:S3cret!"),
            "YWljY19ob29rOlMzY3JldCE="
        );
        assert!(basic(
            Some("Basic YWljY19ob29rOlMzY3JldCE="),
            "aicc_hook",
            "S3cret!"
        ));
        assert!(!basic(
            Some("Basic YWljY19ob29rOlMzY3JldCE="),
            "aicc_hook",
            "S3cret?"
        ));
        assert!(!basic(
            Some("Basic YWljY19ob29rOlMzY3JldCE="),
            "other",
            "S3cret!"
        ));
        assert!(!basic(
            Some("Bearer YWljY19ob29rOlMzY3JldCE="),
            "aicc_hook",
            "S3cret!"
        ));
        assert!(!basic(Some("Basic !!!"), "aicc_hook", "S3cret!"));
        assert!(!basic(None, "aicc_hook", "S3cret!"));
    }

    #[test]
    fn refusals_say_what_was_wrong() {
        use Refusal::*;
        assert_eq!(check_account_key(None, "k-secret"), Err(AccountKeyMissing));
        assert_eq!(
            check_account_key(Some(b"x"), "k-secret"),
            Err(AccountKeyMismatch)
        );
        let header = |s: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(s)
            )
        };
        assert_eq!(check_basic(None, "u", "p"), Err(BasicMissing));
        assert_eq!(check_basic(Some("Basic !!"), "u", "p"), Err(BasicMissing));
        assert_eq!(
            check_basic(Some(&header("nocolon")), "u", "p"),
            Err(BasicMissing)
        );
        assert_eq!(
            check_basic(Some(&header("x:p")), "u", "p"),
            Err(BasicUserMismatch)
        );
        assert_eq!(
            check_basic(Some(&header("u:x")), "u", "p"),
            Err(BasicPasswordMismatch)
        );
        assert_eq!(check_basic(Some(&header("u:p")), "u", "p"), Ok(()));
        assert_eq!(check_hub_signature(None, "s", b"{}"), Err(SignatureMissing));
        assert_eq!(
            check_hub_signature(Some("md5=00"), "s", b"{}"),
            Err(SignatureMismatch)
        );
        let good = hub_signature_of("s", b"{}");
        assert_eq!(check_hub_signature(Some(&good), "s", b"{}"), Ok(()));
        assert_eq!(
            check_hub_signature(Some(&good), "t", b"{}"),
            Err(SignatureMismatch)
        );
    }

    #[test]
    fn account_keys() {
        assert!(account_key(Some(b"hook-secret"), "hook-secret"));
        assert!(!account_key(Some(b"hook-secreT"), "hook-secret"));
        assert!(!account_key(Some(b"hook-secret-longer"), "hook-secret"));
        assert!(!account_key(None, "hook-secret"));
        assert!(account_key(Some("Küche-ß-8".as_bytes()), "Küche-ß-8"));
        assert!(!account_key(Some(b"K\xfcche-\xdf-8"), "Küche-ß-8"));
    }
}
