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

/// A field's label, with the required mark when it is required.
#[component]
pub fn FieldLabel(
    #[prop(into)] id: String,
    label: &'static str,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    view! {
        <div class="label-row">
            <label for=id>{label}</label>
            {required.then(|| view! { <span class="required" aria-hidden="true">"*"</span> })}
        </div>
    }
}

/// An input's `aria-describedby`: its hint (`{id}-hint`, when it has one) and, while one is
/// shown, its error (`{id}-error`).
pub fn described_by(
    id: &str,
    has_hint: bool,
    message: Signal<Option<String>>,
) -> impl Fn() -> Option<String> + Clone + Send + Sync + 'static {
    let (hint_id, error_id) = (format!("{id}-hint"), format!("{id}-error"));
    move || {
        let mut ids = Vec::new();
        if has_hint {
            ids.push(hint_id.clone());
        }
        if message.get().is_some() {
            ids.push(error_id.clone());
        }
        (!ids.is_empty()).then(|| ids.join(" "))
    }
}

/// An input's `aria-invalid`: "true" while its error is shown.
pub fn invalid(message: Signal<Option<String>>) -> impl Fn() -> &'static str + Copy + Send + Sync {
    move || {
        if message.get().is_some() {
            "true"
        } else {
            "false"
        }
    }
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
    let (error_id, hint_id) = (format!("{id}-error"), format!("{id}-hint"));
    let described = described_by(id, hint.is_some(), message);
    view! {
        <div class="field" class:invalid=move || message.get().is_some()>
            <FieldLabel id label required />
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                value=value
                placeholder=placeholder
                aria-invalid=invalid(message)
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
    let described = described_by(id, false, message);
    view! {
        <div class="field" class:invalid=move || message.get().is_some()>
            <FieldLabel id label required />
            <select
                id=id
                name=name
                required=required
                aria-invalid=invalid(message)
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
    /// The document title, where it is not the heading.
    #[prop(optional)]
    tab: Option<&'static str>,
    /// A heading that changes with the page's data (`title` is then the document title).
    #[prop(optional, into)]
    heading: Option<Signal<String>>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <leptos_meta::Title text=tab.unwrap_or(title) />
        <Breadcrumbs items=crumbs />
        <div class="page-head">
            <h1>{move || heading.map_or_else(|| title.to_string(), |h| h.get())}</h1>
            {children.map(|actions| view! { <div class="actions">{actions()}</div> })}
        </div>
    }
}

/// The card of the pages before sign-in (sign in, first-run setup): document title, brand,
/// heading, then the children.
#[component]
pub fn AuthCard(title: &'static str, heading: &'static str, children: Children) -> impl IntoView {
    view! {
        <leptos_meta::Title text=title />
        <main class="auth-page">
            <div class="auth-card">
                <p class="brand">"Switchboard"</p>
                <h1>{heading}</h1>
                {children()}
            </div>
        </main>
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

/// A list as a table: a caption for screen readers, one heading per column, one row per item
/// (`row` makes the `<tr>`; its first cell is usually the row's `<th scope="row">`), and
/// `empty` instead of the table when there are no items.
#[component]
pub fn DataTable<T, V, R>(
    caption: &'static str,
    #[prop(into)] columns: Vec<&'static str>,
    rows: Vec<T>,
    row: R,
    #[prop(into)] empty: ViewFn,
    /// Extra classes beside `data` (e.g. `audit`).
    #[prop(optional)]
    class: Option<&'static str>,
    /// The id of a heading that describes the table.
    #[prop(optional)]
    described_by: Option<&'static str>,
) -> impl IntoView
where
    T: 'static,
    V: IntoView + 'static,
    R: Fn(T) -> V + 'static,
{
    if rows.is_empty() {
        return empty.run();
    }
    let class = class.map_or_else(|| "data".to_string(), |c| format!("data {c}"));
    view! {
        <div class="table-wrap">
            <table class=class aria-describedby=described_by>
                <caption class="visually-hidden">{caption}</caption>
                <thead>
                    <tr>
                        {columns.into_iter().map(|c| view! { <th scope="col">{c}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>{rows.into_iter().map(row).collect_view()}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A row's delete (or remove) button that asks first: "Delete OU Sales?" with the action's
/// form (its hidden `id`) and Cancel in place of the button until the person decides.
#[component]
pub fn DeleteRow<A, P>(
    action: ServerAction<A>,
    id: i64,
/// What is deleted, as a person names it ("Sales", "https://api.example.com").
    #[prop(into)]
    what: String,
/// `Delete` or `Remove`.
    #[prop(default = "Delete")]
    verb: &'static str,
) -> impl IntoView
where
    A: serde::de::DeserializeOwned
        + leptos::server_fn::ServerFn<
            Protocol = leptos::server_fn::Http<leptos::server_fn::codec::PostUrl, P>,
        > + Clone
        + Send
        + Sync
        + 'static,
    <<A::Client as leptos::server_fn::client::Client<A::Error>>::Request as leptos::server_fn::request::ClientReq<
        A::Error,
    >>::FormData: From<web_sys::FormData>,
    A::Output: Send + Sync + 'static,
    A::Error: Send + Sync + 'static,
    A::Client: leptos::server_fn::client::Client<A::Error>,
    P: 'static,
{
    let asking = RwSignal::new(false);
    let label = format!("{verb} {what}");
    let question = format!("{label}?");
    // focus follows the person: to Cancel when the question appears (the safe answer, and
    // a screen reader reads the group's label with it), back to the button when it goes
    let (ask, cancel) = (
        NodeRef::<leptos::html::Button>::new(),
        NodeRef::<leptos::html::Button>::new(),
    );
    Effect::new(move |before: Option<bool>| {
        let now = asking.get();
        if before.is_some_and(|b| b != now) {
            request_animation_frame(move || {
                let target = if now { cancel } else { ask };
                if let Some(button) = target.get_untracked() {
                    let _ = button.focus();
                }
            });
        }
        now
    });
    view! {
        <Show
            when=move || asking.get()
            fallback={
                let label = label.clone();
                move || view! {
                    <button
                        type="button"
                        class="button small danger"
                        aria-label=label.clone()
                        node_ref=ask
                        on:click=move |_| asking.set(true)
                    >
                        {verb}
                    </button>
                }
            }
        >
            <span class="confirm" role="group" aria-label=format!("Confirm: {label}")>
                {question.clone()}
                <ActionForm action attr:class="inline">
                    <input type="hidden" name="id" value=id.to_string() />
                    <button type="submit" class="button small danger">{verb}</button>
                </ActionForm>
                <button type="button" class="button small" node_ref=cancel on:click=move |_| asking.set(false)>
                    "Cancel"
                </button>
            </span>
        </Show>
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
    let (error_id, hint_id) = (format!("{id}-error"), format!("{id}-hint"));
    let described = described_by(id, true, error);
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <FieldLabel id label required=true />
            <p class="hint" id=hint_id>{hint}</p>
            <input
                id=id
                name="file"
                type="file"
                accept=accept
                required=true
                aria-invalid=invalid(error)
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
