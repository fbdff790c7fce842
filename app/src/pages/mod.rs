//! One module per page.

pub mod alerts;
pub mod apps;
pub mod audit;
pub mod certificates;
pub mod channels;
pub mod console;
pub mod dashboard;
pub mod exports;
pub mod home;
pub mod imports;
pub mod lazy;
pub mod login;
pub mod not_found;
pub mod org;
pub mod ready;
pub mod service_time;
pub mod setup;
pub mod system;

/// Sets the HTTP status of the page being rendered on the server; nothing in the browser.
pub fn set_page_status(_status: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(res), Ok(status)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(_status),
    ) {
        res.set_status(status);
    }
}
