//! Outbound calls with a channel's own credentials and certificates (SPEC §4a): Test connection
//! and Send test message. `client` makes every call; `calls` knows what each provider is
//! called with.

pub mod calls;
pub mod client;
mod test_delivery;

pub use test_delivery::PublicAddress;

use crate::db::audit;
use crate::db::certificates::{members_of, open_key};
use crate::db::entities::{certificate, channel, outbound_message, outbound_status};
use crate::db::{UniqueOr, display_time, internal, now};
use crate::secrets::SecretBox;
use app::domain::audit::{AuditAction, ObjectKind, created as created_fields};
use app::domain::channel::{ProviderKind, VerificationMethod};
use app::model::{ConnectionTest, SentMessage};
use app::ports::{Actor, AuditEvent, Outbound, RepoError};
use async_trait::async_trait;
use calls::Creds;
use client::{Endpoint, Failure};
use rustls::pki_types::CertificateDer;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Calls one tenant may have under way at once (each may take up to `client::CALL_TIMEOUT`);
/// another is refused as busy (429) until one ends.
pub const CALLS_PER_TENANT: usize = 2;

/// The calls under way, per tenant.
#[derive(Clone, Default)]
struct CallsInFlight(Arc<Mutex<HashMap<i64, usize>>>);

/// A tenant's place among its calls under way; given back when dropped.
struct CallPermit {
    calls: CallsInFlight,
    tenant_id: i64,
}

impl CallsInFlight {
    fn enter(&self, tenant_id: i64) -> Result<CallPermit, RepoError> {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = map.entry(tenant_id).or_insert(0);
        if *n >= CALLS_PER_TENANT {
            return Err(RepoError::Busy);
        }
        *n += 1;
        Ok(CallPermit {
            calls: self.clone(),
            tenant_id,
        })
    }
}

impl Drop for CallPermit {
    fn drop(&mut self) {
        let mut map = self
            .calls
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.tenant_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.tenant_id);
            }
        }
    }
}

#[derive(Clone)]
pub struct SqlOutbound {
    db: DatabaseConnection,
    secrets: SecretBox,
    calls: CallsInFlight,
    metrics: crate::metrics::Metrics,
    /// Where providers reach this Switchboard (the test deliveries go there).
    public: Option<std::sync::Arc<PublicAddress>>,
}

impl SqlOutbound {
    pub fn new(db: DatabaseConnection, secrets: SecretBox) -> Self {
        Self {
            db,
            secrets,
            calls: CallsInFlight::default(),
            metrics: crate::metrics::Metrics::off(),
            public: None,
        }
    }

    /// Sends test deliveries to `public`.
    pub fn with_public(mut self, public: PublicAddress) -> Self {
        self.public = Some(std::sync::Arc::new(public));
        self
    }

    /// Counts its calls in `metrics`.
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    async fn channel(&self, tenant_id: i64, id: i64) -> Result<channel::Model, RepoError> {
        channel::Entity::find_by_id(id)
            .filter(channel::Column::TenantId.eq(tenant_id))
            .one(&self.db)
            .await
            .map_err(internal("find channel for a call"))?
            .ok_or(RepoError::NotFound)
    }

    fn open(&self, c: &channel::Model, sealed: &Option<Vec<u8>>, field: &str) -> Option<String> {
        c.open_secret(&self.secrets, sealed, field, "a call")
    }

    fn creds(&self, c: &channel::Model) -> Result<Creds, RepoError> {
        let provider = ProviderKind::parse(&c.provider).map_err(|_| RepoError::Internal)?;
        Ok(Creds {
            provider,
            method: c
                .verification_method
                .as_deref()
                .and_then(|m| VerificationMethod::parse(m).ok()),
            base_url: c.base_url.clone(),
            phone_number: c.phone_number.clone(),
            username: c.username.clone(),
            password: self.open(c, &c.password_enc, "password"),
            account_key: self.open(c, &c.account_key_enc, "account_key"),
            api_key_sid: c.api_key_sid.clone(),
            api_key_secret: self.open(c, &c.api_key_secret_enc, "api_key_secret"),
            account_sid: c.account_sid.clone(),
            access_token: self.open(c, &c.access_token_enc, "access_token"),
            app_id: c.app_id,
        })
    }

