//! The browser side: hydrates the server-rendered page, once the code of a lazily loaded page
//! in it has arrived.

// the channel form's view type is deep; the optimized wasm build needs the headroom
#![recursion_limit = "512"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
