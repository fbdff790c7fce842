//! `/config/exports`: the tenant's export tasks; refreshes itself while a task runs.

use crate::api::exports::list_exports;
use crate::components::{DataTable, EmptyState, Loaded, PageHead, poll_while};
use crate::model::{ExportStatus, ExportTask};
use leptos::prelude::*;

#[component]
pub fn ExportsPage() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let tasks = Resource::new(move || tick.get(), |_| list_exports());
    // in the browser: look again every two seconds while a task runs
    poll_while(
        move || {
            tasks
                .get_untracked()
                .and_then(Result::ok)
                .is_some_and(|list| list.iter().any(|t| t.status == ExportStatus::Running))
        },
        tick,
        std::time::Duration::from_secs(2),
    );
    view! {
        <PageHead title="Export Tasks" crumbs=&["Configuration Center", "Export Tasks"] />
        <p class="page-help">
            "Exports run in the background: at most 100,000 channels, 2,000 per file. Passwords and keys are never exported."
        </p>
        <Loaded resource=tasks ready=move |list| view! { <TaskTable tasks=list /> } />
    }
}

#[component]
fn TaskTable(tasks: Vec<ExportTask>) -> impl IntoView {
    view! {
        <DataTable
            caption="Export tasks, newest first"
            columns=["Task", "Status", "Records", "Files", "Created", "Finished", "Operation"]
            rows=tasks
            empty=|| view! {
                <EmptyState heading="No export tasks yet" detail="Start one with Export on the Channel Configuration page." />
            }
            row=|t: ExportTask| {
                let status = t.status.as_str();
                let class = match t.status {
                    ExportStatus::Success => "badge",
                    ExportStatus::Running => "badge running",
                    ExportStatus::Failed => "badge failed",
                };
                view! {
                    <tr>
                        <th scope="row">{format!("Export #{}", t.id)}</th>
                        <td><span class=class>{status}</span></td>
                        <td>{t.record_count}</td>
                        <td>{t.file_count}</td>
                        <td>{t.created.clone()}</td>
                        <td>{t.finished.clone().unwrap_or_else(|| "—".into())}</td>
                        <td>
                            {match (t.status, t.file_name.clone(), t.error.clone()) {
                                (ExportStatus::Success, Some(name), _) => view! {
                                    <a
                                        href=format!("/config/exports/{}/download", t.id)
                                        download=name.clone()
                                        rel="external"
                                        aria-label=format!("Download {name}")
                                    >
                                        "Download"
                                    </a>
                                }.into_any(),
                                (ExportStatus::Failed, _, Some(e)) => view! { <span class="failed-reason">{e}</span> }.into_any(),
                                _ => view! { <span class="muted">"Running…"</span> }.into_any(),
                            }}
                        </td>
                    </tr>
                }
            }
        />
    }
}
