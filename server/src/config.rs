//! One typed configuration, read from the environment.

use leptos::config::LeptosOptions;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/switchboard.db";
pub const DEFAULT_AUDIT_RETENTION_DAYS: u64 = 365;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Bounds on what one request or connection may cost (SPEC §5). Every one has a test that goes
/// past it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A request's head must arrive within this; it is also how long a kept-alive connection
    /// may sit idle. `SWITCHBOARD_HEADER_TIMEOUT_SECS`.
    pub header_read: Duration,
    /// A request's body must arrive within this. `SWITCHBOARD_BODY_TIMEOUT_SECS`.
    pub body_read: Duration,
    /// ...and, once this has passed, at `body_min_rate` bytes a second on average at least
    /// (a sender that stalls is cut off in seconds, not at the end of `body_read`).
    pub body_grace: Duration,
    pub body_min_rate: u64,
    /// A request must be answered within this. `SWITCHBOARD_REQUEST_TIMEOUT_SECS`.
    pub request: Duration,
    /// Requests in flight at once from one client address on the routes that need no sign-in
    /// (sign-in, setup, webhooks, static files). `SWITCHBOARD_PUBLIC_REQUESTS_PER_CLIENT`.
    pub public_requests_per_client: usize,
    /// Open connections at once; more are closed as they arrive.
    /// `SWITCHBOARD_MAX_CONNECTIONS`.
    pub connections: usize,
    /// Open connections at once from one peer address (behind a proxy, the proxy is the one
    /// peer: raise it there). `SWITCHBOARD_CONNECTIONS_PER_PEER`.
    pub connections_per_peer: usize,
    /// Bytes of request bodies being read at once, all requests together; a body that finds
    /// no room within a second is answered 503. `SWITCHBOARD_BODY_BUDGET_MIB` (in MiB).
    pub body_budget: usize,
    /// After SIGTERM, how long the instance goes on serving while `/readyz` answers 503, so
    /// that a load balancer stops sending it requests first; 0 stops at once. Ctrl-C (SIGINT)
    /// does not wait. `SWITCHBOARD_DRAIN_SECS`.
    pub drain: Duration,
    /// After SIGTERM/SIGINT (and the drain), how long requests in flight may take to finish.
    /// `SWITCHBOARD_SHUTDOWN_GRACE_SECS`.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(10),
            body_grace: Duration::from_secs(2),
            body_min_rate: 16 * 1024,
            request: Duration::from_secs(30),
            public_requests_per_client: 64,
            connections: 4096,
            connections_per_peer: 256,
            body_budget: 256 * 1024 * 1024,
            drain: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

impl Limits {
    fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        let secs = |name: &'static str, default: Duration| -> Result<Duration, ConfigError> {
            Ok(match number(name)? {
                Some(n) => Duration::from_secs(n),
                None => default,
            })
        };
        Ok(Self {
            header_read: secs("SWITCHBOARD_HEADER_TIMEOUT_SECS", d.header_read)?,
            body_read: secs("SWITCHBOARD_BODY_TIMEOUT_SECS", d.body_read)?,
            body_grace: d.body_grace,
            body_min_rate: d.body_min_rate,
            request: secs("SWITCHBOARD_REQUEST_TIMEOUT_SECS", d.request)?,
            public_requests_per_client: number("SWITCHBOARD_PUBLIC_REQUESTS_PER_CLIENT")?
                .map_or(d.public_requests_per_client, |n| n as usize),
            connections: number("SWITCHBOARD_MAX_CONNECTIONS")?
                .map_or(d.connections, |n| n as usize),
            connections_per_peer: number("SWITCHBOARD_CONNECTIONS_PER_PEER")?
                .map_or(d.connections_per_peer, |n| n as usize),
            body_budget: number("SWITCHBOARD_BODY_BUDGET_MIB")?
                .map_or(d.body_budget, |n| n as usize * 1024 * 1024),
            drain: match std::env::var("SWITCHBOARD_DRAIN_SECS") {
                Ok(v) if v.trim() == "0" => Duration::ZERO,
                _ => secs("SWITCHBOARD_DRAIN_SECS", d.drain)?,
            },
            shutdown_grace: secs("SWITCHBOARD_SHUTDOWN_GRACE_SECS", d.shutdown_grace)?,
        })
    }
}

