//! `wharf logs`: the event log from the terminal (filters, a table or JSON lines,
//! `--follow`) and `wharf logs stats` (counts by kind, plugin, user or day). It reads the
//! configured database, also while `wharf run` serves it.
//!
//! | module | what |
//! |---|---|
//! | `when` | `--since`/`--until`: a time ago or a date in the configured zone |
//! | `print` | the table, JSON lines, the counts |

mod print;
mod when;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use tokio::signal::unix::{SignalKind, signal};

use crate::clock::Clock;
use crate::config::{Config, KindGlob};
use crate::storage::{CountBy, CountKey, EventFilter, EventLogRow, Storage};
pub use print::{JsonCount, JsonEvent, StatKey};
pub use when::{End, When};

/// `wharf logs …`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LogsArgs {
    #[command(subcommand)]
    stats: Option<LogsCmd>,
    #[command(flatten)]
    list: ListArgs,
}

#[derive(Debug, clap::Subcommand)]
enum LogsCmd {
    /// Count events by kind, plugin, user or day, most first (days in order).
    Stats(StatsArgs),
}

/// Filters both forms share.
#[derive(Debug, clap::Args)]
struct Filters {
    /// Only kinds matching this glob (`*` matches anything, e.g. `purchase.*`).
    #[arg(long, value_name = "GLOB", value_parser = parse_glob)]
    kind: Option<KindGlob>,
    /// Only events recorded at or after: a time ago (30m, 2h, 7d) or a date or time in
    /// the `[log_sink] timezone` (2026-11-30, 2026-11-30T12:00).
    #[arg(long, value_name = "WHEN")]
    since: Option<When>,
    /// Only events recorded before: as --since; a date alone includes that whole day.
    #[arg(long, value_name = "WHEN")]
    until: Option<When>,
    /// Config file (its database and `[log_sink] timezone`).
    #[arg(long, default_value = "config.toml")]
    config: PathBuf,
    /// JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    #[command(flatten)]
    filters: Filters,
    /// Only events about this user id.
    #[arg(long, value_name = "ID")]
    user: Option<i64>,
    /// Only events of this plugin (`wharf` for the host's own).
    #[arg(long, value_name = "NAME")]
    plugin: Option<String>,
    /// Show the newest N (oldest first).
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..))]
    limit: i64,
    /// Keep printing new events as they are committed, until Ctrl-C.
    #[arg(long, conflicts_with = "until")]
    follow: bool,
}

#[derive(Debug, clap::Args)]
struct StatsArgs {
    #[command(flatten)]
    filters: Filters,
    /// What to count by.
    #[arg(long, value_enum, default_value_t = By::Kind)]
    by: By,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum By {
    Kind,
    Plugin,
    User,
    Day,
}

fn parse_glob(s: &str) -> Result<KindGlob, String> {
    KindGlob::try_from(s.to_owned())
}

/// How often `--follow` looks for new rows.
const FOLLOW_EVERY: Duration = Duration::from_millis(250);
/// Rows `--follow` reads at once.
const FOLLOW_BATCH: i64 = 500;

/// Run `wharf logs` with `args`, printing to stdout.
pub async fn run(args: LogsArgs) -> anyhow::Result<()> {
    let filters = match &args.stats {
        Some(LogsCmd::Stats(s)) => &s.filters,
        None => &args.list.filters,
    };
    let config = Config::load(&filters.config)?;
    let storage = open(&config).await?;
    let zone = &config.log_sink.timezone;
    let tz = jiff::tz::TimeZone::get(zone.name()).context("the configured time zone")?;
    let mut filter = time_filter(filters, &tz, Clock::system().now_ms())?;
    let result = match &args.stats {
        Some(LogsCmd::Stats(s)) => stats(&storage, &filter, s, &tz).await,
        None => {
            filter.user_id = args.list.user;
            filter.plugin = args.list.plugin.clone();
            list(&storage, &filter, &args.list, zone, &tz).await
        }
    };
    match result {
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

/// The configured database; a SQLite file must exist already (no empty one is created).
async fn open(config: &Config) -> anyhow::Result<Storage> {
    let url = config.storage_url();
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.split('?').next().unwrap_or_default();
        anyhow::ensure!(
            std::path::Path::new(path).exists(),
            "no database at {path} ([storage] url): nothing has been logged there yet"
        );
    }
    Storage::open(&url, None).await.with_context(|| format!("opening storage {}", crate::secret::mask_url(&url)))
}

/// The kind and time parts of the filter.
fn time_filter(f: &Filters, tz: &jiff::tz::TimeZone, now_ms: i64) -> anyhow::Result<EventFilter> {
    let resolve = |w: &Option<When>, end, flag| {
        w.as_ref().map(|w| w.resolve(tz, now_ms, end).map_err(|e| anyhow::anyhow!("{flag}: {e}"))).transpose()
    };
    let since_ms = resolve(&f.since, End::Start, "--since")?;
    let until_ms = resolve(&f.until, End::Stop, "--until")?;
    if let (Some(s), Some(u)) = (since_ms, until_ms) {
        anyhow::ensure!(s < u, "--since is not before --until: no event can match");
    }
    Ok(EventFilter { kind: f.kind.clone(), since_ms, until_ms, ..EventFilter::default() })
}

async fn list(
    storage: &Storage,
    filter: &EventFilter,
    args: &ListArgs,
    zone: &crate::config::TimeZoneName,
    tz: &jiff::tz::TimeZone,
) -> anyhow::Result<()> {
    // Read the cursor first: a row committed meanwhile is in the listing or after it.
    let mut cursor = storage.last_event_id().await?;
    let rows = storage.newest_events(filter, args.limit).await?;
    let mut printer = Printer { table: print::Table::fit(&rows), json: args.filters.json, headed: false, zone, tz };
    printer.print(&rows)?;
    if !args.follow {
        if rows.is_empty() && !printer.json {
            eprintln!("no events match");
        }
        return Ok(());
    }
    cursor = rows.last().map_or(cursor, |r| r.id.max(cursor));
    // Listen before the first poll: a Ctrl-C arriving during a query is kept for the select.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    loop {
        let rows = storage.events_matching_after(filter, cursor, FOLLOW_BATCH).await?;
        if let Some(last) = rows.last() {
            cursor = last.id;
            printer.print(&rows)?;
        }
        if rows.len() < usize::try_from(FOLLOW_BATCH).unwrap_or(usize::MAX) {
            tokio::select! {
                () = tokio::time::sleep(FOLLOW_EVERY) => {}
                _ = interrupt.recv() => return Ok(()),
                _ = terminate.recv() => return Ok(()),
            }
        }
    }
}

/// Prints rows as JSON lines or table lines (the heading before the first).
struct Printer<'a> {
    table: print::Table,
    json: bool,
    headed: bool,
    zone: &'a crate::config::TimeZoneName,
    tz: &'a jiff::tz::TimeZone,
}

