//! A channel's Activity: test messages sent and their reports, the endpoints' last calls,
//! refused deliveries, received events by page, and its health.

use super::*;
use crate::db::entities::{channel, service_weekdays, webhook_event};
use crate::db::{display_time, internal, now};
use app::domain::channel::ProviderKind;
use app::domain::health::{self, Health};
use app::model::{
    ActivityEvent, ChannelActivity, ChannelPage, EndpointActivity, OutboundTimeline, PageAt,
    PageKey, RefusedDelivery,
};
use app::ports::RepoError;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;

impl SqlChannels {
    /// The newest test messages of a channel (at most 10), each with its reports in order.
    async fn sent_of(&self, channel_id: i64) -> Result<Vec<OutboundTimeline>, RepoError> {
        use crate::db::entities::{outbound_message, outbound_status};
        let sent = outbound_message::Entity::find()
            .filter(outbound_message::Column::ChannelId.eq(channel_id))
            // a send under way (its client reference reserved), or one whose outcome is
            // unknown, names no message of the provider: not shown
            .filter(outbound_message::Column::ProviderMessageId.not_like("pending:%"))
            .filter(outbound_message::Column::ProviderMessageId.not_like("unknown:%"))
            .order_by_desc(outbound_message::Column::Id)
            .limit(10)
            .all(&self.db)
            .await
            .map_err(internal("sent messages"))?;
        let ids: Vec<i64> = sent.iter().map(|m| m.id).collect();
        let mut statuses: HashMap<i64, Vec<(String, String, Option<String>)>> = HashMap::new();
        if !ids.is_empty() {
            for s in outbound_status::Entity::find()
                .filter(outbound_status::Column::OutboundId.is_in(ids))
                .order_by_asc(outbound_status::Column::Id)
                .all(&self.db)
                .await
                .map_err(internal("sent message statuses"))?
            {
                statuses.entry(s.outbound_id).or_default().push((
                    s.status,
                    display_time(s.received_at),
                    s.detail,
                ));
            }
        }
        let app_ids: Vec<i64> = sent.iter().filter_map(|m| m.app_id).collect();
        let apps: HashMap<i64, String> = if app_ids.is_empty() {
            HashMap::new()
        } else {
            crate::db::entities::app_entry::Entity::find()
                .filter(crate::db::entities::app_entry::Column::Id.is_in(app_ids))
                .all(&self.db)
                .await
                .map_err(internal("apps of sent messages"))?
                .into_iter()
                .map(|a| (a.id, a.name))
                .collect()
        };
        Ok(sent
            .into_iter()
            .map(|m| OutboundTimeline {
                app: m.app_id.map(|a| {
                    apps.get(&a)
                        .cloned()
                        .unwrap_or_else(|| format!("{a} (deleted)"))
                }),
                statuses: statuses.remove(&m.id).unwrap_or_default(),
                provider_message_id: m.provider_message_id,
                recipient: m.recipient,
                text: m.text,
                sent: display_time(m.sent_at),
            })
            .collect())
    }

    async fn last_of(&self, channel_id: i64, kind: &str) -> Result<Option<String>, RepoError> {
        Ok(webhook_event::Entity::find()
            .select_only()
            .column_as(webhook_event::Column::ReceivedAt.max(), "last")
            .filter(webhook_event::Column::ChannelId.eq(channel_id))
            .filter(webhook_event::Column::Kind.eq(kind))
            .into_tuple::<Option<time::OffsetDateTime>>()
            .one(&self.db)
            .await
            .map_err(internal("last event"))?
            .flatten()
            .map(display_time))
    }

