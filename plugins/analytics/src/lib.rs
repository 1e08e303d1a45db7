//! # analytics: usage statistics without content
//!
//! An **observer** (`export_observer_plugin!`): the host shows it every update from
//! Telegram after the other plugins handled it, even one they stopped, as a turn of its
//! own that may not send anything and whose failure affects nobody else. It counts, per
//! user and UTC day, messages, commands by name, button presses and `/start` payloads;
//! through `handle` it gets its own commands, its timer and the business events it
//! subscribes to: deposits (`wallet.deposit`), purchases (`shop.purchase`) and usage
//! other plugins report (`usage`, `wharf_sdk::usage::record`). It never stores message
//! text: counters and bounded names only.
//!
//! | module | what it does |
//! |---|---|
//! | [`model`] | records, KV keys, bounded names |
//! | [`store`] | the [`store::Store`] everything runs on (KV, or memory in tests) |
//! | [`observe`] | what an update or a business event adds |
//! | [`views`] | DAU/WAU/MAU, new users, retention, funnel, sources, one user's history |
//! | [`report`] | the `/stats` text, the CSV files, the history text |
//! | [`privacy`] | `/forgetme`, pruning after `keep_days` |
//! | [`settings`] | `keep_days`, `default_days` |
//! | [`panel`] | admin views and actions for `/admin`, `wharf admin` and the dashboard (the `admin` export) |
//!
//! Commands: `/stats [days]`, `/stats csv [days]`, `/stats user ID [days]` (admins);
//! `/forgetme` (anyone). Grants: `kv`, `telegram.send`, `events`, `scheduler`.

pub mod model;
pub mod observe;
pub mod panel;
pub mod privacy;
pub mod report;
pub mod settings;
pub mod store;
pub mod views;

#[cfg(test)]
mod tests;

use wharf_sdk::prelude::*;
use wharf_sdk::{scheduler, telegram};

use observe::{Business, Update};
use settings::Settings;
use store::{KvStore, Store};

/// The plugin.
pub struct Analytics;

/// The repeating pruning job.
pub const PRUNE: &str = "prune";
/// A pruning run that stopped at its batch limit asks for another one soon.
pub const PRUNE_MORE: &str = "prune.more";
/// How often pruning runs.
const PRUNE_EVERY_MS: u64 = 3_600_000;
/// Most days a report covers.
pub const MAX_DAYS: u32 = 366;

/// The answer to `/stats` outside a private chat.
pub const PRIVATE_ONLY: &str = "Statistics are shown in a private chat with the bot: send /stats there.";

/// Usage of `/stats`.
pub const STATS_USAGE: &str = "Usage: /stats [days] · /stats csv [days] · /stats user ID [days]";

impl Plugin for Analytics {
    fn describe() -> Manifest {
        if let Err(e) = Settings::load() {
            panic!("invalid [plugins.analytics.settings]: {e}");
        }
        Manifest::new("analytics", env!("CARGO_PKG_VERSION"))
            .admin_command("stats", "Usage statistics: /stats [days] | csv [days] | user ID [days]")
            .command(observe::FORGET, "Delete your usage statistics")
            .topic(observe::DEPOSIT_TOPIC)
            .topic(observe::PURCHASE_TOPIC)
            .topic(observe::USAGE_TOPIC)
            .setting("keep_days", "Days of statistics kept, 7-3650 (default 90)", false)
            .setting("default_days", "Days /stats shows without an argument (default 7)", false)
    }

    fn handle(event: Event, ctx: Context) -> Result<Flow, HandlerError> {
        let s = Settings::load().map_err(HandlerError::InvalidInput)?;
        match event {
            Event::Lifecycle(_) => {
                scheduler::every(PRUNE, PRUNE_EVERY_MS, &[])?;
                Ok(Flow::Continue)
            }
            Event::Timer(t) if t.name == PRUNE || t.name == PRUNE_MORE => {
                if privacy::prune(&mut KvStore, ctx.now_ms, s.keep_days)? {
                    scheduler::after(PRUNE_MORE, 1_000, &[])?;
                }
                Ok(Flow::Stop)
            }
            Event::Custom(e) => {
                if let Some(b) = Business::of(&e)? {
                    observe::business(&mut KvStore, &b, ctx.now_ms)?;
                }
                Ok(Flow::Continue)
            }
            Event::Message(msg) => {
                let (Some(cmd), Some(user)) = (&msg.command, &msg.sender) else { return Ok(Flow::Continue) };
                match cmd.name.as_str() {
                    "stats" if ctx.is_admin && msg.chat.kind != wharf_sdk::ChatKind::Private => {
                        // Statistics are the admins': a group would show them to everyone in it.
                        telegram::send_text(msg.chat.id, PRIVATE_ONLY)?;
                    }
                    "stats" if ctx.is_admin => stats(&s, msg.chat.id, &cmd.args, ctx.now_ms)?,
                    observe::FORGET => {
                        let rows = privacy::forget(&mut KvStore, user.id, ctx.now_ms, s.keep_days)?;
                        let text = if rows == 0 {
                            "No usage statistics were kept about you."
                        } else {
                            "Your usage statistics were deleted. What you do from now on is counted anew, without any message text."
                        };
                        telegram::send_text(msg.chat.id, text)?;
                    }
                    _ => return Ok(Flow::Continue),
                }
                Ok(Flow::Stop)
            }
            _ => Ok(Flow::Continue),
        }
    }
}

