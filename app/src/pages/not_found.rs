use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    super::set_page_status(404);
    super::ready::page_hydrated();
    view! {
        <Title text="Not found" />
        <main class="auth-page">
            <div class="auth-card">
                <h1>"Page not found"</h1>
                <p>"There is no page at this address."</p>
                <p>
                    <a href="/">"Go to the Configuration Center"</a>
                </p>
            </div>
        </main>
    }
}
