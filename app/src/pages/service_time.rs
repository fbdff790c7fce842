//! Service time: the tenant's workdays and non-working dates.

use crate::api::service_time::{
    AddNonWorkingDate, RemoveNonWorkingDate, SaveTimeZone, SaveWeekdays, get_service_time,
    list_time_zones,
};
use crate::components::{
    DataTable, DeleteRow, Field, FormAlert, Loaded, Notice, PageHead, action_error,
    reset_on_success, success_notice,
};
use crate::domain::service_time::WEEKDAYS;
use crate::model::{NonWorkingDate, ServiceTime};
use leptos::prelude::*;

#[component]
pub fn ServiceTimePage() -> impl IntoView {
    let save = ServerAction::<SaveWeekdays>::new();
    let add = ServerAction::<AddNonWorkingDate>::new();
    let remove = ServerAction::<RemoveNonWorkingDate>::new();
    let save_zone = ServerAction::<SaveTimeZone>::new();
    let data = Resource::new(
        move || {
            (
                save.version().get(),
                add.version().get(),
                remove.version().get(),
                save_zone.version().get(),
            )
        },
        |_| get_service_time(),
    );
    let zone_error = action_error(save_zone.value());
    let add_form = NodeRef::<leptos::html::Form>::new();
    reset_on_success(add.value(), add_form);
    let save_error = action_error(save.value());
    let add_error = action_error(add.value());
    let remove_error = action_error(remove.value());
    view! {
        <PageHead title="Service Time" crumbs=&["Configuration Center", "Access Configuration", "Service Time"] />
        <p class="page-help">
            "Which days are workdays: channels use their Workday or Non-workday agent work time accordingly."
        </p>
        <Loaded
            resource=data
            ready=move |st| view! {
                <TimeZone zone=st.time_zone.clone() save=save_zone error=zone_error />
                <Weekdays st=st.clone() save save_error />
                <Dates st remove remove_error />
            }
        />
        <section class="panel" aria-labelledby="add-date">
            <h2 id="add-date">"Add a non-working date"</h2>
            <ActionForm action=add node_ref=add_form attr:class="stack" attr:novalidate=true>
                <FormAlert error=add_error />
                <Field label="Date" name="date" kind="date" error=add_error required=true />
                <Field label="Name" name="name" error=add_error placeholder="e.g. New Year" />
                <button type="submit" class="button primary" disabled=move || add.pending().get()>
                    "Add date"
                </button>
                <Notice message=success_notice(add.value(), "Date added.") />
            </ActionForm>
        </section>
    }
}

/// The tenant's time zone: typed with suggestions from the zone database, checked on the server.
#[component]
fn TimeZone(
    zone: String,
    save: ServerAction<SaveTimeZone>,
    error: crate::components::FormError,
) -> impl IntoView {
    let zones = Resource::new(|| (), |_| list_time_zones());
    let message = Signal::derive(move || error.get().and_then(|e| e.field_message("time_zone")));
    view! {
        <section class="panel" aria-labelledby="time-zone">
            <h2 id="time-zone">"Time zone"</h2>
            <ActionForm action=save attr:class="stack" attr:novalidate=true>
                <FormAlert error />
                <div class="field" class:invalid=move || message.get().is_some()>
                    <div class="label-row"><label for="time_zone">"Tenant time zone"</label></div>
                    <p class="hint" id="time_zone-hint">
                        "Work time, non-working dates and the routing preview are read in this zone (IANA name, for example Europe/Berlin)."
                    </p>
                    <input
                        id="time_zone"
                        name="time_zone"
                        type="text"
                        list="time-zones"
                        value=zone
                        autocomplete="off"
                        aria-invalid=move || if message.get().is_some() { "true" } else { "false" }
                        aria-describedby=move || if message.get().is_some() { "time_zone-hint time_zone-error" } else { "time_zone-hint" }
                    />
                    <datalist id="time-zones">
                        <Suspense>
                            {move || Suspend::new(async move {
                                zones
                                    .await
                                    .unwrap_or_default()
                                    .into_iter()
                                    .map(|z| view! { <option value=z></option> })
                                    .collect_view()
                            })}
                        </Suspense>
                    </datalist>
                    <p class="field-error" id="time_zone-error" role="alert">{move || message.get()}</p>
                </div>
                <button type="submit" class="button primary" disabled=move || save.pending().get()>
                    "Save time zone"
                </button>
                <Notice message=success_notice(save.value(), "Time zone saved.") />
            </ActionForm>
        </section>
    }
}

#[component]
fn Weekdays(
    st: ServiceTime,
    save: ServerAction<SaveWeekdays>,
    save_error: crate::components::FormError,
) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="weekdays">
            <h2 id="weekdays">"Workdays"</h2>
            <ActionForm action=save attr:class="stack">
                <FormAlert error=save_error />
                <fieldset class="weekdays">
                    <legend>"Weekdays that are workdays"</legend>
                    {WEEKDAYS
                        .iter()
                        .zip(st.weekdays.0)
                        .map(|(day, on)| {
                            let name = day.to_lowercase();
                            let id = format!("wd-{name}");
                            view! {
                                <div class="check">
                                    <input type="checkbox" id=id.clone() name=name value="on" checked=on />
                                    <label for=id>{*day}</label>
                                </div>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <button type="submit" class="button primary" disabled=move || save.pending().get()>
                    "Save workdays"
                </button>
                <Notice message=success_notice(save.value(), "Workdays saved.") />
            </ActionForm>
        </section>
    }
}

#[component]
fn Dates(
    st: ServiceTime,
    remove: ServerAction<RemoveNonWorkingDate>,
    remove_error: crate::components::FormError,
) -> impl IntoView {
    let rows = st.dates;
    view! {
        <section class="panel" aria-labelledby="dates">
            <h2 id="dates">"Non-working dates"</h2>
            <FormAlert error=remove_error />
            <DataTable
                caption="Non-working dates"
                columns=["Date", "Name", "Operation"]
                rows
                empty=|| view! { <p class="empty-inline">"No non-working dates yet."</p> }
                row=move |d: NonWorkingDate| view! {
                    <tr>
                        <th scope="row">{d.date.clone()}</th>
                        <td>{d.name.clone()}</td>
                        <td><DeleteRow action=remove id=d.id what=d.date verb="Remove" /></td>
                    </tr>
                }
            />
        </section>
    }
}