/// A whole number from 1 to 1,000,000 in the environment variable `name`, if it is set.
fn number(name: &'static str) -> Result<Option<u64>, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => match v.trim().parse::<u64>() {
            Ok(n) if (1..=1_000_000).contains(&n) => Ok(Some(n)),
            _ => Err(ConfigError::Invalid {
                name,
                reason: "it must be a whole number from 1 to 1000000".into(),
            }),
        },
        _ => Ok(None),
    }
}

/// How long an export's claim holds before another instance may take the task over, unless
/// `SWITCHBOARD_EXPORT_LEASE_SECS` says otherwise; renewed after every file, so only a task
/// whose instance stopped runs out of it.
pub const DEFAULT_EXPORT_LEASE: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct Config {
    /// `sqlite://…` (default: a file under `./data/`) or `postgres://…`.
    pub database_url: String,
    /// The address people and providers use to reach this server (scheme, host, port, no path).
    pub public_url: Url,
    /// `SWITCHBOARD_PUBLIC_CA`: the CA certificates (a PEM file) that sign the public
    /// address's certificate when it is not from a public CA; "Send a test delivery" trusts
    /// them (empty: the public web roots).
    pub public_ca: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// Take the client address for sign-in throttling from `X-Forwarded-For` (set it only
    /// behind a proxy that overwrites that header).
    pub trust_forwarded_for: bool,
    /// `SWITCHBOARD_MASTER_KEY`: the key for secrets at rest (32 bytes, base64 or hex).
    pub master_key: Option<String>,
    /// `SWITCHBOARD_PREVIOUS_MASTER_KEYS`: comma-separated older keys still accepted for
    /// opening (during a key rotation).
    pub previous_master_keys: Option<String>,
    /// Where the master key file lives when no key is given: `SWITCHBOARD_DATA_DIR`, else the
    /// SQLite database's directory, else `./data`.
    pub data_dir: PathBuf,
    pub leptos: LeptosOptions,
    pub limits: Limits,
    /// The program that reads untrusted uploads in a child process (`switchboard
    /// inspect-keystore` for certificate files, `switchboard read-import` for imports): this
    /// executable.
    pub inspector: PathBuf,
    /// How long audit entries are kept: `SWITCHBOARD_AUDIT_RETENTION_DAYS` (default 365).
    pub audit_retention_days: u64,
    /// How long webhook traffic (deliveries and their events, refusals, test messages, hourly
    /// counts) is kept: `SWITCHBOARD_TRAFFIC_RETENTION_DAYS` (default 30).
    pub traffic_retention_days: u64,
    /// How long an export's claim holds before another instance may take it over:
    /// `SWITCHBOARD_EXPORT_LEASE_SECS` (default 60; renewed after every file).
    pub export_lease: Duration,
    /// How long an import's claim holds before another instance may take it over:
    /// `SWITCHBOARD_IMPORT_LEASE_SECS` (default 60; renewed every third of itself).
    pub import_lease: Duration,
    /// `SWITCHBOARD_METRICS_ADDR`: where Prometheus metrics are served (`GET /metrics`), on a
    /// listener of their own; none by default, and then none are kept.
    pub metrics_addr: Option<SocketAddr>,
    /// `SWITCHBOARD_LOG_FORMAT`: `text` (default) or `json` (one object per line).
    pub log_format: LogFormat,
    /// `SWITCHBOARD_SMTP_URL` and its companions: how alert e-mail leaves; none, no e-mail.
    pub smtp: Option<SmtpConfig>,
}

/// The mail server alerts are sent through.
#[derive(Clone)]
pub struct SmtpConfig {
    /// `smtp://[user:password@]host[:port]` (STARTTLS, required; port 587) or
    /// `smtps://[user:password@]host[:port]` (TLS from the start; port 465).
    pub url: String,
    /// `SWITCHBOARD_SMTP_FROM`: the address alerts are sent from.
    pub from: String,
    /// `SWITCHBOARD_SMTP_CA_FILE`: PEM certificates to trust besides the public roots (a mail
    /// server with a certificate of a private CA).
    pub ca_file: Option<PathBuf>,
}

