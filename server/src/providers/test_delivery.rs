//! "Send a test delivery" (Channel Integration): Switchboard posts a synthetic delivery, in the
//! provider's own format and authenticated as the provider authenticates it, to the channel's
//! public webhook URLs — through DNS, the proxy and TLS in front of it, exactly as the provider
//! would — and says where it stopped.
//!
//! The call follows the outbound rules (one vetted address, no redirect, 5 s to connect, 15 s
//! to answer, the tenant's 2 calls at once) with one exception: the public address is the
//! operator's own (`SWITCHBOARD_PUBLIC_URL`, never typed by a tenant), so it is allowed without
//! a trustlist entry, private addresses included. Its certificate is checked against the public
//! web roots, or the CA of `SWITCHBOARD_PUBLIC_CA` when the public address has an internal one.
//!
//! Each delivery carries `X-Switchboard-Test-Delivery`: a fresh nonce sealed with the master
//! key for this channel. The endpoint that receives it (any instance) opens it, notes on the
//! nonce's row that it arrived (or why it refused it), and answers without storing anything
//! and without touching the channel's health.

use super::client::{self, Endpoint, Failure};
use super::{SqlOutbound, millis};
use crate::db::entities::{channel, webhook_self_test};
use crate::db::{internal, now};
use crate::webhooks::self_test::{HEADER, KEPT};
use app::domain::TrustPrefix;
use app::domain::channel::ProviderKind;
use app::domain::refusal::Refusal;
use app::model::TestDelivery;
use app::ports::RepoError;
use rustls::pki_types::CertificateDer;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::time::Instant;

/// Where the providers reach this Switchboard, and what its certificate is signed by.
#[derive(Clone)]
pub struct PublicAddress {
    pub url: url::Url,
    /// `SWITCHBOARD_PUBLIC_CA`; empty: the public web roots.
    pub roots: Vec<CertificateDer<'static>>,
}

/// One synthetic delivery: where, what, how it authenticates.
struct Synthetic {
    endpoint: &'static str,
    label: &'static str,
    url: String,
    request: client::Request,
}

impl SqlOutbound {
    /// Each synthetic delivery, sent and diagnosed (see the module).
    pub(super) async fn deliver_tests(
        &self,
        c: &channel::Model,
    ) -> Result<Vec<TestDelivery>, RepoError> {
        let tenant_id = c.tenant_id;
        let public = self.public.clone().ok_or(RepoError::Internal)?;
        let _permit = self.calls.enter(tenant_id)?;
        let mut out = Vec::new();
        for s in self.synthetic(c, &public.url)? {
            let nonce = crate::secrets::crypto::random_token()[..32].to_owned();
            let row = webhook_self_test::ActiveModel {
                channel_id: Set(c.id),
                tenant_id: Set(c.tenant_id),
                nonce: Set(nonce.clone()),
                endpoint: Set(s.endpoint.to_owned()),
                started_at: Set(now()),
                ..Default::default()
            }
            .insert(&self.db)
            .await
            .map_err(internal("record a test delivery"))?;
            let mut request = s.request;
            let sealed = crate::webhooks::self_test::seal(&self.secrets, c, &nonce)
                .ok_or(RepoError::Internal)?;
            request
                .headers
                .push((reqwest::header::HeaderName::from_static(HEADER), sealed));
            let started = Instant::now();
            let called = match public_endpoint(&public) {
                Ok(endpoint) => client::call(&endpoint, request).await,
                Err(f) => Err(f),
            };
            let rtt = started.elapsed();
            let seen = webhook_self_test::Entity::find_by_id(row.id)
                .one(&self.db)
                .await
                .map_err(internal("read a test delivery"))?
                .ok_or(RepoError::Internal)?;
            let (ok, summary) = diagnose(&s.url, &nonce, called, &seen);
            let summary = if ok {
                format!("{summary} ({} ms there and back)", millis(rtt))
            } else {
                summary
            };
            self.metrics.outbound(
                &c.provider,
                "test_delivery",
                if ok { "ok" } else { "failed" },
                rtt,
            );
            let mut done: webhook_self_test::ActiveModel = seen.into();
            done.ok = Set(Some(ok));
            done.summary = Set(Some(crate::webhooks::parse::storable(&summary, 512)));
            done.rtt_ms = Set(Some(i64::try_from(millis(rtt)).unwrap_or(i64::MAX)));
            done.update(&self.db)
                .await
                .map_err(internal("store a test delivery"))?;
            out.push(TestDelivery {
                at: crate::db::display_time(now()),
                endpoint: s.label.to_owned(),
                ok,
                summary,
            });
        }
        trim(&self.db, c.id).await?;
        Ok(out)
    }

