//! `/config/audit` (the tenant's entries) and `/system/audit` (everyone's): filters in the
//! address (so a filtered view can be linked to, as the channel Edit page does), pages of 50
//! newest first, each entry's field diff behind a disclosure, and the filtered log as `.csv`.

use crate::api::audit::{list_system_audit, list_tenant_audit};
use crate::components::{
    DataTable, DiffTable, EmptyState, ErrorPanel, Field, FormAlert, PageHead, SelectField,
};
use crate::domain::audit::{AuditAction, AuditFilter, ObjectKind};
use crate::error::AppError;
use crate::model::{AuditEntry, AuditPage};
use leptos::prelude::*;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

#[component]
pub fn TenantAuditPage() -> impl IntoView {
    view! { <AuditLog system=false /> }
}

#[component]
pub fn SystemAuditPage() -> impl IntoView {
    view! { <AuditLog system=true /> }
}

#[component]
fn AuditLog(system: bool) -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        query.with(|q| {
            let get = |k: &str| q.get(k).unwrap_or_default();
            AuditFilter {
                actor: get("actor"),
                action: get("action"),
                object: get("object"),
                object_id: get("object_id"),
                from: get("from"),
                to: get("to"),
                before: get("before"),
            }
        })
    });
    let entries = Resource::new(
        move || filter.get(),
        move |f| async move {
            if system {
                list_system_audit(f).await
            } else {
                list_tenant_audit(f).await
            }
        },
    );
    let base = if system {
        "/system/audit"
    } else {
        "/config/audit"
    };
    let crumbs: &'static [&'static str] = if system {
        &["System Administration", "Audit Log"]
    } else {
        &["Configuration Center", "Audit Log"]
    };
    let error: Signal<Option<AppError>> =
        Signal::derive(move || entries.get().and_then(Result::err));
    view! {
        <PageHead title="Audit Log" crumbs>
            <a
                class="button"
                rel="external"
                download="audit-log.csv"
                href=move || format!("{base}.csv?{}", filter.with(|f| f.query_string(None)))
            >
                "Export .csv"
            </a>
        </PageHead>
        <p class="page-help">
            {if system {
                "Every change in every tenant space, and every sign-in. Entries cannot be changed or deleted; they are kept for the retention period the server is configured with."
            } else {
                "Every change in this tenant space, and every sign-in to it. Entries cannot be changed or deleted; they are kept for the retention period the server is configured with."
            }}
        </p>
        // the form shows the filters of the address: a new form (not the old one updated,
        // which would keep what was typed) whenever the address changes
        <For
            each=move || [filter.get()]
            key=|f| f.clone()
            children=move |f| view! { <Filters system=system base=base filter=f error=error /> }
        />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(page) => view! { <Entries page=page system=system base=base filter=filter.get_untracked() /> }.into_any(),
                    Err(AppError::Invalid(_)) => ().into_any(),
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Filters(
    system: bool,
    base: &'static str,
    filter: AuditFilter,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let actions = AuditAction::ALL
        .into_iter()
        .filter(move |a| system || a.is_tenant_action());
    let kinds = ObjectKind::ALL.into_iter();
    let one_object = (!filter.object_id.trim().is_empty()).then(|| filter.object_id.clone());
    let hidden_id = one_object.clone();
    view! {
        <Form method="GET" action=base attr:class="toolbar audit-filters" attr:aria-label="Filter the audit log">
            <Field label="Actor" name="actor" error=error value=filter.actor.clone() placeholder="username" />
            <SelectField label="Action" name="action" error=error>
                <option value="">"All"</option>
                {actions
                    .map(|a| {
                        let selected = filter.action == a.as_str();
                        view! { <option value=a.as_str() selected=selected>{a.label()}</option> }
                    })
                    .collect_view()}
            </SelectField>
            <SelectField label="Object" name="object" error=error>
                <option value="">"All"</option>
                {kinds
                    .map(|k| {
                        let selected = filter.object == k.as_str();
                        view! { <option value=k.as_str() selected=selected>{k.label()}</option> }
                    })
                    .collect_view()}
            </SelectField>
            <Field label="From" name="from" kind="date" error=error value=filter.from.clone() />
            <Field label="To" name="to" kind="date" error=error value=filter.to.clone() />
            {hidden_id.map(|id| view! { <input type="hidden" name="object_id" value=id /> })}
            <div class="field actions-inline">
                <button type="submit" class="button primary">"Apply"</button>
                <A href=base attr:class="button">"Clear"</A>
            </div>
        </Form>
        <FormAlert error=Signal::derive(move || {
            error.get().filter(|e| {
                matches!(e, AppError::Invalid(f) if f.0.iter().any(|x| matches!(x.field.as_str(), "object_id" | "before" | "form")))
            })
        }) />
        {one_object.map(|id| view! {
            <p class="notice visible" role="status">
                {format!("Showing the history of one object (id {id}). ")}
                <A href=base>"Show every entry"</A>
            </p>
        })}
    }
}

#[component]
fn Entries(
    page: AuditPage,
    system: bool,
    base: &'static str,
    filter: AuditFilter,
) -> impl IntoView {
    let newer = (!filter.before.trim().is_empty()).then(|| {
        format!(
            "{base}?{}",
            AuditFilter {
                before: String::new(),
                ..filter.clone()
            }
            .query_string(None)
        )
    });
    let mut columns = vec!["Time", "Actor"];
    if system {
        columns.push("Tenant space");
    }
    columns.extend(["Action", "Object", "Client address", "Changes"]);
    let older = page
        .next_before
        .map(|b| format!("{base}?{}", filter.query_string(Some(b))));
    view! {
        <DataTable
            caption="Audit log entries, newest first"
            class="audit"
            columns=columns
            rows=page.entries
            empty=|| view! { <EmptyState heading="No entries" detail="Nothing recorded matches these filters." /> }
            row=move |e| view! { <Row entry=e system=system /> }
        />
        <nav class="pager" aria-label="Audit log pages">
            {newer.map(|href| view! { <A href=href>"Newest entries"</A> })}
            {older.map(|href| view! { <A href=href>"Older entries"</A> })}
        </nav>
    }
    .into_any()
}

#[component]
fn Row(entry: AuditEntry, system: bool) -> impl IntoView {
    let e = entry;
    let count = e.changes.len();
    let object = match e.object_id {
        Some(id) => format!("{} {} (id {id})", e.object_kind, e.object_name),
        None => format!("{} {}", e.object_kind, e.object_name),
    };
    view! {
        <tr data-action=e.action.clone()>
            <td class="nowrap">{e.at.clone()}</td>
            <td>
                <span class="actor">{e.actor.clone()}</span>
                {(!e.role.is_empty()).then(|| view! { <br /><span class="muted small">{e.role.clone()}</span> })}
            </td>
            {system.then(|| view! { <td>{e.tenant.clone().unwrap_or_else(|| "—".into())}</td> })}
            <td>{e.action_label.clone()}</td>
            <td>{object}</td>
            <td class="nowrap">{e.client.clone()}</td>
            <td>
                {if count == 0 {
                    view! { <span class="muted">"—"</span> }.into_any()
                } else {
                    view! {
                        <details>
                            <summary>{if count == 1 { "1 field".to_string() } else { format!("{count} fields") }}</summary>
                            <DiffTable changes=e.changes />
                        </details>
                    }.into_any()
                }}
            </td>
        </tr>
    }
}
