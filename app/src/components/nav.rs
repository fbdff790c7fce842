//! Links to lazily loaded pages: `Preload` starts loading a page's code (each lazy route has
//! one, `pages::lazy`), and `NavLink` starts it on hover or focus, so the click finds it loaded.

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

/// A link to a lazily loaded page: its code starts loading on hover or focus.
#[component]
pub fn NavLink(
    href: &'static str,
    preload: Preload,
    #[prop(optional)] exact: bool,
    #[prop(optional)] class: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <A href exact attr:class=class on:mouseenter=preload.on() on:focus=preload.on()>
            {children()}
        </A>
    }
}
