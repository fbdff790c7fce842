//! The one client for every call to a provider (SPEC §4a). Each call:
//!
//! - is checked against the address trustlist at call time, not only when the channel was
//!   saved;
//! - resolves the host once and connects to that vetted address (no second lookup an attacker
//!   could answer differently); loopback, private, link-local, shared and unspecified addresses
//!   are refused unless the matching trustlist entry allows private network addresses;
//! - trusts exactly the channel's Trust / Authentication Certificate when it names one (those
//!   are the roots for the call), else the public web roots; presents the channel's Identity
//!   Certificate and key when it names one (mutual TLS);
//! - never follows a redirect; connects within 5 s, answers within 15 s; reads at most 1 MiB of
//!   the answer;
//! - says what went wrong in plain words (`Failure`), with no secret in it.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// Answers are read up to this many bytes; the rest is cut off.
pub const MAX_ANSWER: usize = 1024 * 1024;

pub use crate::db::trustlist::Allowed;

/// Where and how to call.
pub struct Endpoint {
    /// The trustlist entries that apply to the channel's tenant.
    pub trustlist: Vec<Allowed>,
    /// The roots for this call (the channel's certificates); empty: the public web roots.
    pub roots: Vec<CertificateDer<'static>>,
    /// Subjects of `roots`, for the diagnosis.
    pub root_names: Vec<String>,
    /// The client certificate chain and key to present.
    pub identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
}

/// Why a call did not get an answer (or got one that was not followed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Not on the trustlist, or at an address the trustlist entry does not allow.
    NotAllowed(String),
    /// The host name does not resolve.
    Unresolvable(String),
    /// The server's certificate is not trusted by the roots of the call.
    Untrusted {
        presented: Option<String>,
        expected: Vec<String>,
        reason: String,
    },
    /// The provider wants a client certificate the channel does not present (or refused it).
    ClientCertificate(String),
    /// A certificate the channel names cannot be used (gone, no certificate in it, or its key
    /// cannot be opened): the call is not made rather than made with other trust.
    Certificate(String),
    /// Another TLS failure.
    Tls(String),
    /// Nothing listens there, or the connection broke.
    Unreachable(String),
    /// No connection within `CONNECT_TIMEOUT`, or no answer within `CALL_TIMEOUT`.
    Timeout { connecting: bool },
    /// A 3xx answer: redirects are not followed.
    Redirect {
        status: u16,
        location: Option<String>,
    },
}