    /// Per webhook URL of the channel: the last accepted and the last refused delivery.
    async fn endpoints_of(&self, c: &channel::Model) -> Result<Vec<EndpointActivity>, RepoError> {
        use crate::db::entities::{webhook_delivery, webhook_refusal};
        let urls: &[(&str, &str)] = if c.provider == ProviderKind::CloudApi.as_str() {
            &[
                ("cloud", "URL: messages and statuses"),
                ("verify", "URL: verification (Verify and save)"),
            ]
        } else {
            &[
                ("message", "url used to send message to agent"),
                ("report", "url used to send report to agent"),
            ]
        };
        let mut out = Vec::with_capacity(urls.len());
        for (endpoint, label) in urls {
            let last_accepted = if *endpoint == "verify" {
                c.verified_at
            } else {
                webhook_delivery::Entity::find()
                    .select_only()
                    .column_as(webhook_delivery::Column::ReceivedAt.max(), "last")
                    .filter(webhook_delivery::Column::ChannelId.eq(c.id))
                    .filter(webhook_delivery::Column::Endpoint.eq(*endpoint))
                    .into_tuple::<Option<time::OffsetDateTime>>()
                    .one(&self.db)
                    .await
                    .map_err(internal("last accepted delivery"))?
                    .flatten()
            };
            let last_refused = webhook_refusal::Entity::find()
                .select_only()
                .column_as(webhook_refusal::Column::LastAt.max(), "last")
                .filter(webhook_refusal::Column::ChannelId.eq(c.id))
                .filter(webhook_refusal::Column::Endpoint.eq(*endpoint))
                .into_tuple::<Option<time::OffsetDateTime>>()
                .one(&self.db)
                .await
                .map_err(internal("last refused delivery"))?
                .flatten();
            out.push(EndpointActivity {
                refused_last: match (last_refused, last_accepted) {
                    (Some(r), Some(a)) => r > a,
                    (Some(_), None) => true,
                    _ => false,
                },
                label: (*label).to_owned(),
                last_accepted: last_accepted.map(display_time),
                last_refused: last_refused.map(display_time),
            });
        }
        Ok(out)
    }

    /// The test deliveries sent from Channel Integration (the newest 20 are kept), newest
    /// first.
    async fn test_deliveries_of(
        &self,
        channel_id: i64,
    ) -> Result<Vec<app::model::TestDelivery>, RepoError> {
        use crate::db::entities::webhook_self_test::{Column as T, Entity as Tests};
        Ok(Tests::find()
            .filter(T::ChannelId.eq(channel_id))
            .filter(T::Ok.is_not_null())
            .order_by_desc(T::Id)
            .limit(crate::webhooks::self_test::KEPT)
            .all(&self.db)
            .await
            .map_err(internal("test deliveries"))?
            .into_iter()
            .map(|t| app::model::TestDelivery {
                at: display_time(t.started_at),
                // as Channel Integration names the URL
                endpoint: match t.endpoint.as_str() {
                    "message" => "url used to send message to agent".to_owned(),
                    "report" => "url used to send report to agent".to_owned(),
                    "cloud" => "URL".to_owned(),
                    other => other.to_owned(),
                },
                ok: t.ok.unwrap_or(false),
                summary: t.summary.unwrap_or_default(),
            })
            .collect())
    }

    /// The newest refused deliveries of a channel (at most 50 shown), in words.
    async fn refused_of(&self, channel_id: i64) -> Result<Vec<RefusedDelivery>, RepoError> {
        use crate::db::entities::webhook_refusal;
        use app::domain::refusal::Refusal;
        Ok(webhook_refusal::Entity::find()
            .filter(webhook_refusal::Column::ChannelId.eq(channel_id))
            .order_by_desc(webhook_refusal::Column::Id)
            .limit(50)
            .all(&self.db)
            .await
            .map_err(internal("refused deliveries"))?
            .into_iter()
            .map(|r| {
                let kind = Refusal::parse(&r.reason);
                RefusedDelivery {
                    at: display_time(r.last_at),
                    count: u64::try_from(r.count).unwrap_or(0),
                    endpoint: r.endpoint,
                    status: u16::try_from(r.status).unwrap_or(0),
                    reason: kind
                        .map_or_else(|| "Refused".to_owned(), |k| k.describe(r.detail.as_deref())),
                    fix: kind.map_or("", Refusal::fix).to_owned(),
                    source: r.source,
                    content_type: r.content_type,
                    size: u64::try_from(r.size).unwrap_or(0),
                }
            })
            .collect())
    }

    /// Health of each channel, computed now from what is stored.
    pub async fn health_of(
        &self,
        rows: &[channel::Model],
    ) -> Result<HashMap<i64, Health>, RepoError> {
        let facts = crate::db::health::facts_of(&self.db, rows)
            .await
            .map_err(internal("health facts"))?;
        let now = now().unix_timestamp();
        Ok(facts
            .into_iter()
            .map(|(id, f)| (id, health::assess(&f, now)))
            .collect())
    }

