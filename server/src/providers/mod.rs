//! Outbound calls with a channel's own credentials and certificates (SPEC §4a): Test connection
//! and Send test message. `client` makes every call; `calls` knows what each provider is
//! called with.

pub mod calls;
pub mod client;

use crate::db::audit;
use crate::db::certificates::{members_of, open_key};
use crate::db::entities::{certificate, channel, outbound_message, outbound_status};
use crate::db::{display_time, internal, now};
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
}

impl SqlOutbound {
    pub fn new(db: DatabaseConnection, secrets: SecretBox) -> Self {
        Self {
            db,
            secrets,
            calls: CallsInFlight::default(),
            metrics: crate::metrics::Metrics::off(),
        }
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
        let (outcome, diagnosis) = match calls::connection_request(&creds) {
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
        let refused = |why: String| RepoError::Conflict {
            field: "form",
            message: why,
        };
        let c = self.channel(tenant_id, id).await?;
        let creds = self.creds(&c)?;
        let request = calls::send_request(&creds, recipient, text).map_err(refused)?;
        let _permit = self.calls.enter(tenant_id)?;
        let started = std::time::Instant::now();
        let provider = creds.provider.as_str();
        let count = |diagnosis: &str| {
            self.metrics
                .outbound(provider, "send_test_message", diagnosis, started.elapsed())
        };
        let endpoint = self.endpoint(&c).await?.map_err(|f| {
            count(f.code());
            refused(f.describe())
        })?;
        let reply = client::call(&endpoint, request).await.map_err(|f| {
            count(f.code());
            refused(f.describe())
        })?;
        let sent = calls::interpret_send(&creds, &reply);
        count(calls::diagnosis(sent.is_ok(), reply.status));
        let provider_message_id = sent.map_err(refused)?;
        let sent_at = now();
        let txn = self
            .db
            .begin()
            .await
            .map_err(internal("begin sent message"))?;
        let message = outbound_message::ActiveModel {
            channel_id: Set(c.id),
            tenant_id: Set(tenant_id),
            provider_message_id: Set(provider_message_id.clone()),
            recipient: Set(recipient.to_owned()),
            text: Set(text.to_owned()),
            sent_at: Set(sent_at),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(internal("record a sent message"))?;
        outbound_status::ActiveModel {
            outbound_id: Set(message.id),
            status: Set("sent".into()),
            status_rank: Set(crate::webhooks::parse::status_rank("sent")),
            detail: Set(None),
            received_at: Set(sent_at),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(internal("record a sent message's status"))?;
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
                outbound_id: Set(message.id),
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
        tracing::info!(tenant_id, channel_id = c.id, "test message sent");
        Ok(SentMessage {
            provider_message_id,
            latency_ms: millis(reply.latency),
        })
    }
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