impl Failure {
    /// Its name as a metric label.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAllowed(_) => "not_allowed",
            Self::Unresolvable(_) => "unresolvable",
            Self::Untrusted { .. } => "untrusted",
            Self::ClientCertificate(_) => "client_certificate",
            Self::Certificate(_) => "certificate",
            Self::Tls(_) => "tls",
            Self::Unreachable(_) => "unreachable",
            Self::Timeout { .. } => "timeout",
            Self::Redirect { .. } => "redirect",
        }
    }

    /// One sentence for the administrator.
    pub fn describe(&self) -> String {
        match self {
            Self::NotAllowed(why) => format!("The address is not allowed: {why}."),
            Self::Unresolvable(host) => {
                format!("The name {host} does not resolve: check the host in BaseUrl.")
            }
            Self::Untrusted {
                presented,
                expected,
                reason,
            } => {
                let trusted = if expected.is_empty() {
                    "the public web roots".to_owned()
                } else {
                    format!("the channel's certificate ({})", expected.join("; "))
                };
                match presented {
                    Some(subject) => format!(
                        "The server's certificate is not trusted: it presented {subject}, which is not signed by {trusted} ({reason})."
                    ),
                    None => {
                        format!("The server's certificate is not trusted by {trusted} ({reason}).")
                    }
                }
            }
            Self::ClientCertificate(why) => format!(
                "The provider refused the TLS connection for want of an accepted client certificate ({why}): choose the Identity Certificate the provider expects."
            ),
            Self::Certificate(why) => {
                format!("The call was not made: {why}. Choose or upload the certificate again.")
            }
            Self::Tls(why) => format!("The TLS connection failed: {why}."),
            Self::Unreachable(why) => format!("The provider could not be reached: {why}."),
            Self::Timeout { connecting: true } => format!(
                "No connection within {} seconds (timeout).",
                CONNECT_TIMEOUT.as_secs()
            ),
            Self::Timeout { connecting: false } => format!(
                "No answer within {} seconds (timeout).",
                CALL_TIMEOUT.as_secs()
            ),
            Self::Redirect { status, location } => format!(
                "The provider answered with a redirect (HTTP {status}{}), which is not followed: check the BaseUrl.",
                location
                    .as_deref()
                    .map(|l| format!(" to {}", truncate(l, 120)))
                    .unwrap_or_default()
            ),
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

/// What the provider answered.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub latency: Duration,
}

impl Reply {
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// The IPv4 addresses an IPv6 address carries inside it, by every form that reaches an IPv4
/// host: IPv4-mapped `::ffff:0:0/96`, IPv4-translated `::ffff:0:0:0/96` and IPv4-compatible
/// `::/96` (the last 32 bits), NAT64
/// `64:ff9b::/96` (the last 32 bits) and the local-use NAT64 prefix `64:ff9b:1::/48` (at each
/// place RFC 6052 allows for its /48 to /96 lengths), 6to4 `2002::/16` (bits 16 to 47), Teredo
/// `2001::/32` (the server, bits 32 to 63, and the client, the last 32 bits inverted) and
/// ISATAP (an interface id of `0:5efe` or `200:5efe` before the last 32 bits).
pub fn embedded_ipv4(v6: Ipv6Addr) -> Vec<Ipv4Addr> {
    let o = v6.octets();
    let s = v6.segments();
    let v4 = |b: [u8; 4]| Ipv4Addr::from(b);
    let last = v4([o[12], o[13], o[14], o[15]]);
    let mut out = Vec::new();
    // IPv4-translated (SIIT) ::ffff:0:a.b.c.d
    if s[0..4] == [0, 0, 0, 0] && s[4] == 0xffff && s[5] == 0 {
        out.push(last);
    }
    if s[0..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || s[5] == 0) {
        // ::1 and :: are not IPv4 addresses (judged as themselves)
        if !(s[5] == 0 && s[6] == 0) {
            out.push(last);
        }
    }
    if s[0] == 0x64 && s[1] == 0xff9b {
        if s[2..6] == [0, 0, 0, 0] {
            out.push(last);
        }
        if s[2] == 1 {
            // RFC 6052 §2.2: the IPv4 address around the reserved octet 8 (bits 64 to 71)
            out.push(v4([o[6], o[7], o[9], o[10]])); // /48
            out.push(v4([o[7], o[9], o[10], o[11]])); // /56
            out.push(v4([o[9], o[10], o[11], o[12]])); // /64
            out.push(last); // /96
        }
    }
    if s[0] == 0x2002 {
        out.push(v4([o[2], o[3], o[4], o[5]]));
    }
    if s[0] == 0x2001 && s[1] == 0 {
        out.push(v4([o[4], o[5], o[6], o[7]]));
        out.push(v4([!o[12], !o[13], !o[14], !o[15]]));
    }
    if (s[4] == 0 || s[4] == 0x0200) && s[5] == 0x5efe {
        out.push(last);
    }
    out
}

/// Addresses a call may reach only with the trustlist entry's permission.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || o[0] == 0
                // shared address space (carrier-grade NAT), 100.64.0.0/10
                || (o[0] == 100 && (o[1] & 0xC0) == 64)
                // 192.0.0.0/24, protocol assignments
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                // 198.18.0.0/15, benchmarking
                || (o[0] == 198 && (o[1] & 0xFE) == 18)
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // unique local fc00::/7, link-local fe80::/10, site-local fec0::/10
                || (s[0] & 0xFE00) == 0xFC00
                || (s[0] & 0xFFC0) == 0xFE80
                || (s[0] & 0xFFC0) == 0xFEC0
                // the translation and tunnel forms (an IPv4 address inside) may reach inside,
                // whichever IPv4 address they carry: IPv4-compatible ::/96, NAT64 64:ff9b::/96
                // and local NAT64 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32
                || (s[0..6] == [0, 0, 0, 0, 0, 0])
                || (s[0] == 0x64 && s[1] == 0xff9b)
                || s[0] == 0x2002
                || (s[0] == 0x2001 && s[1] == 0)
                || embedded_ipv4(v6).into_iter().any(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

/// Addresses no call reaches, whatever the trustlist says: link-local (where cloud metadata
/// services answer), unspecified, broadcast and multicast — also when an IPv6 address carries
/// such an IPv4 address inside (`embedded_ipv4`).
pub fn is_never_allowed(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.octets()[0] == 0
        }
        IpAddr::V6(v6) => {
            v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xFFC0) == 0xFE80
                || embedded_ipv4(v6)
                    .into_iter()
                    .any(|v4| is_never_allowed(IpAddr::V4(v4)))
        }
    }
}

