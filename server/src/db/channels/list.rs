//! The channel list's query: filters, sort, a name search on an index, and pages found by
//! seeking from a row's place in the sort order — never by skipping rows — with each row's
//! health and activity. What it costs does not grow with the number of channels:
//!
//! - A page is read from the sort's index, starting at the row the browser names.
//! - Totals without a name search are the kept tallies (`db::tallies`), exact.
//! - A name search of three characters or more uses the trigram index (FTS5 on SQLite,
//!   `pg_trgm` on PostgreSQL) and counts up to [`ChannelPage::COUNTED_UP_TO`]; one or two
//!   characters match how a name starts, on the name's index.
//! - On SQLite (whose planner has no statistics) the plan is chosen here: a condition that
//!   matches at most [`SMALL_SET`] channels is read through its own index and those rows
//!   sorted; otherwise the sort's index is walked with the conditions checked on each row,
//!   and at least one row in `channels / SMALL_SET` matches. PostgreSQL plans for itself; a
//!   search there reads the trigram index once and, when it matches few channels, pages
//!   through their ids.

use super::*;
use crate::db::entities::{channel, ou, skill_queue};
use crate::db::{display_time, internal, statement, tallies};
use app::model::{
    ChannelPage, ChannelQuery, ChannelSort, ChannelSummary, LastTest, PageAt, PageKey,
};
use app::ports::RepoError;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, Statement, Value,
};
use std::collections::HashMap;

/// See the module's documentation.
const SMALL_SET: u64 = 10_000;

/// PostgreSQL: a search that matches at most this many channels is paged from the list of
/// their ids (see `postgres_source`).
const ID_LIST: usize = 1_000;

/// What a name search asks for, as `name_key` holds names (lower case, ASCII letters, digits
/// and `_`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameSearch {
    Any,
    /// A character no channel name has: nothing matches.
    Nothing,
    /// One or two characters: names that start with them.
    Prefix(String),
    /// Names that contain it (three characters or more).
    Contains(String),
}

impl NameSearch {
    pub(crate) fn of(text: &str) -> Self {
        if text.is_empty() {
            return Self::Any;
        }
        let key = text.to_lowercase();
        if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Self::Nothing;
        }
        if key.len() < 3 {
            Self::Prefix(key)
        } else {
            Self::Contains(key)
        }
    }
}

/// The end of a prefix's range: every ASCII name that starts with `p` sorts below `p` + `~`.
fn prefix_end(p: &str) -> String {
    format!("{p}~")
}

/// `pattern` for LIKE with its wildcard (`_`, the only one a name can hold) escaped.
fn like_literal(key: &str) -> String {
    key.replace('\\', "\\\\")
        .replace('_', "\\_")
        .replace('%', "\\%")
}

/// An FTS5 query for a substring of a name in one tenant space: two phrases, quotes doubled.
fn fts_query(tenant_id: i64, key: &str) -> String {
    format!(
        "tenant:\"#{tenant_id}#\" AND name:\"{}\"",
        key.replace('"', "\"\"")
    )
}

/// A piece of SQL with `?` placeholders and their values.
#[derive(Debug, Clone, Default)]
struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn new(text: &str, values: Vec<Value>) -> Self {
        Self {
            text: text.to_owned(),
            values,
        }
    }

    fn and(&mut self, other: &Sql) {
        self.text.push_str(" AND ");
        self.text.push_str(&other.text);
        self.values.extend(other.values.iter().cloned());
    }

    fn push(&mut self, text: &str, values: Vec<Value>) {
        self.text.push_str(text);
        self.values.extend(values);
    }

    fn statement(self, backend: DatabaseBackend) -> Statement {
        statement(backend, &self.text, self.values)
    }
}