    pub(super) async fn time_zone_of(&self, tenant_id: i64) -> Result<String, RepoError> {
        Ok(service_weekdays::Entity::find_by_id(tenant_id)
            .one(&self.db)
            .await
            .map_err(internal("time zone"))?
            .map_or_else(|| "UTC".to_owned(), |w| w.time_zone))
    }

    pub async fn activity_of(
        &self,
        tenant_id: i64,
        id: i64,
        at: &PageAt,
    ) -> Result<ChannelActivity, RepoError> {
        const PER_PAGE: usize = 20;
        let c = self.find(tenant_id, id).await?;
        // counted up to the limit on the channel's index, never every event of a busy channel
        let cap = ChannelPage::COUNTED_UP_TO;
        let counted = crate::db::count_up_to(
            &self.db,
            "SELECT 1 FROM webhook_events WHERE channel_id = ?",
            vec![c.id.into()],
            cap,
        )
        .await
        .map_err(internal("count events"))?;
        let (events, has_previous, has_next) = self.events_at(c.id, at, PER_PAGE).await?;
        let key = |e: &webhook_event::Model| {
            PageKey(format!(
                "e:{}:{}",
                e.received_at.unix_timestamp_nanos(),
                e.id
            ))
        };
        let first = events.first().map(key);
        let last = events.last().map(key);
        let how = self.how_authenticated(&c, &events).await?;
        let events = events
            .into_iter()
            .map(|e| ActivityEvent {
                authenticated: e.delivery_id.and_then(|d| how.get(&d).cloned()),
                kind: e.kind,
                provider_message_id: e.provider_message_id,
                sender: e.sender,
                recipient: e.recipient,
                text: e.text,
                status: e.status,
                received: display_time(e.received_at),
            })
            .collect();
        Ok(ChannelActivity {
            id: c.id,
            name: c.name.clone(),
            provider: c.provider.clone(),
            last_message: self.last_of(c.id, "message").await?,
            last_report: self.last_of(c.id, "report").await?,
            sent: self.sent_of(c.id).await?,
            endpoints: self.endpoints_of(&c).await?,
            refused: self.refused_of(c.id).await?,
            test_deliveries: self.test_deliveries_of(c.id).await?,
            events,
            total: counted.min(cap),
            more: counted > cap,
            per_page: PER_PAGE as u32,
            first,
            last,
            has_previous,
            has_next,
        })
    }

    /// How the deliveries of these events authenticated, in words, where that was recorded
    /// (during a credential change, or signed by Twilio): by delivery id.
    async fn how_authenticated(
        &self,
        c: &channel::Model,
        events: &[webhook_event::Model],
    ) -> Result<std::collections::HashMap<i64, String>, RepoError> {
        use crate::db::entities::webhook_delivery::{Column as D, Entity as Deliveries};
        use app::domain::rotation::{UsedCredential, WebhookCredential};
        let ids: Vec<i64> = events.iter().filter_map(|e| e.delivery_id).collect();
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let credential = c
            .rotation_credential
            .as_deref()
            .and_then(WebhookCredential::parse);
        let rows: Vec<(i64, Option<String>, Option<String>)> = Deliveries::find()
            .select_only()
            .columns([D::Id, D::Credential, D::SignedAs])
            .filter(D::Id.is_in(ids))
            .filter(
                Condition::any()
                    .add(D::Credential.is_not_null())
                    .add(D::SignedAs.is_not_null()),
            )
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(internal("how deliveries authenticated"))?;
        Ok(rows
            .into_iter()
            .map(|(id, used, signed)| {
                let mut words = Vec::new();
                if let (Some(used), Some(credential)) =
                    (used.as_deref().and_then(UsedCredential::parse), credential)
                {
                    words.push(format!("with the {}", used.words(credential)));
                }
                if let Some(signed) = signed {
                    let (url, body) = signed
                        .split_once('+')
                        .map_or((signed.as_str(), false), |(u, _)| (u, true));
                    let url = if url == "url_with_port" {
                        "over the URL with its port"
                    } else {
                        "over the URL without a port"
                    };
                    let body = if body { ", body by bodySHA256" } else { "" };
                    words.push(format!("X-Twilio-Signature valid {url}{body}"));
                }
                (id, words.join("; "))
            })
            .filter(|(_, w)| !w.is_empty())
            .collect())
    }

