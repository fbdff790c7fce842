//! APP Management (System > API Management > APP Management): the apps that call the send
//! API, each bound to a tenant space; and the tenant administrator's read-only view of the
//! apps of their tenant space (Configuration Center > API Management > APP Management).

use crate::api::apps::{
    CreateApp, DeleteApp, ResetAppSecret, SetAppEnabled, list_apps, list_tenant_apps,
};
use crate::api::system::list_tenants;
use crate::components::{
    DataTable, DeleteRow, EmptyState, Field, FormAlert, Loaded, PageHead, SelectField,
    action_error, reset_on_success,
};
use crate::domain::apps::{Api, DEFAULT_OVERLAP_HOURS, MAX_TOKEN_SECONDS};
use crate::model::{AppSecretShown, AppSummary};
use leptos::prelude::*;

fn subscriptions(apis: &[String]) -> String {
    if apis.is_empty() {
        "None".into()
    } else {
        apis.join(", ")
    }
}

fn or_never(at: &Option<String>) -> String {
    at.clone().unwrap_or_else(|| "Never".into())
}

#[component]
pub fn AppsPage() -> impl IntoView {
    let create = ServerAction::<CreateApp>::new();
    let reset = ServerAction::<ResetAppSecret>::new();
    let toggle = ServerAction::<SetAppEnabled>::new();
    let delete = ServerAction::<DeleteApp>::new();
    let apps = Resource::new(
        move || {
            (
                create.version().get(),
                reset.version().get(),
                toggle.version().get(),
                delete.version().get(),
            )
        },
        |_| list_apps(),
    );
    let tenants = Resource::new(|| (), |_| list_tenants());
    let create_form = NodeRef::<leptos::html::Form>::new();
    reset_on_success(create.value(), create_form);
    let create_error = action_error(create.value());
    let reset_error = action_error(reset.value());
    let toggle_error = action_error(toggle.value());
    let delete_error = action_error(delete.value());
    // the secret of the last create or reset, shown until the page is left
    let shown = RwSignal::new(None::<AppSecretShown>);
    Effect::new(move |_| {
        if let Some(Ok(s)) = create.value().get() {
            shown.set(Some(s));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(s)) = reset.value().get() {
            shown.set(Some(s));
        }
    });

    view! {
        <PageHead title="APP Management" crumbs=&["System", "API Management", "APP Management"] />
        <p class="page-help">
            "An app is a system that calls Switchboard's send API for one tenant space: it gets a token with its app key and app secret ("
            <code>"POST /apigovernance/api/oauth/tokenByAkSk"</code>" or "<code>"POST /oauth/token"</code>
            ") and sends WhatsApp messages through that space's channels. An \u{2018}other\u{2019} channel with oAuth picks one of these apps. The "
            <a href="/apiaccess/rest/ccmessaging/openapi.json">"API description (OpenAPI)"</a>" lists every call."
        </p>
        <SecretShown shown />
        <FormAlert error=toggle_error />
        <FormAlert error=delete_error />
        <Loaded resource=apps ready=move |list| view! { <AppTable apps=list toggle delete /> } />

        <div class="panels">
            <section class="panel" aria-labelledby="create-title">
                <h2 id="create-title">"Create an app"</h2>
                <p class="panel-help">"Its app secret is shown once, when it is made: only a hash of it is kept."</p>
                <ActionForm action=create node_ref=create_form attr:class="stack" attr:novalidate=true>
                    <FormAlert error=create_error />
                    <Field label="App name" name="name" error=create_error required=true autocomplete="off" />
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let list = tenants.await.unwrap_or_default();
                            view! {
                                <SelectField label="Tenant space" name="tenant_id" error=create_error required=true>
                                    <option value="">"Choose the tenant space"</option>
                                    {list
                                        .into_iter()
                                        .map(|t| view! { <option value=t.id.to_string()>{t.name}</option> })
                                        .collect_view()}
                                </SelectField>
                            }
                        })}
                    </Transition>
                    <Subscriptions error=create_error />
                    <button type="submit" class="button primary" disabled=move || create.pending().get()>
                        "Create app"
                    </button>
                </ActionForm>
            </section>

            <section class="panel" aria-labelledby="reset-title">
                <h2 id="reset-title">"Reset an app's secret"</h2>
                <p class="panel-help">
                    "Makes a new secret, shown once. The previous one keeps working for the overlap, so that a running integration can change over without an outage; 0 ends it at once."
                </p>
                <ActionForm action=reset attr:class="stack" attr:novalidate=true>
                    <FormAlert error=reset_error />
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let list = apps.await.unwrap_or_default();
                            view! {
                                <SelectField label="App" name="app_id" id="reset_app_id" error=reset_error required=true>
                                    {list
                                        .into_iter()
                                        .map(|a| view! { <option value=a.id.to_string()>{format!("{} — {}", a.name, a.tenant_name)}</option> })
                                        .collect_view()}
                                </SelectField>
                            }
                        })}
                    </Transition>
                    <Field
                        label="Overlap (hours)"
                        name="overlap_hours"
                        kind="number"
                        error=reset_error
                        value=DEFAULT_OVERLAP_HOURS.to_string()
                        hint="How long the previous secret still works: 0 to 720 hours (30 days)."
                    />
                    <button type="submit" class="button" disabled=move || reset.pending().get()>
                        "Reset secret"
                    </button>
                </ActionForm>
            </section>
        </div>
    }
}

