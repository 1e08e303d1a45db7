//! The analytics' admin views (the `admin` export): what `/stats` shows, as structured
//! output: `overview` (DAU today, WAU, MAU, totals, a series of daily active and new
//! users), `retention`, `funnel`, `commands` (top commands and start sources) and `user`
//! (one user's history). Views are read-only, so they run on [`ReadOnly`], which drops
//! the rollups the report would cache. Unit-tested on [`MemStore`](crate::store::MemStore).

use serde::{Serialize, de::DeserializeOwned};
use wharf_sdk::Error;
use wharf_sdk::admin::{Admin, AdminError, AdminSpec, Output, Param, Params};
use wharf_sdk::prelude::*;

use crate::model::{self, CurrencyInfo, date};
use crate::settings::Settings;
use crate::store::{KvStore, Store};
use crate::views::{self, RETENTION, Report};
use crate::{Analytics, MAX_DAYS, report};

/// A store that reads through and forgets writes (a view may not write; the rollups a
/// report caches are computed again next time).
#[derive(Debug)]
pub struct ReadOnly<S>(pub S);

impl<S: Store> Store for ReadOnly<S> {
    fn get_many<T: DeserializeOwned>(&mut self, keys: &[String]) -> Result<Vec<Option<T>>, Error> {
        self.0.get_many(keys)
    }

    fn put_many<T: Serialize>(&mut self, _entries: &[(String, T)]) -> Result<(), Error> {
        Ok(())
    }

    fn delete_many(&mut self, _keys: &[String]) -> Result<(), Error> {
        Ok(())
    }

    fn page(&mut self, prefix: &str, after: Option<&str>, limit: u32) -> Result<(Vec<String>, Option<String>), Error> {
        self.0.page(prefix, after, limit)
    }
}

fn days_param() -> Param {
    Param::integer("days", "Days").help("Complete days covered (default: the plugin's default_days)")
}

/// The views.
pub fn spec() -> AdminSpec {
    AdminSpec::new()
        .view("overview", "Overview")
        .describe("Active users (DAU, WAU, MAU), new users, totals, daily active users")
        .param(days_param())
        .view("retention", "Retention")
        .describe("Users first seen in the period still active 1, 7 and 30 days later")
        .param(days_param())
        .view("funnel", "Funnel")
        .describe("Users first seen in the period: /start, /wallet, deposit, purchase")
        .param(days_param())
        .view("commands", "Top commands")
        .describe("Commands and /start sources by use")
        .param(days_param())
        .view("user", "User history")
        .describe("One user's funnel and counts per day")
        .param(Param::user_id("user", "User").required())
        .param(days_param())
}

/// The `days` parameter, checked as `/stats` checks it.
pub fn days(p: &Params, s: &Settings) -> Result<u32, AdminError> {
    let Some(n) = p.integer("days") else { return Ok(s.default_days) };
    let max = MAX_DAYS.min(s.keep_days);
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| AdminError::InvalidInput(format!("days must be 1-{max}, got {n}")))
}

fn percent(part: u64, whole: u64) -> String {
    part.saturating_mul(100).checked_div(whole).map_or_else(|| "–".into(), |p| format!("{p}%"))
}

/// View `overview`.
pub fn overview(r: &Report) -> Output {
    let t = &r.totals;
    let kv = Output::key_values([
        ("Active today (DAU)", r.today_active.to_string()),
        ("Active in 7 days (WAU)", r.wau.to_string()),
        ("Active in 30 days (MAU)", r.mau.to_string()),
        ("New today", r.today_new.to_string()),
        ("Messages", t.m.to_string()),
        ("Commands", t.commands().to_string()),
        ("Button presses", t.b.to_string()),
        ("Deposits", t.dep.to_string()),
        ("Purchases", t.pur.to_string()),
    ]);
    let labels: Vec<String> = r.days.iter().map(|d| date(d.day)).collect();
    let series = Output::series("Daily active users", labels)
        .line("active", r.days.iter().map(|d| i64::try_from(d.rollup.active).unwrap_or(i64::MAX)))
        .line("new", r.days.iter().map(|d| i64::try_from(d.rollup.new).unwrap_or(i64::MAX)));
    kv.and(series)
}

/// View `retention`.
pub fn retention(r: &Report) -> Output {
    let mut table = Output::table(["After", "Retained", "Cohort", "Rate"]);
    for (i, (kept, cohort)) in r.retention.iter().enumerate() {
        table = table.plain_row([
            format!("D{}", RETENTION[i]),
            kept.to_string(),
            cohort.to_string(),
            percent(*kept, *cohort),
        ]);
    }
    table
}