    /// The trustlist, roots and identity a call of this channel uses; a certificate the channel
    /// names and that cannot be used fails the call (never a fallback to other trust).
    async fn endpoint(&self, c: &channel::Model) -> Result<Result<Endpoint, Failure>, RepoError> {
        let trustlist = crate::db::trustlist::for_tenant(&self.db, c.tenant_id)
            .await
            .map_err(internal("trustlist for a call"))?;
        let load = |id: Option<i64>| {
            let db = self.db.clone();
            let tenant = c.tenant_id;
            async move {
                match id {
                    None => Ok(None),
                    Some(id) => certificate::Entity::find_by_id(id)
                        .filter(certificate::Column::TenantId.eq(tenant))
                        .one(&db)
                        .await
                        .map_err(internal("certificate for a call"))
                        .map(|cert| Some(cert.ok_or(id))),
                }
            }
        };
        let gone =
            |role: &str| Failure::Certificate(format!("the channel's {role} no longer exists"));
        let mut roots = Vec::new();
        let mut root_names = Vec::new();
        for (id, role) in [
            (c.trust_certificate_id, "Trust Certificate"),
            (c.auth_certificate_id, "Authentication Certificate"),
        ] {
            match load(id).await? {
                None => {}
                Some(Err(_)) => return Ok(Err(gone(role))),
                Some(Ok(cert)) => {
                    let members = members_of(&cert);
                    if members.is_empty() {
                        return Ok(Err(Failure::Certificate(format!(
                            "the channel's {role} \u{201c}{}\u{201d} holds no readable certificate",
                            cert.name
                        ))));
                    }
                    for member in members {
                        root_names.push(member.subject.clone());
                        roots.push(CertificateDer::from(member.der));
                    }
                }
            }
        }
        let identity = match load(c.identity_certificate_id).await? {
            None => None,
            Some(Err(_)) => return Ok(Err(gone("Identity Certificate"))),
            Some(Ok(cert)) => {
                let chain: Vec<CertificateDer<'static>> = members_of(&cert)
                    .into_iter()
                    .map(|m| CertificateDer::from(m.der))
                    .collect();
                if cert.key_enc.is_none() {
                    // an identity without a key is presented by nobody: the call goes without
                    None
                } else {
                    match open_key(&self.secrets, &cert).and_then(|k| k.to_pki()) {
                        Some(key) if !chain.is_empty() => Some((chain, key)),
                        _ => {
                            return Ok(Err(Failure::Certificate(format!(
                                "the private key of the channel's Identity Certificate \u{201c}{}\u{201d} cannot be opened",
                                cert.name
                            ))));
                        }
                    }
                }
            }
        };
        Ok(Ok(Endpoint {
            trustlist,
            roots,
            root_names,
            identity,
        }))
    }
}

