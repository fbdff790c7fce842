//! The routing preview on Channel Integration: at a date and time in the tenant's time zone,
//! is it work time, what does a customer get outside it, does a message reach an agent.

use crate::api::channels::PreviewRouting;
use crate::components::{Field, FormAlert, action_error};
use crate::domain::routing::RoutingPreview;
use leptos::prelude::*;

#[component]
pub fn RoutingPreviewPanel(id: i64, time_zone: String) -> impl IntoView {
    let run = ServerAction::<PreviewRouting>::new();
    let error = action_error(run.value());
    let result = move || {
        run.value()
            .get()
            .and_then(Result::ok)
            .map(|p| view! { <PreviewResult p /> })
    };
    view! {
        <section class="panel" aria-labelledby="routing-title">
            <h2 id="routing-title">"Routing preview"</h2>
            <p class="panel-help">
                {format!("What a customer's message meets at a date and time in the tenant's time zone ({time_zone}, set on Service Time). Leave date and time empty for now.")}
            </p>
            <ActionForm action=run attr:class="preview-form" attr:novalidate=true>
                <input type="hidden" name="id" value=id.to_string() />
                <Field label="Date" name="date" id="preview-date" kind="date" error />
                <Field label="Time" name="time" id="preview-time" kind="time" error />
                <div class="field-wrap grow">
                    <Field label="Customer message" name="message" id="preview-message" error hint="Checked against the Keywords for Transfer to Agent." />
                </div>
                <button type="submit" class="button primary" disabled=move || run.pending().get()>
                    "Preview"
                </button>
            </ActionForm>
            <FormAlert error />
            <div role="status" aria-live="polite" class="preview-result">{result}</div>
        </section>
    }
}

#[component]
fn PreviewResult(p: RoutingPreview) -> impl IntoView {
    let (class, headline) = if p.work_time {
        ("test-result ok", "Work time")
    } else {
        ("test-result failed", "Outside work time")
    };
    view! {
        <div class=class>
            <strong>{headline}</strong>
            <dl>
                <dt>"When"</dt>
                <dd>{format!("{} {}, {}", p.date, p.time, p.weekday)}</dd>
                <dt>"Day"</dt>
                <dd>{format!("{}: {}", p.day_kind, p.day_reason)}</dd>
                <dt>"Work time that day"</dt>
                <dd>{p.segments}</dd>
                <dt>"Notification"</dt>
                <dd class="notification">
                    {p.notification.unwrap_or_else(|| if p.work_time { "— (work time)".into() } else { "— (none set)".into() })}
                </dd>
                <dt>"Transfer keyword"</dt>
                <dd>{p.keyword.unwrap_or_else(|| "— (no match)".into())}</dd>
                <dt>"Outcome"</dt>
                <dd class="outcome">{p.outcome}</dd>
            </dl>
            <p class="hint">{p.zone_note}</p>
        </div>
    }
}
