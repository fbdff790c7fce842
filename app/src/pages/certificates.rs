//! Certificates (Managing a Certificate): upload, list, delete.

use crate::api::certificates::{DeleteCertificate, list_certificates, upload_certificate};
use crate::components::{
    EmptyState, FileField, FormAlert, Loaded, Notice, PageHead, SelectField, action_error,
    submit_multipart, success_notice,
};
use crate::domain::CertificateKind;
use crate::model::{CertificateMember, CertificateSummary};
use leptos::prelude::*;
use web_sys::FormData;

#[component]
pub fn CertificatesPage() -> impl IntoView {
    // a multipart upload: the browser's FormData goes to the server function as it is
    let upload = Action::new_local(|data: &FormData| upload_certificate(data.clone().into()));
    let delete = ServerAction::<DeleteCertificate>::new();
    let certificates = Resource::new(
        move || (upload.version().get(), delete.version().get()),
        |_| list_certificates(),
    );
    let upload_error = action_error(upload.value());
    let delete_error = action_error(delete.value());
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(upload.value().get(), Some(Ok(_)))
            && let Some(form) = form.get_untracked()
        {
            form.reset();
        }
    });
    let on_submit = submit_multipart(upload);
    let file_error =
        Signal::derive(move || upload_error.get().and_then(|e| e.field_message("file")));
    let name_error =
        Signal::derive(move || upload_error.get().and_then(|e| e.field_message("name")));
    let password_error =
        Signal::derive(move || upload_error.get().and_then(|e| e.field_message("password")));
    view! {
        <PageHead title="Certificates" crumbs=&["Configuration Center", "Access Configuration", "Certificates"] />
        <p class="page-help">
            "Trust, identity and authentication certificates that channels use to reach their provider. A keystore (JKS or PKCS#12) is one entry holding every certificate in it; an identity certificate's private key is stored encrypted and never leaves the server."
        </p>
        <FormAlert error=delete_error />
        <Loaded resource=certificates ready=move |list| view! { <CertificateTable certificates=list delete /> } />
        <section class="panel" aria-labelledby="upload-title">
            <h2 id="upload-title">"Upload a certificate"</h2>
            <form
                node_ref=form
                class="stack"
                novalidate=true
                method="post"
                action="/api/upload_certificate"
                enctype="multipart/form-data"
                on:submit=on_submit
            >
                <FormAlert error=upload_error />
                <div class="field" class:invalid=move || name_error.get().is_some()>
                    <div class="label-row">
                        <label for="cert-name">"Certificate name"</label>
                        <span class="required" aria-hidden="true">"*"</span>
                    </div>
                    <input
                        id="cert-name"
                        name="name"
                        type="text"
                        required=true
                        aria-invalid=move || if name_error.get().is_some() { "true" } else { "false" }
                        aria-describedby=move || name_error.get().map(|_| "cert-name-error")
                    />
                    <p class="field-error" id="cert-name-error" role="alert">{move || name_error.get()}</p>
                </div>
                <SelectField label="Kind" name="kind" error=upload_error required=true>
                    {CertificateKind::ALL
                        .into_iter()
                        .map(|k| view! { <option value=k.as_str()>{k.label()}</option> })
                        .collect_view()}
                </SelectField>
                <FileField
                    id="cert-file"
                    label="Certificate file"
                    hint="DER or PEM (.der, .cer, .crt, .pem), or a keystore: JKS (.jks) or PKCS#12 (.p12, .pfx); at most 128 KiB."
                    accept=".der,.cer,.crt,.pem,.key,.jks,.p12,.pfx"
                    error=file_error
                />
                <div class="field" class:invalid=move || password_error.get().is_some()>
                    <div class="label-row">
                        <label for="cert-password">"Keystore Password"</label>
                    </div>
                    <p class="hint" id="cert-password-hint">"For a JKS or PKCS#12 keystore; leave empty for DER and PEM files."</p>
                    <input
                        id="cert-password"
                        name="password"
                        type="password"
                        autocomplete="off"
                        aria-invalid=move || if password_error.get().is_some() { "true" } else { "false" }
                        aria-describedby=move || {
                            if password_error.get().is_some() {
                                "cert-password-hint cert-password-error"
                            } else {
                                "cert-password-hint"
                            }
                        }
                    />
                    <p class="field-error" id="cert-password-error" role="alert">{move || password_error.get()}</p>
                </div>
                <button type="submit" class="button primary" disabled=move || upload.pending().get()>
                    "Upload"
                </button>
                <Notice message=success_notice(upload.value(), "Certificate uploaded.") />
            </form>
        </section>
    }
}

#[component]
fn CertificateTable(
    certificates: Vec<CertificateSummary>,
    delete: ServerAction<DeleteCertificate>,
) -> impl IntoView {
    if certificates.is_empty() {
        return view! {
            <EmptyState heading="No certificates yet" detail="Upload the first one below." />
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data">
                <caption class="visually-hidden">"Certificates"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Subject"</th>
                        <th scope="col">"Issuer"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"SHA-256 fingerprint"</th>
                        <th scope="col">"Operation"</th>
                    </tr>
                </thead>
                <tbody>
                    {certificates
                        .into_iter()
                        .map(|c| {
                            let label = format!("Delete {}", c.name);
                            let key = c.has_private_key.then(|| view! { " " <span class="badge">"private key"</span> });
                            let list = |f: fn(&CertificateMember) -> AnyView| {
                                let items = c.members.iter().map(|m| view! { <li>{f(m)}</li> }).collect_view();
                                view! { <ul class="members">{items}</ul> }
                            };
                            view! {
                                <tr>
                                    <th scope="row">{c.name.clone()}</th>
                                    <td>{c.kind.label()}{key}</td>
                                    <td class="wrap">{list(|m| m.subject.clone().into_any())}</td>
                                    <td class="wrap">{list(|m| m.issuer.clone().into_any())}</td>
                                    <td>
                                        {list(|m| {
                                            view! {
                                                {m.not_after.clone()}
                                                {m.expired.then(|| view! { " " <span class="badge off">"expired"</span> })}
                                            }
                                                .into_any()
                                        })}
                                    </td>
                                    <td>{list(|m| view! { <code class="fingerprint">{m.fingerprint.clone()}</code> }.into_any())}</td>
                                    <td>
                                        <ActionForm action=delete attr:class="inline">
                                            <input type="hidden" name="id" value=c.id.to_string() />
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
