//! Alerts (`/config/alerts`): where the tenant space's alerts go — e-mail addresses and an
//! HTTPS webhook signed with a secret shown once — a test alert, and the last attempts to
//! deliver alerts with their outcome.

use crate::api::alerts::{NewAlertSecret, SaveAlerts, SendTestAlert, get_alerts};
use crate::api::certificates::list_certificates;
use crate::components::{
    DataTable, EmptyState, Field, FormAlert, FormError, Loaded, Notice, PageHead, action_error,
    described_by, invalid, success_notice,
};
use crate::model::{AlertAttempt, AlertSettings, CertificateSummary};
use leptos::prelude::*;

#[component]
pub fn AlertsPage() -> impl IntoView {
    let save = ServerAction::<SaveAlerts>::new();
    let rotate = ServerAction::<NewAlertSecret>::new();
    let test = ServerAction::<SendTestAlert>::new();
    let data = Resource::new(
        move || {
            (
                save.version().get(),
                rotate.version().get(),
                test.version().get(),
            )
        },
        // the certificates the webhook may trust come with the settings: one resource, so the
        // select's options are in the first render (a Suspense inside a <select> hydrated
        // against a stream that had not resolved it yet panicked now and then)
        |_| async move {
            let settings = get_alerts().await?;
            let certificates = list_certificates().await?;
            Ok::<_, crate::error::AppError>((settings, certificates))
        },
    );
    // the attempts of a test alert arrive within seconds: look again a few times after one
    let refresh = RwSignal::new(0u32);
    let attempts = Resource::new(
        move || (refresh.get(), test.version().get(), save.version().get()),
        |_| get_alerts(),
    );
    Effect::new(move |_| {
        if test.version().get() > 0 {
            #[cfg(target_arch = "wasm32")]
            for delay in [1_000, 3_000, 6_000] {
                set_timeout(
                    move || refresh.update(|n| *n += 1),
                    std::time::Duration::from_millis(delay),
                );
            }
        }
    });
    let save_error = action_error(save.value());
    let rotate_error = action_error(rotate.value());
    let test_error = action_error(test.value());
    // the secret of this save or rotation, shown until the page is left
    let secret = Signal::derive(move || {
        let from_rotate = rotate.value().get().and_then(|r| r.ok());
        let from_save = save
            .value()
            .get()
            .and_then(|r| r.ok())
            .and_then(|s| s.secret);
        from_rotate.or(from_save)
    });
    view! {
        <PageHead title="Alerts" crumbs=&["Configuration Center", "Overview", "Alerts"] />
        <p class="page-help">
            "Alerts tell you, without opening Switchboard, when a channel becomes Failing (with the reason and the page that fixes it), when it recovers, and when a certificate or access token is 30, 14 and 7 days from its end. They never contain a password, key or token."
        </p>
        <Loaded
            resource=data
            ready=move |(s, certificates)| view! { <Settings s certificates save error=save_error /> }
        />
        <SecretShown secret />
        <section class="panel" aria-labelledby="alert-actions">
            <h2 id="alert-actions">"Test and signing secret"</h2>
            <div class="alert-actions">
                <ActionForm action=test>
                    <button type="submit" class="button" disabled=move || test.pending().get()>
                        "Send test alert"
                    </button>
                </ActionForm>
                <ActionForm action=rotate>
                    <button type="submit" class="button" disabled=move || rotate.pending().get()>
                        "New signing secret"
                    </button>
                </ActionForm>
            </div>
            <FormAlert error=test_error />
            <FormAlert error=rotate_error />
            <Notice message=success_notice(test.value(), "Test alert queued: its attempts appear below within seconds.") />
        </section>
        <Loaded resource=attempts ready=move |s| view! { <Attempts attempts=s.attempts /> } />
    }
}

/// The signing secret of the last save or rotation: shown once, copied by the person.
#[component]
fn SecretShown(secret: Signal<Option<String>>) -> impl IntoView {
    move || {
        secret.get().map(|s| {
            view! {
                <section class="panel secret-once" role="status" aria-labelledby="secret-title">
                    <h2 id="secret-title">"Webhook signing secret"</h2>
                    <p>
                        "Copy it into the receiver now: it is not shown again. Each alert carries "
                        <code>"X-Switchboard-Signature: t=…,v1=…"</code>
                        ", the HMAC-SHA256 of the time, a dot and the body, keyed with this secret."
                    </p>
                    <p><code class="secret" data-secret="alert">{s}</code></p>
                </section>
            }
        })
    }
}

