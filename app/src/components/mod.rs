//! Shared widgets: labelled fields with inline errors, alerts, breadcrumbs, page headers.

use crate::error::AppError;
use leptos::prelude::*;

pub mod nav;

/// The last error of a form's action, if its last run failed.
pub type FormError = Signal<Option<AppError>>;

/// The error of an action's last run, as a signal the form's widgets read.
pub fn action_error<T, S>(value: S) -> FormError
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(Result::err))
}

/// Clears a form after its action succeeded, so the next entry starts empty; a failed run
/// keeps everything that was typed.
pub fn reset_on_success<T, S>(value: S, form: NodeRef<leptos::html::Form>)
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if matches!(value.get(), Some(Ok(_)))
            && let Some(form) = form.get_untracked()
        {
            form.reset();
        }
    });
}

pub fn success_notice<T, S>(value: S, message: &'static str) -> Signal<Option<String>>
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || matches!(value.get(), Some(Ok(_))).then(|| message.to_string()))
}

/// The message for `field` in the form's last error.
fn field_message(error: FormError, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || error.get().and_then(|e| e.field_message(field)))
}

/// A labelled input with its inline error. `name` is the server function's argument.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    error: FormError,
    /// The element id; defaults to the name. Needed when two forms on a page share a name.
    #[prop(optional)]
    id: Option<&'static str>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional, into)] value: Option<String>,
    #[prop(optional)] placeholder: Option<&'static str>,
) -> impl IntoView {
    let id = id.unwrap_or(name);
    let message = field_message(error, name);
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if message.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:invalid=move || message.get().is_some()>
            <div class="label-row">
                <label for=id>{label}</label>
                {required.then(|| view! { <span class="required" aria-hidden="true">"*"</span> })}
            </div>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                value=value
                placeholder=placeholder
                aria-invalid=move || if message.get().is_some() { "true" } else { "false" }
                aria-describedby=described
            />
            <p class="field-error" id=error_id role="alert">
                {move || message.get()}
            </p>
        </div>
    }
}

/// A labelled select with its inline error.
#[component]
pub fn SelectField(
    label: &'static str,
    name: &'static str,
    error: FormError,
    #[prop(optional)] id: Option<&'static str>,
    #[prop(optional)] required: bool,
    children: Children,
) -> impl IntoView {
    let id = id.unwrap_or(name);
    let message = field_message(error, name);
    let error_id = format!("{id}-error");
    let described = {
        let error_id = error_id.clone();
        move || message.get().is_some().then(|| error_id.clone())
    };
    view! {
        <div class="field" class:invalid=move || message.get().is_some()>
            <div class="label-row">
                <label for=id>{label}</label>
                {required.then(|| view! { <span class="required" aria-hidden="true">"*"</span> })}
            </div>
            <select
                id=id
                name=name
                required=required
                aria-invalid=move || if message.get().is_some() { "true" } else { "false" }
                aria-describedby=described
            >
                {children()}
            </select>
            <p class="field-error" id=error_id role="alert">
                {move || message.get()}
            </p>
        </div>
    }
}

/// The form-level message of an error that is not about one field (wrong password, throttled,
/// conflict, internal fault).
#[component]
pub fn FormAlert(error: FormError) -> impl IntoView {
    let message = move || {
        error.get().and_then(|e| match e {
            AppError::Invalid(errors) => errors.get("form").map(str::to_owned),
            other => Some(other.to_string()),
        })
    };
    view! {
        <div class="form-alert" role="alert" class:visible=move || message().is_some()>
            {message}
        </div>
    }
}

/// A success notice shown after an action succeeded.
#[component]
pub fn Notice(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div class="notice" role="status" class:visible=move || message.get().is_some()>
            {move || message.get()}
        </div>
    }
}

/// The trail above a page's title; the last item is the current page.
#[component]
pub fn Breadcrumbs(items: &'static [&'static str]) -> impl IntoView {
    let last = items.len().saturating_sub(1);
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <ol>
                {items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        view! {
                            <li aria-current=(i == last).then_some("page")>{*item}</li>
                        }
                    })
                    .collect_view()}
            </ol>
        </nav>
    }
}

/// A page's head: its document title, breadcrumbs (`crumbs`, the last is the page), its
/// heading and, beside it, its actions (the children).
#[component]
pub fn PageHead(
    title: &'static str,
    crumbs: &'static [&'static str],
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <leptos_meta::Title text=title />
        <Breadcrumbs items=crumbs />
        <div class="page-head">
            <h1>{title}</h1>
            {children.map(|actions| view! { <div class="actions">{actions()}</div> })}
        </div>
    }
}

