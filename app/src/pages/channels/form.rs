//! The Configure Channel form, for a new channel (`/config/channels/new`) and for edit
//! (`/config/channels/{id}/edit`). The browser checks every field with the same
//! `ChannelDraft::validate` the server runs; the server's answer is shown the same way.

use crate::api::channels::{create_channel, get_channel, get_channel_options, update_channel};
use crate::components::{ErrorPanel, FieldLabel, PageHead, described_by, invalid};
use crate::domain::channel::{
    ChannelDraft, ProviderField, ProviderKind, SavedFor, SecretField, ValidationContext,
    VerificationMethod,
};
use crate::domain::worktime::SegmentInput;
use crate::domain::{CertificateKind, FieldErrors, TrustPrefix};
use crate::error::AppError;
use crate::model::ChannelFormOptions;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

type GetFn = fn(&ChannelDraft) -> String;
type PutFn = fn(&mut ChannelDraft, String);

fn new_draft() -> ChannelDraft {
    ChannelDraft {
        provider: "infobip".into(),
        verification_method: "basic".into(),
        workday: vec![SegmentInput::new("09:00", "18:00")],
        non_workday: vec![SegmentInput::new("09:00", "18:00")],
        offline_limit_minutes: "30".into(),
        ..ChannelDraft::default()
    }
}

