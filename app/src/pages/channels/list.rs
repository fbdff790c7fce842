//! `/config/channels`: search, filter, sort and page, all done on the server.

use crate::api::channels::{DeleteChannel, list_channels};
use crate::api::exports::start_export;
use crate::components::nav::{LazyPage, NavLink, preloads};
use crate::components::{EmptyState, FormAlert, HealthBadge, Loaded, PageHead, action_error};
use crate::domain::channel::ProviderKind;
use crate::model::{ChannelPage, ChannelQuery, ChannelSort};
use leptos::prelude::*;
use leptos_router::components::A;
use std::collections::BTreeSet;

#[component]
pub fn ChannelsPage() -> impl IntoView {
    let query = RwSignal::new(ChannelQuery::default());
    // kept across pages and searches; what Export will act on
    let selected = RwSignal::new(BTreeSet::<i64>::new());
    let delete = ServerAction::<DeleteChannel>::new();
    let page = Resource::new(
        move || (query.get(), delete.version().get()),
        |(q, _)| list_channels(q),
    );
    let delete_error = action_error(delete.value());
    let export = Action::new(|ids: &Vec<i64>| start_export(ids.clone()));
    let export_error = action_error(export.value());
    let export_started = move || matches!(export.value().get(), Some(Ok(_)));
    let set = move |f: &dyn Fn(&mut ChannelQuery)| {
        query.update(|q| {
            f(q);
        })
    };
    view! {
        <PageHead title="Channel Configuration" crumbs=&["Configuration Center", "Access Configuration", "Channel Configuration"]>
            <NavLink
                href="/config/channels/new"
                class="button primary"
                page=LazyPage::NewChannel
            >
                "Newly created"
            </NavLink>
            <button
                type="button"
                class="button"
                title="Exports the selected channels, or all channels when none is selected"
                disabled=move || export.pending().get()
                on:click=move |_| {
                    export.dispatch(selected.with(|s| s.iter().copied().collect()));
                }
            >
                "Export"
            </button>
            <NavLink href="/config/channels/import" class="button" page=LazyPage::Imports>
                "Import"
            </NavLink>
        </PageHead>
        <form class="toolbar" role="search" on:submit=|ev| ev.prevent_default()>
            <div class="field inline">
                <label for="search">"Search by name"</label>
                <input
                    id="search"
                    type="search"
                    prop:value=move || query.with(|q| q.search.clone())
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        set(&|q| {
                            q.search = v.clone();
                            q.page = 1;
                        });
                    }
                />
            </div>
            <div class="field inline">
                <label for="provider-filter">"Business Solution Provider"</label>
                <select
                    id="provider-filter"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        set(&|q| {
                            q.provider = v.clone();
                            q.page = 1;
                        });
                    }
                >
                    <option value="">"All"</option>
                    {ProviderKind::ALL
                        .into_iter()
                        .map(|p| view! { <option value=p.as_str()>{p.as_str()}</option> })
                        .collect_view()}
                </select>
            </div>
            <div class="field inline">
                <label for="health-filter">"Health"</label>
                <select
                    id="health-filter"
                    on:change=move |ev| {
                        let v = event_target_value(&ev) == "attention";
                        set(&|q| {
                            q.attention = v;
                            q.page = 1;
                        });
                    }
                >
                    <option value="">"All"</option>
                    <option value="attention" selected=move || query.with(|q| q.attention)>"Needs attention"</option>
                </select>
            </div>
            <div class="field inline">
                <label for="per-page">"Rows per page"</label>
                <select
                    id="per-page"
                    on:change=move |ev| {
                        let v = event_target_value(&ev).parse().unwrap_or(20);
                        set(&|q| {
                            q.per_page = v;
                            q.page = 1;
                        });
                    }
                >
                    {ChannelQuery::PAGE_SIZES
                        .into_iter()
                        .map(|n| view! { <option value=n.to_string() selected=n == 20>{n}</option> })
                        .collect_view()}
                </select>
            </div>
        </form>
        <FormAlert error=delete_error />
        <FormAlert error=export_error />
        <div class="notice" role="status" class:visible=export_started>
            {move || {
                export_started()
                    .then(|| {
                        view! {
                            "Export task started. Follow it on "
                            <A href="/config/exports">"Export Tasks"</A>
                            "."
                        }
                    })
            }}
        </div>
        <div class="selection" role="status">
            {move || {
                let n = selected.with(BTreeSet::len);
                (n > 0)
                    .then(|| {
                        view! {
                            <span>{format!("{n} selected")}</span>
                            <button type="button" class="button small" on:click=move |_| selected.update(BTreeSet::clear)>
                                "Clear selection"
                            </button>
                        }
                    })
            }}
        </div>
        <Loaded resource=page ready=move |p| view! { <ChannelTable page=p query delete selected /> } />
    }
}