/// A sort order: an optional first column, then a column unique within a tenant space.
#[derive(Debug, Clone, Copy)]
struct Order {
    primary: Option<(&'static str, bool)>,
    secondary: (&'static str, bool),
}

impl Order {
    fn of(sort: ChannelSort, descending: bool) -> Self {
        match sort {
            ChannelSort::Name => Self {
                primary: None,
                secondary: ("name_key", descending),
            },
            // names ascending within a provider, either way
            ChannelSort::Provider => Self {
                primary: Some(("provider", descending)),
                secondary: ("name_key", false),
            },
            ChannelSort::Updated => Self {
                primary: Some(("updated_at", descending)),
                secondary: ("id", descending),
            },
            // worst first when descending, then by name
            ChannelSort::Health => Self {
                primary: Some(("health", descending)),
                secondary: ("name_key", false),
            },
        }
    }

    fn reversed(self) -> Self {
        Self {
            primary: self.primary.map(|(c, d)| (c, !d)),
            secondary: (self.secondary.0, !self.secondary.1),
        }
    }

    fn by(&self) -> String {
        let dir = |d: bool| if d { "DESC" } else { "ASC" };
        let (s, sd) = self.secondary;
        match self.primary {
            Some((p, pd)) => format!(" ORDER BY c.{p} {}, c.{s} {}", dir(pd), dir(sd)),
            None => format!(" ORDER BY c.{s} {}", dir(sd)),
        }
    }
}

fn past(descending: bool) -> &'static str {
    if descending { "<" } else { ">" }
}

/// A row's place in a sort order.
#[derive(Debug, Clone, PartialEq)]
struct Key {
    primary: Option<Value>,
    secondary: Value,
}

impl Key {
    fn of(sort: ChannelSort, m: &channel::Model) -> Self {
        let name = || Value::from(m.name_key.clone());
        match sort {
            ChannelSort::Name => Self {
                primary: None,
                secondary: name(),
            },
            ChannelSort::Provider => Self {
                primary: Some(m.provider.clone().into()),
                secondary: name(),
            },
            ChannelSort::Updated => Self {
                primary: Some(m.updated_at.into()),
                secondary: m.id.into(),
            },
            ChannelSort::Health => Self {
                primary: Some(m.health.into()),
                secondary: name(),
            },
        }
    }

    /// The key as the browser carries it: the sort it belongs to, then its values.
    fn encode(sort: ChannelSort, m: &channel::Model) -> PageKey {
        PageKey(match sort {
            ChannelSort::Name => format!("n:{}", m.name_key),
            ChannelSort::Provider => format!("p:{}:{}", m.provider, m.name_key),
            ChannelSort::Updated => {
                format!("u:{}:{}", m.updated_at.unix_timestamp_nanos(), m.id)
            }
            ChannelSort::Health => format!("h:{}:{}", m.health, m.name_key),
        })
    }

    /// A key the browser sent back; `None` when it is not one of this sort's (the browser
    /// then gets the first or last page).
    fn decode(sort: ChannelSort, key: &PageKey) -> Option<Self> {
        let mut parts = key.0.splitn(3, ':');
        let tag = parts.next()?;
        let a = parts.next()?;
        let b = parts.next();
        let name = |s: &str| {
            (!s.is_empty()
                && s.len() <= 64
                && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'))
            .then(|| Value::from(s.to_owned()))
        };
        match (sort, tag, b) {
            (ChannelSort::Name, "n", None) => Some(Self {
                primary: None,
                secondary: name(a)?,
            }),
            (ChannelSort::Provider, "p", Some(b)) => Some(Self {
                primary: Some(
                    (a.len() <= 16 && a.bytes().all(|c| c.is_ascii_lowercase() || c == b'-'))
                        .then(|| Value::from(a.to_owned()))?,
                ),
                secondary: name(b)?,
            }),
            (ChannelSort::Updated, "u", Some(b)) => {
                let at = time::OffsetDateTime::from_unix_timestamp_nanos(a.parse().ok()?).ok()?;
                Some(Self {
                    primary: Some(at.into()),
                    secondary: b.parse::<i64>().ok()?.into(),
                })
            }
            (ChannelSort::Health, "h", Some(b)) => Some(Self {
                primary: Some(a.parse::<i16>().ok()?.into()),
                secondary: name(b)?,
            }),
            _ => None,
        }
    }
}

/// Where a page's rows are read from, and the conditions checked on them.
#[derive(Debug, Clone)]
struct Source {
    /// A subquery of the ids of a small set (`id`), read first and then sorted.
    candidates: Option<Sql>,
    /// Conditions on `c` (a row of `channels`), the tenant's first.
    conditions: Sql,
}

impl Source {
    fn from(&self) -> Sql {
        match &self.candidates {
            Some(ids) => {
                let mut s = Sql::new("(", vec![]);
                s.push(&ids.text, ids.values.clone());
                // CROSS JOIN: SQLite reads the candidates first; the join's condition is the
                // first in WHERE (PostgreSQL's CROSS JOIN takes no ON)
                s.push(") AS m CROSS JOIN channels c", vec![]);
                s
            }
            None => Sql::new("channels c", vec![]),
        }
    }

