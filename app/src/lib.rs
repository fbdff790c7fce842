//! Switchboard's user interface and the rules and server functions it shares with the server.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod domain;
pub mod error;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ports;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    components::{ParentRoute, Redirect, Route, Router, Routes},
    path,
};
use pages::console::{Area, Console};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Scripts only with this response's nonce (Leptos puts it on its hydration scripts), no inline
/// styles, no framing, nothing from other origins.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    use leptos::nonce::use_nonce;
    let (Some(nonce), Some(res)) = (use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        res.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: marks the page as interactive (tests wait for it).
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/switchboard.css" />
        <Title formatter=|title: String| {
            if title.is_empty() { "Switchboard".to_string() } else { format!("{title} · Switchboard") }
        } />
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=path!("/") view=pages::home::Home />
                <Route path=path!("/login") view=pages::login::LoginPage />
                <Route path=path!("/setup") view=pages::setup::SetupPage />
                <ParentRoute
                    path=path!("/config")
                    view=|| view! { <Console area=Area::Tenant /> }
                >
                    <Route path=path!("") view=pages::dashboard::DashboardPage />
                    <Route path=path!("channels") view=pages::channels::list::ChannelsPage />
                    <Route path=path!("channels/new") view=pages::channels::form::NewChannelPage />
                    <Route path=path!("channels/import") view=pages::imports::ImportsPage />
                    <Route path=path!("channels/import/:id") view=pages::imports::ImportPage />
                    <Route path=path!("channels/:id/edit") view=pages::channels::form::EditChannelPage />
                    <Route
                        path=path!("channels/:id/activity")
                        view=pages::channels::activity::ActivityPage
                    />
                    <Route
                        path=path!("channels/:id/integration")
                        view=pages::channels::integration::IntegrationPage
                    />
                    <Route path=path!("certificates") view=pages::certificates::CertificatesPage />
                    <Route path=path!("ous") view=pages::org::OusPage />
                    <Route path=path!("skill-queues") view=pages::org::SkillQueuesPage />
                    <Route path=path!("service-time") view=pages::service_time::ServiceTimePage />
                    <Route path=path!("exports") view=pages::exports::ExportsPage />
                    <Route path=path!("audit") view=pages::audit::TenantAuditPage />
                </ParentRoute>
                <ParentRoute
                    path=path!("/system")
                    view=|| view! { <Console area=Area::System /> }
                >
                    <Route path=path!("") view=|| view! { <Redirect path="/system/tenants" /> } />
                    <Route path=path!("tenants") view=pages::system::TenantsPage />
                    <Route path=path!("trustlist") view=pages::system::TrustlistPage />
                    <Route path=path!("audit") view=pages::audit::SystemAuditPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
