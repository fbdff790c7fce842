//! Links to lazily loaded pages: `Preload` starts loading a page's code, and `NavLink` starts it
//! on hover or focus, so the click finds it loaded. A page names the page it links to
//! (`LazyPage`); the table from names to preloads is `pages::lazy`'s, provided once by `App`
//! (`Preloads`): pages never import the registry that imports them.

use leptos::prelude::*;
use leptos_router::components::A;
use std::future::Future;
use std::pin::Pin;

/// Starts loading a lazy page's code, once per page load (hover events come by the dozen; a
/// navigation loads the code anyway if this one failed).
#[derive(Clone, Copy)]
pub struct Preload(pub(crate) fn() -> Pin<Box<dyn Future<Output = ()>>>);

#[cfg(target_arch = "wasm32")]
thread_local! {
    static STARTED: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Preload {
    pub fn start(self) {
        #[cfg(target_arch = "wasm32")]
        {
            let key = self.0 as usize;
            let first = STARTED.with_borrow_mut(|started| {
                let first = !started.contains(&key);
                if first {
                    started.push(key);
                }
                first
            });
            if first {
                leptos::task::spawn_local((self.0)());
            }
        }
        // on the server there is nothing to load
        #[cfg(not(target_arch = "wasm32"))]
        let _ = self.0;
    }

    /// An event handler that starts loading: `on:mouseenter=Route::PRELOAD.on()`.
    pub fn on<E>(self) -> impl Fn(E) + Copy + 'static {
        move |_| self.start()
    }
}

/// The pages whose code loads on demand, as links name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LazyPage {
    TenantConsole,
    Channels,
    Dashboard,
    NewChannel,
    EditChannel,
    Integration,
    Activity,
    Imports,
    Certificates,
    Ous,
    SkillQueues,
    ServiceTime,
    Exports,
    TenantAudit,
    Alerts,
    TenantApps,
    Tenants,
    Apps,
    Trustlist,
    SystemAudit,
}

/// Each lazy page's preload: `pages::lazy::preload`, provided by `App`.
#[derive(Clone, Copy)]
pub struct Preloads(pub fn(LazyPage) -> Preload);

/// The preloads of `pages`, looked up while a component renders (the table is a context);
/// `start` them from an event handler. Empty where no table was provided.
pub fn preloads<const N: usize>(pages: [LazyPage; N]) -> impl Fn() + Copy + 'static {
    let table = use_context::<Preloads>();
    let found = table.map(|t| pages.map(t.0));
    move || {
        if let Some(found) = found {
            found.into_iter().for_each(Preload::start);
        }
    }
}

/// A link to a lazily loaded page: its code starts loading on hover or focus.
#[component]
pub fn NavLink(
    href: &'static str,
    page: LazyPage,
    #[prop(optional)] exact: bool,
    #[prop(optional)] class: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let start = preloads([page]);
    view! {
        <A href exact attr:class=class on:mouseenter=move |_| start() on:focus=move |_| start()>
            {children()}
        </A>
    }
}