/// A resource on a page: "Loading…" until it first arrives (what was shown stays while it
/// reloads), its error in an [`ErrorPanel`], else what `ready` makes of it.
#[component]
pub fn Loaded<T, V, F>(resource: Resource<Result<T, AppError>>, ready: F) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
{
    let ready = std::sync::Arc::new(ready);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let ready = ready.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(value) => ready(value).into_any(),
                        Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// What a list shows when it has nothing in it.
#[component]
pub fn EmptyState(heading: &'static str, detail: &'static str) -> impl IntoView {
    view! {
        <section class="empty-state">
            <h2>{heading}</h2>
            <p>{detail}</p>
        </section>
    }
}

/// An error panel for a page whose data could not be loaded.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    view! {
        <div class="error-panel" role="alert">
            <p>{error.to_string()}</p>
        </div>
    }
}

/// `OK`, `Attention` or `Failing`, coloured; the reasons in its title.
#[component]
pub fn HealthBadge(health: crate::domain::health::Health) -> impl IntoView {
    use crate::domain::health::HealthLevel;
    let class = match health.level {
        HealthLevel::Ok => "badge",
        HealthLevel::Attention => "badge attention",
        HealthLevel::Failing => "badge failed",
    };
    let title = health
        .reasons
        .iter()
        .map(|r| r.message.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    view! { <span class=class title=title>{health.level.label()}</span> }
}

/// A channel's health with each reason and the link that fixes it.
#[component]
pub fn HealthPanel(channel_id: i64, health: crate::domain::health::Health) -> impl IntoView {
    let reasons = health.reasons.clone();
    view! {
        <section class="panel health" aria-labelledby="health-heading">
            <h2 id="health-heading">"Health " <HealthBadge health=health.clone() /></h2>
            {if reasons.is_empty() {
                view! { <p class="panel-help">"Nothing needs attention."</p> }.into_any()
            } else {
                view! {
                    <ul class="health-reasons">
                        {reasons
                            .into_iter()
                            .map(|r| {
                                view! {
                                    <li class=format!("level-{}", r.level.label().to_lowercase())>
                                        <span class="reason">{r.message}</span>
                                        " "
                                        <a href=r.fix.href(channel_id)>{r.fix.label()}</a>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

/// A field-level diff: Field / Before / After, secret rows (no values, only "set" or
/// "changed") in italics.
#[component]
pub fn DiffTable(changes: Vec<crate::domain::audit::FieldChange>) -> impl IntoView {
    view! {
        <table class="diff">
            <thead>
                <tr>
                    <th scope="col">"Field"</th>
                    <th scope="col">"Before"</th>
                    <th scope="col">"After"</th>
                </tr>
            </thead>
            <tbody>
                {changes
                    .into_iter()
                    .map(|c| view! {
                        <tr class:secret=c.secret>
                            <th scope="row">{c.field}</th>
                            <td class="before">{c.before}</td>
                            <td class="after">{c.after}</td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// Bumps `tick` every `every` while `running` says so (in the browser only): a page whose
/// resource reads `tick` refreshes itself while its task runs.
pub fn poll_while(
    running: impl Fn() -> bool + Copy + 'static,
    tick: RwSignal<u32>,
    every: std::time::Duration,
) {
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if running() {
                    tick.update(|t| *t += 1);
                }
            },
            every,
        ) {
            on_cleanup(move || handle.clear());
        }
    });
}

/// A required file input named `file` with its hint and inline error (`{id}-hint`,
/// `{id}-error`), for multipart uploads.
#[component]
pub fn FileField(
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    accept: &'static str,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            if error.get().is_some() {
                format!("{hint_id} {error_id}")
            } else {
                hint_id.clone()
            }
        }
    };
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <div class="label-row">
                <label for=id>{label}</label>
                <span class="required" aria-hidden="true">"*"</span>
            </div>
            <p class="hint" id=hint_id>{hint}</p>
            <input
                id=id
                name="file"
                type="file"
                accept=accept
                required=true
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=described
            />
            <p class="field-error" id=error_id role="alert">{move || error.get()}</p>
        </div>
    }
}

/// The submit handler of a multipart form: the browser's `FormData` goes to `action` as it is
/// (a file upload), instead of the browser's own submission.
pub fn submit_multipart<O: 'static>(
    action: Action<web_sys::FormData, O>,
) -> impl Fn(web_sys::SubmitEvent) + Copy + 'static {
    use wasm_bindgen::JsCast;
    move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
        else {
            return;
        };
        if let Ok(data) = web_sys::FormData::new_with_form(&form) {
            action.dispatch_local(data);
        }
    }
}