impl Printer<'_> {
    fn print(&mut self, rows: &[EventLogRow]) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        for row in rows {
            if self.json {
                serde_json::to_writer(&mut out, &JsonEvent::new(row, self.tz))?;
                writeln!(out)?;
            } else {
                if !self.headed {
                    writeln!(out, "{}", self.table.heading())?;
                    self.headed = true;
                }
                writeln!(out, "{}", self.table.line(row, self.zone))?;
            }
        }
        out.flush()?;
        Ok(())
    }
}

async fn stats(
    storage: &Storage,
    filter: &EventFilter,
    args: &StatsArgs,
    tz: &jiff::tz::TimeZone,
) -> anyhow::Result<()> {
    let by = match args.by {
        By::Kind => CountBy::Kind,
        By::Plugin => CountBy::Plugin,
        By::User => CountBy::User,
        By::Day => CountBy::QuarterHour,
    };
    let mut groups: BTreeMap<StatKey, i64> = BTreeMap::new();
    for (key, n) in storage.count_events(filter, by).await? {
        let key = match key {
            CountKey::Kind(k) => StatKey::Kind(k),
            CountKey::Plugin(p) => StatKey::Plugin(p),
            CountKey::User(u) => StatKey::User(u),
            CountKey::QuarterHour(ms) => StatKey::Day(day_of(ms, tz)?),
        };
        *groups.entry(key).or_default() += n;
    }
    let mut counts: Vec<JsonCount> = groups.into_iter().map(|(key, count)| JsonCount { key, count }).collect();
    // Days stay in calendar order; anything else goes most first, ties by name.
    if !matches!(args.by, By::Day) {
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    }
    let mut out = std::io::stdout().lock();
    if args.filters.json {
        for c in &counts {
            serde_json::to_writer(&mut out, c)?;
            writeln!(out)?;
        }
    } else if counts.is_empty() {
        eprintln!("no events match");
    } else {
        write!(out, "{}", print::count_table(&counts, counts[0].key.heading()))?;
    }
    out.flush()?;
    Ok(())
}

/// The day (`YYYY-MM-DD`) in `tz` of the quarter hour starting at `ms`.
fn day_of(ms: i64, tz: &jiff::tz::TimeZone) -> anyhow::Result<String> {
    let ts = jiff::Timestamp::from_millisecond(ms).context("a time in the event log")?;
    Ok(ts.to_zoned(tz.clone()).date().to_string())
}

/// Whether stdout went away (`wharf logs | head`): then the command just ends.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