/// View `funnel`.
pub fn funnel(r: &Report) -> Output {
    let steps = ["/start", "/wallet", "deposit", "purchase"];
    let first = r.funnel[0];
    let mut table = Output::table(["Step", "Users", "Of /start"]);
    for (step, n) in steps.iter().zip(r.funnel) {
        table = table.plain_row([(*step).to_owned(), n.to_string(), percent(n, first)]);
    }
    table
}

fn ranked(map: &std::collections::BTreeMap<String, u64>) -> Vec<(&String, &u64)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    entries
}

/// View `commands`.
pub fn commands(r: &Report) -> Output {
    let mut table = Output::table(["Command", "Uses"]);
    for (name, n) in ranked(&r.totals.c) {
        table = table.plain_row([format!("/{name}"), n.to_string()]);
    }
    let mut sources = Output::table(["Start source", "New users"]);
    for (name, n) in &r.sources {
        sources = sources.plain_row([name.clone(), n.to_string()]);
    }
    table.and(sources)
}

/// View `user`.
pub fn user(user: i64, h: &views::History, cur: Option<&CurrencyInfo>) -> Output {
    let mut table = Output::table(["Day", "Messages", "Commands", "Presses", "Deposits", "Purchases"]);
    for (day, c) in &h.days {
        let cells = [
            date(*day),
            c.m.to_string(),
            c.commands().to_string(),
            c.b.to_string(),
            c.dep.to_string(),
            c.pur.to_string(),
        ];
        table = table.plain_row(cells);
    }
    Output::text(report::history(user, h, cur)).and(table)
}

impl Admin for Analytics {
    fn spec() -> AdminSpec {
        spec()
    }

    fn view(name: &str, params: &Params, _page: Option<&str>, ctx: &Context) -> Result<Output, AdminError> {
        let s = Settings::load().map_err(AdminError::Other)?;
        let n = days(params, &s)?;
        let mut store = ReadOnly(KvStore);
        if name == "user" {
            let id = params.required_user_id("user")?;
            let h = views::history(&mut store, id, ctx.now_ms, n)?;
            let cur: Option<CurrencyInfo> = store.get(model::CURRENCY_KEY)?;
            return Ok(user(id, &h, cur.as_ref()));
        }
        let r = views::Views::new(&mut store, ctx.now_ms).report(n)?;
        match name {
            "overview" => Ok(overview(&r)),
            "retention" => Ok(retention(&r)),
            "funnel" => Ok(funnel(&r)),
            "commands" => Ok(commands(&r)),
            _ => Err(wharf_sdk::admin::unknown(name)),
        }
    }

    fn act(name: &str, _params: &Params, _ctx: &Context) -> Result<Output, AdminError> {
        Err(wharf_sdk::admin::unknown(name))
    }
}

#[cfg(test)]
mod tests {
    use wharf_sdk::admin::{Block, Value};
    use wharf_sdk::testing::Harness;

    use crate::Analytics;

    #[test]
    fn the_views_show_what_stats_counts_and_write_nothing() {
        let mut bot = Harness::<Analytics>::observer();
        bot.say(1, "/start ads").unwrap();
        bot.say(2, "/start").unwrap();
        bot.say(2, "hello").unwrap();
        bot.advance(86_400_000).unwrap();
        bot.say(1, "/wallet").unwrap();
        let keys = bot.kv_keys("");
        let days = [("days", Value::Integer(7))];
        let out = bot.view("overview", days.clone(), None).unwrap();
        assert_eq!(out.value("Active today (DAU)"), Some("1"));
        assert_eq!(out.value("Active in 7 days (WAU)"), Some("2"));
        let Some(Block::Series(s)) = out.blocks.last() else { panic!("a series") };
        assert_eq!(s.lines[0].values.last(), Some(&2), "yesterday's active users");
        let commands = bot.view("commands", days.clone(), None).unwrap();
        assert_eq!(commands.rows()[0].cells, ["/start", "2"]);
        let funnel = bot.view("funnel", days.clone(), None).unwrap();
        assert_eq!(funnel.rows()[0].cells[1], "2");
        let user = bot.view("user", [("user", Value::UserId(1)), ("days", Value::Integer(7))], None).unwrap();
        assert_eq!(user.rows().len(), 2, "two days of activity");
        bot.view("retention", days, None).unwrap();
        assert_eq!(bot.kv_keys(""), keys, "views cached nothing");
        let too_many = bot.view("overview", [("days", Value::Integer(100_000))], None);
        assert!(matches!(too_many, Err(wharf_sdk::admin::AdminError::InvalidInput(_))));
    }
}
