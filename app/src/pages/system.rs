//! The system administrator's pages: tenant spaces and the address trustlist.

use crate::api::system::{
    AddTrustPrefix, CreateTenant, RemoveTrustPrefix, ResetAdminPassword, SetTenantDisabled,
    list_tenants, list_trustlist,
};
use crate::components::{
    DataTable, DeleteRow, EmptyState, Field, FormAlert, Loaded, Notice, PageHead, SelectField,
    action_error, reset_on_success, success_notice,
};
use crate::model::{TenantSummary, TrustEntry};
use leptos::prelude::*;

#[component]
pub fn TenantsPage() -> impl IntoView {
    let create = ServerAction::<CreateTenant>::new();
    let reset = ServerAction::<ResetAdminPassword>::new();
    let toggle = ServerAction::<SetTenantDisabled>::new();
    let tenants = Resource::new(
        move || {
            (
                create.version().get(),
                reset.version().get(),
                toggle.version().get(),
            )
        },
        |_| list_tenants(),
    );
    let create_form = NodeRef::<leptos::html::Form>::new();
    let reset_form = NodeRef::<leptos::html::Form>::new();
    reset_on_success(create.value(), create_form);
    reset_on_success(reset.value(), reset_form);
    let create_error = action_error(create.value());
    let reset_error = action_error(reset.value());
    let toggle_error = action_error(toggle.value());

    view! {
        <PageHead title="Tenant Spaces" crumbs=&["System", "Tenant Spaces"] />
        <FormAlert error=toggle_error />
        <Loaded resource=tenants ready=move |list| view! { <TenantTable tenants=list toggle /> } />

        <div class="panels">
            <section class="panel" aria-labelledby="create-title">
                <h2 id="create-title">"Create a tenant space"</h2>
                <p class="panel-help">
                    "Creates the tenant space together with its first tenant administrator."
                </p>
                <ActionForm action=create node_ref=create_form attr:class="stack" attr:novalidate=true>
                    <FormAlert error=create_error />
                    <Field label="Tenant space name" name="name" error=create_error required=true />
                    <Field
                        label="Administrator username"
                        name="admin_username"
                        error=create_error
                        autocomplete="off"
                        required=true
                    />
                    <Field
                        label="Administrator password"
                        name="admin_password"
                        kind="password"
                        error=create_error
                        autocomplete="new-password"
                        required=true
                        hint="At least 8 characters. Give it to the administrator over a safe channel."
                    />
                    <button type="submit" class="button primary" disabled=move || create.pending().get()>
                        "Create tenant space"
                    </button>
                    <Notice message=success_notice(create.value(), "Tenant space created.") />
                </ActionForm>
            </section>

            <section class="panel" aria-labelledby="reset-title">
                <h2 id="reset-title">"Reset an administrator's password"</h2>
                <p class="panel-help">
                    "Sets a new password and signs the administrator out everywhere."
                </p>
                <ActionForm action=reset node_ref=reset_form attr:class="stack" attr:novalidate=true>
                    <FormAlert error=reset_error />
                    // the whole select re-renders with its options: markers of a suspense
                    // inside <select> do not survive the HTML parser (hydration would fail)
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let options = tenants
                                .await
                                .unwrap_or_default()
                                .into_iter()
                                .flat_map(|t| {
                                    t.admins
                                        .into_iter()
                                        .map(move |a| (a.user_id, format!("{} — {}", a.username, t.name)))
                                        .collect::<Vec<_>>()
                                })
                                .collect::<Vec<_>>();
                            view! {
                                <SelectField label="Tenant administrator" name="user_id" error=reset_error required=true>
                                    {options
                                        .into_iter()
                                        .map(|(id, label)| view! { <option value=id.to_string()>{label}</option> })
                                        .collect_view()}
                                </SelectField>
                            }
                        })}
                    </Transition>
                    <Field
                        label="New password"
                        name="new_password"
                        kind="password"
                        error=reset_error
                        autocomplete="new-password"
                        required=true
                    />
                    <button type="submit" class="button" disabled=move || reset.pending().get()>
                        "Reset password"
                    </button>
                    <Notice message=success_notice(
                        reset.value(),
                        "Password reset. The administrator was signed out everywhere.",
                    ) />
                </ActionForm>
            </section>
        </div>
    }
}

