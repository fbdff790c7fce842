//! Twilio's request signature, `X-Twilio-Signature`: the base64 HMAC-SHA1, keyed with the
//! account's Auth Token, of the full URL Twilio requested followed by the POST parameters
//! sorted by name, each name directly followed by its value. For a JSON body Twilio puts the
//! hex SHA-256 of the body in the URL's `bodySHA256` parameter and signs the URL alone.
//!
//! Twilio's own libraries accept the URL with and without the scheme's default port, because
//! what Twilio signs differs there; so does this. A repeated name has its values sorted, each
//! preceded by the name, and the same value repeated counts once (twilio-python's
//! `sorted(set(values))`). A JSON body must have its hash in the URL: without `bodySHA256` the
//! signature would cover the URL alone (`has_body_hash`).
//!
//! What a check costs is bounded by the body: at most [`MAX_PARAMS`] parameters are taken
//! (borrowed from the body where nothing is escaped), the HMAC is fed piece by piece (the
//! signed text is never put together), and a header longer than a signature is refused
//! before it is decoded.

use app::domain::refusal::Refusal;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// The most form parameters a delivery may carry (Twilio sends a few dozen).
pub const MAX_PARAMS: usize = 1_000;
/// A base64 HMAC-SHA1 is 28 characters; anything much longer is not one.
const MAX_SIGNATURE: usize = 64;

/// A form body's parameters, in the body's order.
pub type Params<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// The parameters of a form body, or `None` when it has more than [`MAX_PARAMS`].
pub fn form(body: &[u8]) -> Option<Params<'_>> {
    let mut out = Vec::new();
    for pair in url::form_urlencoded::parse(body) {
        if out.len() == MAX_PARAMS {
            return None;
        }
        out.push(pair);
    }
    Some(out)
}

/// Which form of the URL the signature matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedAs {
    /// The URL without a port (`https://host/path`).
    WithoutPort,
    /// The URL with the port (`https://host:443/path`).
    WithPort,
}

impl SignedAs {
    /// As recorded on the delivery (`+body` when the body was checked by `bodySHA256`).
    pub fn as_str(self, body_hash: bool) -> &'static str {
        match (self, body_hash) {
            (Self::WithoutPort, false) => "url_without_port",
            (Self::WithPort, false) => "url_with_port",
            (Self::WithoutPort, true) => "url_without_port+body_sha256",
            (Self::WithPort, true) => "url_with_port+body_sha256",
        }
    }
}

/// The URL Twilio requested: the public address (`SWITCHBOARD_PUBLIC_URL`) with the path
/// and query this request arrived with, in both forms `(without port, with port)`.
pub fn signed_urls(public: &url::Url, path_and_query: &str) -> (String, String) {
    let scheme = public.scheme();
    let host = public.host_str().unwrap_or_default();
    let port = public.port_or_known_default().unwrap_or(443);
    let prefix = public.path().trim_end_matches('/');
    (
        format!("{scheme}://{host}{prefix}{path_and_query}"),
        format!("{scheme}://{host}:{port}{prefix}{path_and_query}"),
    )
}

