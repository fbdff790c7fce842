//! HTTP middleware and small routes: client address, origin check, security headers, sign-in
//! throttle, health.

pub mod client;
pub mod headers;
pub mod health;
pub mod origin;
pub mod throttle;
