//! Switchboard's user interface and the rules and server functions it shares with the server.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod domain;
pub mod error;
pub use error::RequestId;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ports;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy,
    components::{ParentRoute, Redirect, Route, Router, Routes},
    path,
};
use pages::lazy;

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
                <HashedStylesheet options=options.clone() id="leptos" />
                <script nonce=leptos::nonce::use_nonce() inner_html=pages::ready::EARLY_INPUT></script>
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
    // links name the lazy page they go to; this is how they find its code
    provide_context(components::nav::Preloads(pages::lazy::preload_of));
    // Effects run only in the browser: the main module has hydrated the shell. (A page is
    // ready when its own code has hydrated too: `data-hydrated`, see `pages::ready`.)
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-main-hydrated", "");
        }
    });
    view! {
        <Title formatter=|title: String| {
            if title.is_empty() { "Switchboard".to_string() } else { format!("{title} · Switchboard") }
        } />
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=path!("/") view=pages::home::Home />
                <Route path=path!("/login") view=pages::login::LoginPage />
                <Route path=path!("/setup") view={Lazy::<lazy::Setup>::new()} />
                <ParentRoute path=path!("/config") view={Lazy::<lazy::TenantConsole>::new()}>
                    <Route path=path!("") view={Lazy::<lazy::Dashboard>::new()} />
                    <Route path=path!("channels") view={Lazy::<lazy::Channels>::new()} />
                    <Route path=path!("channels/new") view={Lazy::<lazy::NewChannel>::new()} />
                    <Route path=path!("channels/import") view={Lazy::<lazy::Imports>::new()} />
                    <Route path=path!("channels/import/:id") view={Lazy::<lazy::Import>::new()} />
                    <Route path=path!("channels/:id/edit") view={Lazy::<lazy::EditChannel>::new()} />
                    <Route path=path!("channels/:id/activity") view={Lazy::<lazy::Activity>::new()} />
                    <Route
                        path=path!("channels/:id/integration")
                        view={Lazy::<lazy::Integration>::new()}
                    />
                    <Route path=path!("certificates") view={Lazy::<lazy::Certificates>::new()} />
                    <Route path=path!("ous") view={Lazy::<lazy::Ous>::new()} />
                    <Route path=path!("skill-queues") view={Lazy::<lazy::SkillQueues>::new()} />
                    <Route path=path!("service-time") view={Lazy::<lazy::ServiceTime>::new()} />
                    <Route path=path!("exports") view={Lazy::<lazy::Exports>::new()} />
                    <Route path=path!("audit") view={Lazy::<lazy::TenantAudit>::new()} />
                    <Route path=path!("alerts") view={Lazy::<lazy::Alerts>::new()} />
                    <Route path=path!("apps") view={Lazy::<lazy::TenantApps>::new()} />
                </ParentRoute>
                <ParentRoute path=path!("/system") view={Lazy::<lazy::SystemConsole>::new()}>
                    <Route path=path!("") view=|| view! { <Redirect path="/system/tenants" /> } />
                    <Route path=path!("tenants") view={Lazy::<lazy::Tenants>::new()} />
                    <Route path=path!("trustlist") view={Lazy::<lazy::Trustlist>::new()} />
                    <Route path=path!("apps") view={Lazy::<lazy::Apps>::new()} />
                    <Route path=path!("audit") view={Lazy::<lazy::SystemAudit>::new()} />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