/// Prints the URL without its password.
impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("url", &crate::db::redact(&self.url))
            .field("from", &self.from)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl SmtpConfig {
    fn from_env() -> Result<Option<Self>, ConfigError> {
        let url = match std::env::var("SWITCHBOARD_SMTP_URL") {
            Ok(v) if !v.trim().is_empty() => v.trim().to_owned(),
            _ => return Ok(None),
        };
        let invalid = |reason: &str| ConfigError::Invalid {
            name: "SWITCHBOARD_SMTP_URL",
            reason: reason.to_owned(),
        };
        let parsed = Url::parse(&url).map_err(|_| {
            invalid("it must be smtp://host[:port] (STARTTLS) or smtps://host[:port] (TLS)")
        })?;
        if !matches!(parsed.scheme(), "smtp" | "smtps")
            || parsed.host_str().is_none_or(str::is_empty)
        {
            return Err(invalid(
                "it must be smtp://host[:port] (STARTTLS) or smtps://host[:port] (TLS)",
            ));
        }
        let from = std::env::var("SWITCHBOARD_SMTP_FROM").unwrap_or_default();
        let from = from.trim().to_owned();
        if from.is_empty() {
            return Err(ConfigError::Invalid {
                name: "SWITCHBOARD_SMTP_FROM",
                reason:
                    "it must be set with SWITCHBOARD_SMTP_URL: the address alerts are sent from"
                        .into(),
            });
        }
        app::domain::alerts::check_email(&from).map_err(|why| ConfigError::Invalid {
            name: "SWITCHBOARD_SMTP_FROM",
            reason: why,
        })?;
        let ca_file = std::env::var("SWITCHBOARD_SMTP_CA_FILE")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from);
        Ok(Some(Self { url, from, ca_file }))
    }

    /// The PEM of `ca_file`, read now.
    pub fn ca_pem(&self) -> Result<Option<Vec<u8>>, ConfigError> {
        self.ca_file
            .as_ref()
            .map(|p| {
                std::fs::read(p).map_err(|e| ConfigError::Invalid {
                    name: "SWITCHBOARD_SMTP_CA_FILE",
                    reason: format!("{} cannot be read: {e}", p.display()),
                })
            })
            .transpose()
    }
}

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// For a person at a terminal.
    #[default]
    Text,
    /// One JSON object per line, with the request's span (`id`, `method`, `route`).
    Json,
}

impl LogFormat {
    /// `SWITCHBOARD_LOG_FORMAT`, read on its own: logging starts before the rest of the
    /// configuration is read (an invalid value is then reported by `Config::from_env`).
    pub fn from_env() -> Result<Self, ConfigError> {
        match std::env::var("SWITCHBOARD_LOG_FORMAT")
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err(ConfigError::Invalid {
                name: "SWITCHBOARD_LOG_FORMAT",
                reason: "it must be text or json".to_owned(),
            }),
        }
    }
}

