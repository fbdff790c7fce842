//! Proving a channel works: Test connection (Channel Integration and Edit) and Send test
//! message (Channel Integration), with the provider's real APIs and the channel's own
//! credentials and certificates.

use crate::api::channels::{SendTestDelivery, SendTestMessage, TestChannelConnection};
use crate::components::{Field, FormAlert, action_error};
use leptos::prelude::*;
use leptos_router::components::A;

/// The Test connection button and what it found.
#[component]
pub fn TestConnectionPanel(
    id: i64,
    /// The page's action, when the page refreshes something after a test (the health).
    #[prop(optional)]
    action: Option<ServerAction<TestChannelConnection>>,
) -> impl IntoView {
    let test = action.unwrap_or_default();
    let error = action_error(test.value());
    let result = move || {
        test.value().get().and_then(Result::ok).map(|r| {
            let (class, headline) = if r.ok {
                ("test-result ok", "Connected")
            } else {
                ("test-result failed", "Not connected")
            };
            view! {
                <div class=class>
                    <strong>{headline}</strong>
                    <p>{r.summary}</p>
                    <p class="hint">{format!("Tested {} in {} ms.", r.at, r.latency_ms)}</p>
                </div>
            }
        })
    };
    view! {
        <section class="panel" aria-labelledby="test-title">
            <h2 id="test-title">"Test connection"</h2>
            <p class="panel-help">
                "One read-only call to the provider with the stored credentials, the channel's certificates and the address trustlist, as the channel will call it."
            </p>
            <ActionForm action=test attr:class="inline">
                <input type="hidden" name="id" value=id.to_string() />
                <button type="submit" class="button primary" disabled=move || test.pending().get()>
                    {move || if test.pending().get() { "Testing…" } else { "Test connection" }}
                </button>
            </ActionForm>
            <FormAlert error />
            <div role="status" aria-live="polite">{result}</div>
        </section>
    }
}

/// Send a test delivery: Switchboard plays the provider, through the public address.
#[component]
pub fn TestDeliveryPanel(id: i64) -> impl IntoView {
    let send = ServerAction::<SendTestDelivery>::new();
    let error = action_error(send.value());
    let results = move || {
        send.value().get().and_then(Result::ok).map(|list| {
            list.into_iter()
                .map(|d| {
                    let (class, headline) = if d.ok {
                        ("test-result ok", "Received")
                    } else {
                        ("test-result failed", "Not received")
                    };
                    view! {
                        <div class=class data-endpoint=d.endpoint.clone()>
                            <strong>{format!("{headline} · {}", d.endpoint)}</strong>
                            <p>{d.summary}</p>
                            <p class="hint">{format!("Sent {}.", d.at)}</p>
                        </div>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="panel" aria-labelledby="delivery-title">
            <h2 id="delivery-title">"Send a test delivery"</h2>
            <p class="panel-help">
                "Switchboard posts a test message and report to the URLs above, in the provider's own format and authenticated as the provider would, over the network through the public address (DNS, the proxy and TLS in front of Switchboard), and shows where each stopped. Test deliveries are marked on Activity; they are never counted as traffic and never change the health."
            </p>
            <ActionForm action=send attr:class="inline">
                <input type="hidden" name="id" value=id.to_string() />
                <button type="submit" class="button primary" disabled=move || send.pending().get()>
                    {move || if send.pending().get() { "Sending…" } else { "Send a test delivery" }}
                </button>
            </ActionForm>
            <FormAlert error />
            <div role="status" aria-live="polite">{results}</div>
        </section>
    }
}

/// Recipient Number and Message text, sent with the provider's send API.
#[component]
pub fn SendTestMessagePanel(id: i64, provider: String) -> impl IntoView {
    if provider == "other" {
        return view! {
            <section class="panel" aria-labelledby="send-title">
                <h2 id="send-title">"Send test message"</h2>
                <p class="panel-help">
                    "An \u{2018}other\u{2019} BSP sends through your own system's API, which Switchboard does not know: send a test message from there, and watch its delivery reports arrive on the channel's Activity page."
                </p>
            </section>
        }
        .into_any();
    }
    let send = ServerAction::<SendTestMessage>::new();
    let error = action_error(send.value());
    let sent = move || {
        send.value().get().and_then(Result::ok).map(|m| {
            view! {
                <div class="test-result ok">
                    <strong>"Sent"</strong>
                    <p>
                        {format!("The provider accepted it as {} in {} ms. Its delivery reports appear on the ", m.provider_message_id, m.latency_ms)}
                        <A href=format!("/config/channels/{id}/activity")>"Activity page"</A>
                        "."
                    </p>
                </div>
            }
        })
    };
    view! {
        <section class="panel" aria-labelledby="send-title">
            <h2 id="send-title">"Send test message"</h2>
            <p class="panel-help">"A real WhatsApp message through the provider's send API."</p>
            <ActionForm action=send attr:class="stack" attr:novalidate=true>
                <FormAlert error />
                <input type="hidden" name="id" value=id.to_string() />
                <Field label="Recipient Number" name="recipient" error required=true hint="6 to 15 digits, optionally starting with '+'." />
                <Field label="Message text" name="text" error required=true />
                <button type="submit" class="button primary" disabled=move || send.pending().get()>
                    {move || if send.pending().get() { "Sending…" } else { "Send test message" }}
                </button>
            </ActionForm>
            <div role="status" aria-live="polite">{sent}</div>
        </section>
    }
    .into_any()
}