#[component]
fn TenantTable(
    tenants: Vec<TenantSummary>,
    toggle: ServerAction<SetTenantDisabled>,
) -> impl IntoView {
    view! {
        <DataTable
            caption="Tenant spaces"
            columns=["Tenant space", "Administrators", "Status", "Created", "Operation"]
            rows=tenants
            empty=|| view! { <EmptyState heading="No tenant spaces yet" detail="Create the first one below." /> }
            row=move |t: TenantSummary| {
                let admins = t
                    .admins
                    .iter()
                    .map(|a| a.username.clone())
                    .collect::<Vec<_>>()
                    .join(", ");
                let (status, next, verb) = if t.disabled {
                    ("Disabled", "false", "Enable")
                } else {
                    ("Active", "true", "Disable")
                };
                let label = format!("{verb} {}", t.name);
                view! {
                    <tr>
                        <th scope="row">{t.name.clone()}</th>
                        <td>{admins}</td>
                        <td>
                            <span class="badge" class:off=t.disabled>{status}</span>
                        </td>
                        <td>{t.created.clone()}</td>
                        <td>
                            <ActionForm action=toggle attr:class="inline">
                                <input type="hidden" name="tenant_id" value=t.id.to_string() />
                                <input type="hidden" name="disabled" value=next />
                                <button type="submit" class="button small" aria-label=label>
                                    {verb}
                                </button>
                            </ActionForm>
                        </td>
                    </tr>
                }
            }
        />
    }
}

#[component]
pub fn TrustlistPage() -> impl IntoView {
    let add = ServerAction::<AddTrustPrefix>::new();
    let remove = ServerAction::<RemoveTrustPrefix>::new();
    let entries = Resource::new(
        move || (add.version().get(), remove.version().get()),
        |_| list_trustlist(),
    );
    let tenants = Resource::new(|| (), |_| list_tenants());
    let add_form = NodeRef::<leptos::html::Form>::new();
    reset_on_success(add.value(), add_form);
    let add_error = action_error(add.value());
    let remove_error = action_error(remove.value());

    view! {
        <PageHead title="Address Trustlist" crumbs=&["System", "Address Trustlist"] />
        <p class="page-help">
            "A channel's BaseUrl must start with one of these prefixes. Global prefixes apply to every tenant space."
        </p>
        <FormAlert error=remove_error />
        <Loaded resource=entries ready=move |list| view! { <TrustTable entries=list remove /> } />
        <section class="panel" aria-labelledby="add-title">
            <h2 id="add-title">"Add a prefix"</h2>
            <ActionForm action=add node_ref=add_form attr:class="stack" attr:novalidate=true>
                <FormAlert error=add_error />
                <Field
                    label="BaseUrl prefix"
                    name="prefix"
                    error=add_error
                    required=true
                    placeholder="https://api.example.com"
                    hint="An https:// address; paths below it are allowed too."
                />
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let list = tenants.await.unwrap_or_default();
                        view! {
                            <SelectField label="Scope" name="scope" error=add_error required=true>
                                <option value="global">"Global (all tenant spaces)"</option>
                                {list
                                    .into_iter()
                                    .map(|t| view! { <option value=t.id.to_string()>{t.name}</option> })
                                    .collect_view()}
                            </SelectField>
                        }
                    })}
                </Transition>
                <div class="field">
                    <div class="check">
                        <input type="checkbox" id="allow_private" name="allow_private" value="on" aria-describedby="allow_private-hint" />
                        <label for="allow_private">"Allow private network addresses"</label>
                    </div>
                    <p class="hint" id="allow_private-hint">
                        "Calls to addresses under this prefix may reach loopback, private and link-local addresses: tick it only for a BSP on your internal network (such as the \u{2018}other\u{2019} BSP's https://IP:port/apiaccess/rest/ccmessaging)."
                    </p>
                </div>
                <button type="submit" class="button primary" disabled=move || add.pending().get()>
                    "Add prefix"
                </button>
                <Notice message=success_notice(add.value(), "Prefix added.") />
            </ActionForm>
        </section>
    }
}

#[component]
fn TrustTable(entries: Vec<TrustEntry>, remove: ServerAction<RemoveTrustPrefix>) -> impl IntoView {
    view! {
        <DataTable
            caption="Address trustlist"
            columns=["Prefix", "Scope", "Private network addresses", "Added", "Operation"]
            rows=entries
            empty=|| view! {
                <EmptyState heading="No prefixes yet" detail="Until a prefix is added, no channel BaseUrl is allowed." />
            }
            row=move |e: TrustEntry| {
                let scope = e.tenant_name.clone().unwrap_or_else(|| "Global".into());
                view! {
                    <tr>
                        <th scope="row"><code>{e.prefix.clone()}</code></th>
                        <td>{scope}</td>
                        <td>{if e.allow_private { "Allowed" } else { "No" }}</td>
                        <td>{e.created.clone()}</td>
                        <td><DeleteRow action=remove id=e.id what=e.prefix verb="Remove" /></td>
                    </tr>
                }
            }
        />
    }
}
