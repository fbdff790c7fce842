use crate::api::auth::{CompleteSetup, setup_state};
use crate::components::{AuthCard, Field, FormAlert, action_error};
use crate::model::SetupStatus;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/setup?token=…`: creates the first system administrator.
#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<CompleteSetup>::new();
    let error = action_error(setup.value());
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let state = Resource::new(|| (), |_| setup_state());
    view! {
        <AuthCard title="Set up" heading="Create the system administrator">
                <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match state.await {
                            Ok(SetupStatus::Done) => view! {
                                <p>"Setup is complete: a system administrator exists."</p>
                                <p><a href="/login">"Sign in"</a></p>
                            }.into_any(),
                            Ok(SetupStatus::Open) if token().is_empty() => view! {
                                <p>
                                    "Open the one-time setup link that the server printed in its log when it started."
                                </p>
                            }.into_any(),
                            Ok(SetupStatus::Open) => view! {
                                <p class="subtitle">
                                    "This account manages tenant spaces and the address trustlist."
                                </p>
                                <ActionForm action=setup attr:class="stack" attr:novalidate=true>
                                    <FormAlert error />
                                    <input type="hidden" name="token" value=token />
                                    <Field label="Username" name="username" error autocomplete="username" required=true />
                                    <Field
                                        label="Password"
                                        name="password"
                                        kind="password"
                                        error
                                        autocomplete="new-password"
                                        required=true
                                        hint="At least 8 characters."
                                    />
                                    <Field
                                        label="Confirm password"
                                        name="confirm_password"
                                        kind="password"
                                        error
                                        autocomplete="new-password"
                                        required=true
                                    />
                                    <button type="submit" class="button primary" disabled=move || setup.pending().get()>
                                        "Create system administrator"
                                    </button>
                                </ActionForm>
                            }.into_any(),
                            Err(e) => view! { <crate::components::ErrorPanel error=e /> }.into_any(),
                        }
                    })}
                </Suspense>
        </AuthCard>
    }
}
