//! Kept counts of channels by tenant space, provider and health level: what the Overview and
//! the channel list's totals read instead of counting a million rows.
//!
//! Triggers on `channels` (migration `m20261205_000017_channel_search`) append `+n`/`-n`
//! rows; [`compact`] folds a tenant's rows into one per group again. A count is the sum of a
//! tenant's rows, so it is exact at any moment, compacted or not.

use crate::db::statement;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use std::collections::HashMap;

/// A tenant space whose rows outnumber this is compacted by the next [`compact`].
pub const COMPACT_ABOVE: i64 = 64;

/// Channels of one tenant space by (provider, health rank).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally(pub HashMap<(String, i16), u64>);

impl Tally {
    /// How many channels match a provider (empty: any) and, when `attention`, a health
    /// level above OK.
    pub fn count(&self, provider: &str, attention: bool) -> u64 {
        self.0
            .iter()
            .filter(|((p, h), _)| (provider.is_empty() || p == provider) && (!attention || *h > 0))
            .map(|(_, n)| *n)
            .sum()
    }

    /// How many channels have this health rank.
    pub fn with_health(&self, rank: i16) -> u64 {
        self.0
            .iter()
            .filter(|((_, h), _)| *h == rank)
            .map(|(_, n)| *n)
            .sum()
    }
}

/// The tally of one tenant space.
pub async fn of<C: ConnectionTrait>(db: &C, tenant_id: i64) -> Result<Tally, DbErr> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all(statement(
            backend,
            // PostgreSQL sums bigints as numeric
            "SELECT provider, health, CAST(SUM(n) AS BIGINT) AS n FROM channel_tallies \
             WHERE tenant_id = ? GROUP BY provider, health",
            vec![tenant_id.into()],
        ))
        .await?;
    let mut out = HashMap::new();
    for r in rows {
        let n: i64 = r.try_get("", "n")?;
        if n > 0 {
            out.insert(
                (
                    r.try_get::<String>("", "provider")?,
                    r.try_get("", "health")?,
                ),
                u64::try_from(n).unwrap_or(0),
            );
        }
    }
    Ok(Tally(out))
}

/// Folds the rows of every tenant space that has more than [`COMPACT_ABOVE`] into one per
/// group; answers how many tenant spaces it compacted.
pub async fn compact(db: &DatabaseConnection) -> Result<usize, DbErr> {
    let backend = db.get_database_backend();
    let tenants: Vec<i64> = db
        .query_all(statement(
            backend,
            "SELECT tenant_id FROM channel_tallies GROUP BY tenant_id HAVING COUNT(*) > ?",
            vec![COMPACT_ABOVE.into()],
        ))
        .await?
        .iter()
        .map(|r| r.try_get("", "tenant_id"))
        .collect::<Result<_, _>>()?;
    for &t in &tenants {
        compact_tenant(db, t).await?;
    }
    Ok(tenants.len())
}

/// One tenant space's rows replaced by their sums, in one transaction. The rows deleted are
/// exactly the rows summed (`RETURNING`): on PostgreSQL a row another transaction commits
/// meanwhile is neither deleted nor counted twice.
pub async fn compact_tenant(db: &DatabaseConnection, tenant_id: i64) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let txn = db.begin().await?;
    let rows = txn
        .query_all(statement(
            backend,
            "DELETE FROM channel_tallies WHERE tenant_id = ? RETURNING provider, health, n",
            vec![tenant_id.into()],
        ))
        .await?;
    let mut sums: HashMap<(String, i16), i64> = HashMap::new();
    for r in rows {
        *sums
            .entry((r.try_get("", "provider")?, r.try_get("", "health")?))
            .or_default() += r.try_get::<i64>("", "n")?;
    }
    for ((provider, health), n) in sums {
        if n != 0 {
            txn.execute(statement(
                backend,
                "INSERT INTO channel_tallies (tenant_id, provider, health, n) VALUES (?, ?, ?, ?)",
                vec![tenant_id.into(), provider.into(), health.into(), n.into()],
            ))
            .await?;
        }
    }
    txn.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_provider_and_attention() {
        let t = Tally(HashMap::from([
            (("infobip".into(), 0), 5),
            (("infobip".into(), 2), 1),
            (("twilio".into(), 1), 3),
        ]));
        assert_eq!(t.count("", false), 9);
        assert_eq!(t.count("", true), 4);
        assert_eq!(t.count("infobip", false), 6);
        assert_eq!(t.count("infobip", true), 1);
        assert_eq!(t.count("other", false), 0);
        assert_eq!(t.with_health(2), 1);
        assert_eq!(t.with_health(0), 5);
    }
}