/// Never prints the master key or the database password.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &crate::db::redact(&self.database_url))
            .field("public_url", &self.public_url.as_str())
            .field("public_ca", &self.public_ca.len())
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("master_key", &self.master_key.as_ref().map(|_| "****"))
            .field(
                "previous_master_keys",
                &self.previous_master_keys.as_ref().map(|_| "****"),
            )
            .field("data_dir", &self.data_dir)
            .field("limits", &self.limits)
            .field("audit_retention_days", &self.audit_retention_days)
            .field("traffic_retention_days", &self.traffic_retention_days)
            .field("export_lease", &self.export_lease)
            .field("import_lease", &self.import_lease)
            .field("metrics_addr", &self.metrics_addr)
            .field("log_format", &self.log_format)
            .field("smtp", &self.smtp)
            .finish_non_exhaustive()
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let leptos = leptos_options_from_env()?;
        let metrics_addr = metrics_addr(leptos.site_addr)?;
        let database_url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        let public_url = match std::env::var("SWITCHBOARD_PUBLIC_URL") {
            Ok(v) if !v.trim().is_empty() => parse_public_url(&v)?,
            _ => default_public_url(leptos.site_addr),
        };
        let trust_forwarded_for = matches!(
            std::env::var("SWITCHBOARD_TRUST_FORWARDED_FOR").as_deref(),
            Ok("1" | "true" | "yes")
        );
        let data_dir = std::env::var("SWITCHBOARD_DATA_DIR")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                crate::db::sqlite_path(&database_url)
                    .and_then(|p| p.parent().map(|d| d.to_path_buf()))
                    .filter(|d| !d.as_os_str().is_empty())
            })
            .unwrap_or_else(|| PathBuf::from("data"));
        let public_ca = match std::env::var("SWITCHBOARD_PUBLIC_CA") {
            Ok(path) if !path.trim().is_empty() => public_ca_from(std::path::Path::new(&path))?,
            _ => Vec::new(),
        };
        Ok(Self {
            database_url,
            public_url,
            public_ca,
            trust_forwarded_for,
            master_key: std::env::var("SWITCHBOARD_MASTER_KEY").ok(),
            previous_master_keys: std::env::var("SWITCHBOARD_PREVIOUS_MASTER_KEYS").ok(),
            data_dir,
            leptos,
            limits: Limits::from_env()?,
            inspector: crate::certificates::keystore::inspector_exe(),
            audit_retention_days: number("SWITCHBOARD_AUDIT_RETENTION_DAYS")?
                .unwrap_or(DEFAULT_AUDIT_RETENTION_DAYS),
            traffic_retention_days: number("SWITCHBOARD_TRAFFIC_RETENTION_DAYS")?
                .unwrap_or(crate::db::retention::DEFAULT_DAYS),
            export_lease: number("SWITCHBOARD_EXPORT_LEASE_SECS")?
                .map_or(DEFAULT_EXPORT_LEASE, Duration::from_secs),
            import_lease: number("SWITCHBOARD_IMPORT_LEASE_SECS")?
                .map_or(crate::imports::DEFAULT_LEASE, Duration::from_secs),
            metrics_addr,
            log_format: LogFormat::from_env()?,
            smtp: SmtpConfig::from_env()?,
        })
    }

    /// Whether cookies must carry `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The public URL without a trailing slash, for building links.
    pub fn public_base(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_string()
    }
}

/// `SWITCHBOARD_METRICS_ADDR`, an address other than the public one.
fn metrics_addr(site: SocketAddr) -> Result<Option<SocketAddr>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: "SWITCHBOARD_METRICS_ADDR",
        reason,
    };
    let Some(v) = std::env::var("SWITCHBOARD_METRICS_ADDR")
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(None);
    };
    let addr: SocketAddr = v.trim().parse().map_err(|_| {
        invalid("it must be an address and port, such as 127.0.0.1:9464".to_owned())
    })?;
    if addr.port() != 0 && addr.port() == site.port() {
        return Err(invalid(format!(
            "it must not be the public port ({}): metrics are for operators only",
            site.port()
        )));
    }
    Ok(Some(addr))
}

/// The Leptos site settings: cargo-leptos' `LEPTOS_*` variables when set (at build or run
/// time), else the values of `[[workspace.metadata.leptos]]`.
fn leptos_options_from_env() -> Result<LeptosOptions, ConfigError> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let output_name = var("LEPTOS_OUTPUT_NAME")
        .or_else(|| option_env!("LEPTOS_OUTPUT_NAME").map(str::to_owned))
        .unwrap_or_else(|| "switchboard".to_owned());
    let site_addr: SocketAddr = var("LEPTOS_SITE_ADDR")
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned())
        .parse()
        .map_err(|e: std::net::AddrParseError| ConfigError::Invalid {
            name: "LEPTOS_SITE_ADDR",
            reason: e.to_string(),
        })?;
    let env = match var("LEPTOS_ENV").as_deref() {
        Some("PROD" | "prod" | "production") => leptos::config::Env::PROD,
        _ => leptos::config::Env::DEV,
    };
    // cargo-leptos names the built files by their content (`hash-files`) and says so at build
    // time; the names are then read from `hash.txt` beside the executable
    let hash_files = var("LEPTOS_HASH_FILES")
        .or_else(|| option_env!("LEPTOS_HASH_FILES").map(str::to_owned))
        .is_some_and(|v| v == "true");
    Ok(LeptosOptions::builder()
        .output_name(output_name)
        .hash_files(hash_files)
        .site_root(var("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned()))
        .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|| "pkg".to_owned()))
        .site_addr(site_addr)
        .env(env)
        .build())
}

