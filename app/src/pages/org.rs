//! OUs (a tree) and skill queues of the tenant space.

use crate::api::org::{
    CreateOu, CreateSkillQueue, DeleteOu, DeleteSkillQueue, list_ous, list_skill_queues,
};
use crate::components::{
    DataTable, DeleteRow, EmptyState, Field, FormAlert, Loaded, Notice, PageHead, SelectField,
    action_error, reset_on_success, success_notice,
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
    view! {
        <DataTable
            caption="OUs, parents before their sub-OUs"
            columns=["OU", "Path", "Sub-OUs", "Operation"]
            rows=ous
            empty=|| view! { <EmptyState heading="No OUs yet" detail="Create the first one below." /> }
            row=move |o: Ou| {
                let class = format!("tree-name depth-{}", o.depth.min(7));
                view! {
                    <tr>
                        <th scope="row" class=class>{o.name.clone()}</th>
                        <td>{o.path.clone()}</td>
                        <td>{o.children}</td>
                        <td><DeleteRow action=delete id=o.id what=o.path /></td>
                    </tr>
                }
            }
        />
    }
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
    view! {
        <DataTable
            caption="Skill queues"
            columns=["Skill queue", "Access code", "Created", "Operation"]
            rows=queues
            empty=|| view! { <EmptyState heading="No skill queues yet" detail="Create the first one below." /> }
            row=move |q: SkillQueue| view! {
                <tr>
                    <th scope="row">{q.name.clone()}</th>
                    <td><code>{q.access_code.clone()}</code></td>
                    <td>{q.created.clone()}</td>
                    <td><DeleteRow action=delete id=q.id what=q.name /></td>
                </tr>
            }
        />
    }
}
