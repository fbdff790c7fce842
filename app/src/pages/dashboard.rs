//! `/config`, the Configuration Center home: how the tenant's channels are doing, what needs
//! attention and why, certificates about to expire, and the last 24 hours of deliveries.

use crate::api::channels::get_dashboard;
use crate::components::{DataTable, HealthBadge, Loaded, PageHead};
use crate::model::{AttentionChannel, Dashboard};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_dashboard());
    view! {
        <PageHead title="Overview" tab="Configuration Center" crumbs=&["Configuration Center", "Overview"]>
            <A href="/config/alerts" attr:class="button">"Alerts"</A>
            <A href="/config/channels" attr:class="button">"All channels"</A>
        </PageHead>
        <Loaded resource=data ready=move |d| view! { <Overview d /> } />
    }
}

#[component]
fn Overview(d: Dashboard) -> impl IntoView {
    let total = d.ok + d.attention + d.failing;
    let stat = |class: &'static str, label: &'static str, n: u64| {
        view! {
            <div class=format!("stat {class}")>
                <span class="n">{n.to_string()}</span>
                <span class="label">{label}</span>
            </div>
        }
    };
    view! {
        <section aria-labelledby="health-counts">
            <h2 id="health-counts" class="visually-hidden">"Channels by health"</h2>
            <div class="stats">
                {stat("failing", "Failing", d.failing)}
                {stat("attention", "Attention", d.attention)}
                {stat("ok", "OK", d.ok)}
                {stat("", "Deliveries accepted (24 h)", d.accepted_24h)}
                {stat("", "Deliveries refused (24 h)", d.refused_24h)}
            </div>
        </section>
        <section class="panel" aria-labelledby="attention-title">
            <h2 id="attention-title">"Channels needing attention"</h2>
            {if total == 0 {
                view! {
                    <p class="panel-help">
                        "No channels yet. " <A href="/config/channels/new">"Configure the first one"</A> "."
                    </p>
                }
                    .into_any()
            } else if d.needs_attention.is_empty() {
                view! { <p class="panel-help">{format!("All {total} channels are OK.")}</p> }.into_any()
            } else {
                let more = (d.attention + d.failing) as usize > d.needs_attention.len();
                view! {
                    <DataTable
                        caption="Channels needing attention"
                        columns=["Channel Name", "Business Solution Provider", "Health", "Reasons"]
                        rows=d.needs_attention
                        empty=|| ()
                        row=|c: AttentionChannel| {
                            let id = c.id;
                            let reasons = c
                                .health
                                .reasons
                                .iter()
                                .map(|r| {
                                    view! {
                                        <li class=format!("level-{}", r.level.label().to_lowercase())>
                                            {r.message.clone()} " " <a href=r.fix.href(id)>{r.fix.label()}</a>
                                        </li>
                                    }
                                })
                                .collect_view();
                            view! {
                                <tr>
                                    <th scope="row">{c.name}</th>
                                    <td>{c.provider}</td>
                                    <td><HealthBadge health=c.health /></td>
                                    <td><ul class="health-reasons compact">{reasons}</ul></td>
                                </tr>
                            }
                        }
                    />
                    {more.then(|| view! {
                        <p class="panel-help">
                            {format!("{} channels need attention in all. ", d.attention + d.failing)}
                            <A href="/config/channels">"See them on the channel list"</A>
                            " (Health: Needs attention)."
                        </p>
                    })}
                }
                    .into_any()
            }}
        </section>
        <section class="panel" aria-labelledby="certs-title">
            <h2 id="certs-title">"Certificates expiring within 30 days"</h2>
            {if d.certificates.is_empty() {
                view! { <p class="panel-help">"None."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain-list">
                        {d
                            .certificates
                            .into_iter()
                            .map(|c| {
                                let when = if c.expired {
                                    format!("expired on {}", c.not_after)
                                } else {
                                    format!("expires on {}", c.not_after)
                                };
                                view! {
                                    <li class:expired=c.expired>
                                        <strong>{c.name}</strong>
                                        {format!(" ({}) {when}", c.kind)}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                    <p><A href="/config/certificates">"Manage certificates"</A></p>
                }
                    .into_any()
            }}
        </section>
    }
}