#[component]
fn Settings(
    s: AlertSettings,
    certificates: Vec<CertificateSummary>,
    save: ServerAction<SaveAlerts>,
    error: FormError,
) -> impl IntoView {
    let emails_message =
        Signal::derive(move || error.get().and_then(|e| e.field_message("emails")));
    let cert_message = Signal::derive(move || {
        error
            .get()
            .and_then(|e| e.field_message("trust_certificate_id"))
    });
    let chosen = s.trust_certificate_id;
    let email_hint = if s.email_ready {
        "One address a line (at most 10)."
    } else {
        "One address a line (at most 10). E-mail is not set up on this server yet (SWITCHBOARD_SMTP_URL): the addresses are kept, and each attempt says so until its operator sets it up."
    };
    let webhook_hint = if s.has_secret {
        "HTTPS, on the address trustlist. A signing secret is set; New signing secret replaces it."
    } else {
        "HTTPS, on the address trustlist. Saving it the first time makes its signing secret, shown once."
    };
    view! {
        <section class="panel" aria-labelledby="alert-targets">
            <h2 id="alert-targets">"Where alerts go"</h2>
            <ActionForm action=save attr:class="stack" attr:novalidate=true>
                <FormAlert error />
                <div class="field" class:invalid=move || emails_message.get().is_some()>
                    <div class="label-row"><label for="emails">"E-mail addresses"</label></div>
                    <p class="hint" id="emails-hint">{email_hint}</p>
                    <textarea
                        id="emails"
                        name="emails"
                        rows="3"
                        autocomplete="off"
                        aria-invalid=invalid(emails_message)
                        aria-describedby=described_by("emails", true, emails_message)
                    >
                        {s.emails.join("\n")}
                    </textarea>
                    <p class="field-error" id="emails-error" role="alert">{move || emails_message.get()}</p>
                </div>
                <Field
                    label="Webhook URL"
                    name="webhook_url"
                    kind="url"
                    error
                    hint=webhook_hint
                    value=s.webhook_url.clone().unwrap_or_default()
                    placeholder="https://hooks.example.com/switchboard"
                />
                <div class="field" class:invalid=move || cert_message.get().is_some()>
                    <div class="label-row"><label for="trust_certificate_id">"The webhook's certificate is signed by"</label></div>
                    <select
                        id="trust_certificate_id"
                        name="trust_certificate_id"
                        aria-invalid=invalid(cert_message)
                        aria-describedby=described_by("trust_certificate_id", false, cert_message)
                    >
                        <option value="" selected=chosen.is_none()>"A public certificate authority"</option>
                        {certificates
                            .into_iter()
                            .map(|c| {
                                let selected = chosen == Some(c.id);
                                view! { <option value=c.id.to_string() selected=selected>{c.name}</option> }
                            })
                            .collect_view()}
                    </select>
                    <p class="field-error" id="trust_certificate_id-error" role="alert">{move || cert_message.get()}</p>
                </div>
                <div class="check">
                    <input type="checkbox" id="digest" name="digest" value="on" checked=s.digest />
                    <label for="digest">"Also send a daily digest (from 08:00 UTC): channels by health, the failing ones, what expires within 30 days"</label>
                </div>
                <button type="submit" class="button primary" disabled=move || save.pending().get()>
                    "Save"
                </button>
                <Notice message=success_notice(save.value(), "Saved.") />
            </ActionForm>
        </section>
    }
}

#[component]
fn Attempts(attempts: Vec<AlertAttempt>) -> impl IntoView {
    view! {
        <h2 class="section-heading" id="attempts-title">"Last attempts"</h2>
        <DataTable
            caption="The last 100 attempts to deliver an alert, newest first"
            described_by="attempts-title"
            class="compact attempts"
            columns=["When", "Alert", "To", "Outcome"]
            rows=attempts
            empty=|| view! {
                <EmptyState heading="No alert sent yet" detail="Attempts to deliver alerts appear here, with what the mail server or the webhook answered." />
            }
            row=|a: AlertAttempt| {
                let what = if a.subject == a.kind { a.kind.clone() } else { format!("{}: {}", a.kind, a.subject) };
                view! {
                    <tr>
                        <td data-label="When">{a.at}</td>
                        <td data-label="Alert">{what}</td>
                        <td data-label="To" class="target">{format!("{} {}", a.via, a.target)}</td>
                        <td data-label="Outcome" class="wrap" class:failed=!a.ok>
                            {if a.ok { "✓ " } else { "✗ " }}
                            {a.outcome}
                        </td>
                    </tr>
                }
            }
        />
    }
}