/// Checks `header` against the request. `params` are the form's parameters (ignored when the
/// query has `bodySHA256`: then the body's hash is checked and the URL alone is signed).
/// Returns the form of the URL that matched and whether the body was checked by its hash.
pub fn check(
    header: Option<&[u8]>,
    auth_token: &str,
    urls: &(String, String),
    params: &[(Cow<'_, str>, Cow<'_, str>)],
    body: &[u8],
) -> Result<(SignedAs, bool), Refusal> {
    let header = header.ok_or(Refusal::TwilioSignatureMissing)?;
    if header.len() > MAX_SIGNATURE {
        return Err(Refusal::TwilioSignatureMismatch);
    }
    let signature = base64::engine::general_purpose::STANDARD
        .decode(header.trim_ascii())
        .map_err(|_| Refusal::TwilioSignatureMismatch)?;
    let body_hash = body_sha256(&urls.0);
    let body_checked = body_hash.is_some();
    let sorted: Vec<&(Cow<'_, str>, Cow<'_, str>)> = match body_hash {
        Some(expected) => {
            let actual = hex::encode(Sha256::digest(body));
            if !super::auth::same(expected.to_ascii_lowercase().as_bytes(), actual.as_bytes()) {
                return Err(Refusal::TwilioBodyHashMismatch);
            }
            Vec::new()
        }
        None => {
            let mut sorted: Vec<_> = params.iter().collect();
            sorted.sort_unstable_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            // a name repeated with the same value counts once, as Twilio's libraries sign it
            sorted.dedup();
            sorted
        }
    };
    for (url, form) in [
        (&urls.0, SignedAs::WithoutPort),
        (&urls.1, SignedAs::WithPort),
    ] {
        let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes())
            .map_err(|_| Refusal::TwilioSignatureMismatch)?;
        mac.update(url.as_bytes());
        for (name, value) in &sorted {
            mac.update(name.as_bytes());
            mac.update(value.as_bytes());
        }
        if mac.verify_slice(&signature).is_ok() {
            return Ok((form, body_checked));
        }
    }
    Err(Refusal::TwilioSignatureMismatch)
}

/// The signature Twilio would send for a form posted to `url` (what a test delivery carries).
pub fn sign(auth_token: &str, url: &str, params: &[(&str, String)]) -> String {
    let mut sorted: Vec<_> = params.iter().collect();
    sorted.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    sorted.dedup();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether a URL's query has `bodySHA256` (a JSON body's signature covers it only then).
pub fn has_body_hash(url: &str) -> bool {
    body_sha256(url).is_some()
}

