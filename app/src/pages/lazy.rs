//! The pages whose code is loaded on demand. The first load carries only the shell and sign-in;
//! the console frame, the channel list and every other page are routes here, in five groups
//! that cargo-leptos' `--split` puts in separate wasm chunks, with their constant data (see
//! `.cargo/config.toml`). The channel list is lazy too, although a tenant administrator lands
//! on it: its chunk (console frame, list, overview) is 98 KB brotli beside the main module's
//! 223 KB, and sign-in's budget is 250 KB on the wire; sign-in prefetches it while they type. A direct load of such a page gets
//! its chunks preloaded by the server (`<link rel="preload">`); a link to one starts loading
//! it on hover or focus (`Preload`), so that the click finds it loaded.
//!
//! On the server nothing is lazy: the same pages render at once.

use crate::components::nav::{LazyPage, Preload};
use leptos::prelude::*;
use leptos_router::LazyRoute;
use std::future::Future;
use std::pin::Pin;

fn preload<R: LazyRoute>() -> Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(R::preload())
}

/// Whether a route's view is a page (`true`) or the frame around pages (`[frame]`).
macro_rules! marks_ready {
    () => {
        true
    };
    (frame) => {
        false
    };
}

/// One route type per page (`Lazy::<Route>::new()` in the router, `Route::PRELOAD` on links),
/// the pages of a group sharing one split point: a group is one download. (One split point per
/// page made wasm-split cut the code into ~300 files, 17 to 66 of them per page: too many
/// requests for a page, and minutes of wasm-opt per build.)
macro_rules! lazy_group {
    ($view:ident, $preload_view:ident, $which:ident { $($route:ident => $page:path $([$frame:ident])?),* $(,)? }) => {
        #[derive(Clone, Copy)]
        enum $which {
            $($route),*
        }

        #[leptos::lazy]
        fn $view(which: $which) -> AnyView {
            match which {
                $($which::$route => untrack(|| {
                    // a page (not the frame around pages) says when it is ready
                    if marks_ready!($($frame)?) {
                        super::ready::page_hydrated();
                    }
                    $page().into_any()
                }),)*
            }
        }

        $(
            #[doc = concat!("The lazily loaded route of `", stringify!($page), "`.")]
            pub struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                async fn view(_this: Self) -> AnyView {
                    $view($which::$route).await
                }

                async fn preload() {
                    #[cfg(target_arch = "wasm32")]
                    $preload_view().await;
                }
            }

            impl $route {
                pub const PRELOAD: Preload = Preload(preload::<$route>);
            }
        )*
    };
}

/// The console frame around the tenant administrator's pages.
#[component]
fn TenantConsolePage() -> impl IntoView {
    view! { <super::console::Console area=super::console::Area::Tenant /> }
}

/// The console frame around the system administrator's pages.
#[component]
fn SystemConsolePage() -> impl IntoView {
    view! { <super::console::Console area=super::console::Area::System /> }
}

// where a tenant administrator lands after signing in
lazy_group!(console_view, __preload_console_view, ConsolePages {
    TenantConsole => TenantConsolePage [frame],
    Channels => super::channels::list::ChannelsPage,
    Dashboard => super::dashboard::DashboardPage,
});

lazy_group!(channel_form_view, __preload_channel_form_view, ChannelFormPages {
    NewChannel => super::channels::form::NewChannelPage,
    EditChannel => super::channels::form::EditChannelPage,
});

lazy_group!(channel_view, __preload_channel_view, ChannelPages {
    Integration => super::channels::integration::IntegrationPage,
    Activity => super::channels::activity::ActivityPage,
    Imports => super::imports::ImportsPage,
    Import => super::imports::ImportPage,
});

lazy_group!(settings_view, __preload_settings_view, SettingsPages {
    Certificates => super::certificates::CertificatesPage,
    Ous => super::org::OusPage,
    SkillQueues => super::org::SkillQueuesPage,
    ServiceTime => super::service_time::ServiceTimePage,
    Exports => super::exports::ExportsPage,
    TenantAudit => super::audit::TenantAuditPage,
    Alerts => super::alerts::AlertsPage,
    TenantApps => super::apps::TenantAppsPage,
});

lazy_group!(system_view, __preload_system_view, SystemPages {
    SystemConsole => SystemConsolePage [frame],
    Tenants => super::system::TenantsPage,
    Trustlist => super::system::TrustlistPage,
    Apps => super::apps::AppsPage,
    SystemAudit => super::audit::SystemAuditPage,
    Setup => super::setup::SetupPage,
});

/// The preload of each page a link can name (`components::nav::Preloads`).
pub fn preload_of(page: LazyPage) -> Preload {
    match page {
        LazyPage::TenantConsole => TenantConsole::PRELOAD,
        LazyPage::Channels => Channels::PRELOAD,
        LazyPage::Dashboard => Dashboard::PRELOAD,
        LazyPage::NewChannel => NewChannel::PRELOAD,
        LazyPage::EditChannel => EditChannel::PRELOAD,
        LazyPage::Integration => Integration::PRELOAD,
        LazyPage::Activity => Activity::PRELOAD,
        LazyPage::Imports => Imports::PRELOAD,
        LazyPage::Certificates => Certificates::PRELOAD,
        LazyPage::Ous => Ous::PRELOAD,
        LazyPage::SkillQueues => SkillQueues::PRELOAD,
        LazyPage::ServiceTime => ServiceTime::PRELOAD,
        LazyPage::Exports => Exports::PRELOAD,
        LazyPage::TenantAudit => TenantAudit::PRELOAD,
        LazyPage::Alerts => Alerts::PRELOAD,
        LazyPage::TenantApps => TenantApps::PRELOAD,
        LazyPage::Apps => Apps::PRELOAD,
        LazyPage::Tenants => Tenants::PRELOAD,
        LazyPage::Trustlist => Trustlist::PRELOAD,
        LazyPage::SystemAudit => SystemAudit::PRELOAD,
    }
}