    /// `SELECT <what> FROM … WHERE …` with `more` conditions.
    fn select(&self, what: &str, more: Option<&Sql>) -> Sql {
        let mut s = Sql::new(&format!("SELECT {what} FROM "), vec![]);
        let from = self.from();
        s.push(&from.text, from.values);
        s.push(" WHERE ", vec![]);
        if self.candidates.is_some() {
            s.push("c.id = m.id AND ", vec![]);
        }
        s.push(&self.conditions.text, self.conditions.values.clone());
        if let Some(m) = more {
            s.and(m);
        }
        s
    }
}

impl SqlChannels {
    pub(super) async fn page(
        &self,
        tenant_id: i64,
        q: &ChannelQuery,
    ) -> Result<ChannelPage, RepoError> {
        let search = NameSearch::of(&q.search);
        let tally = tallies::of(&self.db, tenant_id)
            .await
            .map_err(internal("channel tallies"))?;
        let (rows, total, more, has_previous, has_next) = if search == NameSearch::Nothing {
            (vec![], 0, false, false, false)
        } else {
            let (source, total, more) = if self.db.get_database_backend() == DatabaseBackend::Sqlite
            {
                self.sqlite_source(tenant_id, q, &search, &tally).await?
            } else {
                self.postgres_source(tenant_id, q, &search, &tally).await?
            };
            let (rows, has_previous, has_next) = self.seek(&source, q).await?;
            (rows, total, more, has_previous, has_next)
        };
        Ok(ChannelPage {
            first: rows.first().map(|m| Key::encode(q.sort, m)),
            last: rows.last().map(|m| Key::encode(q.sort, m)),
            rows: self.summaries(tenant_id, rows).await?,
            total,
            more,
            per_page: q.per_page,
            has_previous,
            has_next,
        })
    }

    /// SQLite: where the rows come from, and the total (with whether more match).
    async fn sqlite_source(
        &self,
        tenant_id: i64,
        q: &ChannelQuery,
        search: &NameSearch,
        tally: &tallies::Tally,
    ) -> Result<(Source, u64, bool), RepoError> {
        // each condition as checked on a row, and its set's size and ids
        let mut conditions: Vec<(Sql, u64, Sql)> = Vec::new();
        // the sort walks its index; a condition that another index serves is written so that
        // the planner keeps to the sort's (`+column`)
        let plain = |yes: bool, sql: &str| {
            if yes {
                sql.replace('+', "")
            } else {
                sql.to_owned()
            }
        };
        let mut search_count = None;
        match search {
            NameSearch::Any | NameSearch::Nothing => {}
            NameSearch::Prefix(p) => {
                let range = vec![tenant_id.into(), p.clone().into(), prefix_end(p).into()];
                let ids = Sql::new(
                    "SELECT id FROM channels WHERE tenant_id = ? AND name_key >= ? AND name_key < ?",
                    range,
                );
                let n = self.count_up_to(&ids).await?;
                search_count = Some(n);
                conditions.push((
                    Sql::new(
                        &plain(
                            q.sort == ChannelSort::Name,
                            "+c.name_key >= ? AND +c.name_key < ?",
                        ),
                        vec![p.clone().into(), prefix_end(p).into()],
                    ),
                    n,
                    ids,
                ));
            }
            NameSearch::Contains(s) => {
                let ids = Sql::new(
                    "SELECT rowid AS id FROM channel_names WHERE channel_names MATCH ?",
                    vec![fts_query(tenant_id, s).into()],
                );
                let n = self.count_up_to(&ids).await?;
                search_count = Some(n);
                conditions.push((
                    Sql::new("instr(c.name_key, ?) > 0", vec![s.clone().into()]),
                    n,
                    ids,
                ));
            }
        }
        if !q.provider.is_empty() {
            conditions.push((
                Sql::new(
                    &plain(
                        matches!(q.sort, ChannelSort::Name | ChannelSort::Provider),
                        "+c.provider = ?",
                    ),
                    vec![q.provider.clone().into()],
                ),
                tally.count(&q.provider, false),
                Sql::new(
                    "SELECT id FROM channels WHERE tenant_id = ? AND provider = ?",
                    vec![tenant_id.into(), q.provider.clone().into()],
                ),
            ));
        }
        if q.attention {
            conditions.push((
                Sql::new(
                    &plain(q.sort == ChannelSort::Health, "+c.health > 0"),
                    vec![],
                ),
                tally.count("", true),
                Sql::new(
                    "SELECT id FROM channels WHERE tenant_id = ? AND health > 0",
                    vec![tenant_id.into()],
                ),
            ));
        }
        let smallest = conditions
            .iter()
            .enumerate()
            .filter(|(_, (_, n, _))| *n <= SMALL_SET)
            .min_by_key(|(_, (_, n, _))| *n)
            .map(|(i, _)| i);
        let mut checked = Sql::new("c.tenant_id = ?", vec![tenant_id.into()]);
        for (i, (check, _, _)) in conditions.iter().enumerate() {
            if Some(i) != smallest {
                checked.and(check);
            }
        }
        let source = Source {
            candidates: smallest.map(|i| conditions[i].2.clone()),
            conditions: checked,
        };
        let (total, more) = match search_count {
            None => (tally.count(&q.provider, q.attention), false),
            Some(n) if conditions.len() == 1 => capped(n),
            Some(_) => capped(self.count_up_to(&source.select("1", None)).await?),
        };
        Ok((source, total, more))
    }

