//! `/config/channels/import`: upload an edited export and see the latest imports;
//! `/config/channels/import/:id`: one import's dry run (progress while it runs, then the rows
//! by outcome, paged) and Apply.

use crate::api::imports::{apply_import, get_import, import_channels, list_imports};
use crate::components::{
    DataTable, DiffTable, EmptyState, FileField, FormAlert, Loaded, PageHead, action_error,
    poll_while, submit_multipart,
};
use crate::domain::import::{ImportStatus, RowOutcome, can_apply};
use crate::model::{ImportRowView, ImportSummary, ImportView, PageAt, PageKey};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use web_sys::FormData;

fn status_badge(status: ImportStatus) -> impl IntoView {
    let class = match status {
        ImportStatus::Checking | ImportStatus::Applying => "badge running",
        ImportStatus::Failed => "badge failed",
        ImportStatus::Checked | ImportStatus::Applied => "badge",
    };
    view! { <span class=class>{status.label()}</span> }
}

#[component]
pub fn ImportsPage() -> impl IntoView {
    let upload = Action::new_local(|data: &FormData| import_channels(data.clone().into()));
    let upload_error = action_error(upload.value());
    let tick = RwSignal::new(0u32);
    let imports = Resource::new(move || tick.get(), |_| list_imports());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = upload.value().get() {
            navigate(&format!("/config/channels/import/{id}"), Default::default());
        }
    });
    poll_while(
        move || {
            imports
                .get_untracked()
                .and_then(Result::ok)
                .is_some_and(|l| l.iter().any(|i| i.status.is_running()))
        },
        tick,
        std::time::Duration::from_secs(1),
    );
    let on_submit = submit_multipart(upload);
    let file_error =
        Signal::derive(move || upload_error.get().and_then(|e| e.field_message("file")));
    view! {
        <PageHead title="Import Channels" crumbs=&["Configuration Center", "Access Configuration", "Channel Configuration", "Import"]>
            <A href="/config/channels" attr:class="button">"Back to channels"</A>
        </PageHead>
        <p class="page-help">
            "Change many channels at once: export them, edit the Basic Configuration and Robot Configuration columns in Excel or LibreOffice, and import the file here. Rows are matched to channels by Channel Name. A dry run shows every change first; nothing is saved until you apply it, and Apply saves all of the changes or none. Provider credentials are not in the file and never change."
        </p>
        <section class="panel" aria-labelledby="import-title">
            <h2 id="import-title">"Check a file"</h2>
            <form
                class="stack"
                novalidate=true
                method="post"
                action="/api/import_channels"
                enctype="multipart/form-data"
                on:submit=on_submit
            >
                <FormAlert error=upload_error />
                <FileField
                    id="import-file"
                    label="Edited export"
                    hint="The .xlsx (or the .zip of .xlsx files) that Export produced: at most 20 MiB and 100,000 channels."
                    accept=".xlsx,.zip"
                    error=file_error
                />
                <button type="submit" class="button primary" disabled=move || upload.pending().get()>
                    "Check (dry run)"
                </button>
            </form>
        </section>
        <Loaded resource=imports ready=move |list| view! { <ImportList imports=list /> } />
    }
}