impl Observer for Analytics {
    fn observe(event: Event, ctx: Context) -> Result<(), String> {
        if let Some(u) = Update::of(&event) {
            observe::update(&mut KvStore, &u, ctx.now_ms, scheduler::now())?;
        }
        Ok(())
    }
}

/// A number of days from an argument: 1-[`MAX_DAYS`], and no more than are kept.
fn days_arg(arg: Option<&str>, s: &Settings) -> Result<u32, String> {
    let Some(arg) = arg else { return Ok(s.default_days) };
    let max = MAX_DAYS.min(s.keep_days);
    match arg.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("The number of days must be 1-{max}, got {arg:?}. {STATS_USAGE}")),
    }
}

/// `/stats …`.
fn stats(s: &Settings, chat: i64, args: &str, now_ms: i64) -> Result<(), wharf_sdk::Error> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let answer = match words.as_slice() {
        ["csv", rest @ ..] if rest.len() <= 1 => match days_arg(rest.first().copied(), s) {
            Ok(days) => return export(chat, days, now_ms),
            Err(e) => e,
        },
        ["user", id, rest @ ..] if rest.len() <= 1 => match (id.parse::<i64>(), days_arg(rest.first().copied(), s)) {
            (Ok(user), Ok(days)) => {
                let h = views::history(&mut KvStore, user, now_ms, days)?;
                let cur = KvStore.get(model::CURRENCY_KEY)?;
                report::history(user, &h, cur.as_ref())
            }
            (Err(_), _) => format!("{id:?} is not a user id. {STATS_USAGE}"),
            (_, Err(e)) => e,
        },
        [] | [_] => match days_arg(words.first().copied(), s) {
            Ok(days) => report::dashboard(&views::Views::new(&mut KvStore, now_ms).report(days)?),
            Err(e) => e,
        },
        _ => STATS_USAGE.to_owned(),
    };
    telegram::send_text(chat, &answer)
}

/// Largest document sent (the host's limit is 1 MiB per document).
const MAX_DOCUMENT: usize = 1 << 20;

/// `/stats csv [days]`: the two CSV files as documents (a file over 1 MiB goes in parts).
fn export(chat: i64, days: u32, now_ms: i64) -> Result<(), wharf_sdk::Error> {
    let r = views::Views::new(&mut KvStore, now_ms).report(days)?;
    let (Some(first), Some(last)) = (r.days.first(), r.days.last()) else { return Ok(()) };
    let span = format!("{}_{}", model::date(first.day), model::date(last.day));
    let range = format!("{} – {} (UTC)", model::date(first.day), model::date(last.day));
    let files = [
        ("days", report::days_csv(&r), format!("Usage per day, {range}")),
        ("counters", report::counters_csv(&r), format!("Commands, /start payloads and usage per day, {range}")),
    ];
    for (name, csv, caption) in files {
        let parts = report::split_csv(&csv, MAX_DOCUMENT);
        let n = parts.len();
        for (i, part) in parts.iter().enumerate() {
            let (file, caption) = if n == 1 {
                (format!("analytics-{name}_{span}.csv"), caption.clone())
            } else {
                (format!("analytics-{name}_{span}_part{}.csv", i + 1), format!("{caption}, part {} of {n}", i + 1))
            };
            if let Err(e) = telegram::send_document(chat, &file, part.as_bytes(), &Outgoing::text(caption)) {
                telegram::send_text(chat, &format!("The export is too large to send ({e}); ask for fewer days."))?;
                return Ok(());
            }
        }
    }
    Ok(())
}

wharf_sdk::export_observer_plugin!(Analytics);
wharf_sdk::export_admin!(Analytics);
