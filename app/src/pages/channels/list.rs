//! `/config/channels`: search, filter, sort and page, all done on the server.

use crate::api::channels::{DeleteChannel, list_channels};
use crate::api::exports::start_export;
use crate::components::nav::{LazyPage, NavLink, preloads};
use crate::components::{EmptyState, FormAlert, HealthBadge, Loaded, PageHead, action_error};
use crate::domain::channel::ProviderKind;
use crate::model::{ChannelPage, ChannelQuery, ChannelSort, PageAt};
use leptos::prelude::*;
use leptos_router::components::A;
use std::collections::BTreeSet;

#[component]
pub fn ChannelsPage() -> impl IntoView {
    let query = RwSignal::new(ChannelQuery::default());
    // which page this is, counted by the browser as a person pages (the server finds pages by
    // a row's place, never by number)
    let place = RwSignal::new(Place::FromStart(1));
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
    // a new search, filter, sort or page size starts at the first page
    let set = move |f: &dyn Fn(&mut ChannelQuery)| {
        place.set(Place::FromStart(1));
        query.update(|q| {
            f(q);
            q.at = PageAt::First;
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
                    title="Three characters or more: names that contain them. One or two: names that start with them."
                    prop:value=move || query.with(|q| q.search.clone())
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        set(&|q| q.search = v.clone());
                    }
                />
            </div>
            <div class="field inline">
                <label for="provider-filter">"Business Solution Provider"</label>
                <select
                    id="provider-filter"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        set(&|q| q.provider = v.clone());
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
                        set(&|q| q.attention = v);
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
                        set(&|q| q.per_page = v);
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
        <Loaded resource=page ready=move |p| view! { <ChannelTable page=p query place delete selected /> } />
    }
}

#[component]
fn SortHeader(
    label: &'static str,
    sort: ChannelSort,
    query: RwSignal<ChannelQuery>,
    place: RwSignal<Place>,
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
                        q.at = PageAt::First;
                    });
                    place.set(Place::FromStart(1));
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
    place: RwSignal<Place>,
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
    let pager = pager_text(&page, place.get_untracked());
    let go = move |at: PageAt, next: Place| {
        place.set(next);
        query.update(|q| q.at = at);
    };
    let here = place.get_untracked();
    let (first, last) = (page.first.clone(), page.last.clone());
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
                        <SortHeader label="Channel Name" sort=ChannelSort::Name query place />
                        <th scope="col">"Channel Type"</th>
                        <SortHeader label="Business Solution Provider" sort=ChannelSort::Provider query place />
                        <th scope="col">"OU"</th>
                        <th scope="col">"Skill Queue"</th>
                        <th scope="col">"Scenario Key"</th>
                        <SortHeader label="Updated" sort=ChannelSort::Updated query place />
                        <SortHeader label="Health" sort=ChannelSort::Health query place />
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
            <span>{pager}</span>
            <button
                type="button"
                class="button small"
                disabled=!page.has_previous
                on:click=move |_| go(PageAt::First, Place::FromStart(1))
            >
                "First"
            </button>
            <button
                type="button"
                class="button small"
                disabled=!page.has_previous
                on:click=move |_| {
                    if let Some(k) = first.clone() {
                        go(PageAt::Before(k), here.previous());
                    }
                }
            >
                "Previous"
            </button>
            <button
                type="button"
                class="button small"
                disabled=!page.has_next
                on:click=move |_| {
                    if let Some(k) = last.clone() {
                        go(PageAt::After(k), here.next());
                    }
                }
            >
                "Next"
            </button>
            <button
                type="button"
                class="button small"
                disabled=!page.has_next
                on:click=move |_| go(PageAt::Last, Place::FromEnd(0))
            >
                "Last"
            </button>
        </nav>
    }
    .into_any()
}

/// Which page the browser shows, as a person paged to it: counted from the first page, or
/// from the last (after Last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    FromStart(u32),
    FromEnd(u32),
}

impl Place {
    fn next(self) -> Self {
        match self {
            Self::FromStart(n) => Self::FromStart(n + 1),
            Self::FromEnd(k) => Self::FromEnd(k.saturating_sub(1)),
        }
    }

    fn previous(self) -> Self {
        match self {
            Self::FromStart(n) => Self::FromStart(n.saturating_sub(1).max(1)),
            Self::FromEnd(k) => Self::FromEnd(k + 1),
        }
    }
}

/// `2,001 channels · page 3 of 101`; the page number only where it is known (a page with
/// nothing before it is the first, one with nothing after it the last).
fn pager_text(page: &ChannelPage, place: Place) -> String {
    let pages = page.pages();
    let number = if !page.has_previous {
        Some(1)
    } else if !page.has_next {
        pages
    } else {
        match place {
            Place::FromStart(n) => Some(u64::from(n)),
            Place::FromEnd(k) => pages.map(|p| p.saturating_sub(u64::from(k)).max(1)),
        }
    };
    match (number, pages) {
        (Some(n), Some(p)) => format!("{} · page {} of {}", page.total_text(), n.min(p), p),
        (Some(n), None) => format!("{} · page {n}", page.total_text()),
        _ => page.total_text(),
    }
}