/// The catalogue as checkboxes (`apis[i]` for the i-th API).
#[component]
fn Subscriptions(error: crate::components::FormError) -> impl IntoView {
    let message = Signal::derive(move || error.get().and_then(|e| e.field_message("apis")));
    view! {
        <fieldset class="field apis" class:invalid=move || message.get().is_some() aria-describedby="apis-error">
            <legend>"Subscribed APIs"</legend>
            {Api::ALL
                .into_iter()
                .enumerate()
                .map(|(i, api)| {
                    let id = format!("api-{}", api.code());
                    let hint = format!("{id}-hint");
                    view! {
                        <div class="check">
                            <input type="checkbox" id=id.clone() name=format!("apis[{i}]") value=api.code() checked=true aria-describedby=hint.clone() />
                            <label for=id><code>{api.code()}</code></label>
                        </div>
                        <p class="hint" id=hint>{api.description()}</p>
                    }
                })
                .collect_view()}
            <p class="field-error" id="apis-error" role="alert">{move || message.get()}</p>
        </fieldset>
    }
}

/// The key and secret of the app just created or reset: shown once.
#[component]
fn SecretShown(shown: RwSignal<Option<AppSecretShown>>) -> impl IntoView {
    move || {
        shown.get().map(|s| {
            let overlap = s.previous_secret_until.clone().map(|u| {
                view! { <p>{format!("The previous secret keeps working until {u}.")}</p> }
            });
            view! {
                <section class="panel secret-once" role="status" aria-labelledby="app-secret-title">
                    <h2 id="app-secret-title">{format!("App secret of {}", s.name)}</h2>
                    <p>"Copy it into the app now: it is not shown again (Switchboard keeps only a hash of it)."</p>
                    <dl class="pairs">
                        <dt>"App key"</dt>
                        <dd><code data-app-key="">{s.app_key.clone()}</code></dd>
                        <dt>"App secret"</dt>
                        <dd><code class="secret" data-app-secret="">{s.app_secret.clone()}</code></dd>
                    </dl>
                    {overlap}
                </section>
            }
        })
    }
}