#[component]
fn ImportList(imports: Vec<ImportSummary>) -> impl IntoView {
    view! {
        {(!imports.is_empty()).then(|| view! { <h2 class="list-title">"Latest imports"</h2> })}
        <DataTable
            caption="Latest imports, newest first"
            columns=["Import", "File", "Status", "Rows", "Changed", "Errors", "Unknown", "Created"]
            rows=imports
            empty=|| view! {
                <EmptyState heading="No imports yet" detail="Check a file above to see what it would change." />
            }
            row=|i: ImportSummary| view! {
                <tr>
                    <th scope="row">
                        <A href=format!("/config/channels/import/{}", i.id)>{format!("Import #{}", i.id)}</A>
                    </th>
                    <td>{i.file_name.clone()}</td>
                    <td>{status_badge(i.status)}</td>
                    <td>{i.rows_read}</td>
                    <td>{i.counts.changed}</td>
                    <td>{i.counts.errors}</td>
                    <td>{i.counts.unknown}</td>
                    <td class="nowrap">{i.created.clone()}</td>
                </tr>
            }
        />
    }
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| {
        params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0))
    });
    // the page is named by a row's place in the file: `?after=`, `?before=` or `?at=last`
    let filter = Memo::new(move |_| {
        query.with(|q| {
            let key = |v: String| PageKey(format!("r:{v}"));
            let at = match (q.get("after"), q.get("before"), q.get("at").as_deref()) {
                (Some(a), _, _) => PageAt::After(key(a)),
                (_, Some(b), _) => PageAt::Before(key(b)),
                (_, _, Some("last")) => PageAt::Last,
                _ => PageAt::First,
            };
            (q.get("outcome").unwrap_or_default(), at)
        })
    });
    let tick = RwSignal::new(0u32);
    let apply = Action::new(|id: &i64| apply_import(*id));
    let apply_error = action_error(apply.value());
    let view_of = Resource::new(
        move || (id.get(), filter.get(), tick.get(), apply.version().get()),
        |(id, (outcome, at), _, _)| get_import(id, outcome, at),
    );
    poll_while(
        move || {
            view_of
                .get_untracked()
                .and_then(Result::ok)
                .is_some_and(|v| v.summary.status.is_running())
        },
        tick,
        std::time::Duration::from_secs(1),
    );
    view! {
        <PageHead
            title="Import"
            heading=Signal::derive(move || format!("Import #{}", id.get()))
            crumbs=&["Configuration Center", "Access Configuration", "Channel Configuration", "Import"]
        >
            <A href="/config/channels/import" attr:class="button">"All imports"</A>
        </PageHead>
        <FormAlert error=apply_error />
        <Loaded resource=view_of ready=move |v| view! { <ImportDetail view=v apply=apply /> } />
    }
}

#[component]
fn ImportDetail(
    view: ImportView,
    apply: Action<i64, Result<(), crate::error::AppError>>,
) -> impl IntoView {
    let s = view.summary.clone();
    let id = s.id;
    let base = format!("/config/channels/import/{id}");
    let progress = match s.status {
        ImportStatus::Checking => Some(format!(
            "Checking the file… {} rows read so far.",
            s.rows_read
        )),
        ImportStatus::Applying => Some(format!(
            "Applying {} changes in one transaction…",
            s.counts.changed
        )),
        _ => None,
    };
    let verdict = can_apply(s.status, &s.counts);
    let outcome_code = view.outcome.map(|o| o.as_str()).unwrap_or("");
    let tabs = std::iter::once((None, "All rows".to_string(), s.rows_read))
        .chain(
            RowOutcome::ALL
                .into_iter()
                .map(|o| (Some(o), o.label().to_string(), s.counts.of(o))),
        )
        .map(|(o, label, n)| {
            let code = o.map(|o| o.as_str()).unwrap_or("");
            let current = code == outcome_code;
            let href = if code.is_empty() {
                base.clone()
            } else {
                format!("{base}?outcome={code}")
            };
            view! {
                <A href=href attr:class=if current { "tab current" } else { "tab" } attr:aria-current=current.then_some("page")>
                    {format!("{label} ({n})")}
                </A>
            }
        })
        .collect_view();
    let link = move |place: &str| {
        if outcome_code.is_empty() {
            format!("/config/channels/import/{id}?{place}")
        } else {
            format!("/config/channels/import/{id}?outcome={outcome_code}&{place}")
        }
    };
    let seq = |k: &Option<PageKey>| {
        k.as_ref()
            .and_then(|k| k.0.strip_prefix("r:").map(str::to_owned))
            .unwrap_or_default()
    };
    let first = view.has_previous.then(|| link("at=first"));
    let previous = view
        .has_previous
        .then(|| link(&format!("before={}", seq(&view.first))));
    let next = view
        .has_next
        .then(|| link(&format!("after={}", seq(&view.last))));
    let last = view.has_next.then(|| link("at=last"));
    let shown = match view.total {
        1 => "1 row".to_owned(),
        n => format!("{n} rows"),
    };
    view! {
        <section class="panel import-summary" aria-labelledby="summary-title">
            <h2 id="summary-title">
                {s.file_name.clone()} " " {status_badge(s.status)}
            </h2>
            <dl class="facts">
                <dt>"Rows read"</dt><dd>{s.rows_read}</dd>
                <dt>"Changed"</dt><dd>{s.counts.changed}</dd>
                <dt>"Unchanged"</dt><dd>{s.counts.unchanged}</dd>
                <dt>"Errors"</dt><dd>{s.counts.errors}</dd>
                <dt>"Unknown channels"</dt><dd>{s.counts.unknown}</dd>
                <dt>"Uploaded"</dt><dd>{s.created.clone()}</dd>
            </dl>
            {progress.map(|p| view! { <p class="notice visible" role="status">{p}</p> })}
            {s.error.clone().map(|e| view! { <p class="form-alert" role="alert">{e}</p> })}
            {match (s.status, verdict) {
                (ImportStatus::Applied, _) => view! {
                    <p class="notice visible" role="status">
                        {format!("Applied: {} channels changed. ", s.counts.changed)}
                        <A href="/config/audit?action=channel_imported">"See them in the audit log"</A>
                    </p>
                }.into_any(),
                (_, Ok(())) => view! {
                    <div class="actions">
                        <button
                            type="button"
                            class="button primary"
                            disabled=move || apply.pending().get()
                            on:click=move |_| { apply.dispatch(id); }
                        >
                            {match s.counts.changed {
                                1 => "Apply 1 change".to_string(),
                                n => format!("Apply {n} changes"),
                            }}
                        </button>
                        <span class="muted">"All of them are saved in one transaction, or none."</span>
                    </div>
                }.into_any(),
                (ImportStatus::Checked, Err(why)) => view! { <p class="muted">{why}</p> }.into_any(),
                _ => ().into_any(),
            }}
        </section>
        <nav class="tabs" aria-label="Rows by outcome">{tabs}</nav>
        {
            let has_rows = !view.rows.is_empty();
            view! {
                <DataTable
                    caption="Rows of the file, in sheet order"
                    class="import-rows"
                    columns=["Row", "Channel", "Outcome", "Details"]
                    rows=view.rows
                    empty=|| view! { <EmptyState heading="No rows" detail="No row of this file has this outcome." /> }
                    row=|r| view! { <Row row=r /> }
                />
                {has_rows.then(|| view! {
                    <nav class="pager" aria-label="Pages">
                        {first.map(|h| view! { <A href=h attr:class="button">"First page"</A> })}
                        {previous.map(|h| view! { <A href=h attr:class="button">"Previous page"</A> })}
                        <span class="muted">{shown}</span>
                        {next.map(|h| view! { <A href=h attr:class="button">"Next page"</A> })}
                        {last.map(|h| view! { <A href=h attr:class="button">"Last page"</A> })}
                    </nav>
                })}
            }
        }
    }
}

