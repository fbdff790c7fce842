//! Counts across every tenant space for an operator's metrics: channels by provider and
//! health level (from the kept tallies), certificates and access tokens expiring within 7,
//! 14 and 30 days. Nothing here names a tenant space or a channel.

use crate::db::entities::certificate;
use crate::db::now;
use app::domain::channel::ProviderKind;
use app::domain::health::HealthLevel;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    Statement,
};

/// The windows an expiry is counted in, in days.
pub const WINDOWS: [i64; 3] = [7, 14, 30];

/// See the module's documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Census {
    /// (provider, health level's label, channels); every pair, zeros included.
    pub channels: Vec<(&'static str, &'static str, u64)>,
    /// ("certificate" or "token", days, how many expire within them and have not yet).
    pub expiring: Vec<(&'static str, i64, u64)>,
}

/// A health level as a metric label.
pub fn level_label(level: HealthLevel) -> &'static str {
    match level {
        HealthLevel::Ok => "ok",
        HealthLevel::Attention => "attention",
        HealthLevel::Failing => "failing",
    }
}

/// Counts as of now. Costs the tallies' rows, the certificates that expire within 30 days
/// (or hold a chain), and the tokens that do, read on their index.
pub async fn census(db: &DatabaseConnection) -> Result<Census, DbErr> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all(Statement::from_string(
            backend,
            "SELECT provider, health, CAST(SUM(n) AS BIGINT) AS n FROM channel_tallies \
             GROUP BY provider, health",
        ))
        .await?;
    let mut channels = Vec::new();
    for provider in ProviderKind::ALL {
        for level in HealthLevel::ALL {
            let n: i64 = rows
                .iter()
                .filter(|r| {
                    r.try_get::<String>("", "provider").ok().as_deref() == Some(provider.as_str())
                        && r.try_get::<i16>("", "health").ok() == Some(level.rank())
                })
                .filter_map(|r| r.try_get::<i64>("", "n").ok())
                .sum();
            channels.push((
                provider.as_str(),
                level_label(level),
                u64::try_from(n).unwrap_or(0),
            ));
        }
    }

    let now = now();
    let widest = now + time::Duration::days(WINDOWS[WINDOWS.len() - 1]);
    let earliest: Vec<time::OffsetDateTime> = certificate::Entity::find()
        // a chain may hold a member that expires before the first certificate
        .filter(
            Condition::any()
                .add(certificate::Column::NotAfter.lte(widest))
                .add(certificate::Column::ChainPem.is_not_null()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            crate::db::certificates::members_of(&m)
                .iter()
                .map(|p| p.not_after)
                .min()
                .unwrap_or(m.not_after)
        })
        .collect();
    let mut expiring = Vec::new();
    for days in WINDOWS {
        let until = now + time::Duration::days(days);
        let n = earliest
            .iter()
            .filter(|t| **t > now && **t <= until)
            .count();
        expiring.push(("certificate", days, n as u64));
    }

    // a token is valid through its date (`YYYY-MM-DD`) and expired from the next day
    let today = now.date();
    for days in WINDOWS {
        let last = today + time::Duration::days(days - 1);
        let row = db
            .query_one(crate::db::statement(
                backend,
                "SELECT COUNT(*) AS n FROM channels \
                 WHERE token_valid_until >= ? AND token_valid_until <= ?",
                vec![iso(today).into(), iso(last).into()],
            ))
            .await?;
        let n: i64 = match row {
            Some(r) => r.try_get("", "n")?,
            None => 0,
        };
        expiring.push(("token", days, u64::try_from(n).unwrap_or(0)));
    }
    Ok(Census { channels, expiring })
}

fn iso(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}
