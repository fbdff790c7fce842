//! One typed configuration, read from the environment.

use leptos::config::LeptosOptions;
use std::net::SocketAddr;
use std::path::PathBuf;
use url::Url;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/switchboard.db";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

#[derive(Clone, Debug)]
pub struct Config {
    /// `sqlite://…` (default: a file under `./data/`) or `postgres://…`.
    pub database_url: String,
    /// The address people and providers use to reach this server (scheme, host, port, no path).
    pub public_url: Url,
    /// Take the client address for sign-in throttling from `X-Forwarded-For` (set it only
    /// behind a proxy that overwrites that header).
    pub trust_forwarded_for: bool,
    /// `SWITCHBOARD_MASTER_KEY`: the key for secrets at rest (32 bytes, base64 or hex).
    pub master_key: Option<String>,
    /// Where the master key file lives when no key is given: `SWITCHBOARD_DATA_DIR`, else the
    /// SQLite database's directory, else `./data`.
    pub data_dir: PathBuf,
    pub leptos: LeptosOptions,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let leptos = leptos_options_from_env()?;
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
        Ok(Self {
            database_url,
            public_url,
            trust_forwarded_for,
            master_key: std::env::var("SWITCHBOARD_MASTER_KEY").ok(),
            data_dir,
            leptos,
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
    Ok(LeptosOptions::builder()
        .output_name(output_name)
        .site_root(var("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned()))
        .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|| "pkg".to_owned()))
        .site_addr(site_addr)
        .env(env)
        .build())
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
    fn default_public_url_from_bind_address() {
        let url = default_public_url("0.0.0.0:8080".parse().unwrap());
        assert_eq!(url.as_str(), "http://localhost:8080/");
        let url = default_public_url("127.0.0.1:3000".parse().unwrap());
        assert_eq!(url.as_str(), "http://127.0.0.1:3000/");
    }
}
