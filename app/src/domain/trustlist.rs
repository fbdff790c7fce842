//! The address trustlist: URL prefixes a channel's BaseUrl may point to.
//!
//! A prefix names a scheme, a host, a port and a path. A URL is allowed by a prefix when its
//! scheme, host and port are the same and its path continues the prefix's path at a segment
//! boundary: `https://api.example.com/v1` allows `https://api.example.com/v1/messages` but not
//! `https://api.example.com/v10` nor `https://api.example.com.evil.test`.

use serde::{Deserialize, Serialize};
use url::Url;

pub const PREFIX_MAX: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustPrefix(String);

impl TrustPrefix {
    pub fn parse(input: &str) -> Result<Self, String> {
        let raw = input.trim();
        if raw.is_empty() {
            return Err("Enter a URL prefix such as https://api.example.com.".into());
        }
        if raw.chars().count() > PREFIX_MAX {
            return Err(format!(
                "The prefix must be at most {PREFIX_MAX} characters."
            ));
        }
        let url = Url::parse(raw).map_err(|_| {
            "Enter a complete URL that starts with https://, such as https://api.example.com."
                .to_string()
        })?;
        if url.scheme() != "https" {
            return Err("The prefix must start with https:// (credentials are sent to it).".into());
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("The prefix must name a host.".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("The prefix must not contain a user name or password.".into());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("The prefix must not contain '?' or '#'.".into());
        }
        Ok(Self(normalize(&url)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` (an absolute URL) lies under this prefix.
    pub fn allows(&self, candidate: &str) -> bool {
        let (Ok(prefix), Ok(url)) = (Url::parse(&self.0), Url::parse(candidate.trim())) else {
            return false;
        };
        if prefix.scheme() != url.scheme()
            || prefix.host_str() != url.host_str()
            || prefix.port_or_known_default() != url.port_or_known_default()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return false;
        }
        let want: Vec<&str> = segments(&prefix);
        let have: Vec<&str> = segments(&url);
        have.len() >= want.len() && want.iter().zip(&have).all(|(a, b)| a == b)
    }
}

fn segments(url: &Url) -> Vec<&str> {
    url.path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

/// `https://Host:443/a/b/` -> `https://host/a/b`
fn normalize(url: &Url) -> String {
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    for segment in segments(url) {
        out.push('/');
        out.push_str(segment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalizes() {
        let p = TrustPrefix::parse(" https://API.Example.com:443/v1/ ").unwrap();
        assert_eq!(p.as_str(), "https://api.example.com/v1");
        assert_eq!(
            TrustPrefix::parse("https://10.0.0.5:8443")
                .unwrap()
                .as_str(),
            "https://10.0.0.5:8443"
        );
    }

    #[test]
    fn refuses_what_is_not_a_safe_prefix() {
        assert!(
            TrustPrefix::parse("")
                .unwrap_err()
                .starts_with("Enter a URL prefix")
        );
        assert!(
            TrustPrefix::parse("api.example.com")
                .unwrap_err()
                .contains("complete URL")
        );
        assert!(
            TrustPrefix::parse("http://api.example.com")
                .unwrap_err()
                .contains("https://")
        );
        assert!(
            TrustPrefix::parse("ftp://api.example.com")
                .unwrap_err()
                .contains("https://")
        );
        assert!(
            TrustPrefix::parse("https://u:p@api.example.com")
                .unwrap_err()
                .contains("user name")
        );
        assert!(
            TrustPrefix::parse("https://api.example.com/?a=1")
                .unwrap_err()
                .contains("'?'")
        );
        assert!(
            TrustPrefix::parse("https://api.example.com/#x")
                .unwrap_err()
                .contains("'#'")
        );
        let long = format!("https://example.com/{}", "a".repeat(600));
        assert!(
            TrustPrefix::parse(&long)
                .unwrap_err()
                .contains("at most 512")
        );
    }

    #[test]
    fn allows_only_at_segment_boundaries() {
        let p = TrustPrefix::parse("https://api.example.com/v1").unwrap();
        assert!(p.allows("https://api.example.com/v1"));
        assert!(p.allows("https://api.example.com/v1/"));
        assert!(p.allows("https://API.example.com:443/v1/messages"));
        assert!(!p.allows("https://api.example.com/v10"));
        assert!(!p.allows("https://api.example.com/"));
        assert!(!p.allows("https://api.example.com.evil.test/v1"));
        assert!(!p.allows("http://api.example.com/v1"));
        assert!(!p.allows("https://api.example.com:8443/v1"));
        assert!(!p.allows("https://user@api.example.com/v1"));
        assert!(!p.allows("not a url"));
        let root = TrustPrefix::parse("https://api.example.com").unwrap();
        assert!(root.allows("https://api.example.com/anything/below"));
    }
}
