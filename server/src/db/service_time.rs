//! Service time: the `ServiceTimes` port. Every query is scoped by tenant.

use super::entities::{non_working_date, service_weekdays};
use super::{internal, is_unique_violation};
use app::domain::service_time::WeekdayRules;
use app::model::{NonWorkingDate, ServiceTime};
use app::ports::{RepoError, ServiceTimes};
use async_trait::async_trait;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
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

    async fn set_weekdays(&self, tenant_id: i64, rules: WeekdayRules) -> Result<(), RepoError> {
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
        .exec(&self.db)
        .await
        .map_err(internal("save weekdays"))?;
        Ok(())
    }

    async fn set_time_zone(&self, tenant_id: i64, zone: &str) -> Result<(), RepoError> {
        service_weekdays::Entity::insert(service_weekdays::ActiveModel {
            tenant_id: Set(tenant_id),
            workdays: Set(WeekdayRules::default().encode()),
            time_zone: Set(zone.to_owned()),
        })
        .on_conflict(
            OnConflict::column(service_weekdays::Column::TenantId)
                .update_column(service_weekdays::Column::TimeZone)
                .to_owned(),
        )
        .exec(&self.db)
        .await
        .map_err(internal("save time zone"))?;
        Ok(())
    }

    async fn add_date(
        &self,
        tenant_id: i64,
        date: &str,
        name: &str,
    ) -> Result<NonWorkingDate, RepoError> {
        let created = non_working_date::ActiveModel {
            tenant_id: Set(tenant_id),
            date: Set(date.to_owned()),
            name: Set(name.to_owned()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                RepoError::Conflict {
                    field: "date",
                    message: format!("{date} is already a non-working date."),
                }
            } else {
                internal("insert non-working date")(e)
            }
        })?;
        Ok(NonWorkingDate {
            id: created.id,
            date: created.date,
            name: created.name,
        })
    }

    async fn remove_date(&self, tenant_id: i64, id: i64) -> Result<(), RepoError> {
        let result = non_working_date::Entity::delete_many()
            .filter(non_working_date::Column::TenantId.eq(tenant_id))
            .filter(non_working_date::Column::Id.eq(id))
            .exec(&self.db)
            .await
            .map_err(internal("delete non-working date"))?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        Ok(())
    }
}
