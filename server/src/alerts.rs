//! The alert courier: delivers the alerts `db::alerts` raises, by e-mail (SMTP with STARTTLS
//! or implicit TLS, `lettre`) and to a tenant space's HTTPS webhook (the one outbound client:
//! trustlist, private-address rule, the chosen Trust Certificate; signed
//! `X-Switchboard-Signature: t=…,v1=…`, HMAC-SHA256 of `t.body` with the space's signing
//! secret). Every attempt is recorded with its outcome; a failed delivery is tried again with
//! backoff (`app::domain::alerts::retry_after`) and given up after six attempts.
//!
//! Deliveries are claimed with a lease, so several instances never send one twice at once; a
//! delivery interrupted by a stop is claimed again when its lease ends (sent at least once;
//! the webhook's `X-Switchboard-Alert-Id` lets a receiver drop a repeat).
//!
//! `watch` raises what time alone brings: a certificate or access token entering its 30, 14
//! or 7 days' window, and the daily digest.

use crate::config::SmtpConfig;
use crate::db::certificates::members_of;
use crate::db::entities::{alert, alert_attempt, alert_send, alert_settings, certificate, channel};
use crate::db::{alerts as repo, now};
use crate::providers::client::{self, Endpoint, Request};
use crate::secrets::SecretBox;
use app::domain::alerts::{
    AlertKind, AlertReason, AlertText, DigestFacts, digest_text, expiring_text, failing_text,
    recovered_text, retry_after, test_text, threshold_for,
};
use app::domain::dates::{date_of_day, day_number};
use app::domain::health::{HealthLevel, HealthReason};
use hmac::{Hmac, Mac};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rustls::pki_types::CertificateDer;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{Notify, watch};

/// How often the courier looks for deliveries it was not woken for (retries, other instances').
pub const POLL: Duration = Duration::from_secs(5);
/// How often certificates, tokens and digests are looked at.
pub const WATCH_EVERY: Duration = Duration::from_secs(60);
/// How long a claimed delivery is this instance's.
const LEASE: time::Duration = time::Duration::minutes(2);
/// Deliveries claimed (and sent at once) per round.
const AT_ONCE: u64 = 8;
/// The hour (UTC) from which the day's digest is sent.
pub const DIGEST_HOUR: u8 = 8;
/// Each SMTP command gives up after this…
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);
/// …and a whole message after this (well within the claim's [`LEASE`]).
const MAIL_TIMEOUT: Duration = Duration::from_secs(60);