#[component]
fn Row(row: ImportRowView) -> impl IntoView {
    let place = match &row.file {
        Some(f) => format!("{f}, row {}", row.row),
        None => format!("Row {}", row.row),
    };
    let channel = match row.channel_id {
        Some(id) => {
            view! { <A href=format!("/config/channels/{id}/edit")>{row.channel_name.clone()}</A> }
                .into_any()
        }
        None => view! { <span>{row.channel_name.clone()}</span> }.into_any(),
    };
    let class = match row.outcome {
        RowOutcome::Changed => "badge running",
        RowOutcome::Error | RowOutcome::Unknown => "badge failed",
        RowOutcome::Unchanged => "badge muted",
    };
    let details = match row.outcome {
        RowOutcome::Changed => view! { <DiffTable changes=row.changes /> }.into_any(),
        RowOutcome::Error => view! {
            <ul class="cell-errors">
                {row.errors
                    .into_iter()
                    .map(|e| {
                        let at = match e.cell {
                            Some(cell) => format!("{cell} ({})", e.column),
                            None => e.column,
                        };
                        view! { <li><strong>{at}</strong>": "{e.message}</li> }
                    })
                    .collect_view()}
            </ul>
        }.into_any(),
        RowOutcome::Unknown => view! {
            <span>"No channel of this tenant space has this name: an import changes existing channels only."</span>
        }.into_any(),
        RowOutcome::Unchanged => view! { <span class="muted">"Nothing to change."</span> }.into_any(),
    };
    view! {
        <tr>
            <td class="nowrap">{place}</td>
            <th scope="row">{channel}</th>
            <td><span class=class>{row.outcome.label()}</span></td>
            <td>{details}</td>
        </tr>
    }
}
