//! The event log by filters (`wharf logs`: listings, follow, counts) and its retention
//! (the oldest rows deleted in small batches).
//!
//! Every filter goes into SQL. A kind glob becomes `GLOB` on SQLite (the same `*`
//! wildcard, case-sensitive, and `_`/`%` are ordinary characters there) and `LIKE … ESCAPE`
//! on PostgreSQL (case-sensitive; `_` and `%` escaped); both use the kind index for a
//! literal prefix such as `purchase.*`.

use sqlx::Row;

use super::event_log::{EVENT_COLUMNS, EventLogRow};
use super::script::{Val, bind};
use super::{Backend, Storage, StorageError};
use crate::config::KindGlob;

/// Which events a query selects; every part is optional.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// Kinds matching this glob.
    pub kind: Option<KindGlob>,
    /// About this user.
    pub user_id: Option<i64>,
    /// Recorded by this plugin (`wharf` for the host).
    pub plugin: Option<String>,
    /// Recorded at or after this time (Unix ms).
    pub since_ms: Option<i64>,
    /// Recorded before this time (Unix ms).
    pub until_ms: Option<i64>,
}

/// What [`Storage::count_events`] groups by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountBy {
    /// Event kind.
    Kind,
    /// Plugin.
    Plugin,
    /// User (events without one form their own group).
    User,
    /// Quarter hours of UTC time: every time zone's midnight in use since 1980 falls
    /// on one, so callers add them up into days of any zone.
    QuarterHour,
}

/// One group of [`Storage::count_events`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CountKey {
    /// Event kind.
    Kind(String),
    /// Plugin.
    Plugin(String),
    /// User, or none.
    User(Option<i64>),
    /// Start of a quarter hour (Unix ms).
    QuarterHour(i64),
}

/// A quarter hour in milliseconds.
pub const QUARTER_HOUR_MS: i64 = 15 * 60 * 1000;

impl EventFilter {
    /// The `WHERE` conditions (joined with AND, numbered from `$first`) and their values.
    fn conditions(&self, backend: Backend, first: usize) -> (Vec<String>, Vec<Val>) {
        let mut conds = Vec::new();
        let mut args = Vec::new();
        let mut push = |sql: &str, v: Val| {
            conds.push(sql.replace('?', &format!("${}", first + args.len())));
            args.push(v);
        };
        if let Some(glob) = &self.kind {
            let g = glob.as_str();
            match backend {
                _ if !g.contains('*') => push("kind = ?", Val::Text(g.to_owned())),
                Backend::Sqlite => push("kind GLOB ?", Val::Text(g.to_owned())),
                Backend::Postgres => push("kind LIKE ? ESCAPE '\\'", Val::Text(like_pattern(g))),
            }
        }
        if let Some(user) = self.user_id {
            push("user_id = ?", Val::Int(user));
        }
        if let Some(plugin) = &self.plugin {
            push("plugin = ?", Val::Text(plugin.clone()));
        }
        if let Some(since) = self.since_ms {
            push("at_ms >= ?", Val::Int(since));
        }
        if let Some(until) = self.until_ms {
            push("at_ms < ?", Val::Int(until));
        }
        (conds, args)
    }
}

