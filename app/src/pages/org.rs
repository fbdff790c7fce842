//! OUs (a tree) and skill queues of the tenant space.

use crate::api::org::{
    CreateOu, CreateSkillQueue, DeleteOu, DeleteSkillQueue, list_ous, list_skill_queues,
};
use crate::components::{
    EmptyState, Field, FormAlert, Loaded, Notice, PageHead, SelectField, action_error,
    reset_on_success, success_notice,
};
use crate::model::{Ou, SkillQueue};
use leptos::prelude::*;

#[component]
pub fn OusPage() -> impl IntoView {
    let create = ServerAction::<CreateOu>::new();
    let delete = ServerAction::<DeleteOu>::new();
    let ous = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| list_ous(),
    );
    let form = NodeRef::<leptos::html::Form>::new();
    reset_on_success(create.value(), form);
    let create_error = action_error(create.value());
    let delete_error = action_error(delete.value());
    view! {
        <PageHead title="OUs" crumbs=&["Configuration Center", "Access Configuration", "OUs"] />
        <p class="page-help">"Organizational units group channels and their resources."</p>
        <FormAlert error=delete_error />
        <Loaded resource=ous ready=move |list| view! { <OuTable ous=list delete /> } />
        <section class="panel" aria-labelledby="create-ou">
            <h2 id="create-ou">"Create an OU"</h2>
            <ActionForm action=create node_ref=form attr:class="stack" attr:novalidate=true>
                <FormAlert error=create_error />
                <Field label="OU name" name="name" error=create_error required=true />
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let list = ous.await.unwrap_or_default();
                        view! {
                            <SelectField label="Parent OU" name="parent_id" error=create_error>
                                <option value="">"None (top level)"</option>
                                {list
                                    .into_iter()
                                    .map(|o| view! { <option value=o.id.to_string()>{o.path}</option> })
                                    .collect_view()}
                            </SelectField>
                        }
                    })}
                </Transition>
                <button type="submit" class="button primary" disabled=move || create.pending().get()>
                    "Create OU"
                </button>
                <Notice message=success_notice(create.value(), "OU created.") />
            </ActionForm>
        </section>
    }
}

#[component]
fn OuTable(ous: Vec<Ou>, delete: ServerAction<DeleteOu>) -> impl IntoView {
    if ous.is_empty() {
        return view! {
            <EmptyState heading="No OUs yet" detail="Create the first one below." />
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data">
                <caption class="visually-hidden">"OUs, parents before their sub-OUs"</caption>
                <thead>
                    <tr>
                        <th scope="col">"OU"</th>
                        <th scope="col">"Path"</th>
                        <th scope="col">"Sub-OUs"</th>
                        <th scope="col">"Operation"</th>
                    </tr>
                </thead>
                <tbody>
                    {ous
                        .into_iter()
                        .map(|o| {
                            let class = format!("tree-name depth-{}", o.depth.min(7));
                            let label = format!("Delete {}", o.path);
                            view! {
                                <tr>
                                    <th scope="row" class=class>{o.name.clone()}</th>
                                    <td>{o.path.clone()}</td>
                                    <td>{o.children}</td>
                                    <td>
                                        <ActionForm action=delete attr:class="inline">
                                            <input type="hidden" name="id" value=o.id.to_string() />
                                            <button type="submit" class="button small danger" aria-label=label>
                                                "Delete"
                                            </button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn SkillQueuesPage() -> impl IntoView {
    let create = ServerAction::<CreateSkillQueue>::new();
    let delete = ServerAction::<DeleteSkillQueue>::new();
    let queues = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| list_skill_queues(),
    );
    let form = NodeRef::<leptos::html::Form>::new();
    reset_on_success(create.value(), form);
    let create_error = action_error(create.value());
    let delete_error = action_error(delete.value());
    view! {
        <PageHead title="Skill Queues" crumbs=&["Configuration Center", "Access Configuration", "Skill Queues"] />
        <p class="page-help">
            "The multimedia called routes of this tenant space; a channel routes its sessions to one."
        </p>
        <FormAlert error=delete_error />
        <Loaded resource=queues ready=move |list| view! { <QueueTable queues=list delete /> } />
        <section class="panel" aria-labelledby="create-queue">
            <h2 id="create-queue">"Create a skill queue"</h2>
            <ActionForm action=create node_ref=form attr:class="stack" attr:novalidate=true>
                <FormAlert error=create_error />
                <Field label="Skill queue name" name="name" error=create_error required=true />
                <Field
                    label="Access code"
                    name="access_code"
                    error=create_error
                    required=true
                    hint="The called route's access code: letters and digits."
                />
                <button type="submit" class="button primary" disabled=move || create.pending().get()>
                    "Create skill queue"
                </button>
                <Notice message=success_notice(create.value(), "Skill queue created.") />
            </ActionForm>
        </section>
    }
}

#[component]
fn QueueTable(queues: Vec<SkillQueue>, delete: ServerAction<DeleteSkillQueue>) -> impl IntoView {
    if queues.is_empty() {
        return view! {
            <EmptyState heading="No skill queues yet" detail="Create the first one below." />
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data">
                <caption class="visually-hidden">"Skill queues"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Skill queue"</th>
                        <th scope="col">"Access code"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Operation"</th>
                    </tr>
                </thead>
                <tbody>
                    {queues
                        .into_iter()
                        .map(|q| {
                            let label = format!("Delete {}", q.name);
                            view! {
                                <tr>
                                    <th scope="row">{q.name.clone()}</th>
                                    <td><code>{q.access_code.clone()}</code></td>
                                    <td>{q.created.clone()}</td>
                                    <td>
                                        <ActionForm action=delete attr:class="inline">
                                            <input type="hidden" name="id" value=q.id.to_string() />
                                            <button type="submit" class="button small danger" aria-label=label>
                                                "Delete"
                                            </button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