/// Checks `url` against the trustlist and resolves its host once: the address to connect to.
pub async fn vet(url: &Url, trustlist: &[Allowed]) -> Result<SocketAddr, Failure> {
    if url.scheme() != "https" {
        return Err(Failure::NotAllowed(
            "only https:// addresses are called".into(),
        ));
    }
    let matching: Vec<&Allowed> = trustlist
        .iter()
        .filter(|a| a.prefix.allows(url.as_str()))
        .collect();
    if matching.is_empty() {
        return Err(Failure::NotAllowed(format!(
            "{} is not on the address trustlist (ask the system administrator to add its prefix)",
            origin_of(url)
        )));
    }
    let allow_private = matching.iter().any(|a| a.allow_private);
    let host = url
        .host()
        .ok_or_else(|| Failure::NotAllowed("the address names no host".into()))?;
    let port = url.port_or_known_default().unwrap_or(443);
    let ip = match host {
        url::Host::Ipv4(ip) => IpAddr::V4(ip),
        url::Host::Ipv6(ip) => IpAddr::V6(ip),
        url::Host::Domain(name) => {
            let lookup = tokio::time::timeout(
                CONNECT_TIMEOUT,
                tokio::net::lookup_host((name.to_owned(), port)),
            )
            .await
            .map_err(|_| Failure::Timeout { connecting: true })?;
            lookup
                .ok()
                .and_then(|mut addrs| addrs.next())
                .map(|a| a.ip())
                .ok_or_else(|| Failure::Unresolvable(name.to_owned()))?
        }
    };
    if is_never_allowed(ip) {
        return Err(Failure::NotAllowed(format!(
            "{} is at the address {ip}, which is link-local, unspecified or multicast and never called",
            url.host_str().unwrap_or_default()
        )));
    }
    if is_private(ip) && !allow_private {
        return Err(Failure::NotAllowed(format!(
            "{} is at the private address {ip}, and its trustlist entry does not allow private network addresses (the system administrator can allow them for an internal BSP)",
            url.host_str().unwrap_or_default()
        )));
    }
    Ok(SocketAddr::new(ip, port))
}

fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Wraps the standard verifier to remember the certificate the server presented, so a refusal
/// can name it.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    presented: Presented,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(parsed) = crate::certificates::x509::parse_certificate(end_entity) {
            *self.presented.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(format!("{} (issued by {})", parsed.subject, parsed.issuer));
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Where the verifier notes the certificate the server presented.
type Presented = Arc<Mutex<Option<String>>>;

/// The TLS configuration of one call, and the slot where the presented certificate lands.
fn tls_config(endpoint: &Endpoint) -> Result<(rustls::ClientConfig, Presented), Failure> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    if endpoint.roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    } else {
        for cert in &endpoint.roots {
            roots.add(cert.clone()).map_err(|e| {
                Failure::Tls(format!("the channel's certificate cannot be a root: {e}"))
            })?;
        }
    }
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| Failure::Tls(format!("no usable root: {e}")))?;
    let presented = Arc::new(Mutex::new(None));
    let verifier = Arc::new(Recording {
        inner,
        presented: presented.clone(),
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match &endpoint.identity {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain.clone(), key.clone_key())
            .map_err(|e| Failure::Tls(format!("the Identity Certificate cannot be used: {e}")))?,
        None => builder.with_no_client_auth(),
    };
    Ok((config, presented))
}

/// A request to make: method, URL, headers, body.
pub struct Request {
    pub method: reqwest::Method,
    pub url: Url,
    pub headers: Vec<(reqwest::header::HeaderName, String)>,
    pub basic: Option<(String, String)>,
    pub bearer: Option<String>,
    pub json: Option<serde_json::Value>,
    pub form: Option<Vec<(String, String)>>,
    /// A body sent as it is (its content type among `headers`): when its exact bytes matter,
    /// as for a signed body.
    pub raw: Option<Vec<u8>>,
}

/// Shows the method and the address only: the headers and credentials carry secrets.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Request({} {})", self.method, self.url)
    }
}

impl Request {
    pub fn new(method: reqwest::Method, url: Url) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            basic: None,
            bearer: None,
            json: None,
            form: None,
            raw: None,
        }
    }
}