#[component]
fn SortHeader(
    label: &'static str,
    sort: ChannelSort,
    query: RwSignal<ChannelQuery>,
) -> impl IntoView {
    let state = move || {
        query.with(|q| {
            if q.sort != sort {
                "none"
            } else if q.descending {
                "descending"
            } else {
                "ascending"
            }
        })
    };
    view! {
        <th scope="col" aria-sort=state>
            <button
                type="button"
                class="sort"
                on:click=move |_| {
                    query.update(|q| {
                        if q.sort == sort {
                            q.descending = !q.descending;
                        } else {
                            q.sort = sort;
                            // newest and worst first
                            q.descending = matches!(sort, ChannelSort::Updated | ChannelSort::Health);
                        }
                        q.page = 1;
                    })
                }
            >
                {label}
                <span class="sort-mark" aria-hidden="true">
                    {move || match state() {
                        "ascending" => "▲",
                        "descending" => "▼",
                        _ => "↕",
                    }}
                </span>
            </button>
        </th>
    }
}

#[component]
fn ChannelTable(
    page: ChannelPage,
    query: RwSignal<ChannelQuery>,
    delete: ServerAction<DeleteChannel>,
    selected: RwSignal<BTreeSet<i64>>,
) -> impl IntoView {
    let on_page: Vec<i64> = page.rows.iter().map(|r| r.id).collect();
    let all_on_page = {
        let ids = on_page.clone();
        move || !ids.is_empty() && selected.with(|s| ids.iter().all(|i| s.contains(i)))
    };
    let toggle_page = move |on: bool| {
        selected.update(|s| {
            for id in &on_page {
                if on {
                    s.insert(*id);
                } else {
                    s.remove(id);
                }
            }
        })
    };
    let confirming = RwSignal::new(None::<i64>);
    // the pages a row links to start loading when a row is pointed at (free after the first)
    let row_pages = preloads([
        LazyPage::EditChannel,
        LazyPage::Integration,
        LazyPage::Activity,
    ]);
    let pages = page.total.div_ceil(u64::from(page.per_page)).max(1);
    let filtered =
        query.with_untracked(|q| !q.search.is_empty() || !q.provider.is_empty() || q.attention);
    if page.rows.is_empty() {
        return if filtered {
            view! {
                <EmptyState
                    heading="No matching channels"
                    detail="No channel matches this search and filter."
                />
            }
        } else {
            view! {
                <EmptyState
                    heading="No channels yet"
                    detail="Click Newly created to configure the first WhatsApp channel."
                />
            }
        }
        .into_any();
    }
    let current = page.page;
    view! {
        <div class="table-wrap">
            <table class="data channels">
                <caption class="visually-hidden">"Channels"</caption>
                <thead>
                    <tr>
                        <th scope="col" class="select">
                            <input
                                type="checkbox"
                                aria-label="Select all channels on this page"
                                prop:checked=all_on_page
                                on:change=move |ev| toggle_page(event_target_checked(&ev))
                            />
                        </th>
                        <SortHeader label="Channel Name" sort=ChannelSort::Name query />
                        <th scope="col">"Channel Type"</th>
                        <SortHeader label="Business Solution Provider" sort=ChannelSort::Provider query />
                        <th scope="col">"OU"</th>
                        <th scope="col">"Skill Queue"</th>
                        <th scope="col">"Scenario Key"</th>
                        <SortHeader label="Updated" sort=ChannelSort::Updated query />
                        <SortHeader label="Health" sort=ChannelSort::Health query />
                        <th scope="col">"Operation"</th>
                    </tr>
                </thead>
                // a row's Edit, Integration and Activity pages start loading when the pointer or
                // the focus reaches the rows (one listener for all of them)
                <tbody on:mouseover=move |_| row_pages() on:focusin=move |_| row_pages()>
                    {page
                        .rows
                        .into_iter()
                        .map(|c| {
                            let id = c.id;
                            let name = c.name.clone();
                            view! {
                                <tr>
                                    <td class="select">
                                        <input
                                            type="checkbox"
                                            aria-label=format!("Select {}", c.name)
                                            prop:checked=move || selected.with(|s| s.contains(&id))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                selected.update(|s| {
                                                    if on {
                                                        s.insert(id);
                                                    } else {
                                                        s.remove(&id);
                                                    }
                                                })
                                            }
                                        />
                                    </td>
                                    <th scope="row" class="name">{c.name.clone()}</th>
                                    <td data-label="Channel Type">{c.channel_type.clone()}</td>
                                    <td data-label="Business Solution Provider">{c.provider.clone()}</td>
                                    <td data-label="OU">{c.ou.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td data-label="Skill Queue">{c.skill_queue.clone()}</td>
                                    <td data-label="Scenario Key">{if c.scenario_key { "YES" } else { "NO" }}</td>
                                    <td class="date" data-label="Updated">{c.updated.clone()}</td>
                                    // health, what was last received and the last Test connection: one
                                    // column, so the list fits a laptop's width
                                    <td class="health-cell">
                                        <HealthBadge health=c.health.clone() />
                                        {c.health.reasons.first().map(|r| view! { <span class="hint reason">{format!(" {}", r.message)}</span> })}
                                        <span class="hint detail">
                                            {format!(
                                                "Last received: {}",
                                                c.last_received.clone().unwrap_or_else(|| "nothing yet".into()),
                                            )}
                                        </span>
                                        <span class="hint detail">
                                            {match c.last_test.clone() {
                                                Some(t) => {
                                                    let (class, word) = if t.ok { ("badge", "Connected") } else { ("badge failed", "Failed") };
                                                    // each text in an element of its own: text beside
                                                    // a dynamic part would merge with it in the HTML
                                                    view! {
                                                        <span>"Connection: "</span>
                                                        <span class=class title=t.summary.clone()>{word}</span>
                                                        <span>{format!(" {}", t.at)}</span>
                                                    }
                                                        .into_any()
                                                }
                                                None => view! { <span>"Connection: not tested"</span> }.into_any(),
                                            }}
                                        </span>
                                    </td>
                                    <td class="ops">
                                        <Show
                                            when=move || confirming.get() == Some(id)
                                            fallback={
                                                let name = name.clone();
                                                move || {
                                                    view! {
                                                        <span class="links">
                                                        // plain links: the router takes their clicks all the same,
                                                        // and 300 of them hydrate without a reactive `A` each
                                                        <a href=format!("/config/channels/{id}/edit") aria-label=format!("Edit {name}")>"Edit"</a>
                                                        <a href=format!("/config/channels/{id}/integration") aria-label=format!("Integration of {name}")>"Integration"</a>
                                                        <a href=format!("/config/channels/{id}/activity") aria-label=format!("Activity of {name}")>"Activity"</a>
                                                        <button
                                                            type="button"
                                                            class="link danger"
                                                            aria-label=format!("Delete {name}")
                                                            on:click=move |_| confirming.set(Some(id))
                                                        >
                                                            "Delete"
                                                        </button>
                                                        </span>
                                                    }
                                                }
                                            }
                                        >
                                            <span class="confirm" role="group" aria-label="Confirm deletion">
                                                {format!("Delete {}?", c.name)}
                                                <ActionForm action=delete attr:class="inline">
                                                    <input type="hidden" name="id" value=id.to_string() />
                                                    <button type="submit" class="button small danger">"Delete channel"</button>
                                                </ActionForm>
                                                <button type="button" class="button small" on:click=move |_| confirming.set(None)>
                                                    "Cancel"
                                                </button>
                                            </span>
                                        </Show>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            <span>
                {format!(
                    "{} {} · page {current} of {pages}",
                    page.total,
                    if page.total == 1 { "channel" } else { "channels" },
                )}
            </span>
            <button
                type="button"
                class="button small"
                disabled={ current <= 1 }
                on:click=move |_| query.update(|q| q.page = q.page.saturating_sub(1).max(1))
            >
                "Previous"
            </button>
            <button
                type="button"
                class="button small"
                disabled={ u64::from(current) >= pages }
                on:click=move |_| query.update(|q| q.page += 1)
            >
                "Next"
            </button>
        </nav>
    }
    .into_any()
}