    /// PostgreSQL: planned by PostgreSQL with its statistics (the trigram index for a search
    /// in a large tenant space). A search reads the trigram index once: the ids it matches
    /// are fetched, up to [`ID_LIST`]; when that is all of them, the page and its neighbours
    /// are read by primary key from that list, not from the index again (a rare substring
    /// still walks the long posting lists of its common trigrams, ~10 ms at 1,000,000).
    async fn postgres_source(
        &self,
        tenant_id: i64,
        q: &ChannelQuery,
        search: &NameSearch,
        tally: &tallies::Tally,
    ) -> Result<(Source, u64, bool), RepoError> {
        let mut checked = Sql::new("c.tenant_id = ?", vec![tenant_id.into()]);
        if !q.provider.is_empty() {
            checked.and(&Sql::new("c.provider = ?", vec![q.provider.clone().into()]));
        }
        if q.attention {
            checked.and(&Sql::new("c.health > 0", vec![]));
        }
        // a tenant space of at most SMALL_SET channels is read through its own index; the
        // trigram index (which LIKE may use) would first find every tenant's matches
        let small_tenant = tally.count("", false) <= SMALL_SET;
        let (indexed, exact) = match search {
            NameSearch::Any | NameSearch::Nothing => {
                let source = Source {
                    candidates: None,
                    conditions: checked,
                };
                return Ok((source, tally.count(&q.provider, q.attention), false));
            }
            NameSearch::Prefix(p) if small_tenant => {
                let s = Sql::new("starts_with(c.name_key, ?)", vec![p.clone().into()]);
                (s.clone(), s)
            }
            NameSearch::Contains(s) if small_tenant => {
                let s = Sql::new("strpos(c.name_key, ?) > 0", vec![s.clone().into()]);
                (s.clone(), s)
            }
            NameSearch::Prefix(p) => (
                Sql::new(
                    "c.name_key LIKE ?",
                    vec![format!("{}%", like_literal(p)).into()],
                ),
                Sql::new("starts_with(c.name_key, ?)", vec![p.clone().into()]),
            ),
            NameSearch::Contains(s) => (
                Sql::new(
                    "c.name_key LIKE ?",
                    vec![format!("%{}%", like_literal(s)).into()],
                ),
                Sql::new("strpos(c.name_key, ?) > 0", vec![s.clone().into()]),
            ),
        };
        let mut matching = checked.clone();
        matching.and(&indexed);
        let mut probe = Source {
            candidates: None,
            conditions: matching,
        }
        .select("c.id", None);
        probe.push(&format!(" LIMIT {}", ID_LIST + 1), vec![]);
        let ids = self.ids(probe).await?;
        if ids.len() <= ID_LIST {
            // every match is in the list: the page is read from it by primary key (the
            // search is checked again on each row, no longer on an index)
            let list = format!(
                "{{{}}}",
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            );
            checked.and(&exact);
            let source = Source {
                candidates: Some(Sql::new(
                    "SELECT unnest(CAST(? AS bigint[])) AS id",
                    vec![list.into()],
                )),
                conditions: checked,
            };
            return Ok((source, ids.len() as u64, false));
        }
        let source = Source {
            candidates: None,
            conditions: {
                checked.and(&indexed);
                checked
            },
        };
        let (total, more) = capped(self.count_up_to(&source.select("1", None)).await?);
        Ok((source, total, more))
    }

