//! Certificates (Managing a Certificate): upload, list, delete.

use crate::api::certificates::{DeleteCertificate, list_certificates, upload_certificate};
use crate::components::{
    DataTable, DeleteRow, EmptyState, Field, FileField, FormAlert, Loaded, Notice, PageHead,
    SelectField, action_error, reset_on_success, submit_multipart, success_notice,
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
    reset_on_success(upload.value(), form);
    let on_submit = submit_multipart(upload);
    let file_error =
        Signal::derive(move || upload_error.get().and_then(|e| e.field_message("file")));
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
                <Field label="Certificate name" name="name" id="cert-name" error=upload_error required=true />
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
                <Field
                    label="Keystore Password"
                    name="password"
                    id="cert-password"
                    kind="password"
                    autocomplete="off"
                    error=upload_error
                    hint="For a JKS or PKCS#12 keystore; leave empty for DER and PEM files."
                />
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
    view! {
        <DataTable
            caption="Certificates"
            columns=["Name", "Kind", "Subject", "Issuer", "Expires", "SHA-256 fingerprint", "Operation"]
            rows=certificates
            empty=|| view! { <EmptyState heading="No certificates yet" detail="Upload the first one below." /> }
            row=move |c: CertificateSummary| {
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
                        <td><DeleteRow action=delete id=c.id what=c.name.clone() /></td>
                    </tr>
                }
            }
        />
    }
}