/// The SMTP side: a transport and the From address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// `smtp://[user:password@]host[:port]` (STARTTLS, required; port 587 unless named) or
    /// `smtps://…` (TLS from the start; port 465). `ca_pem`: roots to trust besides the public
    /// ones (a private mail server's CA).
    pub fn new(smtp: &SmtpConfig, ca_pem: Option<&[u8]>) -> Result<Self, String> {
        let url = url::Url::parse(&smtp.url).map_err(|e| format!("not a URL: {e}"))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("it names no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let mut tls = TlsParameters::builder(host.clone());
        if let Some(pem) = ca_pem {
            let cert = Certificate::from_pem(pem)
                .map_err(|e| format!("the CA file holds no PEM certificate: {e}"))?;
            tls = tls.add_root_certificate(cert);
        }
        let tls = tls.build_rustls().map_err(|e| format!("TLS: {e}"))?;
        let (tls, default_port) = match url.scheme() {
            "smtp" => (Tls::Required(tls), 587),
            "smtps" => (Tls::Wrapper(tls), 465),
            other => {
                return Err(format!(
                    "the scheme must be smtp:// (STARTTLS) or smtps:// (TLS), not {other}://"
                ));
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(url.port().unwrap_or(default_port))
            .tls(tls)
            .timeout(Some(SMTP_TIMEOUT));
        if !url.username().is_empty() {
            let user = percent(url.username());
            let password = percent(url.password().unwrap_or_default());
            builder = builder.credentials(
                lettre::transport::smtp::authentication::Credentials::new(user, password),
            );
        }
        let from: Mailbox = smtp
            .from
            .parse()
            .map_err(|e| format!("the From address {} is not one: {e}", smtp.from))?;
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    async fn send(&self, to: &str, text: &AlertText, alert_id: i64) -> Result<String, String> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| format!("The address is not one: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(text.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .message_id(Some(format!("<alert-{alert_id}@switchboard>")))
            .body(text.body.clone())
            .map_err(|e| format!("The message could not be made: {e}"))?;
        match self.transport.send(message).await {
            Ok(r) => Ok(format!("Accepted by the mail server ({})", r.code())),
            Err(e) => Err(match e.status() {
                Some(code) if e.is_permanent() => {
                    format!("The mail server refused it ({code})")
                }
                Some(code) => format!("The mail server turned it away for now ({code})"),
                None if e.is_timeout() => "The mail server did not answer in time".to_owned(),
                None if e.is_tls() => {
                    "The TLS connection to the mail server failed (its certificate?)".to_owned()
                }
                None => "The mail server could not be reached".to_owned(),
            }),
        }
    }
}

fn percent(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        // UNWRAP-FREE: HMAC takes keys of any length
        .unwrap_or_else(|_| unreachable!());
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// What an alert says, from its stored payload, with links on `base`.
pub fn text_of(kind: AlertKind, p: &serde_json::Value, base: &str) -> AlertText {
    let s = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let tenant = s(p, "tenant");
    let link = format!("{base}{}", s(p, "path"));
    let ch = &p["channel"];
    match kind {
        AlertKind::Failing => {
            let reasons: Vec<AlertReason> = p["reasons"]
                .as_array()
                .map(|rs| {
                    rs.iter()
                        .map(|r| AlertReason {
                            message: s(r, "message"),
                            fix: s(r, "fix"),
                            link: format!("{base}{}", s(r, "path")),
                        })
                        .collect()
                })
                .unwrap_or_default();
            failing_text(&tenant, &s(ch, "name"), &s(ch, "provider"), &reasons)
        }
        AlertKind::Recovered => recovered_text(
            &tenant,
            &s(ch, "name"),
            &s(ch, "provider"),
            &s(p, "level"),
            &link,
        ),
        AlertKind::CertificateExpiring | AlertKind::TokenExpiring => expiring_text(
            &tenant,
            &s(p, "what"),
            &s(p, "ends"),
            p["threshold"].as_i64().unwrap_or_default(),
            &link,
        ),
        AlertKind::Digest => {
            let facts: DigestFacts = serde_json::from_value(p["facts"].clone()).unwrap_or_default();
            digest_text(&tenant, &s(p, "day"), &facts, &link)
        }
        AlertKind::Test => test_text(&tenant, &s(p, "asked_by"), &link),
    }
}

/// A channel that flaps between Failing and not is told it fails at most once in this long;
/// one still failing after it is told again by [`watch`].
pub const QUIET: time::Duration = time::Duration::minutes(15);

/// The last alert of a channel's health (failing or recovered), if any.
async fn last_health_alert<C: ConnectionTrait>(
    conn: &C,
    c: &channel::Model,
    kinds: &[&str],
) -> Result<Option<alert::Model>, DbErr> {
    alert::Entity::find()
        .filter(alert::Column::TenantId.eq(c.tenant_id))
        .filter(alert::Column::ChannelId.eq(c.id))
        .filter(alert::Column::Kind.is_in(kinds.iter().copied()))
        .order_by_desc(alert::Column::Id)
        .one(conn)
        .await
}

/// What a channel's level was computed from, as a dedupe key's part: one level change of the
/// same facts is one alert, whoever computes it.
fn facts_key(c: &channel::Model) -> String {
    let ms = |t: Option<OffsetDateTime>| t.map_or(0, crate::db::unix_millis);
    format!(
        "{}:{}:{}:{}:{}",
        c.id,
        crate::db::unix_millis(c.updated_at),
        ms(c.last_accepted_at),
        ms(c.last_refused_at),
        ms(c.last_test_at)
    )
}

async fn raise_failing<C: ConnectionTrait>(
    conn: &C,
    c: &channel::Model,
    reasons: &[HealthReason],
    key: &str,
) -> Result<(), DbErr> {
    let summary = serde_json::json!({ "id": c.id, "name": c.name, "provider": c.provider });
    let reasons: Vec<serde_json::Value> = reasons
        .iter()
        .filter(|r| r.level == HealthLevel::Failing)
        .map(|r| {
            serde_json::json!({
                "message": r.message, "fix": r.fix.label(), "path": r.fix.href(c.id)
            })
        })
        .collect();
    let path = format!("/config/channels/{}/integration", c.id);
    repo::raise(
        conn,
        c.tenant_id,
        AlertKind::Failing,
        &format!("failing:{key}"),
        Some(c.id),
        &format!("{} is failing", c.name),
        serde_json::json!({ "channel": summary, "reasons": reasons, "path": path }),
    )
    .await
    .map(|_| ())
}

/// A channel whose level moved into or out of Failing (`reasons`: its reasons now): the
/// alert of that transition, raised on `conn` (the transaction that writes the new level).
/// Failing is told at most once per [`QUIET`] per channel; a recovery only when its failure
/// was told.
pub async fn transition<C: ConnectionTrait>(
    conn: &C,
    c: &channel::Model,
    old: HealthLevel,
    new: HealthLevel,
    reasons: &[HealthReason],
) -> Result<(), DbErr> {
    if new == HealthLevel::Failing {
        let told = last_health_alert(conn, c, &["failing"]).await?;
        if told.is_some_and(|t| t.created_at > now() - QUIET) {
            return Ok(());
        }
        raise_failing(conn, c, reasons, &facts_key(c)).await?;
    } else if old == HealthLevel::Failing {
        let last = last_health_alert(conn, c, &["failing", "recovered"]).await?;
        if last.is_none_or(|l| l.kind != "failing") {
            return Ok(());
        }
        let summary = serde_json::json!({ "id": c.id, "name": c.name, "provider": c.provider });
        repo::raise(
            conn,
            c.tenant_id,
            AlertKind::Recovered,
            &format!("recovered:{}", facts_key(c)),
            Some(c.id),
            &format!("{} recovered", c.name),
            serde_json::json!({
                "channel": summary, "level": new.label(),
                "path": format!("/config/channels/{}/integration", c.id)
            }),
        )
        .await?;
    }
    Ok(())
}

/// Channels told recovered in the last day that fail again while their last failing alert is
/// older than [`QUIET`] (a failure kept quiet while the channel flapped): told now.
async fn failing_again(
    db: &DatabaseConnection,
    tenant_id: i64,
    at: OffsetDateTime,
) -> Result<usize, DbErr> {
    let ids: Vec<Option<i64>> = alert::Entity::find()
        .select_only()
        .column(alert::Column::ChannelId)
        .distinct()
        .filter(alert::Column::TenantId.eq(tenant_id))
        .filter(alert::Column::Kind.eq("recovered"))
        .filter(alert::Column::CreatedAt.gt(at - time::Duration::days(1)))
        .limit(1_000)
        .into_tuple()
        .all(db)
        .await?;
    let failing = channel::Entity::find()
        .filter(channel::Column::TenantId.eq(tenant_id))
        .filter(channel::Column::Id.is_in(ids.into_iter().flatten()))
        .filter(channel::Column::Health.eq(HealthLevel::Failing.rank()))
        .all(db)
        .await?;
    let facts = crate::db::health::facts_of(db, &failing).await?;
    let mut raised = 0;
    for c in &failing {
        let last = last_health_alert(db, c, &["failing", "recovered"]).await?;
        let told_failing = last_health_alert(db, c, &["failing"]).await?;
        if last.is_some_and(|l| l.kind == "recovered")
            && told_failing.is_none_or(|t| t.created_at <= at - QUIET)
        {
            let reasons = facts
                .get(&c.id)
                .map(|f| app::domain::health::assess(f, at.unix_timestamp()).reasons)
                .unwrap_or_default();
            let txn = db.begin().await?;
            raise_failing(&txn, c, &reasons, &facts_key(c)).await?;
            txn.commit().await?;
            raised += 1;
        }
    }
    Ok(raised)
}

#[derive(Clone)]
pub struct Courier {
    pub db: DatabaseConnection,
    pub secrets: SecretBox,
    /// `SWITCHBOARD_PUBLIC_URL` without a trailing slash: links in alerts start with it.
    pub public_base: String,
    pub mail: Option<Mailer>,
    pub wake: Arc<Notify>,
}

impl Courier {
    /// Delivers what is due until `stopped`: at once when woken, else every [`POLL`].
    pub async fn run(self, mut stopped: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = self.wake.notified() => {}
                _ = stopped.changed() => break,
            }
            tokio::select! {
                r = self.deliver_due() => if let Err(e) = r {
                    tracing::warn!(error = %e, "alert deliveries");
                },
                _ = stopped.changed() => break,
            }
        }
    }

    /// Sends every delivery that is due now; answers how many it tried.
    pub async fn deliver_due(&self) -> Result<usize, DbErr> {
        let mut tried = 0;
        loop {
            let claimed = self.claim().await?;
            if claimed.is_empty() {
                return Ok(tried);
            }
            tried += claimed.len();
            let results =
                futures::future::join_all(claimed.into_iter().map(|s| self.deliver(s))).await;
            for r in results {
                r?;
            }
        }
    }

    /// Up to [`AT_ONCE`] due deliveries, shared between the tenant spaces that have some (a
    /// space with a thousand due never holds up another's one), each claimed for [`LEASE`]
    /// (a claim another instance made first is left to it).
    async fn claim(&self) -> Result<Vec<alert_send::Model>, DbErr> {
        use alert_send::Column as S;
        let at = now();
        let free = || {
            Condition::any()
                .add(S::ClaimedUntil.is_null())
                .add(S::ClaimedUntil.lt(at))
        };
        let due = || {
            alert_send::Entity::find()
                .filter(S::State.eq("pending"))
                .filter(S::NextAt.lte(at))
                .filter(free())
        };
        let spaces: Vec<i64> = due()
            .select_only()
            .column(S::TenantId)
            .distinct()
            .limit(AT_ONCE)
            .into_tuple()
            .all(&self.db)
            .await?;
        let each = (AT_ONCE / (spaces.len() as u64).max(1)).max(1);
        let mut mine = Vec::new();
        for tenant_id in spaces {
            let oldest = due()
                .filter(S::TenantId.eq(tenant_id))
                .order_by_asc(S::NextAt)
                .order_by_asc(S::Id)
                .limit(each)
                .all(&self.db)
                .await?;
            for d in oldest {
                let taken = alert_send::Entity::update_many()
                    .col_expr(S::ClaimedUntil, Expr::value(Some(at + LEASE)))
                    .filter(S::Id.eq(d.id))
                    .filter(S::State.eq("pending"))
                    .filter(free())
                    .exec(&self.db)
                    .await?
                    .rows_affected;
                if taken == 1 {
                    mine.push(alert_send::Model {
                        claimed_until: Some(at + LEASE),
                        ..d
                    });
                }
            }
        }
        Ok(mine)
    }

    async fn deliver(&self, send: alert_send::Model) -> Result<(), DbErr> {
        let Some(a) = alert::Entity::find_by_id(send.alert_id)
            .one(&self.db)
            .await?
        else {
            return Ok(());
        };
        // a target removed from the settings since is not sent to (nor tried again)
        let settings = alert_settings::Entity::find_by_id(send.tenant_id)
            .one(&self.db)
            .await?;
        let still = settings.as_ref().is_some_and(|s| match send.via.as_str() {
            "email" => repo::emails_of(s)
                .iter()
                .any(|e| e.eq_ignore_ascii_case(&send.target)),
            _ => s.webhook_url.as_deref() == Some(send.target.as_str()),
        });
        if !still {
            return self.record(&send, &a, Err(Gone.into())).await;
        }
        let kind = AlertKind::parse(&a.kind).unwrap_or(AlertKind::Test);
        let payload: serde_json::Value = serde_json::from_str(&a.payload).unwrap_or_default();
        let text = text_of(kind, &payload, &self.public_base);
        let started = std::time::Instant::now();
        let outcome = match send.via.as_str() {
            "email" => match &self.mail {
                None => Err(Tried::Again(
                    "E-mail is not set up on this server (SWITCHBOARD_SMTP_URL): ask its operator"
                        .to_owned(),
                )),
                Some(m) => tokio::time::timeout(MAIL_TIMEOUT, m.send(&send.target, &text, a.id))
                    .await
                    .unwrap_or_else(|_| {
                        Err(format!(
                            "The mail server did not finish within {} s",
                            MAIL_TIMEOUT.as_secs()
                        ))
                    })
                    .map_err(Tried::Again),
            },
            _ => self
                .by_webhook(&send, &a, kind, &payload, &text)
                .await
                .map_err(Tried::Again),
        };
        let took = started.elapsed().as_millis();
        self.record(&send, &a, outcome.map(|o| format!("{o} in {took} ms")))
            .await
    }

    async fn by_webhook(
        &self,
        send: &alert_send::Model,
        a: &alert::Model,
        kind: AlertKind,
        payload: &serde_json::Value,
        text: &AlertText,
    ) -> Result<String, String> {
        let settings = alert_settings::Entity::find_by_id(send.tenant_id)
            .one(&self.db)
            .await
            .map_err(|_| "The settings could not be read: tried again later".to_owned())?
            .ok_or("The alert settings were removed")?;
        let sealed = settings
            .webhook_secret_enc
            .as_deref()
            .ok_or("The webhook has no signing secret")?;
        let secret = self
            .secrets
            .open(sealed, repo::secret_scope(send.tenant_id))
            .map_err(|_| "The signing secret cannot be opened (master key?)".to_owned())?;
        let url = url::Url::parse(&send.target).map_err(|e| format!("Not a URL: {e}"))?;
        let trustlist = crate::db::trustlist::for_tenant(&self.db, send.tenant_id)
            .await
            .map_err(|_| "The trustlist could not be read: tried again later".to_owned())?;
        let mut roots = Vec::new();
        let mut root_names = Vec::new();
        if let Some(id) = settings.trust_certificate_id {
            let cert = certificate::Entity::find_by_id(id)
                .filter(certificate::Column::TenantId.eq(send.tenant_id))
                .one(&self.db)
                .await
                .map_err(|_| "The certificate could not be read: tried again later".to_owned())?
                .ok_or("The webhook's Trust Certificate was deleted: choose another")?;
            for m in members_of(&cert) {
                root_names.push(m.subject.clone());
                roots.push(CertificateDer::from(m.der));
            }
        }
        let body = serde_json::json!({
            "id": a.id,
            "kind": kind.code(),
            "tenant": payload["tenant"],
            "subject": text.subject,
            "text": text.body,
            "link": format!("{}{}", self.public_base, payload["path"].as_str().unwrap_or_default()),
            "channel": payload.get("channel").cloned().unwrap_or(serde_json::Value::Null),
            "created_at": a.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        })
        .to_string()
        .into_bytes();
        let t = now().unix_timestamp();
        let mut request = Request::new(reqwest::Method::POST, url);
        request.headers = vec![
            (reqwest::header::CONTENT_TYPE, "application/json".into()),
            (
                reqwest::header::HeaderName::from_static("x-switchboard-signature"),
                signature(&secret, t, &body),
            ),
            (
                reqwest::header::HeaderName::from_static("x-switchboard-alert-id"),
                a.id.to_string(),
            ),
        ];
        request.raw = Some(body);
        let endpoint = Endpoint {
            trustlist,
            roots,
            root_names,
            identity: None,
        };
        match client::call(&endpoint, request).await {
            Ok(r) if (200..300).contains(&r.status) => Ok(format!("Delivered: HTTP {}", r.status)),
            Ok(r) => Err(format!("The webhook answered HTTP {}", r.status)),
            Err(f) => Err(f.describe()),
        }
    }

    /// Writes an attempt's outcome: sent, or tried again later, or given up. Nothing when
    /// the claim was lost meanwhile (another instance took the delivery over).
    async fn record(
        &self,
        send: &alert_send::Model,
        a: &alert::Model,
        outcome: Result<String, Tried>,
    ) -> Result<(), DbErr> {
        use alert_send::Column as S;
        let attempts = send.attempts + 1;
        let at = now();
        let (state, next_at, words, ok) = match outcome {
            Ok(words) => ("sent", at, words, true),
            Err(Tried::Gone(why)) => ("failed", at, why, false),
            Err(Tried::Again(why)) => {
                match retry_after(u32::try_from(attempts).unwrap_or(u32::MAX)) {
                    Some(secs) => (
                        "pending",
                        at + time::Duration::seconds(secs),
                        format!("{why} (tried again in {})", wait_words(secs)),
                        false,
                    ),
                    None => (
                        "failed",
                        at,
                        format!("{why} (given up after {attempts} attempts)"),
                        false,
                    ),
                }
            }
        };
        let txn = self.db.begin().await?;
        let mine = alert_send::Entity::update_many()
            .col_expr(S::State, Expr::value(state))
            .col_expr(S::Attempts, Expr::value(attempts))
            .col_expr(S::NextAt, Expr::value(next_at))
            .col_expr(S::ClaimedUntil, Expr::value(Option::<OffsetDateTime>::None))
            .filter(S::Id.eq(send.id))
            .filter(S::ClaimedUntil.eq(send.claimed_until))
            .exec(&txn)
            .await?
            .rows_affected;
        if mine == 0 {
            return txn.rollback().await;
        }
        alert_attempt::Entity::insert(alert_attempt::ActiveModel {
            tenant_id: Set(send.tenant_id),
            alert_id: Set(a.id),
            kind: Set(a.kind.clone()),
            subject: Set(a.subject.clone()),
            via: Set(send.via.clone()),
            target: Set(send.target.clone()),
            ok: Set(ok),
            outcome: Set(words),
            at: Set(at),
            ..Default::default()
        })
        .exec_without_returning(&txn)
        .await?;
        repo::prune_attempts(&txn, send.tenant_id).await?;
        txn.commit().await
    }
}

/// Why an attempt did not deliver: to be tried again, or never again.
enum Tried {
    Again(String),
    Gone(String),
}

/// A delivery whose address or webhook was removed from the settings.
struct Gone;

impl From<Gone> for Tried {
    fn from(_: Gone) -> Self {
        Tried::Gone("Not sent: this target was removed from the alert settings".into())
    }
}

fn wait_words(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

/// Raises what time brings, at `at`: each certificate and access token of a tenant space that
/// sends alerts entering its 30, 14 or 7 days' window (once per window), and the digest of
/// each space that asked for one, once a day from [`DIGEST_HOUR`] UTC. Answers how many
/// alerts it raised.
pub async fn watch(db: &DatabaseConnection, at: OffsetDateTime) -> Result<usize, DbErr> {
    let spaces = alert_settings::Entity::find().all(db).await?;
    let mut raised = 0;
    let now_s = at.unix_timestamp();
    for space in spaces {
        let tenant_id = space.tenant_id;
        // a space whose alerts go nowhere raises none
        if repo::emails_of(&space).is_empty() && space.webhook_secret_enc.is_none() {
            continue;
        }
        raised += failing_again(db, tenant_id, at).await?;
        let mut expiring: Vec<(String, String)> = Vec::new();
        // an entry's own end is in a column; a chain's members are read to find the earliest
        let near = certificate::Entity::find()
            .filter(certificate::Column::TenantId.eq(tenant_id))
            .filter(
                Condition::any()
                    .add(certificate::Column::NotAfter.lte(at + time::Duration::days(31)))
                    .add(certificate::Column::ChainPem.is_not_null()),
            )
            .all(db)
            .await?;
        for cert in near {
            let Some(ends) = members_of(&cert)
                .iter()
                .map(|m| m.not_after.unix_timestamp())
                .min()
            else {
                continue;
            };
            if ends <= now_s {
                continue;
            }
            let Some(threshold) = threshold_for((ends - now_s).div_euclid(86_400)) else {
                continue;
            };
            let day = date_of_day(ends.div_euclid(86_400));
            expiring.push((format!("Certificate {}", cert.name), day.clone()));
            let what = format!("The certificate {}", cert.name);
            let owner = cert.uid.clone().unwrap_or_else(|| cert.id.to_string());
            raised += raise_alone(
                db,
                tenant_id,
                AlertKind::CertificateExpiring,
                &format!("certificate:{owner}:{ends}:{threshold}"),
                None,
                &format!("{what} expires within {threshold} days"),
                serde_json::json!({
                    "what": what, "ends": day, "threshold": threshold,
                    "path": "/config/certificates"
                }),
            )
            .await?;
        }
        let tokens: Vec<(i64, String, Option<String>)> = channel::Entity::find()
            .select_only()
            .column(channel::Column::Id)
            .column(channel::Column::Name)
            .column(channel::Column::TokenValidUntil)
            .filter(channel::Column::TenantId.eq(tenant_id))
            .filter(channel::Column::TokenValidUntil.is_not_null())
            .filter(
                channel::Column::TokenValidUntil
                    .lte(date_of_day((now_s + 31 * 86_400).div_euclid(86_400))),
            )
            .into_tuple()
            .all(db)
            .await?;
        for (id, name, until) in tokens {
            let Some(until) = until else { continue };
            let Some(day) = day_number(&until) else {
                continue;
            };
            // valid through its day
            let ends = (day + 1) * 86_400;
            if ends <= now_s {
                continue;
            }
            let Some(threshold) = threshold_for((ends - now_s).div_euclid(86_400)) else {
                continue;
            };
            expiring.push((format!("Access token of {name}"), until.clone()));
            let what = format!("The access token of {name}");
            raised += raise_alone(
                db,
                tenant_id,
                AlertKind::TokenExpiring,
                &format!("token:{id}:{until}:{threshold}"),
                Some(id),
                &format!("{what} expires within {threshold} days"),
                serde_json::json!({
                    "what": what, "ends": until, "threshold": threshold,
                    "path": format!("/config/channels/{id}/edit")
                }),
            )
            .await?;
        }
        if space.digest && at.hour() >= DIGEST_HOUR {
            let day = date_of_day(now_s.div_euclid(86_400));
            let key = format!("digest:{day}");
            let sent = alert::Entity::find()
                .filter(alert::Column::TenantId.eq(tenant_id))
                .filter(alert::Column::Dedupe.eq(key.as_str()))
                .one(db)
                .await?
                .is_some();
            if !sent {
                let facts = digest_facts(db, tenant_id, expiring).await?;
                let subject = format!(
                    "Daily digest: {} failing, {} need attention",
                    facts.failing, facts.attention
                );
                raised += raise_alone(
                    db,
                    tenant_id,
                    AlertKind::Digest,
                    &key,
                    None,
                    &subject,
                    serde_json::json!({ "day": day, "facts": facts, "path": "/config" }),
                )
                .await?;
            }
        }
    }
    Ok(raised)
}

/// [`repo::raise`] in a transaction of its own (the alert and its deliveries together); 1
/// when it raised one.
#[allow(clippy::too_many_arguments)]
async fn raise_alone(
    db: &DatabaseConnection,
    tenant_id: i64,
    kind: AlertKind,
    dedupe: &str,
    channel_id: Option<i64>,
    subject: &str,
    payload: serde_json::Value,
) -> Result<usize, DbErr> {
    let txn = db.begin().await?;
    let raised = repo::raise(&txn, tenant_id, kind, dedupe, channel_id, subject, payload).await?;
    txn.commit().await?;
    Ok(usize::from(raised.is_some()))
}

/// The digest's figures: channels by health, the first failing ones with their first reason.
async fn digest_facts(
    db: &DatabaseConnection,
    tenant_id: i64,
    expiring: Vec<(String, String)>,
) -> Result<DigestFacts, DbErr> {
    let by_health: Vec<(i16, i64)> = channel::Entity::find()
        .select_only()
        .column(channel::Column::Health)
        .column_as(channel::Column::Id.count(), "n")
        .filter(channel::Column::TenantId.eq(tenant_id))
        .group_by(channel::Column::Health)
        .into_tuple()
        .all(db)
        .await?;
    let mut facts = DigestFacts {
        expiring,
        ..DigestFacts::default()
    };
    for (rank, n) in by_health {
        let n = u64::try_from(n).unwrap_or_default();
        match HealthLevel::from_rank(rank) {
            HealthLevel::Ok => facts.ok += n,
            HealthLevel::Attention => facts.attention += n,
            HealthLevel::Failing => facts.failing += n,
        }
    }
    let failing = channel::Entity::find()
        .filter(channel::Column::TenantId.eq(tenant_id))
        .filter(channel::Column::Health.eq(HealthLevel::Failing.rank()))
        .order_by_asc(channel::Column::Name)
        .limit(10)
        .all(db)
        .await?;
    let facts_of = crate::db::health::facts_of(db, &failing).await?;
    let now_s = now().unix_timestamp();
    for c in &failing {
        let reason = facts_of
            .get(&c.id)
            .map(|f| app::domain::health::assess(f, now_s))
            .and_then(|h| h.reasons.into_iter().next())
            .map(|r| r.message)
            .unwrap_or_default();
        facts.failing_channels.push((c.name.clone(), reason));
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_time_a_dot_and_the_body() {
        // computed with Python: hmac.new(b"sbwhsec_k", b"1733390000.{}", hashlib.sha256)
        assert_eq!(
            signature("sbwhsec_k", 1_733_390_000, b"{}"),
            "t=1733390000,v1=c8db5ea89fec601d91ce96c0eec65ebf184f6cfb149b0e92fa446acd309a84f7"
        );
    }
}
