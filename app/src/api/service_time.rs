//! Service time of the signed-in tenant administrator's tenant space.

use crate::error::AppError;
use crate::model::{NonWorkingDate, ServiceTime};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ctx;

#[server(endpoint = "get_service_time")]
pub async fn get_service_time() -> Result<ServiceTime, AppError> {
    let tenant = ctx::require_tenant().await?;
    ctx::ports()?
        .service_time
        .get(tenant)
        .await
        .map_err(AppError::from)
}

/// One checkbox per weekday: present (any value) means a workday.
#[server(endpoint = "save_weekdays")]
#[allow(clippy::too_many_arguments)]
pub async fn save_weekdays(
    monday: Option<String>,
    tuesday: Option<String>,
    wednesday: Option<String>,
    thursday: Option<String>,
    friday: Option<String>,
    saturday: Option<String>,
    sunday: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::service_time::WeekdayRules;
    let (tenant, actor) = ctx::tenant_actor().await?;
    let days = [
        monday, tuesday, wednesday, thursday, friday, saturday, sunday,
    ]
    .map(|d| d.is_some());
    ctx::ports()?
        .service_time
        .set_weekdays(&actor, tenant, WeekdayRules(days))
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "add_non_working_date")]
pub async fn add_non_working_date(date: String, name: String) -> Result<NonWorkingDate, AppError> {
    use crate::domain::FieldErrors;
    use crate::domain::dates::parse_date;
    use crate::domain::service_time::parse_holiday_name;
    let (tenant, actor) = ctx::tenant_actor().await?;
    let mut errors = FieldErrors::new();
    let date = errors.check("date", parse_date(&date));
    let name = errors.check("name", parse_holiday_name(&name));
    errors.into_result()?;
    let (Some(date), Some(name)) = (date, name) else {
        return Err(AppError::Internal);
    };
    ctx::ports()?
        .service_time
        .add_date(&actor, tenant, &date, &name)
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "remove_non_working_date")]
pub async fn remove_non_working_date(id: i64) -> Result<(), AppError> {
    let (tenant, actor) = ctx::tenant_actor().await?;
    ctx::ports()?
        .service_time
        .remove_date(&actor, tenant, id)
        .await
        .map_err(AppError::from)
}

/// The tenant's time zone: work time, non-working dates and the routing preview are in it.
#[server(endpoint = "save_time_zone")]
pub async fn save_time_zone(time_zone: String) -> Result<(), AppError> {
    use crate::domain::FieldErrors;
    use crate::domain::routing::zone::parse_zone;
    let (tenant, actor) = ctx::tenant_actor().await?;
    let mut errors = FieldErrors::new();
    let zone = errors.check("time_zone", parse_zone(&time_zone));
    errors.into_result()?;
    let Some(zone) = zone else {
        return Err(AppError::Internal);
    };
    ctx::ports()?
        .service_time
        .set_time_zone(&actor, tenant, zone.name())
        .await
        .map_err(AppError::from)
}

/// Every IANA time zone name, for the time zone field.
#[server(endpoint = "list_time_zones")]
pub async fn list_time_zones() -> Result<Vec<String>, AppError> {
    ctx::require_tenant().await?;
    Ok(crate::domain::routing::zone::zone_names()
        .into_iter()
        .map(str::to_owned)
        .collect())
}
