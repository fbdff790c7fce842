use crate::api::auth::{Login, current_user};
use crate::components::{Field, FormAlert, action_error};
use crate::pages::lazy;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = action_error(login.value());
    let query = use_query_map();
    let next = move || query.read().get("next");
    let me = Resource::new_blocking(|| (), |_| current_user());
    super::ready::page_hydrated();
    view! {
        <Title text="Sign in" />
        <main class="auth-page">
            <div class="auth-card">
                <p class="brand">"Switchboard"</p>
                <h1>"Sign in"</h1>
                <p class="subtitle">"Configuration Center"</p>
                <Suspense>
                    {move || Suspend::new(async move {
                        me.await
                            .ok()
                            .flatten()
                            .map(|me| view! { <Redirect path=me.role.home() /> })
                    })}
                </Suspense>
                // what a tenant administrator sees next starts loading while they type
                <ActionForm
                    action=login
                    attr:class="stack"
                    attr:novalidate=true
                    on:focusin=move |_| {
                        lazy::TenantConsole::PRELOAD.start();
                        lazy::Channels::PRELOAD.start();
                    }
                >
                    <FormAlert error />
                    <Field label="Username" name="username" error autocomplete="username" required=true />
                    <Field
                        label="Password"
                        name="password"
                        kind="password"
                        error
                        autocomplete="current-password"
                        required=true
                    />
                    <input type="hidden" name="next" value=next />
                    <button type="submit" class="button primary" disabled=move || login.pending().get()>
                        "Sign in"
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