    /// The page of a channel's events `at` names, newest first, found from an event's place
    /// (received, id) on the channel's index; and whether newer and older ones exist.
    async fn events_at(
        &self,
        channel_id: i64,
        at: &PageAt,
        per: usize,
    ) -> Result<(Vec<webhook_event::Model>, bool, bool), RepoError> {
        let key = |k: &PageKey| -> Option<(time::OffsetDateTime, i64)> {
            let rest = k.0.strip_prefix("e:")?;
            let (t, id) = rest.split_once(':')?;
            let t = time::OffsetDateTime::from_unix_timestamp_nanos(t.parse().ok()?).ok()?;
            Some((t, id.parse().ok()?))
        };
        let place = |e: &webhook_event::Model| (e.received_at, e.id);
        match at {
            PageAt::After(k) => {
                if let Some(k) = key(k) {
                    let mut rows = self
                        .events_from(channel_id, Some(k), false, per + 1)
                        .await?;
                    if !rows.is_empty() {
                        let has_next = rows.len() > per;
                        rows.truncate(per);
                        let newer = self
                            .events_from(channel_id, Some(place(&rows[0])), true, 1)
                            .await?;
                        return Ok((rows, !newer.is_empty(), has_next));
                    }
                }
                self.events_end(channel_id, per, true).await
            }
            PageAt::Before(k) => {
                if let Some(k) = key(k) {
                    let mut rows = self.events_from(channel_id, Some(k), true, per + 1).await?;
                    if !rows.is_empty() {
                        let has_previous = rows.len() > per;
                        rows.truncate(per);
                        rows.reverse();
                        let older = self
                            .events_from(channel_id, Some(place(&rows[rows.len() - 1])), false, 1)
                            .await?;
                        return Ok((rows, has_previous, !older.is_empty()));
                    }
                }
                self.events_end(channel_id, per, false).await
            }
            PageAt::First => self.events_end(channel_id, per, false).await,
            PageAt::Last => self.events_end(channel_id, per, true).await,
        }
    }

    /// The newest page, or the oldest (`oldest`), newest first.
    async fn events_end(
        &self,
        channel_id: i64,
        per: usize,
        oldest: bool,
    ) -> Result<(Vec<webhook_event::Model>, bool, bool), RepoError> {
        let mut rows = self.events_from(channel_id, None, oldest, per + 1).await?;
        let more = rows.len() > per;
        rows.truncate(per);
        if oldest {
            rows.reverse();
            Ok((rows, more, false))
        } else {
            Ok((rows, false, more))
        }
    }

    /// Up to `limit` events older than `from` (newest first), or newer (`newer`, oldest
    /// first): the rest of `from`'s instant by id, then the instants beyond it — each a range
    /// of the index in its order.
    async fn events_from(
        &self,
        channel_id: i64,
        from: Option<(time::OffsetDateTime, i64)>,
        newer: bool,
        limit: usize,
    ) -> Result<Vec<webhook_event::Model>, RepoError> {
        use webhook_event::Column as E;
        let order = if newer {
            sea_orm::Order::Asc
        } else {
            sea_orm::Order::Desc
        };
        let base = || {
            webhook_event::Entity::find()
                .filter(E::ChannelId.eq(channel_id))
                .limit(limit as u64)
        };
        let Some((t, id)) = from else {
            return base()
                .order_by(E::ReceivedAt, order.clone())
                .order_by(E::Id, order)
                .all(&self.db)
                .await
                .map_err(internal("list events"));
        };
        let same_instant = if newer { E::Id.gt(id) } else { E::Id.lt(id) };
        let mut rows = base()
            .filter(E::ReceivedAt.eq(t))
            .filter(same_instant)
            .order_by(E::Id, order.clone())
            .all(&self.db)
            .await
            .map_err(internal("list events"))?;
        if rows.len() < limit {
            let beyond = if newer {
                E::ReceivedAt.gt(t)
            } else {
                E::ReceivedAt.lt(t)
            };
            rows.extend(
                webhook_event::Entity::find()
                    .filter(E::ChannelId.eq(channel_id))
                    .filter(beyond)
                    .order_by(E::ReceivedAt, order.clone())
                    .order_by(E::Id, order)
                    .limit((limit - rows.len()) as u64)
                    .all(&self.db)
                    .await
                    .map_err(internal("list events"))?,
            );
        }
        Ok(rows)
    }
}
