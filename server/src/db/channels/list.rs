//! The channel list's query: filters, sort and page, with each row's health and activity.

use super::*;
use crate::db::entities::{channel, ou, skill_queue};
use crate::db::{display_time, internal};
use app::model::{ChannelPage, ChannelQuery, ChannelSort, ChannelSummary, LastTest};
use app::ports::RepoError;
use sea_orm::sea_query::{Expr, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;

impl SqlChannels {
    pub(super) async fn page(
        &self,
        tenant_id: i64,
        q: &ChannelQuery,
    ) -> Result<ChannelPage, RepoError> {
        use channel::Column as C;
        let mut filter = Condition::all().add(C::TenantId.eq(tenant_id));
        if !q.search.is_empty() {
            filter = filter.add(
                Expr::col(C::NameKey).like(LikeExpr::new(contains_pattern(&q.search)).escape('\\')),
            );
        }
        if !q.provider.is_empty() {
            filter = filter.add(C::Provider.eq(q.provider.clone()));
        }
        let mut counted = channel::Entity::find().filter(filter.clone());
        if q.attention {
            counted = counted.filter(C::Health.gt(0));
        }
        let total = counted
            .count(&self.db)
            .await
            .map_err(internal("count channels"))?;
        if q.attention {
            // counted with the health index above; for the page sorted by anything else, the
            // unary `+` keeps SQLite on the sort's index (filtering the health read from
            // `idx_channels_name_health`) instead of sorting every unhealthy channel
            filter = filter.add(if q.sort == ChannelSort::Health {
                Expr::col(C::Health).gt(0)
            } else {
                Expr::cust("+health > 0")
            });
        }
        let order = if q.descending {
            sea_orm::Order::Desc
        } else {
            sea_orm::Order::Asc
        };
        let mut select = channel::Entity::find().filter(filter);
        select = match q.sort {
            ChannelSort::Name => select.order_by(C::NameKey, order),
            ChannelSort::Provider => select
                .order_by(C::Provider, order.clone())
                .order_by(C::NameKey, sea_orm::Order::Asc),
            ChannelSort::Updated => select
                .order_by(C::UpdatedAt, order.clone())
                .order_by(C::Id, order),
            // (tenant_id, health, name_key) is an index: worst first, then by name
            ChannelSort::Health => select
                .order_by(C::Health, order)
                .order_by(C::NameKey, sea_orm::Order::Asc),
        };
        let rows: Vec<channel::Model> = select
            .offset(u64::from(q.page - 1) * u64::from(q.per_page))
            .limit(u64::from(q.per_page))
            .all(&self.db)
            .await
            .map_err(internal("list channels"))?;
        let ou_ids: Vec<i64> = rows.iter().filter_map(|r| r.ou_id).collect();
        let queue_ids: Vec<i64> = rows.iter().map(|r| r.skill_queue_id).collect();
        let ous: HashMap<i64, String> = if ou_ids.is_empty() {
            HashMap::new()
        } else {
            ou::Entity::find()
                .filter(ou::Column::TenantId.eq(tenant_id))
                .filter(ou::Column::Id.is_in(ou_ids))
                .all(&self.db)
                .await
                .map_err(internal("names of ous"))?
                .into_iter()
                .map(|o| (o.id, o.name))
                .collect()
        };
        let queues: HashMap<i64, String> = if queue_ids.is_empty() {
            HashMap::new()
        } else {
            skill_queue::Entity::find()
                .filter(skill_queue::Column::TenantId.eq(tenant_id))
                .filter(skill_queue::Column::Id.is_in(queue_ids))
                .all(&self.db)
                .await
                .map_err(internal("names of queues"))?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect()
        };
        let mut health = self.health_of(&rows).await?;
        Ok(ChannelPage {
            rows: rows
                .into_iter()
                .map(|m| ChannelSummary {
                    id: m.id,
                    channel_type: "WhatsApp".into(),
                    ou: m.ou_id.and_then(|o| ous.get(&o).cloned()),
                    skill_queue: queues.get(&m.skill_queue_id).cloned().unwrap_or_default(),
                    scenario_key: m.scenario_key.is_some(),
                    updated: display_time(m.updated_at),
                    last_received: m.last_accepted_at.map(display_time),
                    last_test: match (m.last_test_ok, m.last_test_at) {
                        (Some(ok), Some(at)) => Some(LastTest {
                            ok,
                            at: display_time(at),
                            summary: m.last_test_summary.clone().unwrap_or_default(),
                        }),
                        _ => None,
                    },
                    health: health.remove(&m.id).unwrap_or_default(),
                    name: m.name,
                    provider: m.provider,
                })
                .collect(),
            total,
            page: q.page,
            per_page: q.per_page,
        })
    }
}

fn contains_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("Wa_1"), "%wa\\_1%");
        assert_eq!(contains_pattern("100%"), "%100\\%%");
    }
}