    /// The channel's deliveries as its provider would send them: a message and a report, each
    /// to its URL, authenticated with the channel's current credentials.
    fn synthetic(
        &self,
        c: &channel::Model,
        public: &url::Url,
    ) -> Result<Vec<Synthetic>, RepoError> {
        let provider = ProviderKind::parse(&c.provider).map_err(|_| RepoError::Internal)?;
        let base = format!(
            "{}/social/on/whatsapp",
            public.as_str().trim_end_matches('/')
        );
        let phone = c.phone_number.clone().unwrap_or_default();
        let mid = format!(
            "switchboard-test-{}",
            &crate::secrets::crypto::random_token()[..16]
        );
        let url_of = |u: &str| url::Url::parse(u).map_err(|_| RepoError::Internal);
        let json_request =
            |u: &str, body: serde_json::Value| -> Result<client::Request, RepoError> {
                let mut r = client::Request::new(reqwest::Method::POST, url_of(u)?);
                r.headers
                    .push((reqwest::header::CONTENT_TYPE, "application/json".to_owned()));
                r.raw = Some(body.to_string().into_bytes());
                Ok(r)
            };
        let mut out = Vec::new();
        match provider {
            ProviderKind::CloudApi => {
                let secret = self
                    .open(c, &c.app_secret_enc, "app_secret")
                    .unwrap_or_default();
                let url = format!("{base}/cloud-api/{}", c.webhook_key);
                let body = serde_json::json!({
                    "object": "whatsapp_business_account",
                    "entry": [{"id": "switchboard-test", "changes": [{"field": "messages", "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {"display_phone_number": phone, "phone_number_id": "switchboard-test"},
                        "messages": [{"from": "switchboard-test", "id": mid, "timestamp": "0", "type": "text", "text": {"body": "Switchboard test delivery"}}],
                        "statuses": [{"id": mid, "status": "delivered", "timestamp": "0", "recipient_id": "switchboard-test"}]
                    }}]}]
                });
                let mut r = json_request(&url, body)?;
                let signature = crate::webhooks::auth::hub_signature_of(
                    &secret,
                    r.raw.as_deref().unwrap_or_default(),
                );
                r.headers.push((
                    reqwest::header::HeaderName::from_static("x-hub-signature-256"),
                    signature,
                ));
                out.push(Synthetic {
                    endpoint: "cloud",
                    label: "URL (message and status)",
                    url,
                    request: r,
                });
            }
            ProviderKind::Twilio => {
                let password = self
                    .open(c, &c.webhook_password_enc, "webhook_password")
                    .unwrap_or_default();
                let token = self.open(c, &c.auth_token_enc, "auth_token");
                for (endpoint, label, fields) in [
                    (
                        "message",
                        "url used to send message to agent",
                        vec![
                            ("MessageSid", mid.clone()),
                            ("From", "whatsapp:switchboard-test".to_owned()),
                            ("To", format!("whatsapp:{phone}")),
                            ("Body", "Switchboard test delivery".to_owned()),
                            ("NumMedia", "0".to_owned()),
                        ],
                    ),
                    (
                        "report",
                        "url used to send report to agent",
                        vec![
                            ("MessageSid", mid.clone()),
                            ("MessageStatus", "delivered".to_owned()),
                            ("To", "whatsapp:switchboard-test".to_owned()),
                        ],
                    ),
                ] {
                    let url = format!("{base}/twilio/{endpoint}/{}", c.webhook_key);
                    let mut r = client::Request::new(reqwest::Method::POST, url_of(&url)?);
                    r.basic = Some((c.webhook_user.clone().unwrap_or_default(), password.clone()));
                    if let Some(token) = &token {
                        r.headers.push((
                            reqwest::header::HeaderName::from_static("x-twilio-signature"),
                            crate::webhooks::twilio::sign(token, &url, &fields),
                        ));
                    }
                    r.form = Some(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
                    out.push(Synthetic {
                        endpoint,
                        label,
                        url,
                        request: r,
                    });
                }
            }
            ProviderKind::Infobip | ProviderKind::Other => {
                let password = self
                    .open(c, &c.webhook_password_enc, "webhook_password")
                    .unwrap_or_default();
                for (endpoint, label, body) in [
                    (
                        "message",
                        "url used to send message to agent",
                        serde_json::json!({"results": [{"messageId": mid, "from": "switchboard-test", "to": phone, "message": {"type": "TEXT", "text": "Switchboard test delivery"}}]}),
                    ),
                    (
                        "report",
                        "url used to send report to agent",
                        serde_json::json!({"results": [{"messageId": mid, "to": "switchboard-test", "status": {"groupName": "DELIVERED"}}]}),
                    ),
                ] {
                    let url = format!("{base}/{}/{endpoint}/{}", c.provider, c.webhook_key);
                    let mut r = json_request(&url, body)?;
                    r.headers.push((
                        reqwest::header::HeaderName::from_static("accountkey"),
                        password.clone(),
                    ));
                    out.push(Synthetic {
                        endpoint,
                        label,
                        url,
                        request: r,
                    });
                }
            }
        }
        Ok(out)
    }
}