/// The `bodySHA256` parameter of a URL's query, if it has one.
fn body_sha256(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "bodySHA256")
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Twilio's documented example (twilio-python's request validator tests): Auth Token
    // 12345, this URL and these parameters sign to this value; the JSON body's hash and
    // signature likewise. Recomputed independently with Python's hmac and hashlib.
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const EXPECTED: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    const BODY: &str = "{\"property\": \"value\", \"boolean\": true}";
    const BODY_HASH: &str = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
    const BODY_EXPECTED: &str = "a9nBmqA0ju/hNViExpshrM61xv4=";

    fn params() -> Params<'static> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .into_iter()
        .map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v)))
        .collect()
    }

    fn urls(url: &str) -> (String, String) {
        let u = url::Url::parse(url).unwrap();
        let pq = &url[url.find(u.path()).unwrap()..];
        signed_urls(
            &url::Url::parse(&format!("{}://{}", u.scheme(), u.authority())).unwrap(),
            pq,
        )
    }

    #[test]
    fn twilios_documented_example_verifies() {
        let urls = urls(URL);
        assert_eq!(urls.0, URL);
        assert_eq!(urls.1, "https://mycompany.com:443/myapp.php?foo=1&bar=2");
        let mut p = params();
        p.reverse();
        assert_eq!(
            check(Some(EXPECTED.as_bytes()), TOKEN, &urls, &p, b""),
            Ok((SignedAs::WithoutPort, false))
        );
        // a tampered parameter, another token, another URL, no header
        let mut tampered = params();
        tampered[2].1 = Cow::Borrowed("1235");
        assert_eq!(
            check(Some(EXPECTED.as_bytes()), TOKEN, &urls, &tampered, b""),
            Err(Refusal::TwilioSignatureMismatch)
        );
        assert_eq!(
            check(Some(EXPECTED.as_bytes()), "12346", &urls, &p, b""),
            Err(Refusal::TwilioSignatureMismatch)
        );
        assert_eq!(
            check(
                Some(EXPECTED.as_bytes()),
                TOKEN,
                &self::urls("https://mycompany.com/myapp.php?foo=1&bar=3"),
                &p,
                b""
            ),
            Err(Refusal::TwilioSignatureMismatch)
        );
        assert_eq!(
            check(None, TOKEN, &urls, &p, b""),
            Err(Refusal::TwilioSignatureMissing)
        );
        assert_eq!(
            check(Some(b"!!not base64!!"), TOKEN, &urls, &p, b""),
            Err(Refusal::TwilioSignatureMismatch)
        );
        assert_eq!(
            check(Some("A".repeat(100_000).as_bytes()), TOKEN, &urls, &p, b""),
            Err(Refusal::TwilioSignatureMismatch)
        );
    }

    #[test]
    fn a_json_body_is_checked_by_its_hash() {
        let url = format!("{URL}&bodySHA256={BODY_HASH}");
        let urls = urls(&url);
        assert_eq!(
            check(
                Some(BODY_EXPECTED.as_bytes()),
                TOKEN,
                &urls,
                &[],
                BODY.as_bytes()
            ),
            Ok((SignedAs::WithoutPort, true))
        );
        assert_eq!(
            check(
                Some(BODY_EXPECTED.as_bytes()),
                TOKEN,
                &urls,
                &[],
                b"{\"property\": \"value\", \"boolean\": false}"
            ),
            Err(Refusal::TwilioBodyHashMismatch)
        );
        assert_eq!(SignedAs::WithPort.as_str(true), "url_with_port+body_sha256");
    }

    #[test]
    fn the_url_matches_with_and_without_its_port() {
        // the same request signed over the URL with :443 (computed with Python's hmac)
        let sig = "kvajT1Ptam85bY51eRf/AJRuM3w=";
        assert_eq!(
            check(Some(sig.as_bytes()), TOKEN, &urls(URL), &params(), b""),
            Ok((SignedAs::WithPort, false))
        );
        // and a URL configured with the port matches the signature made without it
        assert_eq!(
            check(
                Some(EXPECTED.as_bytes()),
                TOKEN,
                &urls("https://mycompany.com:443/myapp.php?foo=1&bar=2"),
                &params(),
                b""
            ),
            Ok((SignedAs::WithoutPort, false))
        );
    }

    #[test]
    fn forms_stop_past_the_parameter_limit() {
        let body = "a=1&".repeat(MAX_PARAMS);
        assert_eq!(form(body.as_bytes()).unwrap().len(), MAX_PARAMS);
        let over = format!("{body}b=2");
        assert!(form(over.as_bytes()).is_none());
        // nothing escaped: the values are the body's own bytes
        let p = form(b"From=x&Body=hi").unwrap();
        assert!(matches!(p[0].1, Cow::Borrowed(_)));
    }

    #[test]
    fn the_same_value_repeated_counts_once() {
        // "https://example.com/hookMediaUrla.pngMediaUrlb.pngTox" signed with "tok" (Python)
        let sig = "2j/pH9GPyKuTa2p88lEWQP17kzk=";
        let p = form(b"To=x&MediaUrl=b.png&MediaUrl=a.png&MediaUrl=a.png").unwrap();
        let urls = urls("https://example.com/hook");
        assert!(check(Some(sig.as_bytes()), "tok", &urls, &p, b"").is_ok());
        assert!(has_body_hash("https://example.com/hook?a=1&bodySHA256=00"));
        assert!(!has_body_hash("https://example.com/hook?a=1"));
    }

    #[test]
    fn repeated_names_are_sorted_by_value() {
        // twilio-node: keys sorted, an array's values sorted, each preceded by its key
        // "https://example.com/hookMediaUrla.pngMediaUrlb.pngTox" signed with "tok" (Python)
        let sig = "2j/pH9GPyKuTa2p88lEWQP17kzk=";
        let p = form(b"To=x&MediaUrl=b.png&MediaUrl=a.png").unwrap();
        assert!(
            check(
                Some(sig.as_bytes()),
                "tok",
                &urls("https://example.com/hook"),
                &p,
                b""
            )
            .is_ok()
        );
    }
}
