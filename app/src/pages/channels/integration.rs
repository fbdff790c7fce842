//! `/config/channels/{id}/integration`: the URLs to give the provider, with Copy buttons, and
//! the scenario key.

use crate::api::channels::{
    ChangeWebhookCredential, EndWebhookOverlap, GenerateScenarioKey, TestChannelConnection,
    get_channel_integration,
};
use crate::components::{FormAlert, HealthPanel, Loaded, PageHead, action_error};
use crate::model::ChannelIntegration;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn IntegrationPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let generate = ServerAction::<GenerateScenarioKey>::new();
    // a test changes the health shown beside it
    let test = ServerAction::<TestChannelConnection>::new();
    let change = ServerAction::<ChangeWebhookCredential>::new();
    let end = ServerAction::<EndWebhookOverlap>::new();
    // only a change made reloads the page's data: a refused one keeps what was typed
    let changed = RwSignal::new(0u32);
    Effect::new(move |_| {
        if let Some(Ok(_)) = change.value().get() {
            changed.update(|n| *n += 1);
        }
    });
    let data = Resource::new(
        move || {
            (
                id(),
                generate.version().get(),
                test.version().get(),
                changed.get(),
                end.version().get(),
            )
        },
        |(id, ..)| get_channel_integration(id),
    );
    let generate_error = action_error(generate.value());
    view! {
        <PageHead title="Channel Integration" crumbs=&["Configuration Center", "Access Configuration", "Channel Configuration", "Channel Integration"]>
            <A href="/config/channels" attr:class="button">"Back to the channel list"</A>
        </PageHead>
        <FormAlert error=generate_error />
        <Loaded
            resource=data
            ready=move |i| {
                let (id, provider) = (i.id, i.provider.clone());
                let (health, time_zone) = (i.health.clone(), i.time_zone.clone());
                let (credentials, rotation) = (i.credentials.clone(), i.rotation.clone());
                let signatures = (provider == "twilio").then_some(i.signatures_checked);
                view! {
                    <HealthPanel channel_id=id health />
                    <Integration i generate />
                    <super::credentials::WebhookCredentialsPanel
                        id
                        credentials
                        rotation
                        signatures_checked=signatures
                        change
                        end
                    />
                    <super::prove::TestDeliveryPanel id />
                    <super::prove::TestConnectionPanel id action=test />
                    <super::prove::SendTestMessagePanel id provider />
                    <super::routing::RoutingPreviewPanel id time_zone />
                }
            }
        />
    }
}

#[component]
fn Integration(
    i: ChannelIntegration,
    generate: ServerAction<GenerateScenarioKey>,
) -> impl IntoView {
    let cloud = i.callback_url.is_some();
    let help = if cloud {
        "Enter the URL and the Verification Code as the webhook of your app on Meta for Developers."
    } else {
        "Give these URLs to the provider: it sends customer messages and delivery reports to them."
    };
    view! {
        <section class="panel">
            <h2>{format!("{} · {}", i.name, i.provider)}</h2>
            <p class="panel-help">{help}</p>
            <dl class="copy-list">
                {i.message_url.map(|u| view! { <CopyRow label="url used to send message to agent" value=u /> })}
                {i.report_url.map(|u| view! { <CopyRow label="url used to send report to agent" value=u /> })}
                {i.callback_url.map(|u| view! { <CopyRow label="URL" value=u /> })}
                {i.verification_code.map(|c| view! { <CopyRow label="Verification Code" value=c /> })}
            </dl>
            {(!cloud).then(|| {
                let id = i.id;
                match i.scenario_key {
                    Some(key) => view! {
                        <p class="scenario">"scenario key: YES"</p>
                        <dl class="copy-list"><CopyRow label="Scenario key" value=key /></dl>
                    }.into_any(),
                    None => view! {
                        <div class="scenario">
                            <span>"scenario key: NO"</span>
                            <ActionForm action=generate attr:class="inline">
                                <input type="hidden" name="id" value=id.to_string() />
                                <button type="submit" class="button primary small">"Generate"</button>
                            </ActionForm>
                        </div>
                    }.into_any(),
                }
            })}
        </section>
    }
}

/// A read-only value with a Copy button that puts it on the clipboard.
#[component]
fn CopyRow(label: &'static str, value: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let id = label.to_lowercase().replace(' ', "-");
    let to_copy = value.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let text = to_copy.clone();
            leptos::task::spawn_local(async move {
                let clipboard = window().navigator().clipboard();
                if wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&text))
                    .await
                    .is_ok()
                {
                    copied.set(true);
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &to_copy;
    };
    view! {
        <dt><label for=id.clone()>{label}</label></dt>
        <dd>
            <input id=id type="text" readonly=true value=value class="copy-value" />
            <button type="button" class="button small" on:click=copy aria-label=format!("Copy {label}")>
                "Copy"
            </button>
            <span class="copied" role="status">{move || copied.get().then_some("Copied")}</span>
        </dd>
    }
}
