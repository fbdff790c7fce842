use crate::api::auth::{Login, current_user};
use crate::components::nav::{LazyPage, preloads};
use crate::components::{AuthCard, Field, FormAlert, action_error};
use leptos::prelude::*;
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
    // what a tenant administrator sees next
    let next_pages = preloads([LazyPage::TenantConsole, LazyPage::Channels]);
    view! {
        <AuthCard title="Sign in" heading="Sign in">
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
                    on:focusin=move |_| next_pages()
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
        </AuthCard>
    }
}