/// The one exception to the trustlist: the operator's own public address, private or not.
fn public_endpoint(public: &PublicAddress) -> Result<Endpoint, Failure> {
    let origin = public.url.origin().ascii_serialization();
    let prefix = TrustPrefix::parse(&origin).map_err(|_| {
        Failure::NotAllowed(format!(
            "providers call only https:// addresses, and SWITCHBOARD_PUBLIC_URL is {origin}: set it to the https:// address in front of Switchboard"
        ))
    })?;
    Ok(Endpoint {
        trustlist: vec![client::Allowed {
            prefix,
            allow_private: true,
        }],
        roots: public.roots.clone(),
        root_names: if public.roots.is_empty() {
            Vec::new()
        } else {
            vec!["SWITCHBOARD_PUBLIC_CA".to_owned()]
        },
        identity: None,
    })
}

/// Where the delivery stopped, in one sentence.
fn diagnose(
    url: &str,
    nonce: &str,
    called: Result<client::Reply, Failure>,
    seen: &webhook_self_test::Model,
) -> (bool, String) {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(443)))
        })
        .unwrap_or_default();
    let reply = match called {
        Ok(reply) => reply,
        Err(failure) => {
            return (
                false,
                match failure {
                    Failure::Unresolvable(name) => format!(
                        "The name {name} of the public address does not resolve (DNS): providers cannot find Switchboard."
                    ),
                    Failure::Untrusted {
                        presented, reason, ..
                    } => format!(
                        "The TLS certificate of the public address {host} is not trusted{}: providers refuse it too ({reason}).",
                        presented
                            .map(|s| format!(" (it presented {s})"))
                            .unwrap_or_default()
                    ),
                    Failure::Unreachable(why) => format!(
                        "Nothing answers at the public address {host} ({why}): is the proxy or load balancer in front of Switchboard running?"
                    ),
                    Failure::Timeout { connecting: true } => format!(
                        "No connection to the public address {host} within {} seconds.",
                        client::CONNECT_TIMEOUT.as_secs()
                    ),
                    Failure::Timeout { connecting: false } => format!(
                        "The public address {host} did not answer within {} seconds.",
                        client::CALL_TIMEOUT.as_secs()
                    ),
                    Failure::Redirect { status, location } => format!(
                        "The public address answered with a redirect (HTTP {status}{}): providers do not follow it, so the URL must reach Switchboard directly.",
                        location.map(|l| format!(" to {l}")).unwrap_or_default()
                    ),
                    Failure::NotAllowed(why) => format!("The test delivery was not sent: {why}."),
                    other => format!(
                        "The TLS connection to the public address failed: {}",
                        other.describe()
                    ),
                },
            );
        }
    };
    let ours = String::from_utf8_lossy(&reply.body).contains(nonce);
    match (
        reply.status,
        seen.received_at.is_some(),
        seen.refusal.as_deref(),
    ) {
        (200, true, _) if ours => (true, "Received and accepted".to_owned()),
        (_, _, Some(code)) => {
            let words = Refusal::parse(code).map_or_else(
                || "refused".to_owned(),
                |r| {
                    format!(
                        "{} — {}",
                        r.describe(seen.refusal_detail.as_deref()),
                        r.fix()
                    )
                },
            );
            (
                false,
                format!(
                    "It reached Switchboard, which refused it (HTTP {}): {words}",
                    reply.status
                ),
            )
        }
        (502..=504, false, None) => (
            false,
            format!(
                "The proxy in front of Switchboard answered HTTP {}: it cannot reach Switchboard (check the proxy's backend address and that Switchboard runs).",
                reply.status
            ),
        ),
        (status, false, None) => (
            false,
            format!(
                "The public address answered HTTP {status}, but this Switchboard never saw the delivery: is SWITCHBOARD_PUBLIC_URL the address of this Switchboard, and does the proxy pass /social/on/whatsapp/ through?"
            ),
        ),
        (status, true, None) => (
            false,
            format!(
                "Switchboard accepted it, but the answer that came back was HTTP {status} without its mark: something between the provider and Switchboard changes the answer."
            ),
        ),
    }
}

/// Keeps the newest `KEPT` test deliveries of a channel.
async fn trim(db: &sea_orm::DatabaseConnection, channel_id: i64) -> Result<(), RepoError> {
    use webhook_self_test::Column as T;
    let keep: Vec<i64> = webhook_self_test::Entity::find()
        .select_only()
        .column(T::Id)
        .filter(T::ChannelId.eq(channel_id))
        .order_by_desc(T::Id)
        .limit(KEPT)
        .into_tuple()
        .all(db)
        .await
        .map_err(internal("newest test deliveries"))?;
    if let Some(oldest) = keep.last() {
        webhook_self_test::Entity::delete_many()
            .filter(T::ChannelId.eq(channel_id))
            .filter(T::Id.lt(*oldest))
            .exec(db)
            .await
            .map_err(internal("trim test deliveries"))?;
    }
    Ok(())
}