/// Makes one call as described in the module's documentation.
pub async fn call(endpoint: &Endpoint, request: Request) -> Result<Reply, Failure> {
    let addr = vet(&request.url, &endpoint.trustlist).await?;
    let (tls, presented) = tls_config(endpoint)?;
    let host = request.url.host_str().unwrap_or_default().to_owned();
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .resolve(&host, addr)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(CALL_TIMEOUT)
        .no_proxy()
        .user_agent(concat!("Switchboard/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Failure::Tls(format!("the client could not be set up: {e}")))?;
    let mut builder = client.request(request.method, request.url.clone());
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if let Some((user, password)) = &request.basic {
        builder = builder.basic_auth(user, Some(password));
    }
    if let Some(token) = &request.bearer {
        builder = builder.bearer_auth(token);
    }
    if let Some(json) = &request.json {
        builder = builder.json(json);
    }
    if let Some(form) = &request.form {
        builder = builder.form(form);
    }
    if let Some(raw) = &request.raw {
        builder = builder.body(raw.clone());
    }
    let started = Instant::now();
    let sent = builder.send().await;
    let mut response = match sent {
        Ok(r) => r,
        Err(e) => {
            let presented = presented.lock().unwrap_or_else(|e| e.into_inner()).clone();
            return Err(classify(&e, presented, &endpoint.root_names));
        }
    };
    let status = response.status().as_u16();
    if (300..400).contains(&status) {
        return Err(Failure::Redirect {
            status,
            location: response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        });
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_ANSWER - body.len();
                if chunk.len() > room {
                    // the rest is not read: the answer is cut at MAX_ANSWER
                    body.extend_from_slice(&chunk[..room]);
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err(Failure::Timeout { connecting: false }),
            Err(e) => return Err(Failure::Unreachable(plain(&e))),
        }
    }
    Ok(Reply {
        status,
        body,
        latency: started.elapsed(),
    })
}

/// The innermost cause of an error, in words (no URL with a secret in it: reqwest's own text
/// may carry the URL, so only the causes beneath it are used).
fn plain(e: &reqwest::Error) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    let mut last = None;
    while let Some(c) = cause {
        last = Some(c.to_string());
        cause = c.source();
    }
    last.unwrap_or_else(|| "the connection failed".into())
}

/// The rustls error under `e`, if one is. An I/O error hides what it wraps from `source()`
/// (it answers the wrapped error's source instead), so wrapped I/O errors are opened too.
fn find_rustls(e: &reqwest::Error) -> Option<rustls::Error> {
    fn search(e: &(dyn std::error::Error + 'static), depth: usize) -> Option<rustls::Error> {
        if depth > 16 {
            return None;
        }
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(r.clone());
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(found) = search(inner, depth + 1)
        {
            return Some(found);
        }
        e.source().and_then(|s| search(s, depth + 1))
    }
    search(e, 0)
}

fn classify(e: &reqwest::Error, presented: Option<String>, roots: &[String]) -> Failure {
    use rustls::AlertDescription as A;

    if let Some(tls) = find_rustls(e) {
        return match tls {
            rustls::Error::InvalidCertificate(reason) => Failure::Untrusted {
                presented,
                expected: roots.to_vec(),
                reason: format!("{reason:?}"),
            },
            rustls::Error::AlertReceived(
                alert @ (A::CertificateRequired
                | A::BadCertificate
                | A::UnknownCA
                | A::CertificateUnknown
                | A::AccessDenied
                | A::HandshakeFailure),
            ) => Failure::ClientCertificate(format!("alert {alert:?}")),
            other => Failure::Tls(other.to_string()),
        };
    }
    if e.is_timeout() {
        return Failure::Timeout {
            connecting: e.is_connect(),
        };
    }
    let why = plain(e);
    // a TLS 1.3 server refuses a missing client certificate after the handshake: the
    // connection then just closes while the request is sent
    if e.is_request()
        && (why.contains("CertificateRequired") || why.contains("certificate required"))
    {
        return Failure::ClientCertificate(why);
    }
    Failure::Unreachable(why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::TrustPrefix;

    #[test]
    fn private_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "::",
            "64:ff9b::a00:1",
            "255.255.255.255",
            "224.0.0.1",
            "fec0::1",
            "64:ff9b:1::a00:1",
            "2002:a00:1::1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "100.128.0.1"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
        // even an entry that allows private addresses never reaches these
        for ip in [
            "169.254.169.254",
            "0.0.0.0",
            "::",
            "fe80::1",
            "::ffff:169.254.169.254",
            "224.0.0.1",
        ] {
            assert!(is_never_allowed(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["127.0.0.1", "10.1.2.3", "::1", "fd00::1", "8.8.8.8"] {
            assert!(!is_never_allowed(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn an_ipv6_address_is_judged_by_the_ipv4_address_inside_it_too() {
        // 169.254.169.254 (cloud metadata) = a9fe:a9fe, 0.0.0.0, 224.0.0.1 = e000:1
        for ip in [
            "::ffff:169.254.169.254",
            "::ffff:0:169.254.169.254",
            "::169.254.169.254",
            "64:ff9b::169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a9fe:a9fe",
            // 64:ff9b:1::/48 with the IPv4 address where a /48, /56 or /64 prefix puts it
            "64:ff9b:1:a9fe:a9:fe00::",
            "64:ff9b:1:a9:fe:a9fe::",
            "64:ff9b:1:0:a9:fea9:fe00:0",
            "2002:a9fe:a9fe::1",
            "2002:e000:1::1",
            // Teredo: server 169.254.169.254, or client 169.254.169.254 (inverted bits)
            "2001:0:a9fe:a9fe::1",
            "2001:0:4136:e378:8000:63bf:5601:5601",
            // ISATAP
            "2001:db8::5efe:a9fe:a9fe",
            "2001:db8::200:5efe:a9fe:a9fe",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_never_allowed(ip), "{ip}");
            assert!(is_private(ip), "{ip}");
        }
        // the same forms of a public address are not refused outright (they are private:
        // they may reach inside)
        for ip in ["64:ff9b::8.8.8.8", "2002:808:808::1", "2001:0:808:808::1"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_never_allowed(ip), "{ip}");
            assert!(is_private(ip), "{ip}");
        }
        // a private IPv4 address inside an otherwise public-looking form is private
        assert!(is_private("2001:db8::5efe:a00:1".parse().unwrap()));
        // plain global IPv6 addresses carry nothing
        assert!(embedded_ipv4("2606:4700::1111".parse().unwrap()).is_empty());
        assert!(embedded_ipv4("::1".parse().unwrap()).is_empty());
        assert!(embedded_ipv4("::".parse().unwrap()).is_empty());
    }

    #[tokio::test]
    async fn link_local_is_refused_even_where_private_addresses_are_allowed() {
        let url = Url::parse("https://169.254.169.254/latest/meta-data").unwrap();
        let entry = Allowed {
            prefix: TrustPrefix::parse("https://169.254.169.254").unwrap(),
            allow_private: true,
        };
        let e = vet(&url, &[entry]).await.unwrap_err();
        assert!(e.describe().contains("never called"), "{}", e.describe());
    }

    #[tokio::test]
    async fn the_trustlist_and_the_address_are_checked_at_call_time() {
        let allowed = |prefix: &str, allow_private: bool| Allowed {
            prefix: TrustPrefix::parse(prefix).unwrap(),
            allow_private,
        };
        let url = Url::parse("https://127.0.0.1:8443/api/x").unwrap();
        let e = vet(&url, &[]).await.unwrap_err();
        assert!(
            e.describe().contains("not on the address trustlist"),
            "{}",
            e.describe()
        );
        let e = vet(&url, &[allowed("https://127.0.0.1:8443/api", false)])
            .await
            .unwrap_err();
        assert!(
            e.describe().contains("private address 127.0.0.1"),
            "{}",
            e.describe()
        );
        let addr = vet(&url, &[allowed("https://127.0.0.1:8443/api", true)])
            .await
            .unwrap();
        assert_eq!(addr, "127.0.0.1:8443".parse().unwrap());
        // a name that resolves to a private address is refused the same way
        let url = Url::parse("https://localhost:8443/api").unwrap();
        let e = vet(&url, &[allowed("https://localhost:8443", false)])
            .await
            .unwrap_err();
        assert!(matches!(e, Failure::NotAllowed(_)), "{e:?}");
        let url = Url::parse("https://does-not-exist.invalid/x").unwrap();
        let e = vet(&url, &[allowed("https://does-not-exist.invalid", false)])
            .await
            .unwrap_err();
        assert_eq!(e, Failure::Unresolvable("does-not-exist.invalid".into()));
        let http = Url::parse("http://127.0.0.1/x").unwrap();
        assert!(matches!(vet(&http, &[]).await, Err(Failure::NotAllowed(_))));
    }
}
