//! Where sign-in may send someone afterwards: a path on this site, never another origin.
//!
//! Browsers read a `Location` leniently (they drop tabs and newlines, treat `\` as `/`, and go
//! to another host for `//host`), so `next` is parsed as a URL against the site's public URL,
//! accepted only when the origin stays the site's, and written back in the URL parser's
//! serialization: visible ASCII only, safe as a header value.

use url::Url;

/// The longest `next` considered.
pub const NEXT_MAX: usize = 2048;

/// `next` as a path (and query) on the site at `public`, or `None` when it is not one.
pub fn local_target(next: &str, public: &Url) -> Option<String> {
    if next.is_empty() || next.len() > NEXT_MAX || !next.starts_with('/') {
        return None;
    }
    if next
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    let joined = public.join(next).ok()?;
    if joined.origin() != public.origin() {
        return None;
    }
    let mut out = joined.path().to_owned();
    if let Some(query) = joined.query() {
        out.push('?');
        out.push_str(query);
    }
    // `/.//host` normalizes to the path `//host`, which a browser reads as another host
    if !out.starts_with('/') || out.starts_with("//") {
        return None;
    }
    out.bytes()
        .all(|b| (0x21..=0x7e).contains(&b))
        .then_some(out)
}

/// `s` as a query value: everything but unreserved characters and `/` percent-encoded (so a
/// `next=/config/ous` stays readable).
pub fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_for_a_query_value() {
        assert_eq!(query_value("/config/ous"), "/config/ous");
        assert_eq!(query_value("/a b&c?d=1"), "/a%20b%26c%3Fd%3D1");
    }

    fn site() -> Url {
        Url::parse("https://cc.example.com").unwrap()
    }

    #[test]
    fn paths_on_this_site_pass() {
        assert_eq!(
            local_target("/config/ous", &site()).as_deref(),
            Some("/config/ous")
        );
        assert_eq!(
            local_target("/config/channels?page=2&q=wa", &site()).as_deref(),
            Some("/config/channels?page=2&q=wa")
        );
        assert_eq!(
            local_target("/a/../config", &site()).as_deref(),
            Some("/config")
        );
        assert_eq!(
            local_target("/caf%C3%A9", &site()).as_deref(),
            Some("/caf%C3%A9")
        );
        assert_eq!(
            local_target("/café", &site()).as_deref(),
            Some("/caf%C3%A9")
        );
    }

    #[test]
    fn everything_that_leaves_the_site_is_refused() {
        for next in [
            "",
            "config",
            "//evil.test",
            "//evil.test/x",
            "/\\evil.test",
            "/\t/evil.test",
            "/\n/evil.test",
            "/\r\n/evil.test",
            "/ /evil.test",
            "/.//evil.test",
            "/./\\evil.test",
            "https://evil.test",
            "http://cc.example.com/x",
            "/\u{0}x",
            "/x\u{7f}",
            "/%0a%0dSet-Cookie:x",
        ] {
            let got = local_target(next, &site());
            assert!(
                got.as_deref()
                    .is_none_or(|p| !p.starts_with("//") && !p.contains('\n')),
                "{next:?} -> {got:?}"
            );
            if next != "/%0a%0dSet-Cookie:x" {
                assert_eq!(got, None, "{next:?}");
            }
        }
        // an encoded newline stays encoded: harmless as a header, and a path on this site
        assert_eq!(
            local_target("/%0a%0dSet-Cookie:x", &site()).as_deref(),
            Some("/%0a%0dSet-Cookie:x")
        );
        assert_eq!(
            local_target(&format!("/{}", "a".repeat(NEXT_MAX)), &site()),
            None
        );
    }

    proptest! {
        #[test]
        fn any_input_stays_on_the_site_and_is_a_valid_header(next in ".{0,64}", tail in "[/\\\\.a-z%0-9\t\n ]{0,16}") {
            for input in [next.clone(), format!("/{next}"), format!("/{tail}{next}"), format!("{tail}{next}")] {
                if let Some(path) = local_target(&input, &site()) {
                    prop_assert!(path.starts_with('/') && !path.starts_with("//"), "{input:?} -> {path:?}");
                    prop_assert!(path.bytes().all(|b| (0x21..=0x7e).contains(&b)));
                    let again = site().join(&path).unwrap();
                    prop_assert_eq!(again.origin(), site().origin());
                    // what a browser does with the Location: the same origin
                    let from_elsewhere = Url::parse("https://cc.example.com/deep/page").unwrap().join(&path).unwrap();
                    prop_assert_eq!(from_elsewhere.origin(), site().origin());
                }
            }
        }
    }
}
