//! Service time: the `ServiceTimes` port. Every query is scoped by tenant.

use super::entities::{non_working_date, service_weekdays};
use super::write::{audited, delete_owned};
use super::{UniqueOr, internal};
use app::domain::audit::{AuditAction, FieldChange, ObjectKind, created as created_fields, diff};
use app::domain::service_time::{WEEKDAYS, WeekdayRules};
use app::model::{NonWorkingDate, ServiceTime};
use app::ports::{Actor, AuditEvent, RepoError, ServiceTimes};
use async_trait::async_trait;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set,
};

#[derive(Clone)]
pub struct SqlServiceTime {
    db: DatabaseConnection,
}

impl SqlServiceTime {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// The tenant's stored service time row, read after a write that takes its lock (a no-op
/// update): two saves at once then each diff against what the other left, and a SQLite
/// transaction that starts with a write cannot fail with BUSY_SNAPSHOT when it writes again.
async fn locked(
    txn: &DatabaseTransaction,
    tenant_id: i64,
) -> Result<Option<service_weekdays::Model>, RepoError> {
    use sea_orm::sea_query::Expr;
    service_weekdays::Entity::update_many()
        .col_expr(
            service_weekdays::Column::TenantId,
            Expr::col(service_weekdays::Column::TenantId).into(),
        )
        .filter(service_weekdays::Column::TenantId.eq(tenant_id))
        .exec(txn)
        .await
        .map_err(internal("lock weekdays"))?;
    service_weekdays::Entity::find_by_id(tenant_id)
        .one(txn)
        .await
        .map_err(internal("get weekdays"))
}

/// Each weekday as "Workday" or "Non-workday", for an entry's diff.
fn weekday_fields(rules: WeekdayRules) -> Vec<(&'static str, String)> {
    WEEKDAYS
        .iter()
        .zip(rules.0)
        .map(|(day, work)| {
            (
                *day,
                if work { "Workday" } else { "Non-workday" }.to_owned(),
            )
        })
        .collect()
}

/// The audit entry of a service-time change.
fn event(
    tenant_id: i64,
    action: AuditAction,
    id: Option<i64>,
    name: &str,
    changes: Vec<FieldChange>,
) -> AuditEvent {
    AuditEvent::new(action, Some(tenant_id), ObjectKind::ServiceTime, id, name).with(changes)
}

#[async_trait]
impl ServiceTimes for SqlServiceTime {
    async fn get(&self, tenant_id: i64) -> Result<ServiceTime, RepoError> {
        let row = service_weekdays::Entity::find_by_id(tenant_id)
            .one(&self.db)
            .await
            .map_err(internal("get weekdays"))?;
        let time_zone = row
            .as_ref()
            .map_or_else(|| "UTC".to_owned(), |w| w.time_zone.clone());
        let weekdays = row
            .and_then(|w| WeekdayRules::decode(&w.workdays))
            .unwrap_or_default();
        let dates = non_working_date::Entity::find()
            .filter(non_working_date::Column::TenantId.eq(tenant_id))
            .order_by_asc(non_working_date::Column::Date)
            .all(&self.db)
            .await
            .map_err(internal("list non-working dates"))?
            .into_iter()
            .map(|d| NonWorkingDate {
                id: d.id,
                date: d.date,
                name: d.name,
            })
            .collect();
        Ok(ServiceTime {
            weekdays,
            time_zone,
            dates,
        })
    }

    async fn set_weekdays(
        &self,
        actor: &Actor,
        tenant_id: i64,
        rules: WeekdayRules,
    ) -> Result<(), RepoError> {
        audited(&self.db, actor, "save weekdays", move |txn| {
            Box::pin(async move {
                let old = locked(txn, tenant_id)
                    .await?
                    .and_then(|w| WeekdayRules::decode(&w.workdays))
                    .unwrap_or_default();
                service_weekdays::Entity::insert(service_weekdays::ActiveModel {
                    tenant_id: Set(tenant_id),
                    workdays: Set(rules.encode()),
                    ..Default::default()
                })
                .on_conflict(
                    OnConflict::column(service_weekdays::Column::TenantId)
                        .update_column(service_weekdays::Column::Workdays)
                        .to_owned(),
                )
                .exec(txn)
                .await
                .map_err(internal("save weekdays"))?;
                let changes = diff(&weekday_fields(old), &weekday_fields(rules));
                let entry = event(
                    tenant_id,
                    AuditAction::WeekdaysSaved,
                    None,
                    "Weekdays",
                    changes,
                );
                Ok(((), entry))
            })
        })
        .await
    }

    async fn set_time_zone(
        &self,
        actor: &Actor,
        tenant_id: i64,
        zone: &str,
    ) -> Result<(), RepoError> {
        let zone = zone.to_owned();
        audited(&self.db, actor, "save time zone", move |txn| {
            Box::pin(async move {
                let old = locked(txn, tenant_id)
                    .await?
                    .map_or_else(|| "UTC".to_owned(), |w| w.time_zone);
                service_weekdays::Entity::insert(service_weekdays::ActiveModel {
                    tenant_id: Set(tenant_id),
                    workdays: Set(WeekdayRules::default().encode()),
                    time_zone: Set(zone.clone()),
                })
                .on_conflict(
                    OnConflict::column(service_weekdays::Column::TenantId)
                        .update_column(service_weekdays::Column::TimeZone)
                        .to_owned(),
                )
                .exec(txn)
                .await
                .map_err(internal("save time zone"))?;
                let changes = diff(&[("Time zone", old)], &[("Time zone", zone)]);
                let entry = event(
                    tenant_id,
                    AuditAction::TimeZoneSaved,
                    None,
                    "Time zone",
                    changes,
                );
                Ok(((), entry))
            })
        })
        .await
    }

    async fn add_date(
        &self,
        actor: &Actor,
        tenant_id: i64,
        date: &str,
        name: &str,
    ) -> Result<NonWorkingDate, RepoError> {
        let (date, name) = (date.to_owned(), name.to_owned());
        audited(&self.db, actor, "add non-working date", move |txn| {
            Box::pin(async move {
                let created = non_working_date::ActiveModel {
                    tenant_id: Set(tenant_id),
                    date: Set(date.clone()),
                    name: Set(name.clone()),
                    ..Default::default()
                }
                .insert(txn)
                .await
                .unique_or(
                    "date",
                    format!("{date} is already a non-working date."),
                    "insert non-working date",
                )?;
                let changes = created_fields(&[("Date", date.clone()), ("Name", name)]);
                let entry = event(
                    tenant_id,
                    AuditAction::NonWorkingDateAdded,
                    Some(created.id),
                    &date,
                    changes,
                );
                let added = NonWorkingDate {
                    id: created.id,
                    date: created.date,
                    name: created.name,
                };
                Ok((added, entry))
            })
        })
        .await
    }

    async fn remove_date(&self, actor: &Actor, tenant_id: i64, id: i64) -> Result<(), RepoError> {
        let Some(found) = non_working_date::Entity::find_by_id(id)
            .filter(non_working_date::Column::TenantId.eq(tenant_id))
            .one(&self.db)
            .await
            .map_err(internal("find non-working date"))?
        else {
            return Err(RepoError::NotFound);
        };
        let changes = diff(
            &[("Date", found.date.clone()), ("Name", found.name.clone())],
            &[],
        );
        let entry = event(
            tenant_id,
            AuditAction::NonWorkingDateRemoved,
            Some(id),
            &found.date,
            changes,
        );
        delete_owned::<non_working_date::Entity>(
            &self.db,
            actor,
            tenant_id,
            id,
            entry,
            "remove non-working date",
        )
        .await
    }
}
