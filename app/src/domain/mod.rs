//! Pure rules shared by the browser and the server. No IO here: everything is a function of its
//! input, compiled for wasm and native, and unit-tested.

pub mod account;
pub mod alerts;
pub mod apps;
pub mod audit;
pub mod certificate;
pub mod channel;
pub mod dates;
pub mod fields;
pub mod health;
pub mod import;
pub mod org;
pub mod outbound;
pub mod redirect;
pub mod refusal;
pub mod rotation;
pub mod routing;
pub mod service_time;
pub mod trustlist;
pub mod worktime;

pub use account::{NewPassword, TenantName, Username};
pub use certificate::{CertificateKind, CertificateName};
pub use fields::{FieldError, FieldErrors};
pub use org::{AccessCode, OuName, SkillQueueName};
pub use trustlist::TrustPrefix;
