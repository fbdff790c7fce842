//! The Overview: channels by health, those needing attention, certificates expiring, and
//! the last day's webhook traffic, from indexes and kept counts.

use super::*;
use crate::db::entities::{certificate, channel, webhook_count};
use crate::db::{internal, now};
use app::domain::health::{self, HealthLevel};
use app::model::{AttentionChannel, Dashboard, ExpiringCertificate};
use app::ports::RepoError;
use sea_orm::sea_query::{Alias, Expr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

impl SqlChannels {
    pub(super) async fn overview(&self, tenant_id: i64) -> Result<Dashboard, RepoError> {
        use channel::Column as C;
        // kept counts, not a count of a million rows
        let tally = crate::db::tallies::of(&self.db, tenant_id)
            .await
            .map_err(internal("channel tallies"))?;
        let mut out = Dashboard {
            ok: tally.with_health(HealthLevel::Ok.rank()),
            attention: tally.with_health(HealthLevel::Attention.rank()),
            failing: tally.with_health(HealthLevel::Failing.rank()),
            ..Dashboard::default()
        };
        let worst = channel::Entity::find()
            .filter(C::TenantId.eq(tenant_id))
            .filter(C::Health.gt(0))
            .order_by(C::Health, sea_orm::Order::Desc)
            .order_by(C::NameKey, sea_orm::Order::Asc)
            .limit(20)
            .all(&self.db)
            .await
            .map_err(internal("channels needing attention"))?;
        let mut health = self.health_of(&worst).await?;
        out.needs_attention = worst
            .into_iter()
            .map(|m| AttentionChannel {
                health: health.remove(&m.id).unwrap_or_default(),
                id: m.id,
                name: m.name,
                provider: m.provider,
            })
            .collect();
        let now = now();
        let soon = now + time::Duration::days(health::CERTIFICATE_WARNING_DAYS);
        let mut certs: Vec<ExpiringCertificate> = certificate::Entity::find()
            .filter(certificate::Column::TenantId.eq(tenant_id))
            // a chain may hold a member that expires before the first certificate
            .filter(
                Condition::any()
                    .add(certificate::Column::NotAfter.lte(soon))
                    .add(certificate::Column::ChainPem.is_not_null()),
            )
            .all(&self.db)
            .await
            .map_err(internal("certificates expiring"))?
            .into_iter()
            .filter_map(|m| {
                let earliest = crate::db::certificates::members_of(&m)
                    .iter()
                    .map(|p| p.not_after)
                    .min()
                    .unwrap_or(m.not_after);
                (earliest <= soon).then(|| ExpiringCertificate {
                    id: m.id,
                    name: m.name,
                    kind: m.kind,
                    not_after: crate::db::certificates::day(earliest),
                    expired: earliest <= now,
                })
            })
            .collect();
        certs.sort_by(|a, b| a.not_after.cmp(&b.not_after).then(a.name.cmp(&b.name)));
        out.certificates = certs;
        let hour = now.unix_timestamp().div_euclid(3600);
        let (accepted, refused): (Option<i64>, Option<i64>) = webhook_count::Entity::find()
            .select_only()
            // PostgreSQL sums bigints as numeric
            .column_as(
                Expr::col(webhook_count::Column::Accepted)
                    .sum()
                    .cast_as(Alias::new("BIGINT")),
                "a",
            )
            .column_as(
                Expr::col(webhook_count::Column::Refused)
                    .sum()
                    .cast_as(Alias::new("BIGINT")),
                "r",
            )
            .filter(webhook_count::Column::TenantId.eq(tenant_id))
            .filter(webhook_count::Column::Hour.gt(hour - 24))
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(internal("deliveries in 24 hours"))?
            .unwrap_or_default();
        out.accepted_24h = u64::try_from(accepted.unwrap_or(0)).unwrap_or(0);
        out.refused_24h = u64::try_from(refused.unwrap_or(0)).unwrap_or(0);
        Ok(out)
    }
}
