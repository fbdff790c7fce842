//! HTTP middleware and small routes: client address, origin check, security headers, sign-in
//! throttle, health, static files, compression and the request id.

pub mod assets;
pub mod audit_csv;
pub mod client_addr;
pub mod compression;
pub mod guard;
pub mod headers;
pub mod health;
pub mod limits;
pub mod origin;
pub mod paths;
pub mod request_id;
pub mod serve;
pub mod throttle;
pub mod trace;
