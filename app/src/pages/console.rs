//! The console frame around every signed-in page: header with tenant and user, navigation by
//! role, and the access check of the area.

use crate::api::auth::{Logout, current_user};
use crate::components::nav::{LazyPage, NavLink};
use crate::model::Role;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};
use leptos_router::hooks::use_location;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Tenant,
    System,
}

impl Area {
    fn admits(self, role: Role) -> bool {
        matches!(
            (self, role),
            (Area::Tenant, Role::TenantAdmin) | (Area::System, Role::SystemAdmin)
        )
    }
}

/// Shows the session for an area: signed in with the wrong role -> "Access denied" instead of
/// the page; signed out (the session ended while the page was open) -> the sign-in page. The
/// HTTP status of a page load (redirect, 403, 404) is decided before rendering, by the
/// server's page guard (`server::http::guard`).
///
/// The page (`<Outlet/>`) is rendered outside any `Suspense`: a nested route inside a
/// suspended branch is rendered more than once on the server, which shifts the ids of its
/// resources and breaks hydration. Each page's own server calls check the session again.
#[component]
pub fn Console(area: Area) -> impl IntoView {
    let me = Resource::new_blocking(|| (), |_| current_user());
    let location = use_location();
    let logout = ServerAction::<Logout>::new();
    view! {
        <a class="skip-link" href="#content">"Skip to content"</a>
        <header class="topbar">
            <div class="topbar-brand">
                <span class="logo" aria-hidden="true">"◧"</span>
                <span class="product">"Switchboard"</span>
                <span class="area">"Configuration Center"</span>
            </div>
            <div class="topbar-user">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match me.await {
                            Ok(Some(me)) => {
                                let scope = match (me.role, me.tenant_name) {
                                    (Role::SystemAdmin, _) => "System administration".to_string(),
                                    (Role::TenantAdmin, name) => name.unwrap_or_default(),
                                };
                                view! {
                                    <span class="tenant" title="Tenant space">{scope}</span>
                                    <span class="user" title="Signed in as">{me.username}</span>
                                }
                                .into_any()
                            }
                            Ok(None) => {
                                let here = location.pathname.get_untracked();
                                let next = crate::domain::redirect::query_value(&here);
                                view! { <Redirect path=format!("/login?next={next}") /> }.into_any()
                            }
                            Err(_) => ().into_any(),
                        }
                    })}
                </Suspense>
                <ActionForm action=logout attr:class="inline">
                    <button type="submit" class="button ghost">"Sign out"</button>
                </ActionForm>
            </div>
        </header>
        <div class="layout">
            <nav class="sidebar" aria-label="Main">
                {match area {
                    Area::Tenant => view! { <TenantNav /> }.into_any(),
                    Area::System => view! { <SystemNav /> }.into_any(),
                }}
            </nav>
            <main id="content" class="content" tabindex="-1">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let admitted = matches!(me.await, Ok(Some(ref m)) if area.admits(m.role));
                        (!admitted).then(|| view! { <Forbidden /> })
                    })}
                </Suspense>
                <Outlet />
            </main>
        </div>
    }
}

#[component]
fn TenantNav() -> impl IntoView {
    view! {
        <p class="nav-title">"Configuration Center"</p>
        <ul>
            <li>
                <NavLink href="/config" exact=true page=LazyPage::Dashboard>"Overview"</NavLink>
                <ul>
                    <li><NavLink href="/config/alerts" page=LazyPage::Alerts>"Alerts"</NavLink></li>
                </ul>
            </li>
            <li>
                <span class="nav-group">"Access Configuration"</span>
                <ul>
                    <li><NavLink href="/config/channels" page=LazyPage::Channels>"Channel Configuration"</NavLink></li>
                    <li><NavLink href="/config/certificates" page=LazyPage::Certificates>"Certificates"</NavLink></li>
                    <li><NavLink href="/config/ous" page=LazyPage::Ous>"OUs"</NavLink></li>
                    <li><NavLink href="/config/skill-queues" page=LazyPage::SkillQueues>"Skill Queues"</NavLink></li>
                    <li><NavLink href="/config/service-time" page=LazyPage::ServiceTime>"Service Time"</NavLink></li>
                </ul>
            </li>
            <li>
                <span class="nav-group">"API Management"</span>
                <ul>
                    <li><NavLink href="/config/apps" page=LazyPage::TenantApps>"APP Management"</NavLink></li>
                </ul>
            </li>
            <li><NavLink href="/config/exports" page=LazyPage::Exports>"Export Tasks"</NavLink></li>
            <li><NavLink href="/config/audit" page=LazyPage::TenantAudit>"Audit Log"</NavLink></li>
        </ul>
    }
}

#[component]
fn SystemNav() -> impl IntoView {
    view! {
        <p class="nav-title">"System"</p>
        <ul>
            <li><NavLink href="/system/tenants" page=LazyPage::Tenants>"Tenant Spaces"</NavLink></li>
            <li><NavLink href="/system/trustlist" page=LazyPage::Trustlist>"Address Trustlist"</NavLink></li>
            <li>
                <span class="nav-group">"API Management"</span>
                <ul>
                    <li><NavLink href="/system/apps" page=LazyPage::Apps>"APP Management"</NavLink></li>
                </ul>
            </li>
            <li><NavLink href="/system/audit" page=LazyPage::SystemAudit>"Audit Log"</NavLink></li>
        </ul>
    }
}

#[component]
fn Forbidden() -> impl IntoView {
    view! {
        <leptos_meta::Title text="Access denied" />
        <div class="access-denied">
            <h1>"Access denied"</h1>
            <div class="error-panel" role="alert">
                <p>"Your account does not have access to this page."</p>
            </div>
        </div>
    }
}
