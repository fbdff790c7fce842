//! Configuration Center pages of the tenant administrator. Their features arrive with later
//! work; until then each shows its real, empty state for the tenant space.

use crate::components::Breadcrumbs;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn EmptyPage(
    title: &'static str,
    crumbs: &'static [&'static str],
    heading: &'static str,
    detail: &'static str,
) -> impl IntoView {
    view! {
        <Title text=title />
        <Breadcrumbs items=crumbs />
        <div class="page-head">
            <h1>{title}</h1>
        </div>
        <section class="empty-state">
            <h2>{heading}</h2>
            <p>{detail}</p>
        </section>
    }
}

#[component]
pub fn ExportsPage() -> impl IntoView {
    view! {
        <EmptyPage
            title="Export Tasks"
            crumbs=&["Configuration Center", "Export Tasks"]
            heading="No export tasks yet"
            detail="This tenant space has no export tasks. Exporting channels is not available in this version yet."
        />
    }
}
