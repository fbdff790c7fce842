//! `/config/channels/{id}/activity`: what the channel's webhooks received.

use crate::api::channels::get_channel_activity;
use crate::components::{DataTable, EmptyState, Loaded, PageHead};
use crate::model::{ActivityEvent, ChannelActivity, EndpointActivity, PageAt, thousands};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ActivityPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    // which page of the received events: found from an event's place, newest first
    let page = RwSignal::new(PageAt::First);
    let data = Resource::new(
        move || (id(), page.get()),
        |(id, at)| get_channel_activity(id, at),
    );
    view! {
        <PageHead title="Channel Activity" crumbs=&["Configuration Center", "Access Configuration", "Channel Configuration", "Channel Activity"]>
            <A href="/config/channels" attr:class="button">"Back to the channel list"</A>
        </PageHead>
        <Loaded resource=data ready=move |a| view! { <Activity a page /> } />
    }
}

/// The test deliveries sent from Channel Integration: marked as tests, never traffic.
#[component]
fn TestDeliveries(list: Vec<crate::model::TestDelivery>) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="test-deliveries-title">
            <h2 id="test-deliveries-title">"Test deliveries"</h2>
            <p class="hint">"Sent by Switchboard itself with Send a test delivery, through the public address: not counted as received messages, and the health does not change with them."</p>
            <ul class="refused-list">
                {list
                    .into_iter()
                    .map(|d| {
                        let (class, outcome) = if d.ok {
                            ("badge", "Received")
                        } else {
                            ("badge failing", "Not received")
                        };
                        view! {
                            <li>
                                <p class="refused-head">
                                    <span class=class>{outcome}</span>
                                    " "
                                    <span class="badge auth-used inline">"Test delivery"</span>
                                </p>
                                <p class="hint">{format!("{} · {}", d.at, d.endpoint)}</p>
                                <p class="fix">{d.summary}</p>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

/// Deliveries the webhook URLs refused, newest first, each with its reason and fix.
#[component]
fn Refusals(refused: Vec<crate::model::RefusedDelivery>) -> impl IntoView {
    view! {
        <section class="panel refusals" aria-labelledby="refused-title">
            <h2 id="refused-title">"Refused deliveries"</h2>
            <p class="hint">"Requests to this channel's URLs that were not accepted, newest first; several in one second for one reason are counted in one line. Bodies and credentials are never kept."</p>
            <ul class="refused-list">
                {refused
                    .into_iter()
                    .map(|r| {
                        let times = if r.count > 1 { format!(" ×{}", r.count) } else { String::new() };
                        view! {
                            <li>
                                <p class="refused-head">
                                    <span class="badge failing">{format!("HTTP {}", r.status)}</span>
                                    " "
                                    <strong class="refused-reason">{r.reason}</strong>
                                    {times}
                                </p>
                                <p class="hint">
                                    {format!("{} · {} URL · from {} · {} · {} bytes", r.at, r.endpoint, if r.source.is_empty() { "unknown" } else { r.source.as_str() }, if r.content_type.is_empty() { "no content type" } else { r.content_type.as_str() }, r.size)}
                                </p>
                                {(!r.fix.is_empty()).then(|| view! { <p class="fix">{r.fix}</p> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

/// Messages sent from Channel Integration or by an app, each with its delivery reports in order.
#[component]
fn SentMessages(sent: Vec<crate::model::OutboundTimeline>) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="sent-title">
            <h2 id="sent-title">"Sent messages"</h2>
            <p class="panel-help">"Test messages sent from Channel Integration and messages apps sent through the send API, newest first."</p>
            <ul class="timelines">
                {sent
                    .into_iter()
                    .map(|m| {
                        let steps = m
                            .statuses
                            .into_iter()
                            .map(|(status, at, detail)| {
                                let failed = matches!(status.as_str(), "failed" | "undelivered" | "undeliverable" | "rejected" | "expired");
                                view! {
                                    <li class:failed=failed>
                                        <strong>{status}</strong>
                                        " "
                                        <span class="hint">{at}</span>
                                        {detail.map(|d| view! { <span class="reason">{format!(" — {d}")}</span> })}
                                    </li>
                                }
                            })
                            .collect_view();
                        view! {
                            <li class="timeline">
                                <p>
                                    {format!("To {}: \u{201c}{}\u{201d}", m.recipient, m.text)}
                                    " "
                                    <code>{m.provider_message_id}</code>
                                    " "
                                    <span class="badge">
                                        {match m.app {
                                            Some(app) => format!("Sent by app {app}"),
                                            None => "Test message".to_owned(),
                                        }}
                                    </span>
                                </p>
                                <ol class="steps" aria-label="Delivery reports">{steps}</ol>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Activity(a: ChannelActivity, page: RwSignal<PageAt>) -> impl IntoView {
    let received = format!(
        "{}{} received",
        thousands(a.total),
        if a.more { "+" } else { "" }
    );
    let (first, last) = (a.first.clone(), a.last.clone());
    let (has_previous, has_next) = (a.has_previous, a.has_next);
    let never = || "never".to_string();
    view! {
        <section class="panel">
            <h2>{format!("{} · {}", a.name, a.provider)}</h2>
            <dl class="facts">
                <dt>"Last message received"</dt>
                <dd>{a.last_message.clone().unwrap_or_else(never)}</dd>
                <dt>"Last report received"</dt>
                <dd>{a.last_report.clone().unwrap_or_else(never)}</dd>
            </dl>
            <DataTable
                caption="Each webhook URL: last accepted and last refused delivery"
                class="compact endpoints"
                columns=["Webhook URL", "Last accepted", "Last refused"]
                rows=a.endpoints.clone()
                empty=|| ()
                row=move |e: EndpointActivity| view! {
                    <tr>
                        <th scope="row">{e.label}</th>
                        <td>{e.last_accepted.unwrap_or_else(never)}</td>
                        <td class:refused=e.refused_last>{e.last_refused.unwrap_or_else(never)}</td>
                    </tr>
                }
            />
        </section>
        {(!a.sent.is_empty()).then(|| view! { <SentMessages sent=a.sent.clone() /> })}
        {(!a.refused.is_empty()).then(|| view! { <Refusals refused=a.refused.clone() /> })}
        {(!a.test_deliveries.is_empty()).then(|| view! { <TestDeliveries list=a.test_deliveries.clone() /> })}
        {if a.events.is_empty() {
            view! {
                <EmptyState heading="Nothing received yet" detail="Messages and delivery reports appear here once the provider calls the Channel Integration URLs." />
            }
            .into_any()
        } else {
            view! {
                <h2 class="section-heading" id="received-title">"Received messages and reports"</h2>
                <DataTable
                    caption="Received messages and reports, newest first"
                    described_by="received-title"
                    columns=["Received", "Kind", "From", "To", "Text or status", "Provider message id"]
                    rows=a.events
                    empty=|| ()
                    row=|e: ActivityEvent| {
                        let what = e.text.clone().or(e.status.clone()).unwrap_or_default();
                        view! {
                            <tr>
                                <td>{e.received.clone()}</td>
                                <td>
                                    {if e.kind == "message" { "Message" } else { "Report" }}
                                    {e.authenticated.clone().map(|how| view! { <span class="badge auth-used">{how}</span> })}
                                </td>
                                <td>{e.sender.clone()}</td>
                                <td>{e.recipient.clone()}</td>
                                <td class="wrap">{what}</td>
                                <td><code>{e.provider_message_id.clone()}</code></td>
                            </tr>
                        }
                    }
                />
                <nav class="pager" aria-label="Pages">
                    <span>{received}</span>
                    <button type="button" class="button small" disabled=!has_previous on:click=move |_| page.set(PageAt::First)>
                        "Newest"
                    </button>
                    <button
                        type="button"
                        class="button small"
                        disabled=!has_previous
                        on:click=move |_| {
                            if let Some(k) = first.clone() {
                                page.set(PageAt::Before(k));
                            }
                        }
                    >
                        "Previous"
                    </button>
                    <button
                        type="button"
                        class="button small"
                        disabled=!has_next
                        on:click=move |_| {
                            if let Some(k) = last.clone() {
                                page.set(PageAt::After(k));
                            }
                        }
                    >
                        "Next"
                    </button>
                    <button type="button" class="button small" disabled=!has_next on:click=move |_| page.set(PageAt::Last)>
                        "Oldest"
                    </button>
                </nav>
            }
            .into_any()
        }}
    }
}
