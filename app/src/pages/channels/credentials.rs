//! Channel Integration's "Webhook credentials": change the Webhook Password (or a cloud-api
//! channel's APP Secret or Verification Code) with an overlap during which the provider may
//! use either value, see whether the provider has switched, and end the overlap early.

use crate::api::channels::{ChangeWebhookCredential, EndWebhookOverlap};
use crate::components::{Field, FormAlert, FormError, Notice, action_error, success_notice};
use crate::domain::rotation::{DEFAULT_OVERLAP_HOURS, RotationStatus, WebhookCredential};
use leptos::prelude::*;

#[component]
pub fn WebhookCredentialsPanel(
    id: i64,
    credentials: Vec<WebhookCredential>,
    rotation: Option<RotationStatus>,
    signatures_checked: Option<bool>,
    change: ServerAction<ChangeWebhookCredential>,
    end: ServerAction<EndWebhookOverlap>,
) -> impl IntoView {
    let error: FormError = action_error(change.value());
    let end_error = action_error(end.value());
    let names: Vec<&'static str> = credentials.iter().map(|c| c.label()).collect();
    let generate = credentials.iter().any(|c| c.can_generate());
    let single = (credentials.len() == 1).then(|| credentials[0]);
    let what = names.join(" or ");
    let credential_message =
        Signal::derive(move || error.get().and_then(|e| e.field_message("credential")));
    let status = rotation.map(|r| {
        let summary = r.summary();
        let active = r.active;
        let when = if active {
            format!(
                "{} changed on {}; the previous one is accepted until {}.",
                r.credential.label(),
                r.started,
                r.until
            )
        } else {
            format!("{} changed on {}.", r.credential.label(), r.started)
        };
        view! {
            <div class="rotation" data-active=active.to_string()>
                <p class="rotation-summary" role="status">{summary}</p>
                <p class="hint">{when}</p>
                {active.then(|| view! {
                    <ActionForm action=end attr:class="inline">
                        <input type="hidden" name="id" value=id.to_string() />
                        <button type="submit" class="button small" disabled=move || end.pending().get()>
                            "End the overlap now"
                        </button>
                    </ActionForm>
                })}
            </div>
        }
    });
    let signatures = signatures_checked.map(|on| {
        let text = if on {
            "X-Twilio-Signature is checked on every delivery (an Auth Token is set on Edit)."
        } else {
            "X-Twilio-Signature is not checked: set the Auth Token of the Twilio account on Edit to check it."
        };
        view! { <p class="hint" data-signatures=on.to_string()>{text}</p> }
    });
    let shown = Signal::derive(move || change.value().get().and_then(|r| r.ok()));
    view! {
        <section class="panel" aria-labelledby="credentials-title">
            <h2 id="credentials-title">"Webhook credentials"</h2>
            <p class="panel-help">
                {format!("Change the {what} without an outage: the new value is checked at once, and the previous one is still accepted during the overlap, so the provider's portal can be updated at any moment within it. Activity shows which one each delivery came with.")}
            </p>
            {signatures}
            {status}
            <FormAlert error=end_error />
            <ActionForm action=change attr:class="stack" attr:novalidate=true>
                <FormAlert error />
                <input type="hidden" name="id" value=id.to_string() />
                {match single {
                    Some(c) => view! { <input type="hidden" name="credential" value=c.as_str() /> }.into_any(),
                    None => view! {
                        <div class="field" class:invalid=move || credential_message.get().is_some()>
                            <div class="label-row"><label for="credential">"Credential"</label></div>
                            <select id="credential" name="credential">
                                {credentials.iter().map(|c| view! { <option value=c.as_str()>{c.label()}</option> }).collect_view()}
                            </select>
                            <p class="field-error" id="credential-error" role="alert">{move || credential_message.get()}</p>
                        </div>
                    }.into_any(),
                }}
                <Field
                    label="New value"
                    name="value"
                    kind="password"
                    autocomplete="new-password"
                    error
                    hint="Type it, or leave it empty and tick Generate."
                />
                {generate.then(|| view! {
                    <div class="check">
                        <input type="checkbox" id="generate" name="generate" value="on" />
                        <label for="generate">"Generate it (shown once below, to copy into the provider's portal)"</label>
                    </div>
                })}
                <Field
                    label="Overlap (hours)"
                    name="overlap_hours"
                    kind="number"
                    error
                    value=DEFAULT_OVERLAP_HOURS.to_string()
                    hint="0 to 720. During it both values are accepted; 0 refuses the previous one at once."
                />
                <button type="submit" class="button primary" disabled=move || change.pending().get()>
                    "Change credential"
                </button>
                <Notice message=success_notice(change.value(), "Changed: the new value is in use.") />
            </ActionForm>
            {move || shown.get().map(|c| view! {
                <div class="secret-once" role="status">
                    <p>{format!("The previous {} is accepted until {}.", c.label, c.until)}</p>
                    {c.generated.map(|g| view! {
                        <p>
                            {if c.label == WebhookCredential::VerificationCode.label() {
                                "New Verification Code (enter it as the Verify token at Meta): ".to_owned()
                            } else {
                                format!("New {} (copy it into the provider's portal now: it is not shown again): ", c.label)
                            }}
                            <code class="secret" data-secret="webhook">{g}</code>
                        </p>
                    })}
                </div>
            })}
        </section>
    }
}