    /// The ids a query answers (its one column, `id`).
    async fn ids(&self, query: Sql) -> Result<Vec<i64>, RepoError> {
        let rows = self
            .db
            .query_all(query.statement(self.db.get_database_backend()))
            .await
            .map_err(internal("search channels"))?;
        rows.iter()
            .map(|r| r.try_get::<i64>("", "id"))
            .collect::<Result<_, _>>()
            .map_err(internal("search channels"))
    }

    /// How many rows a query answers, counted up to one more than
    /// [`ChannelPage::COUNTED_UP_TO`].
    async fn count_up_to(&self, query: &Sql) -> Result<u64, RepoError> {
        crate::db::count_up_to(
            &self.db,
            &query.text,
            query.values.clone(),
            ChannelPage::COUNTED_UP_TO,
        )
        .await
        .map_err(internal("count channels"))
    }

    /// The page `q.at` names: its rows, and whether rows come before and after it.
    async fn seek(
        &self,
        source: &Source,
        q: &ChannelQuery,
    ) -> Result<(Vec<channel::Model>, bool, bool), RepoError> {
        let order = Order::of(q.sort, q.descending);
        let per = usize::try_from(q.per_page).unwrap_or(20);
        let key = |k: &PageKey| Key::decode(q.sort, k);
        // a key that is not this sort's (a stale page) starts over at the nearer end
        match &q.at {
            PageAt::After(k) => {
                if let Some(k) = key(k) {
                    let mut rows = self.fetch(source, order, Some(&k), per + 1).await?;
                    if !rows.is_empty() {
                        let has_next = rows.len() > per;
                        rows.truncate(per);
                        let first = Key::of(q.sort, &rows[0]);
                        let has_previous = !self
                            .fetch(source, order.reversed(), Some(&first), 1)
                            .await?
                            .is_empty();
                        return Ok((rows, has_previous, has_next));
                    }
                }
                // everything after it is gone: the last page
                self.end(source, order, per, true).await
            }
            PageAt::Before(k) => {
                if let Some(k) = key(k) {
                    let mut rows = self
                        .fetch(source, order.reversed(), Some(&k), per + 1)
                        .await?;
                    // fewer than a page before it: those rows, the first page (never rows
                    // shown already, so that paging back and forth repeats nothing)
                    if !rows.is_empty() {
                        let has_previous = rows.len() > per;
                        rows.truncate(per);
                        rows.reverse();
                        let last = Key::of(q.sort, &rows[rows.len() - 1]);
                        let has_next = !self.fetch(source, order, Some(&last), 1).await?.is_empty();
                        return Ok((rows, has_previous, has_next));
                    }
                }
                // everything before it is gone: the first page
                self.end(source, order, per, false).await
            }
            PageAt::First => self.end(source, order, per, false).await,
            PageAt::Last => self.end(source, order, per, true).await,
        }
    }

    /// The first or the last page.
    async fn end(
        &self,
        source: &Source,
        order: Order,
        per: usize,
        last: bool,
    ) -> Result<(Vec<channel::Model>, bool, bool), RepoError> {
        let walk = if last { order.reversed() } else { order };
        let mut rows = self.fetch(source, walk, None, per + 1).await?;
        let more = rows.len() > per;
        rows.truncate(per);
        if last {
            rows.reverse();
            Ok((rows, more, false))
        } else {
            Ok((rows, false, more))
        }
    }