impl SqlOutbound {
    /// Test connection of other + oAuth: a token first (minted by this server for a picked
    /// app, else from BaseUrl's platform with UserName and Password), then BaseUrl called with
    /// it, both through the one client with the channel's trust.
    async fn test_oauth(
        &self,
        c: &channel::Model,
        creds: &Creds,
    ) -> Result<(Result<String, String>, &'static str), RepoError> {
        let endpoint = match self.endpoint(c).await? {
            Ok(e) => e,
            Err(f) => return Ok((Err(f.describe()), f.code())),
        };
        let mut minted = None;
        let token = match creds.app_id {
            Some(app_id) => {
                match crate::db::apps::mint(
                    &self.db,
                    c.tenant_id,
                    app_id,
                    calls::TEST_TOKEN_SECONDS,
                )
                .await?
                {
                    Some(issued) => {
                        minted = Some(issued.token.clone());
                        issued.token
                    }
                    None => {
                        return Ok((
                            Err("The app this channel picked no longer exists, is disabled, or no longer subscribes to sendWhatsappMessage: pick another on the Edit page.".into()),
                            "not_configured",
                        ));
                    }
                }
            }
            None => {
                let request = match calls::token_request(creds) {
                    Ok(r) => r,
                    Err(why) => return Ok((Err(why), "not_configured")),
                };
                let url = request.url.clone();
                match client::call(&endpoint, request).await {
                    Err(f) => {
                        return Ok((Err(format!("Getting a token: {}", f.describe())), f.code()));
                    }
                    Ok(reply) => match calls::interpret_token(&url, &reply) {
                        Ok(t) => t,
                        Err((why, code)) => return Ok((Err(why), code)),
                    },
                }
            }
        };
        let request = match calls::oauth_connection_request(creds, token) {
            Ok(r) => r,
            Err(why) => return Ok((Err(why), "not_configured")),
        };
        let outcome = match client::call(&endpoint, request).await {
            Err(f) => (Err(f.describe()), f.code()),
            Ok(reply) => {
                let connected = calls::interpret_oauth_connection(&reply);
                let code = calls::diagnosis(connected.is_ok(), reply.status);
                (connected, code)
            }
        };
        // the token this server minted for the test served one call: it ends now
        if let Some(token) = minted {
            crate::db::apps::revoke(&self.db, &token).await?;
        }
        Ok(outcome)
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[async_trait]
impl Outbound for SqlOutbound {
    async fn test_connection(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
    ) -> Result<ConnectionTest, RepoError> {
        let c = self.channel(tenant_id, id).await?;
        let creds = self.creds(&c)?;
        let _permit = self.calls.enter(tenant_id)?;
        let started = std::time::Instant::now();
        let oauth = creds.provider == ProviderKind::Other
            && creds.method == Some(VerificationMethod::OAuth);
        let (outcome, diagnosis) = match calls::connection_request(&creds) {
            _ if oauth => self.test_oauth(&c, &creds).await?,
            Err(why) => (Err(why), "not_configured"),
            Ok(request) => {
                let called = match self.endpoint(&c).await? {
                    Ok(endpoint) => client::call(&endpoint, request).await,
                    Err(failure) => Err(failure),
                };
                match called {
                    Ok(reply) => {
                        let connected = calls::interpret_connection(&creds, &reply);
                        let diagnosis = calls::diagnosis(connected.is_ok(), reply.status);
                        (connected, diagnosis)
                    }
                    Err(failure) => (Err(failure.describe()), failure.code()),
                }
            }
        };
        self.metrics.outbound(
            creds.provider.as_str(),
            "test_connection",
            diagnosis,
            started.elapsed(),
        );
        let latency_ms = millis(started.elapsed());
        let (ok, summary) = match outcome {
            Ok(connected) => (true, format!("{connected} ({latency_ms} ms)")),
            Err(why) => (false, why),
        };
        let at = now();
        let txn = self
            .db
            .begin()
            .await
            .map_err(internal("begin test result"))?;
        channel::Entity::update_many()
            .col_expr(channel::Column::LastTestAt, Expr::value(at))
            .col_expr(channel::Column::LastTestOk, Expr::value(ok))
            .col_expr(
                channel::Column::LastTestSummary,
                Expr::value(summary.clone()),
            )
            .filter(channel::Column::Id.eq(c.id))
            .filter(channel::Column::TenantId.eq(tenant_id))
            .exec(&txn)
            .await
            .map_err(internal("store a test result"))?;
        audit::record(
            &txn,
            actor,
            AuditEvent::new(
                AuditAction::ConnectionTested,
                Some(tenant_id),
                ObjectKind::Channel,
                Some(c.id),
                c.name.clone(),
            )
            .with(created_fields(&[(
                "Result",
                format!("{}: {summary}", if ok { "Passed" } else { "Failed" }),
            )])),
        )
        .await?;
        txn.commit().await.map_err(internal("commit test result"))?;
        crate::db::health::refresh_after(&self.db, &[c.id]).await;
        tracing::info!(
            tenant_id,
            channel_id = c.id,
            ok,
            latency_ms,
            "connection tested"
        );
        Ok(ConnectionTest {
            ok,
            summary,
            latency_ms,
            at: display_time(at),
        })
    }

    async fn send_test_message(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
        recipient: &str,
        text: &str,
    ) -> Result<SentMessage, RepoError> {
        let sent = self
            .send(tenant_id, id, recipient, text, Sender::Person(actor))
            .await?;
        Ok(SentMessage {
            provider_message_id: sent.provider_message_id,
            latency_ms: sent.latency_ms,
        })
    }

    async fn send_test_deliveries(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
    ) -> Result<Vec<app::model::TestDelivery>, RepoError> {
        let c = self.channel(tenant_id, id).await?;
        let sent = self.deliver_tests(&c).await?;
        let name = c.name;
        let results = sent
            .iter()
            .map(|d| {
                (
                    "Result",
                    format!(
                        "{}: {}: {}",
                        d.endpoint,
                        if d.ok { "Passed" } else { "Failed" },
                        d.summary
                    ),
                )
            })
            .collect::<Vec<_>>();
        audit::record(
            &self.db,
            actor,
            AuditEvent::new(
                AuditAction::TestDeliverySent,
                Some(tenant_id),
                ObjectKind::Channel,
                Some(id),
                name,
            )
            .with(created_fields(&results)),
        )
        .await?;
        tracing::info!(
            tenant_id,
            channel_id = id,
            ok = sent.iter().all(|d| d.ok),
            "test delivery sent"
        );
        Ok(sent)
    }
}

/// Who sends a message: a person with Send test message (audited), or an app through the
/// send API (its client reference makes a retried request send once).
#[derive(Debug, Clone, Copy)]
pub enum Sender<'a> {
    Person(&'a Actor),
    App {
        app_id: i64,
        client_reference: Option<&'a str>,
    },
}

/// A message sent (or, for a client reference sent before, the one sent then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message_id: i64,
    pub provider_message_id: String,
    pub latency_ms: u64,
    /// The client reference was sent before: nothing was sent now.
    pub replayed: bool,
}

/// A reservation of a client reference whose send never finished (the process died) is, after
/// this long (more than a call can take), a message whose outcome is unknown.
const RESERVATION_HELD: time::Duration = time::Duration::seconds(60);
/// What a reserved message's provider id reads until the provider names one.
pub const PENDING: &str = "pending:";
/// What it reads when the call's outcome is unknown (no answer after the request went out):
/// the message may have been sent, so its reference never sends again.
pub const UNKNOWN: &str = "unknown:";

impl SqlOutbound {
    /// The message `reference` of `app_id` names: `Ok(Some)` when it was sent (to this
    /// channel and recipient, with this text), `Ok(None)` when there is none; a `Conflict`
    /// while its send is under way, when its outcome is unknown (it may have been sent: it is
    /// never sent again), or when the reference named another message.
    async fn reserved(
        &self,
        app_id: i64,
        reference: &str,
        channel_id: i64,
        recipient: &str,
        text: &str,
    ) -> Result<Option<outbound_message::Model>, RepoError> {
        let found = outbound_message::Entity::find()
            .filter(outbound_message::Column::AppId.eq(app_id))
            .filter(outbound_message::Column::ClientReference.eq(reference))
            .one(&self.db)
            .await
            .map_err(internal("find a client reference"))?;
        let Some(m) = found else {
            return Ok(None);
        };
        let pending = m.provider_message_id.starts_with(PENDING);
        if m.provider_message_id.starts_with(UNKNOWN)
            || (pending && m.sent_at < now() - RESERVATION_HELD)
        {
            return Err(RepoError::Conflict {
                field: "clientReferenceUnknown",
                message: "The outcome of the message with this client reference is unknown (the provider did not answer in time, or the server stopped while sending): it may have been sent, so it is not sent again. Send it with a new client reference if the recipient did not get it.".into(),
            });
        }
        if pending {
            return Err(RepoError::Conflict {
                field: "clientReference",
                message: "A message with this client reference is being sent: ask for its status in a moment.".into(),
            });
        }
        if m.channel_id != channel_id || m.recipient != recipient || m.text != text {
            return Err(RepoError::Conflict {
                field: "clientReference",
                message: "This client reference names another message (its channel, recipient or text differ): give each message a reference of its own.".into(),
            });
        }
        Ok(Some(m))
    }