#[component]
pub fn NewChannelPage() -> impl IntoView {
    let options = Resource::new(|| (), |_| get_channel_options());
    let create = Action::new(|d: &ChannelDraft| create_channel(d.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = create.value().get() {
            navigate(
                &format!("/config/channels/{id}/integration"),
                Default::default(),
            );
        }
    });
    let server_error = Signal::derive(move || create.value().get().and_then(Result::err));
    let pending = create.pending();
    view! {
        <PageHead title="Configure Channel" crumbs=&["Configuration Center", "Access Configuration", "Channel Configuration", "Configure Channel"] />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match options.await {
                    Ok(options) => view! {
                        <ChannelForm
                            initial=new_draft()
                            configured=vec![]
                            options
                            submit_label="The next step"
                            server_error
                            pending=pending.into()
                            on_submit=Callback::new(move |d: ChannelDraft| { create.dispatch(d); })
                        />
                    }.into_any(),
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn EditChannelPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let data = Resource::new(id, |id| async move {
        Ok::<_, AppError>((get_channel(id).await?, get_channel_options().await?))
    });
    let update = Action::new(|(id, version, d): &(i64, i64, ChannelDraft)| {
        update_channel(*id, *version, d.clone())
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = update.value().get() {
            navigate("/config/channels", Default::default());
        }
    });
    let server_error = Signal::derive(move || update.value().get().and_then(Result::err));
    let pending = update.pending();
    view! {
        <PageHead title="Edit Channel" crumbs=&["Configuration Center", "Access Configuration", "Channel Configuration", "Edit Channel"]>
            <leptos_router::components::A
                href=move || format!("/config/audit?object=channel&object_id={}", id())
                attr:class="button"
            >
                "History"
            </leptos_router::components::A>
        </PageHead>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((channel, options)) => {
                        let (id, version) = (channel.id, channel.version);
                        let health = channel.health.clone();
                        view! {
                            <crate::components::HealthPanel channel_id=id health />
                            <ChannelForm
                                initial=channel.draft
                                configured=channel.configured
                                options
                                submit_label="Save"
                                server_error
                                pending=pending.into()
                                on_submit=Callback::new(move |d: ChannelDraft| { update.dispatch((id, version, d)); })
                            />
                            <super::prove::TestConnectionPanel id />
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ChannelForm(
    initial: ChannelDraft,
    configured: Vec<SecretField>,
    options: ChannelFormOptions,
    submit_label: &'static str,
    server_error: Signal<Option<AppError>>,
    pending: Signal<bool>,
    on_submit: Callback<ChannelDraft>,
) -> impl IntoView {
    let saved_for = (!configured.is_empty()).then(|| SavedFor::of(&initial));
    let mut initial = initial;
    // an oAuth channel whose UserName is the key of one of the space's apps picked that app
    if initial.oauth_app_id.is_empty()
        && let Some(app) = options
            .apps
            .iter()
            .find(|a| a.app_key == initial.username.trim())
    {
        initial.oauth_app_id = app.id.to_string();
    }
    let draft = RwSignal::new(initial);
    let errors = RwSignal::new(FieldErrors::new());
    let form_message = RwSignal::new(None::<String>);
    Effect::new(move |_| match server_error.get() {
        Some(AppError::Invalid(e)) => {
            form_message.set(e.get("form").map(str::to_owned).or_else(|| {
                Some("Some fields need attention: see the messages next to them.".into())
            }));
            errors.set(e);
        }
        Some(other) => form_message.set(Some(other.to_string())),
        None => {}
    });
    let context = ValidationContext {
        trust: options
            .trust
            .iter()
            .filter_map(|p| TrustPrefix::parse(p).ok())
            .collect(),
        configured: configured.clone(),
        today: options.today.clone(),
        apps: options
            .apps
            .iter()
            .map(|a| (a.id, a.app_key.clone()))
            .collect(),
        saved_for,
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let d = draft.get_untracked();
        match d.validate(&context) {
            Ok(_) => {
                errors.set(FieldErrors::new());
                form_message.set(None);
                on_submit.run(d);
            }
            Err(e) => {
                form_message.set(Some(
                    "Some fields need attention: see the messages next to them.".into(),
                ));
                errors.set(e);
            }
        }
    };
    let f = Fields { draft, errors };
    let queue_options: Vec<(String, String)> = options
        .skill_queues
        .iter()
        .map(|q| (q.id.to_string(), format!("{} ({})", q.name, q.access_code)))
        .collect();
    let ou_options: Vec<(String, String)> = options
        .ous
        .iter()
        .map(|o| (o.id.to_string(), o.path.clone()))
        .collect();
    let certs = |kind: CertificateKind| -> Vec<(String, String)> {
        options
            .certificates
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| (c.id.to_string(), c.name.clone()))
            .collect()
    };
    let (auth_certs, trust_certs, identity_certs) = (
        certs(CertificateKind::Authentication),
        certs(CertificateKind::Trust),
        certs(CertificateKind::Identity),
    );
    let secret = {
        let configured = configured.clone();
        move |field: SecretField| configured.contains(&field)
    };
    // memos: the provider's fields are rebuilt when the provider or method changes, not on every
    // keystroke (which would replace the input being typed in)
    let provider = Memo::new(move |_| draft.with(|d| d.provider.clone()));
    let oauth = Memo::new(move |_| {
        draft.with(|d| d.provider == "other" && d.verification_method == "oAuth")
    });
    let picked = Memo::new(move |_| draft.with(|d| !d.oauth_app_id.trim().is_empty()));
    let app_options: Vec<(String, String)> = options
        .apps
        .iter()
        .map(|a| {
            let short: String = a.app_key.chars().take(13).collect();
            (a.id.to_string(), format!("{} ({short}…)", a.name))
        })
        .collect();
    let own_base_url = options.own_base_url.clone();

    view! {
        <form class="channel-form" novalidate=true on:submit=submit>
            <div class="form-alert" role="alert" class:visible=move || form_message.get().is_some()>
                {move || form_message.get()}
            </div>
            <section class="panel" aria-labelledby="info-title">
                <h2 id="info-title">"Channel information"</h2>
                <div class="grid">
                    {f.select("Channel Selection", "channel_type", |_| "whatsapp".into(), |_, _| {}, vec![("whatsapp".into(), "WhatsApp".into())], None, true)}
                    {f.select(
                        "Business Solution Provider", "provider", |d| d.provider.clone(), |d, v| d.provider = v,
                        ["infobip", "other", "cloud-api", "twilio"].iter().map(|p| (p.to_string(), p.to_string())).collect(), None, true,
                    )}
                    {move || (provider.get() == "other").then(|| f.select(
                        "Verification Method", "verification_method", |d| d.verification_method.clone(), |d, v| d.verification_method = v,
                        vec![("basic".into(), "basic".into()), ("oAuth".into(), "oAuth".into())], None, true,
                    ))}
                </div>
                {
                    let secret = secret.clone();
                    let (auth_certs, trust_certs, identity_certs) = (auth_certs.clone(), trust_certs.clone(), identity_certs.clone());
                    move || {
                        let s = secret.clone();
                        let p = provider.get();
                        let o = oauth.get();
                        let app = o && picked.get();
                        let provider = ProviderKind::parse(&p).unwrap_or(ProviderKind::Infobip);
                        let method = o.then_some(VerificationMethod::OAuth);
                        // this Switchboard's own send API, offered as the BaseUrl
                        let own = own_base_url.clone().filter(|_| o).map(|url| {
                            let shown = url.clone();
                            view! {
                                <p class="hint own-base-url">
                                    <button type="button" class="button small" on:click=move |_| {
                                        let url = url.clone();
                                        draft.update(|d| d.base_url = url);
                                        errors.update(|e| e.0.retain(|x| x.field != "base_url"));
                                    }>"Use this Switchboard's send API"</button>
                                    " "<code>{shown}</code>
                                </p>
                            }
                        });
                        // an app picked: its key and secret are the app's, not typed here
                        let pick = o.then(|| f.select(
                            "App", "oauth_app_id", |d| d.oauth_app_id.clone(),
                            |d, v| {
                                if v.is_empty() && !d.oauth_app_id.is_empty() {
                                    d.username.clear();
                                }
                                d.oauth_app_id = v;
                            },
                            app_options.clone(), Some("An app on another platform (type its key and secret)"), false,
                        ));
                        let fields = provider
                            .fields(method)
                            .iter()
                            .filter(|&&field| !(app && matches!(field, ProviderField::UserName | ProviderField::Secret(SecretField::Password))))
                            .map(|&field| {
                                let (get, put) = slot(field);
                                let (label, name) = (field.label(), field.name());
                                match field {
                                    ProviderField::Secret(SecretField::WebhookPassword) => {
                                        let configured = s(SecretField::WebhookPassword);
                                        let keep = configured.then(|| f.keep_previous());
                                        view! { <div class="field-with-option">{f.webhook_password(configured)} {keep}</div> }.into_any()
                                    }
                                    ProviderField::Secret(SecretField::AppSecret) => {
                                        let configured = s(SecretField::AppSecret);
                                        let keep = configured.then(|| f.keep_previous());
                                        view! { <div class="field-with-option">{f.secret(label, SecretField::AppSecret, get, put, configured)} {keep}</div> }.into_any()
                                    }
                                    ProviderField::Secret(SecretField::AuthToken) => {
                                        f.auth_token(s(SecretField::AuthToken))
                                    }
                                    ProviderField::Secret(k) => f.secret(label, k, get, put, s(k)),
                                    ProviderField::Certificate(kind) => {
                                        let options = match kind {
                                            CertificateKind::Authentication => auth_certs.clone(),
                                            CertificateKind::Trust => trust_certs.clone(),
                                            CertificateKind::Identity => identity_certs.clone(),
                                        };
                                        f.select(label, name, get, put, options, Some("None"), false)
                                    }
                                    ProviderField::BaseUrl => {
                                        let hint = if o {
                                            "https://{host}:{port}/apiaccess/rest/ccmessaging"
                                        } else {
                                            "An https:// address on the address trustlist."
                                        };
                                        f.text_with(label, name, get, put, true, Some(hint), "url")
                                    }
                                    ProviderField::TokenValidUntil => {
                                        f.text_with(label, name, get, put, true, Some("The token's expiry date."), "date")
                                    }
                                    ProviderField::UserName if o => f.text(
                                        label, name, get, put, true,
                                        Some("The APP key of the app bound to this tenant space."),
                                    ),
                                    ProviderField::AppKey => {
                                        f.text(label, name, get, put, true, Some("The Meta app ID."))
                                    }
                                    _ => f.text(label, name, get, put, true, None),
                                }
                            })
                            .collect_view();
                        view! { <div class="grid">{pick}{fields}</div>{own} }
                    }
                }
            </section>

            <section class="panel" aria-labelledby="basic-title">
                <h2 id="basic-title">"Basic configuration"</h2>
                <div class="grid">
                    {f.text("Channel Name", "name", |d| d.name.clone(), |d, v| d.name = v, true, Some("Up to 64 letters, digits and '_'; starts with a letter or '_'."))}
                    {f.select("OU Configuration", "ou_id", |d| d.ou_id.clone(), |d, v| d.ou_id = v, ou_options, Some("None"), false)}
                    {f.select("Skill Queue", "skill_queue_id", |d| d.skill_queue_id.clone(), |d, v| d.skill_queue_id = v, queue_options.clone(), Some("Choose a skill queue"), true)}
                    {f.text("Keyword for Transfer to Agent", "keywords", |d| d.keywords.clone(), |d, v| d.keywords = v, false, Some("Up to 10 keywords separated by commas; required when the intelligent robot is on."))}
                </div>
                <fieldset class="worktime">
                    <legend>"Agent Work Time"</legend>
                    <Segments f label="Workday" field="workday" get=|d| &d.workday put=|d| &mut d.workday />
                    <Segments f label="Non-workday" field="non_workday" get=|d| &d.non_workday put=|d| &mut d.non_workday />
                </fieldset>
                <div class="grid">
                    {f.text("Non-Working Time Notification", "non_working_notification", |d| d.non_working_notification.clone(), |d, v| d.non_working_notification = v, false, Some("At most 256 characters."))}
                </div>
                <div class="switches">
                    {f.check("Last Agent Mode", "last_agent_mode", |d| d.last_agent_mode, |d, v| d.last_agent_mode = v)}
                    {let on = Memo::new(move |_| draft.with(|d| d.last_agent_mode)); move || on.get().then(|| view! {
                        <div class="grid sub">
                            {f.text("Period in days", "last_agent_days", |d| d.last_agent_days.clone(), |d, v| d.last_agent_days = v, true, Some("1 to 30."))}
                        </div>
                    })}
                    {f.check("Session End Due to No Customer Reply", "no_reply_end", |d| d.no_reply_end, |d, v| d.no_reply_end = v)}
                    {let on = Memo::new(move |_| draft.with(|d| d.no_reply_end)); move || on.get().then(|| view! {
                        <div class="grid sub">
                            {f.text("Timeout in minutes", "no_reply_minutes", |d| d.no_reply_minutes.clone(), |d, v| d.no_reply_minutes = v, true, Some("1 to 1440."))}
                            {f.text("Session end message", "no_reply_message", |d| d.no_reply_message.clone(), |d, v| d.no_reply_message = v, false, Some("At most 256 characters."))}
                        </div>
                    })}
                    {f.check("Session Transfer Due to No Agent Reply", "no_agent_transfer", |d| d.no_agent_transfer, |d, v| d.no_agent_transfer = v)}
                    {
                        let queue_options = queue_options.clone();
                        let on = Memo::new(move |_| draft.with(|d| d.no_agent_transfer));
                        move || on.get().then(|| view! {
                            <div class="grid sub">
                                {f.text("Timeout in seconds", "no_agent_seconds", |d| d.no_agent_seconds.clone(), |d, v| d.no_agent_seconds = v, true, Some("10 to 3600."))}
                                {f.select("Target skill queue", "no_agent_queue_id", |d| d.no_agent_queue_id.clone(), |d, v| d.no_agent_queue_id = v, queue_options.clone(), Some("Choose a skill queue"), true)}
                            </div>
                        })
                    }
                    {f.check("Session Transfer", "session_transfer", |d| d.session_transfer, |d, v| d.session_transfer = v)}
                    {f.check("Offline Messages", "offline_messages", |d| d.offline_messages, |d, v| d.offline_messages = v)}
                    {let on = Memo::new(move |_| draft.with(|d| d.offline_messages)); move || on.get().then(|| view! {
                        <div class="grid sub">
                            {f.text("Offline message prompt", "offline_prompt", |d| d.offline_prompt.clone(), |d, v| d.offline_prompt = v, false, Some("At most 256 characters, none of ' \" / < > \\ ;"))}
                            {f.text("Routing time limit in minutes", "offline_limit_minutes", |d| d.offline_limit_minutes.clone(), |d, v| d.offline_limit_minutes = v, false, Some("1 to 60; 30 when empty."))}
                        </div>
                    })}
                </div>
            </section>

            <section class="panel" aria-labelledby="robot-title">
                <h2 id="robot-title">"Robot configuration"</h2>
                <div class="switches">
                    {f.check("Connecting to the Intelligent Robot", "robot", |d| d.robot, |d, v| d.robot = v)}
                    {let on = Memo::new(move |_| draft.with(|d| d.robot)); move || on.get().then(|| view! {
                        <div class="grid sub">
                            {f.text("Chatbot access code", "robot_access_code", |d| d.robot_access_code.clone(), |d, v| d.robot_access_code = v, true, None)}
                        </div>
                    })}
                    {f.check("Access Robot Assistant", "robot_assistant", |d| d.robot_assistant, |d, v| d.robot_assistant = v)}
                </div>
            </section>

            <div class="form-actions">
                <button type="submit" class="button primary" disabled=move || pending.get()>{submit_label}</button>
            </div>
        </form>
    }
}

/// The draft and its errors, for building bound fields.
/// Where a provider field lives in the draft.
fn slot(field: ProviderField) -> (GetFn, PutFn) {
    use ProviderField as F;
    match field {
        F::PhoneNumber => (|d| d.phone_number.clone(), |d, v| d.phone_number = v),
        F::UserName => (|d| d.username.clone(), |d, v| d.username = v),
        F::BaseUrl => (|d| d.base_url.clone(), |d, v| d.base_url = v),
        F::AppKey => (|d| d.app_key.clone(), |d, v| d.app_key = v),
        F::TokenValidUntil => (
            |d| d.token_valid_until.clone(),
            |d, v| d.token_valid_until = v,
        ),
        F::ApiKeySid => (|d| d.api_key_sid.clone(), |d, v| d.api_key_sid = v),
        F::AccountSid => (|d| d.account_sid.clone(), |d, v| d.account_sid = v),
        F::WebhookUser => (|d| d.webhook_user.clone(), |d, v| d.webhook_user = v),
        F::Secret(SecretField::Password) => (|d| d.password.clone(), |d, v| d.password = v),
        F::Secret(SecretField::AccountKey) => (|d| d.account_key.clone(), |d, v| d.account_key = v),
        F::Secret(SecretField::AuthenticationKey) => (
            |d| d.authentication_key.clone(),
            |d, v| d.authentication_key = v,
        ),
        F::Secret(SecretField::WebhookPassword) => (
            |d| d.webhook_password.clone(),
            |d, v| d.webhook_password = v,
        ),
        F::Secret(SecretField::AppSecret) => (|d| d.app_secret.clone(), |d, v| d.app_secret = v),
        F::Secret(SecretField::AccessToken) => {
            (|d| d.access_token.clone(), |d, v| d.access_token = v)
        }
        F::Secret(SecretField::ApiKeySecret) => {
            (|d| d.api_key_secret.clone(), |d, v| d.api_key_secret = v)
        }
        F::Secret(SecretField::AuthToken) => (|d| d.auth_token.clone(), |d, v| d.auth_token = v),
        F::Certificate(CertificateKind::Authentication) => (
            |d| d.auth_certificate_id.clone(),
            |d, v| d.auth_certificate_id = v,
        ),
        F::Certificate(CertificateKind::Trust) => (
            |d| d.trust_certificate_id.clone(),
            |d, v| d.trust_certificate_id = v,
        ),
        F::Certificate(CertificateKind::Identity) => (
            |d| d.identity_certificate_id.clone(),
            |d, v| d.identity_certificate_id = v,
        ),
    }
}

#[derive(Clone, Copy)]
struct Fields {
    draft: RwSignal<ChannelDraft>,
    errors: RwSignal<FieldErrors>,
}

impl Fields {
    fn message(self, name: &'static str) -> Signal<Option<String>> {
        let errors = self.errors;
        Signal::derive(move || errors.with(|e| e.get(name).map(str::to_owned)))
    }

    fn text(
        self,
        label: &'static str,
        name: &'static str,
        get: GetFn,
        put: PutFn,
        required: bool,
        hint: Option<&'static str>,
    ) -> AnyView {
        self.text_with(label, name, get, put, required, hint, "text")
    }

    #[allow(clippy::too_many_arguments)]
    fn text_with(
        self,
        label: &'static str,
        name: &'static str,
        get: GetFn,
        put: PutFn,
        required: bool,
        hint: Option<&'static str>,
        kind: &'static str,
    ) -> AnyView {
        self.input(label, name, get, put, required, hint, kind, None, false)
    }

    /// Webhook Password, with a Generate button that fills a strong random value and shows it
    /// (to copy into the provider's portal) until the form is saved.
    fn webhook_password(self, configured: bool) -> AnyView {
        let (hint, placeholder) = if configured {
            (
                Some(
                    "Configured. Leave empty to keep the current value, or generate a new one: it takes over at once.",
                ),
                Some("configured"),
            )
        } else {
            (
                Some(
                    "What the provider sends to authenticate: generate one and copy it into the provider's portal.",
                ),
                None,
            )
        };
        self.input(
            "Webhook Password",
            SecretField::WebhookPassword.field(),
            |d| d.webhook_password.clone(),
            |d, v| d.webhook_password = v,
            !configured,
            hint,
            "password",
            placeholder,
            true,
        )
    }

    /// A box under a stored Webhook Password or APP Secret: a new value keeps the current one
    /// accepted for 24 hours (Channel Integration shows the overlap and ends it sooner).
    fn keep_previous(self) -> AnyView {
        self.option(
            "keep_previous_webhook_secret",
            "Keep the current one working for 24 hours",
            Some("When a new value is saved: while the provider's portal is updated. Leave it off if the current one leaked."),
            |d| d.keep_previous_webhook_secret,
            |d, on| d.keep_previous_webhook_secret = on,
        )
    }

    /// A checkbox of the draft, with its hint when it has one.
    fn option(
        self,
        name: &'static str,
        label: &'static str,
        hint: Option<&'static str>,
        get: fn(&ChannelDraft) -> bool,
        put: fn(&mut ChannelDraft, bool),
    ) -> AnyView {
        let draft = self.draft;
        let id = format!("ch-{name}");
        let hint_id = format!("{id}-hint");
        view! {
            <div class="check">
                <input
                    type="checkbox"
                    id=id.clone()
                    name=name
                    aria-describedby=hint.map(|_| hint_id.clone())
                    prop:checked=move || draft.with(get)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        draft.update(|d| put(d, on));
                    }
                />
                <label for=id>{label}</label>
            </div>
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
        }
        .into_any()
    }

    /// twilio's optional Auth Token: when stored, a box removes it.
    fn auth_token(self, configured: bool) -> AnyView {
        let (hint, placeholder) = if configured {
            (
                "Configured: every delivery must carry a valid X-Twilio-Signature. Leave empty to keep it.",
                Some("configured"),
            )
        } else {
            (
                "Optional. The Auth Token of the Twilio account (Console → Account Info): when set, every delivery must carry a valid X-Twilio-Signature, besides the Basic credentials.",
                None,
            )
        };
        let input = self.input(
            "Auth Token",
            SecretField::AuthToken.field(),
            |d| d.auth_token.clone(),
            |d, v| d.auth_token = v,
            false,
            Some(hint),
            "password",
            placeholder,
            false,
        );
        let remove = configured.then(|| {
            self.option(
                "remove_auth_token",
                "Remove the Auth Token (stop checking X-Twilio-Signature)",
                None,
                |d| d.remove_auth_token,
                |d, on| d.remove_auth_token = on,
            )
        });
        view! { <div class="field-with-option">{input} {remove}</div> }.into_any()
    }

    fn secret(
        self,
        label: &'static str,
        field: SecretField,
        get: GetFn,
        put: PutFn,
        configured: bool,
    ) -> AnyView {
        let (hint, placeholder) = if configured {
            (
                Some("Configured. Leave empty to keep the current value."),
                Some("configured"),
            )
        } else {
            (None, None)
        };
        self.input(
            label,
            field.field(),
            get,
            put,
            !configured,
            hint,
            "password",
            placeholder,
            false,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn input(
        self,
        label: &'static str,
        name: &'static str,
        get: GetFn,
        put: PutFn,
        required: bool,
        hint: Option<&'static str>,
        kind: &'static str,
        placeholder: Option<&'static str>,
        generate: bool,
    ) -> AnyView {
        let Fields { draft, errors } = self;
        let message = self.message(name);
        let id = format!("ch-{name}");
        // a generated value is shown (type text) so it can be copied
        let shown = RwSignal::new(false);
        let on_generate = move |_| {
            #[cfg(feature = "hydrate")]
            {
                let mut random = [0u8; 32];
                let filled = window()
                    .crypto()
                    .and_then(|c| c.get_random_values_with_u8_array(&mut random).map(|_| ()))
                    .is_ok();
                if filled {
                    let value = crate::domain::outbound::webhook_password_from(&random);
                    draft.update(|d| put(d, value));
                    errors.update(|e| e.0.retain(|x| x.field != name));
                    shown.set(true);
                }
            }
        };
        let button = generate.then(|| {
            view! {
                <button type="button" class="button small" on:click=on_generate>
                    "Generate"
                </button>
            }
        });
        let (error_id, hint_id) = (format!("{id}-error"), format!("{id}-hint"));
        let described = described_by(&id, hint.is_some(), message);
        view! {
            <div class="field" class:invalid=move || message.get().is_some()>
                <FieldLabel id=id.clone() label required />
                {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
                <div class:with-button=generate>
                    <input
                        id=id
                        name=name
                        type=move || if shown.get() { "text" } else { kind }
                        placeholder=placeholder
                        autocomplete=if kind == "password" { "new-password" } else { "off" }
                        prop:value=move || draft.with(get)
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            draft.update(|d| put(d, v));
                            errors.update(|e| e.0.retain(|x| x.field != name));
                        }
                        aria-invalid=invalid(message)
                        aria-describedby=described
                    />
                    {button}
                </div>
                <p class="field-error" id=error_id>{move || message.get()}</p>
            </div>
        }
        .into_any()
    }

    #[allow(clippy::too_many_arguments)]
    fn select(
        self,
        label: &'static str,
        name: &'static str,
        get: GetFn,
        put: PutFn,
        options: Vec<(String, String)>,
        empty: Option<&'static str>,
        required: bool,
    ) -> AnyView {
        let Fields { draft, errors } = self;
        let message = self.message(name);
        let id = format!("ch-{name}");
        let error_id = format!("{id}-error");
        let described = described_by(&id, false, message);
        view! {
            <div class="field" class:invalid=move || message.get().is_some()>
                <FieldLabel id=id.clone() label required />
                <select
                    id=id
                    name=name
                    prop:value=move || draft.with(get)
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        draft.update(|d| put(d, v));
                        errors.update(|e| e.0.retain(|x| x.field != name));
                    }
                    aria-invalid=invalid(message)
                    aria-describedby=described
                >
                    {empty.map(|e| view! { <option value="">{e}</option> })}
                    {options
                        .into_iter()
                        .map(|(value, text)| {
                            let selected = draft.with_untracked(|d| get(d) == value);
                            view! { <option value=value selected=selected>{text}</option> }
                        })
                        .collect_view()}
                </select>
                <p class="field-error" id=error_id>{move || message.get()}</p>
            </div>
        }
        .into_any()
    }

    fn check(
        self,
        label: &'static str,
        name: &'static str,
        get: fn(&ChannelDraft) -> bool,
        put: fn(&mut ChannelDraft, bool),
    ) -> AnyView {
        self.option(name, label, None, get, put)
    }
}

/// 1–4 time segments with **New** to add one.
#[component]
fn Segments(
    f: Fields,
    label: &'static str,
    field: &'static str,
    get: fn(&ChannelDraft) -> &Vec<SegmentInput>,
    put: fn(&mut ChannelDraft) -> &mut Vec<SegmentInput>,
) -> impl IntoView {
    let Fields { draft, errors } = f;
    let count = Memo::new(move |_| draft.with(|d| get(d).len()));
    let list_message = f.message(field);
    view! {
        <div class="segments" role="group" aria-labelledby=format!("{field}-label")>
            <p class="segments-label" id=format!("{field}-label")>{label}</p>
            {move || {
                (0..count.get())
                    .map(|i| {
                        let key = format!("{field}.{i}");
                        let message = Signal::derive({
                            let key = key.clone();
                            move || errors.with(|e| e.get(&key).map(str::to_owned))
                        });
                        let start_id = format!("{field}-{i}-start");
                        let end_id = format!("{field}-{i}-end");
                        view! {
                            <div class="segment" class:invalid=move || message.get().is_some()>
                                <label for=start_id.clone() class="visually-hidden">{format!("{label} {} start", i + 1)}</label>
                                <input
                                    id=start_id
                                    type="time"
                                    prop:value=move || draft.with(|d| get(d).get(i).map(|s| s.start.clone()).unwrap_or_default())
                                    on:input=move |ev| {
                                        let v = event_target_value(&ev);
                                        draft.update(|d| if let Some(s) = put(d).get_mut(i) { s.start = v });
                                    }
                                />
                                <span aria-hidden="true">"–"</span>
                                <label for=end_id.clone() class="visually-hidden">{format!("{label} {} end", i + 1)}</label>
                                <input
                                    id=end_id
                                    type="time"
                                    prop:value=move || draft.with(|d| get(d).get(i).map(|s| s.end.clone()).unwrap_or_default())
                                    on:input=move |ev| {
                                        let v = event_target_value(&ev);
                                        draft.update(|d| if let Some(s) = put(d).get_mut(i) { s.end = v });
                                    }
                                />
                                {(i > 0).then(|| view! {
                                    <button
                                        type="button"
                                        class="button small"
                                        aria-label=format!("Remove {label} segment {}", i + 1)
                                        on:click=move |_| draft.update(|d| { put(d).remove(i); })
                                    >
                                        "Remove"
                                    </button>
                                })}
                                <span class="field-error">{move || message.get()}</span>
                            </div>
                        }
                    })
                    .collect_view()
            }}
            <button
                type="button"
                class="button small"
                aria-label=format!("New {label} segment")
                disabled=move || { count.get() >= crate::domain::worktime::MAX_SEGMENTS }
                on:click=move |_| draft.update(|d| put(d).push(SegmentInput::default()))
            >
                "New"
            </button>
            <p class="field-error">{move || list_message.get()}</p>
        </div>
    }
}
