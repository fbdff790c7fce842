//! Data that crosses the wire between server functions and pages.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    SystemAdmin,
    TenantAdmin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SystemAdmin => "system_admin",
            Self::TenantAdmin => "tenant_admin",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        match value {
            "system_admin" => Some(Self::SystemAdmin),
            "tenant_admin" => Some(Self::TenantAdmin),
            _ => None,
        }
    }

    /// Where this role lands after signing in.
    pub fn home(self) -> &'static str {
        match self {
            Self::SystemAdmin => "/system/tenants",
            Self::TenantAdmin => "/config/channels",
        }
    }
}

/// The signed-in person, as the pages need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub tenant_id: Option<i64>,
    pub tenant_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSummary {
    pub user_id: i64,
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSummary {
    pub id: i64,
    pub name: String,
    pub disabled: bool,
    /// `YYYY-MM-DD HH:MM UTC`
    pub created: String,
    pub admins: Vec<AdminSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustEntry {
    pub id: i64,
    pub prefix: String,
    /// `None` for a global entry.
    pub tenant_id: Option<i64>,
    pub tenant_name: Option<String>,
    pub created: String,
}

/// Whether the first-run setup can still be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetupStatus {
    /// No system administrator yet: the page asks for one.
    Open,
    /// A system administrator exists; the link is spent.
    Done,
}

/// An OU, listed depth-first: parents before their children.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ou {
    pub id: i64,
    pub name: String,
    pub parent_id: Option<i64>,
    /// 0 for a top-level OU.
    pub depth: u32,
    /// `Parent / Child`
    pub path: String,
    pub children: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillQueue {
    pub id: i64,
    pub name: String,
    pub access_code: String,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSummary {
    pub id: i64,
    pub name: String,
    pub kind: crate::domain::CertificateKind,
    pub subject: String,
    pub issuer: String,
    /// `YYYY-MM-DD`
    pub not_after: String,
    pub expired: bool,
    /// SHA-256 of the DER bytes, `AB:CD:…`
    pub fingerprint: String,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonWorkingDate {
    pub id: i64,
    /// `YYYY-MM-DD`
    pub date: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceTime {
    pub weekdays: crate::domain::service_time::WeekdayRules,
    /// In date order.
    pub dates: Vec<NonWorkingDate>,
}