    /// Sends `text` to `recipient` through the channel `id` of `tenant_id` with its provider's
    /// send API and records the message, so that its delivery reports form a timeline.
    pub async fn send(
        &self,
        tenant_id: i64,
        id: i64,
        recipient: &str,
        text: &str,
        sender: Sender<'_>,
    ) -> Result<Sent, RepoError> {
        let refused = |why: String| RepoError::Conflict {
            field: "form",
            message: why,
        };
        let c = self.channel(tenant_id, id).await?;
        let (app_id, reference) = match sender {
            Sender::App {
                app_id,
                client_reference,
            } => (Some(app_id), client_reference),
            Sender::Person(_) => (None, None),
        };
        // a reference sent before answers what was sent then; one being sent waits
        let mut reservation = None;
        if let (Some(app), Some(reference)) = (app_id, reference) {
            if let Some(m) = self.reserved(app, reference, c.id, recipient, text).await? {
                return Ok(Sent {
                    message_id: m.id,
                    provider_message_id: m.provider_message_id,
                    latency_ms: 0,
                    replayed: true,
                });
            }
            let placeholder = format!("{PENDING}{}", crate::secrets::crypto::random_token());
            let row = outbound_message::ActiveModel {
                channel_id: Set(c.id),
                tenant_id: Set(tenant_id),
                provider_message_id: Set(placeholder),
                recipient: Set(recipient.to_owned()),
                text: Set(text.to_owned()),
                sent_at: Set(now()),
                app_id: Set(Some(app)),
                client_reference: Set(Some(reference.to_owned())),
                ..Default::default()
            }
            .insert(&self.db)
            .await
            .unique_or(
                "clientReference",
                "A message with this client reference is being sent: ask for its status in a moment.",
                "reserve a client reference",
            )?;
            reservation = Some(row.id);
        }
        let call = match sender {
            Sender::Person(_) => "send_test_message",
            Sender::App { .. } => "send_whatsapp_message",
        };
        let outcome = self.call_send(&c, recipient, text, call).await;
        let (provider_message_id, latency_ms) = match outcome {
            Ok(done) => done,
            Err(e) => {
                if let Some(r) = reservation {
                    let kept = match &e {
                        // the request went out and no answer came: it may have been sent
                        SendFailure::Unknown(_) => outbound_message::Entity::update_many()
                            .col_expr(
                                outbound_message::Column::ProviderMessageId,
                                Expr::value(format!(
                                    "{UNKNOWN}{}",
                                    crate::secrets::crypto::random_token()
                                )),
                            )
                            .filter(outbound_message::Column::Id.eq(r))
                            .exec(&self.db)
                            .await
                            .map(|_| ()),
                        // not sent: the reference may be tried again
                        _ => outbound_message::Entity::delete_by_id(r)
                            .exec(&self.db)
                            .await
                            .map(|_| ()),
                    };
                    if let Err(d) = kept {
                        tracing::error!(error = %d, "settle a client reference");
                    }
                }
                return Err(match e {
                    SendFailure::Refused(why) => refused(why),
                    // the send API tells its caller apart (504); a person reads it in words
                    SendFailure::Unknown(why) => RepoError::Conflict {
                        field: if app_id.is_some() {
                            "formUnknown"
                        } else {
                            "form"
                        },
                        message: format!("{why} The provider may have sent the message."),
                    },
                    SendFailure::Repo(r) => r,
                });
            }
        };
        let sent_at = now();
        let txn = self
            .db
            .begin()
            .await
            .map_err(internal("begin sent message"))?;
        let message_id = match reservation {
            Some(r) => {
                let done = outbound_message::Entity::update_many()
                    .col_expr(
                        outbound_message::Column::ProviderMessageId,
                        Expr::value(provider_message_id.clone()),
                    )
                    .col_expr(outbound_message::Column::SentAt, Expr::value(sent_at))
                    .filter(outbound_message::Column::Id.eq(r))
                    .exec(&txn)
                    .await
                    .map_err(internal("record a sent message"))?;
                if done.rows_affected != 1 {
                    tracing::error!(message_id = r, "the reservation of a sent message is gone");
                    return Err(RepoError::Internal);
                }
                r
            }
            None => {
                outbound_message::ActiveModel {
                    channel_id: Set(c.id),
                    tenant_id: Set(tenant_id),
                    provider_message_id: Set(provider_message_id.clone()),
                    recipient: Set(recipient.to_owned()),
                    text: Set(text.to_owned()),
                    sent_at: Set(sent_at),
                    app_id: Set(app_id),
                    client_reference: Set(None),
                    ..Default::default()
                }
                .insert(&txn)
                .await
                .map_err(internal("record a sent message"))?
                .id
            }
        };
        outbound_status::ActiveModel {
            outbound_id: Set(message_id),
            status: Set("sent".into()),
            status_rank: Set(crate::webhooks::parse::status_rank("sent")),
            detail: Set(None),
            received_at: Set(sent_at),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(internal("record a sent message's status"))?;
        if let Sender::Person(actor) = sender {
            audit::record(
                &txn,
                actor,
                AuditEvent::new(
                    AuditAction::TestMessageSent,
                    Some(tenant_id),
                    ObjectKind::Channel,
                    Some(c.id),
                    c.name.clone(),
                )
                .with(created_fields(&[
                    ("Recipient", recipient.to_owned()),
                    ("Provider message id", provider_message_id.clone()),
                ])),
            )
            .await?;
        }
        txn.commit()
            .await
            .map_err(internal("commit sent message"))?;
        // a report that came before this record was written (a fast provider) still counts
        let early = crate::db::entities::webhook_event::Entity::find()
            .filter(crate::db::entities::webhook_event::Column::ChannelId.eq(c.id))
            .filter(crate::db::entities::webhook_event::Column::Kind.eq("report"))
            .filter(
                crate::db::entities::webhook_event::Column::ProviderMessageId
                    .eq(provider_message_id.as_str()),
            )
            .one(&self.db)
            .await
            .map_err(internal("find an early report"))?;
        if let Some(report) = early {
            outbound_status::ActiveModel {
                outbound_id: Set(message_id),
                status: Set(report.status.unwrap_or_default()),
                status_rank: Set(report.status_rank),
                detail: Set(report.text),
                received_at: Set(report.received_at),
                ..Default::default()
            }
            .insert(&self.db)
            .await
            .map_err(internal("record an early report"))?;
        }
        tracing::info!(tenant_id, channel_id = c.id, app_id, "message sent");
        Ok(Sent {
            message_id,
            provider_message_id,
            latency_ms,
            replayed: false,
        })
    }

    /// The provider call of a send: its message id and the call's time, or why not.
    async fn call_send(
        &self,
        c: &channel::Model,
        recipient: &str,
        text: &str,
        call: &'static str,
    ) -> Result<(String, u64), SendFailure> {
        let creds = self.creds(c).map_err(SendFailure::Repo)?;
        let request = calls::send_request(&creds, recipient, text).map_err(SendFailure::Refused)?;
        let _permit = self.calls.enter(c.tenant_id).map_err(SendFailure::Repo)?;
        let started = std::time::Instant::now();
        let provider = creds.provider.as_str();
        let count = |diagnosis: &str| {
            self.metrics
                .outbound(provider, call, diagnosis, started.elapsed())
        };
        let endpoint = self
            .endpoint(c)
            .await
            .map_err(SendFailure::Repo)?
            .map_err(|f| {
                count(f.code());
                SendFailure::Refused(f.describe())
            })?;
        let reply = client::call(&endpoint, request).await.map_err(|f| {
            count(f.code());
            if matches!(f, Failure::Timeout { connecting: false }) {
                SendFailure::Unknown(f.describe())
            } else {
                SendFailure::Refused(f.describe())
            }
        })?;
        let sent = calls::interpret_send(&creds, &reply);
        count(calls::diagnosis(sent.is_ok(), reply.status));
        Ok((sent.map_err(SendFailure::Refused)?, millis(reply.latency)))
    }
}

/// Why a send's call did not send.
enum SendFailure {
    /// The provider (or the rules of the call) refused it: the diagnosis in words.
    Refused(String),
    /// No answer came after the request went out: it may have been sent.
    Unknown(String),
    Repo(RepoError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_per_tenant_are_capped_and_given_back() {
        let calls = CallsInFlight::default();
        let a = calls.enter(1).unwrap();
        let _b = calls.enter(1).unwrap();
        assert!(matches!(calls.enter(1), Err(RepoError::Busy)));
        let _other = calls.enter(2).unwrap();
        drop(a);
        let _c = calls.enter(1).unwrap();
    }
}
