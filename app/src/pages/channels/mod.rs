//! Channel Configuration: the list, the "Newly created" wizard, Channel Integration and edit.

pub mod activity;
pub mod credentials;
pub mod form;
pub mod integration;
pub mod list;
pub mod prove;
pub mod routing;