/// The certificates of `SWITCHBOARD_PUBLIC_CA`: a PEM file with at least one certificate.
pub fn public_ca_from(
    path: &std::path::Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, ConfigError> {
    use rustls::pki_types::pem::PemObject;
    let invalid = |reason: String| ConfigError::Invalid {
        name: "SWITCHBOARD_PUBLIC_CA",
        reason,
    };
    let text = std::fs::read(path)
        .map_err(|e| invalid(format!("{} cannot be read ({e})", path.display())))?;
    let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_slice_iter(&text)
        .collect::<Result<_, _>>()
        .map_err(|_| invalid(format!("{} is not a PEM file", path.display())))?;
    if certs.is_empty() {
        return Err(invalid(format!(
            "{} holds no certificate (BEGIN CERTIFICATE)",
            path.display()
        )));
    }
    Ok(certs)
}

pub fn parse_public_url(value: &str) -> Result<Url, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        name: "SWITCHBOARD_PUBLIC_URL",
        reason: reason.to_string(),
    };
    let url = Url::parse(value.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("it must start with http:// or https://"));
    }
    if url.host_str().is_none() {
        return Err(invalid("it must name a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }
    Ok(url)
}

fn default_public_url(addr: SocketAddr) -> Url {
    let host = if addr.ip().is_unspecified() {
        "localhost".to_string()
    } else {
        match addr {
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        }
    };
    Url::parse(&format!("http://{host}:{}", addr.port()))
        .unwrap_or_else(|_| Url::parse("http://localhost:3000").expect("static URL parses"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_rules() {
        assert!(parse_public_url("https://cc.example.com").is_ok());
        assert!(parse_public_url("ftp://cc.example.com").is_err());
        assert!(parse_public_url("cc.example.com").is_err());
        assert!(parse_public_url("https://cc.example.com/?a").is_err());
    }

    #[test]
    fn debug_output_hides_the_key_and_the_database_password() {
        let config = Config {
            database_url: "postgres://sb:db-secret-canary@db.internal/sb".into(),
            public_url: parse_public_url("https://cc.example.com").unwrap(),
            public_ca: Vec::new(),
            trust_forwarded_for: false,
            master_key: Some("key-canary-5ca1ab1e".into()),
            previous_master_keys: Some("old-key-canary".into()),
            data_dir: PathBuf::from("data"),
            leptos: LeptosOptions::builder().output_name("switchboard").build(),
            limits: Limits::default(),
            inspector: PathBuf::from("switchboard"),
            audit_retention_days: 365,
            traffic_retention_days: 30,
            export_lease: DEFAULT_EXPORT_LEASE,
            import_lease: crate::imports::DEFAULT_LEASE,
            metrics_addr: None,
            log_format: LogFormat::Text,
            smtp: Some(SmtpConfig {
                url: "smtp://alerts:smtp-canary@mail.internal:587".into(),
                from: "alerts@cc.example.com".into(),
                ca_file: None,
            }),
        };
        let printed = format!("{config:?}");
        assert!(!printed.contains("db-secret-canary"), "{printed}");
        assert!(!printed.contains("key-canary"), "{printed}");
        assert!(!printed.contains("smtp-canary"), "{printed}");
        assert!(
            printed.contains("postgres://sb:****@db.internal/sb"),
            "{printed}"
        );
    }

    #[test]
    fn default_public_url_from_bind_address() {
        let url = default_public_url("0.0.0.0:8080".parse().unwrap());
        assert_eq!(url.as_str(), "http://localhost:8080/");
        let url = default_public_url("127.0.0.1:3000".parse().unwrap());
        assert_eq!(url.as_str(), "http://127.0.0.1:3000/");
    }
}