    /// Up to `limit` rows in `order`, after `from` when given: one range of the sort's index,
    /// or two when the order has a first column (the rest of `from`'s group, then the groups
    /// after it), so that each is a range an index serves in that order.
    async fn fetch(
        &self,
        source: &Source,
        order: Order,
        from: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<channel::Model>, RepoError> {
        let (s, sd) = order.secondary;
        let Some(from) = from else {
            return self
                .rows(source.select("c.*", None), &order.by(), limit)
                .await;
        };
        let Some((p, pd)) = order.primary else {
            let past_row = Sql::new(
                &format!("c.{s} {} ?", past(sd)),
                vec![from.secondary.clone()],
            );
            return self
                .rows(source.select("c.*", Some(&past_row)), &order.by(), limit)
                .await;
        };
        let group = from.primary.clone().unwrap_or(Value::Int(None));
        let rest_of_group = Sql::new(
            &format!("c.{p} = ? AND c.{s} {} ?", past(sd)),
            vec![group.clone(), from.secondary.clone()],
        );
        let by_secondary = Order {
            primary: None,
            secondary: order.secondary,
        };
        let mut rows = self
            .rows(
                source.select("c.*", Some(&rest_of_group)),
                &by_secondary.by(),
                limit,
            )
            .await?;
        if rows.len() < limit {
            let later_groups = Sql::new(&format!("c.{p} {} ?", past(pd)), vec![group]);
            rows.extend(
                self.rows(
                    source.select("c.*", Some(&later_groups)),
                    &order.by(),
                    limit - rows.len(),
                )
                .await?,
            );
        }
        Ok(rows)
    }

    async fn rows(
        &self,
        mut select: Sql,
        by: &str,
        limit: usize,
    ) -> Result<Vec<channel::Model>, RepoError> {
        select.push(&format!("{by} LIMIT {limit}"), vec![]);
        channel::Entity::find()
            .from_raw_sql(select.statement(self.db.get_database_backend()))
            .all(&self.db)
            .await
            .map_err(internal("list channels"))
    }

    /// The rows as the list shows them: OU and skill queue by name, health with reasons.
    async fn summaries(
        &self,
        tenant_id: i64,
        rows: Vec<channel::Model>,
    ) -> Result<Vec<ChannelSummary>, RepoError> {
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
        Ok(rows
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
            .collect())
    }
}

/// A count as the page shows it: at most [`ChannelPage::COUNTED_UP_TO`], and whether more.
fn capped(n: u64) -> (u64, bool) {
    let cap = ChannelPage::COUNTED_UP_TO;
    (n.min(cap), n > cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_by_length_and_alphabet() {
        assert_eq!(NameSearch::of(""), NameSearch::Any);
        assert_eq!(NameSearch::of("W"), NameSearch::Prefix("w".into()));
        assert_eq!(NameSearch::of("wA"), NameSearch::Prefix("wa".into()));
        assert_eq!(NameSearch::of("Wa_1"), NameSearch::Contains("wa_1".into()));
        // no channel name holds these: nothing matches, and nothing reaches SQL
        for text in ["100%", "a b", "x\\y", "caf\u{e9}", "\"quoted\""] {
            assert_eq!(NameSearch::of(text), NameSearch::Nothing, "{text}");
        }
        // the Kelvin sign lowers to an ASCII k, as a LIKE on the lowered name matched it
        assert_eq!(
            NameSearch::of("\u{212a}ab"),
            NameSearch::Contains("kab".into())
        );
    }

    #[test]
    fn literals_for_like_and_fts() {
        assert_eq!(like_literal("wa_1"), "wa\\_1");
        assert_eq!(fts_query(7, "wa_1"), "tenant:\"#7#\" AND name:\"wa_1\"");
        assert_eq!(fts_query(7, "a\"b"), "tenant:\"#7#\" AND name:\"a\"\"b\"");
        // every ASCII name character sorts below the prefix range's end
        assert!("ab_z9".as_bytes().iter().all(|&b| b < b'~'));
        assert!(prefix_end("ab").as_str() > "abzzzz");
    }

    #[test]
    fn keys_name_their_sort_and_refuse_others() {
        let k = PageKey("n:demo_000001".into());
        assert!(Key::decode(ChannelSort::Name, &k).is_some());
        assert!(Key::decode(ChannelSort::Health, &k).is_none());
        for bad in [
            "n:demo';--",
            "n:",
            "h:x:demo",
            "u:1:x",
            "p:INFOBIP:a",
            "p:infobip",
            "u:99999999999999999999999999:1",
        ] {
            let sort = match &bad[..1] {
                "n" => ChannelSort::Name,
                "h" => ChannelSort::Health,
                "u" => ChannelSort::Updated,
                _ => ChannelSort::Provider,
            };
            assert!(Key::decode(sort, &PageKey(bad.into())).is_none(), "{bad}");
        }
        assert_eq!(
            Key::decode(ChannelSort::Health, &PageKey("h:2:wa_1".into())),
            Some(Key {
                primary: Some(2i16.into()),
                secondary: "wa_1".to_owned().into()
            })
        );
    }
}