/// A kind glob as a `LIKE` pattern with `\` as the escape: `*` is `%`, and `_`, `%`, `\`
/// match only themselves.
pub(super) fn like_pattern(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len() + 4);
    for c in glob.chars() {
        match c {
            '*' => out.push('%'),
            '_' | '%' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `WHERE a AND b` (or nothing), after `extra` conditions of the caller's own.
fn where_clause(extra: &[&str], conds: &[String]) -> String {
    let all: Vec<&str> = extra.iter().copied().chain(conds.iter().map(String::as_str)).collect();
    if all.is_empty() { String::new() } else { format!("WHERE {}", all.join(" AND ")) }
}

impl Storage {
    /// The newest `limit` events that match, oldest first.
    pub async fn newest_events(&self, filter: &EventFilter, limit: i64) -> Result<Vec<EventLogRow>, StorageError> {
        let (conds, mut args) = filter.conditions(self.backend(), 1);
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM event_log {} ORDER BY id DESC LIMIT ${}",
            where_clause(&[], &conds),
            args.len() + 1
        );
        args.push(Val::Int(limit));
        let rows = self.read_all(bind(sqlx::query(&sql), &args)).await?;
        let mut out = rows.iter().map(EventLogRow::from_row).collect::<Result<Vec<_>, _>>()?;
        out.reverse();
        Ok(out)
    }

    /// Up to `limit` events after id `after` that match, oldest first (`wharf logs --follow`,
    /// the log sink).
    pub async fn events_matching_after(
        &self,
        filter: &EventFilter,
        after: i64,
        limit: i64,
    ) -> Result<Vec<EventLogRow>, StorageError> {
        let (conds, mut args) = filter.conditions(self.backend(), 2);
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM event_log {} ORDER BY id LIMIT ${}",
            where_clause(&["id > $1"], &conds),
            args.len() + 2
        );
        args.insert(0, Val::Int(after));
        args.push(Val::Int(limit));
        let rows = self.read_all(bind(sqlx::query(&sql), &args)).await?;
        Ok(rows.iter().map(EventLogRow::from_row).collect::<Result<_, _>>()?)
    }

    /// How many events match, per group, in no particular order.
    pub async fn count_events(&self, filter: &EventFilter, by: CountBy) -> Result<Vec<(CountKey, i64)>, StorageError> {
        let (conds, args) = filter.conditions(self.backend(), 1);
        let key = match by {
            CountBy::Kind => "kind".to_owned(),
            CountBy::Plugin => "plugin".to_owned(),
            CountBy::User => "user_id".to_owned(),
            CountBy::QuarterHour => format!("(at_ms / {QUARTER_HOUR_MS}) * {QUARTER_HOUR_MS}"),
        };
        let sql = format!("SELECT {key}, COUNT(*) FROM event_log {} GROUP BY 1", where_clause(&[], &conds));
        let rows = self.read_all(bind(sqlx::query(&sql), &args)).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let key = match by {
                CountBy::Kind => CountKey::Kind(r.try_get(0)?),
                CountBy::Plugin => CountKey::Plugin(r.try_get(0)?),
                CountBy::User => CountKey::User(r.try_get(0)?),
                CountBy::QuarterHour => CountKey::QuarterHour(r.try_get(0)?),
            };
            out.push((key, r.try_get(1)?));
        }
        Ok(out)
    }

    /// Delete up to `batch` of the oldest events recorded before `before_ms`; how many
    /// were deleted. Each call is one short statement, so turns' commits (which share
    /// the writer) wait at most for one batch.
    pub async fn prune_events(&self, before_ms: i64, batch: i64) -> Result<u64, StorageError> {
        let mut conn = self.inner.writer.lock().await;
        let done = sqlx::query(
            "DELETE FROM event_log WHERE id IN \
             (SELECT id FROM event_log WHERE at_ms < $1 ORDER BY at_ms LIMIT $2)",
        )
        .bind(before_ms)
        .bind(batch)
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_what_like_would_treat_as_wildcards() {
        assert_eq!(like_pattern("purchase.*"), "purchase.%");
        assert_eq!(like_pattern("a_b*"), "a\\_b%");
        assert_eq!(like_pattern("*"), "%");
    }

    #[test]
    fn conditions_number_their_parameters_from_the_first_free_one() {
        let glob = KindGlob::try_from("purchase.*".to_owned()).unwrap();
        let f = EventFilter { kind: Some(glob), user_id: Some(7), since_ms: Some(5), ..EventFilter::default() };
        let (conds, args) = f.conditions(Backend::Postgres, 2);
        assert_eq!(conds, ["kind LIKE $2 ESCAPE '\\'", "user_id = $3", "at_ms >= $4"]);
        assert_eq!(args, [Val::Text("purchase.%".into()), Val::Int(7), Val::Int(5)]);
        let (conds, _) = f.conditions(Backend::Sqlite, 1);
        assert_eq!(conds[0], "kind GLOB $1");
    }
}
