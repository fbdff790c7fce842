//! HTTP middleware and small routes: client address, origin check, security headers, sign-in
//! throttle, health.

pub mod audit_csv;
pub mod client;
pub mod guard;
pub mod headers;
pub mod health;
pub mod limits;
pub mod origin;
pub mod serve;
pub mod throttle;