#[component]
fn AppTable(
    apps: Vec<AppSummary>,
    toggle: ServerAction<SetAppEnabled>,
    delete: ServerAction<DeleteApp>,
) -> impl IntoView {
    view! {
        <DataTable
            caption="Apps"
            class="apps"
            columns=["App", "Tenant space", "App key", "Subscriptions", "Status", "Last token", "Last API call", "Operation"]
            rows=apps
            empty=|| view! { <EmptyState heading="No apps yet" detail="Create one below for a tenant space." /> }
            row=move |a: AppSummary| {
                let (status, next, verb) = if a.enabled {
                    ("Enabled", "false", "Disable")
                } else {
                    ("Disabled", "true", "Enable")
                };
                let label = format!("{verb} {}", a.name);
                let previous = a.previous_secret_until.clone().map(|u| {
                    view! { <p class="hint">{format!("Previous secret works until {u}")}</p> }
                });
                view! {
                    <tr>
                        <th scope="row">{a.name.clone()}</th>
                        <td data-label="Tenant space">{a.tenant_name.clone()}</td>
                        <td data-label="App key"><code>{a.app_key.clone()}</code>{previous}</td>
                        <td data-label="Subscriptions">{subscriptions(&a.apis)}</td>
                        <td data-label="Status"><span class="badge" class:off=!a.enabled>{status}</span></td>
                        <td data-label="Last token">{or_never(&a.last_token)}</td>
                        <td data-label="Last API call">{or_never(&a.last_call)}</td>
                        <td>
                            <div class="row-actions">
                                <ActionForm action=toggle attr:class="inline">
                                    <input type="hidden" name="app_id" value=a.id.to_string() />
                                    <input type="hidden" name="enabled" value=next />
                                    <button type="submit" class="button small" aria-label=label>{verb}</button>
                                </ActionForm>
                                <DeleteRow action=delete id=a.id what=a.name.clone() />
                            </div>
                        </td>
                    </tr>
                }
            }
        />
    }
}

/// The tenant administrator's view: the apps of their tenant space, read-only.
#[component]
pub fn TenantAppsPage() -> impl IntoView {
    let apps = Resource::new(|| (), |_| list_tenant_apps());
    view! {
        <PageHead title="APP Management" crumbs=&["Configuration Center", "API Management", "APP Management"] />
        <p class="page-help">
            "The apps bound to this tenant space: each may get a token with its app key and secret and send messages through this space's channels. A system administrator creates them and resets their secrets. An \u{2018}other\u{2019} channel with Verification Method oAuth can pick one of them, so that no secret is typed."
        </p>
        <section class="panel" aria-labelledby="how-title">
            <h2 id="how-title">"Calling the send API"</h2>
            <ol class="steps-plain">
                <li>
                    "Get a token: " <code>"POST /apigovernance/api/oauth/tokenByAkSk"</code>
                    {format!(" with {{\"app_key\", \"app_secret\"}} (X-Token-Expire up to {MAX_TOKEN_SECONDS} s), or ")}
                    <code>"POST /oauth/token"</code>" with grant_type=client_credentials."
                </li>
                <li>
                    "Send: " <code>"POST /apiaccess/rest/ccmessaging/sendWhatsappMessage"</code>
                    " with Authorization: Bearer and {\"channelId\", \"to\", \"text\"}."
                </li>
                <li>
                    "Follow it: " <code>"GET /apiaccess/rest/ccmessaging/messages/{id}"</code>
                    ", and on the channel's Activity page. "
                    <a href="/apiaccess/rest/ccmessaging/openapi.json">"API description (OpenAPI)"</a>
                </li>
            </ol>
        </section>
        <Loaded
            resource=apps
            ready=move |list| view! {
                <DataTable
                    caption="Apps of this tenant space"
                    class="apps"
                    columns=["App", "App key", "Subscriptions", "Status", "Secret set", "Last token", "Last API call"]
                    rows=list
                    empty=|| view! {
                        <EmptyState heading="No apps yet" detail="A system administrator creates apps for this tenant space on APP Management." />
                    }
                    row=|a: AppSummary| {
                        let previous = a.previous_secret_until.clone().map(|u| {
                            view! { <p class="hint">{format!("Previous secret works until {u}")}</p> }
                        });
                        view! {
                            <tr>
                                <th scope="row">{a.name.clone()}</th>
                                <td data-label="App key"><code>{a.app_key.clone()}</code></td>
                                <td data-label="Subscriptions">{subscriptions(&a.apis)}</td>
                                <td data-label="Status"><span class="badge" class:off=!a.enabled>{if a.enabled { "Enabled" } else { "Disabled" }}</span></td>
                                <td data-label="Secret set">{a.secret_changed.clone()}{previous}</td>
                                <td data-label="Last token">{or_never(&a.last_token)}</td>
                                <td data-label="Last API call">{or_never(&a.last_call)}</td>
                            </tr>
                        }
                    }
                />
            }
        />
    }
}
