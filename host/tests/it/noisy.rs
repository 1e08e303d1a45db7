//! Noisy neighbours: a hostile plugin storms the host (timers re-arming at 0 delay with
//! fan-out 2, event ping-pong with fan-out 2, a message flood into one group, a plugin
//! filling its KV). While each storm runs, an unrelated private chat's `/echo` is
//! answered, and the storm is stopped by the plugin's budgets and then the circuit
//! breaker, and reported (admin notice, event log, metrics), also across a restart in
//! the middle of the storm. Plus budgets across turns on their own: the self-re-arm
//! delay and the KV quota on the manual clock.

use std::time::{Duration, Instant};

use wharf::clock::Clock;
use wharf::config::Config;
use wharf::{Runtime, RuntimeOptions};

use crate::common::*;

/// The chat that starts the storm, the neighbour's chat, and the flooded group.
const STORM_CHAT: i64 = 7;
const ECHO_CHAT: i64 = 5;
const GROUP: i64 = -100_500;
/// How long a neighbour waits for its answer (a liveness check, not a benchmark).
const LIVENESS: Duration = Duration::from_secs(60);
/// Most one-second clock steps a storm may take to be stopped.
const MAX_STEPS: usize = 40;

const STORM_GRANTS: &str = r#"grants = ["kv", "telegram.send", "events", "scheduler"]"#;

fn plugins(mode: &str, limits: &str) -> String {
    plugin("echo", "echo", r#"grants = ["telegram.send"]"#)
        + &plugin(
            "storm",
            "storm",
            &format!("{STORM_GRANTS}\nlimits = {{ {limits} }}\nsettings = {{ mode = \"{mode}\", chat = {GROUP} }}"),
        )
}

/// A bot over one database that can be restarted.
struct Bot {
    dir: tempfile::TempDir,
    db: Db,
    schema: Option<String>,
    text: String,
    rt: Runtime,
}

impl Bot {
    async fn start(db: &Db, plugins: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let text = config_text(dir.path(), db, plugins, "max_failures = 5");
        let schema = matches!(db, Db::Postgres(_)).then(|| {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
            format!("wharf_noisy_{}_{nanos}", std::process::id())
        });
        let rt = Self::runtime(&dir, &text, schema.clone()).await;
        Self { dir, db: db.clone(), schema, text, rt }
    }

    async fn runtime(dir: &tempfile::TempDir, text: &str, schema: Option<String>) -> Runtime {
        let config = Config::parse(text, dir.path()).unwrap();
        let opts = RuntimeOptions { clock: Clock::manual(T0), pg_schema: schema, ..RuntimeOptions::default() };
        Runtime::start(&config, opts).await.unwrap()
    }

    /// Drop the runtime mid-storm and start a new one on the same database, its clock
    /// where the old one's was.
    async fn restart(self) -> Self {
        let now = self.rt.clock().now_ms();
        drop(self.rt);
        let rt = Self::runtime(&self.dir, &self.text, self.schema.clone()).await;
        rt.clock().advance(Duration::from_millis(u64::try_from(now - T0).unwrap()));
        Self { rt, ..self }
    }

    async fn say(&self, chat: i64, text: &str) {
        self.rt.enqueue(chat, &wharf::event::text(chat, text)).await.unwrap();
    }

    async fn texts(&self, chat: i64) -> Vec<String> {
        let rows = self.rt.storage().outbox(Some(chat)).await.unwrap();
        rows.iter()
            .filter_map(|r| {
                let v: serde_json::Value = serde_json::from_str(&r.payload).ok()?;
                v["params"]["text"].as_str().map(str::to_owned)
            })
            .collect()
    }

    /// The neighbour says `/echo TEXT` and must get it back, storm or not.
    async fn neighbour_is_answered(&self, text: &str) {
        self.say(ECHO_CHAT, &format!("/echo {text}")).await;
        let deadline = Instant::now() + LIVENESS;
        while !self.texts(ECHO_CHAT).await.iter().any(|t| t == text) {
            assert!(Instant::now() < deadline, "{:?}: /echo {text} got no answer during the storm", self.db);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Let timers re-armed by the storm come due, one second at a time, until the
    /// breaker stops the plugin; then let what is left drain.
    async fn until_stopped(&self) {
        for _ in 0..MAX_STEPS {
            if self.rt.is_disabled("storm") {
                break;
            }
            self.rt.clock().advance(Duration::from_secs(1));
            self.rt.wait_idle(IDLE).await.unwrap();
        }
        assert!(self.rt.is_disabled("storm"), "the storm was not stopped within {MAX_STEPS} s");
        for _ in 0..3 {
            self.rt.clock().advance(Duration::from_secs(60));
            self.rt.wait_idle(IDLE).await.unwrap();
        }
    }

    /// The storm is over and was reported: nothing of it is queued or armed any more,
    /// the admin was told, the event log and the metrics say which budget it hit, and
    /// the plugin was told `quota-exceeded`.
    async fn stopped_and_reported(&self, budget: &str) {
        let storage = self.rt.storage();
        assert_eq!(storage.inbox_len().await.unwrap(), 0, "the inbox drained");
        assert_eq!(storage.next_timer_due().await.unwrap(), None, "no storm timer is left");
        let notices = self.texts(1000).await;
        assert!(!notices.is_empty(), "the admin was told");
        assert!(
            notices.iter().all(|n| n.contains("Plugin storm was disabled after hitting its budgets")),
            "{notices:?}"
        );
        assert!(notices.iter().any(|n| n.contains("quota exceeded:")), "{notices:?}");
        let log = storage.event_log().await.unwrap();
        let hits: Vec<_> = log.iter().filter(|e| e.plugin == "wharf" && e.kind == "budget.exceeded").collect();
        assert!(hits.iter().any(|e| e.fields.get("budget").map(String::as_str) == Some(budget)), "{hits:?}");
        let told: Vec<_> = log.iter().filter(|e| e.plugin == "storm" && e.kind == "storm.refused").collect();
        assert!(
            !told.is_empty() && told.iter().all(|e| e.fields.values().any(|v| v.contains("QuotaExceeded("))),
            "{told:?}"
        );
        assert!(self.rt.metrics().budget_hits("storm", budget) > 0);
    }
}

async fn storm(mode: &str, limits: &str, budget: &str, restart: bool) -> Vec<Bot> {
    let mut bots = Vec::new();
    for db in databases() {
        let mut bot = Bot::start(&db, &plugins(mode, limits)).await;
        bot.say(STORM_CHAT, "/storm").await;
        bot.neighbour_is_answered("first").await;
        bot.rt.clock().advance(Duration::from_secs(1));
        bot.neighbour_is_answered("second").await;
        if restart {
            bot = bot.restart().await;
            bot.neighbour_is_answered("after restart").await;
        }
        bot.until_stopped().await;
        bot.neighbour_is_answered("after the storm").await;
        bot.stopped_and_reported(budget).await;
        bots.push(bot);
    }
    bots
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_re_arming_timer_with_fan_out_two_is_stopped() {
    for bot in storm("timer", "", "timers", false).await {
        bot.rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_ping_pong_with_fan_out_two_is_stopped() {
    for bot in storm("pingpong", "", "events", false).await {
        bot.rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_chain_deeper_than_max_hops_is_dropped() {
    for bot in storm("pingpong", "events_burst = 100000", "hops", false).await {
        // 2 + 4 + … + 256 events: the chain went 8 hops deep and no deeper.
        let got = bot.rt.metrics().budget_hits("storm", "events");
        assert_eq!(got, 0, "the bucket was never empty");
        bot.rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_flood_into_one_group_is_stopped() {
    for bot in storm("flood", "", "messages", false).await {
        let flood = bot.texts(GROUP).await.len();
        // 10 free in the /storm turn, then at most the burst plus 30 a second.
        let seconds = usize::try_from((bot.rt.clock().now_ms() - T0) / 1000).unwrap();
        assert!(flood <= 10 + 200 + 30 * seconds, "{flood} messages queued in {seconds} s");
        bot.rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_filling_its_kv_is_stopped_at_its_quota() {
    for bot in storm("kvfill", "kv_mib = 16", "kv", false).await {
        let storage = bot.rt.storage();
        let usage = storage.kv_usage("storm").await.unwrap();
        assert!(usage.bytes <= 16 << 20, "{usage:?}");
        assert!(usage.bytes > 15 << 20, "it filled up to its quota: {usage:?}");
        assert_eq!(storage.kv_usage_recount("storm").await.unwrap(), usage, "the persisted usage is exact");
        bot.rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storms_are_stopped_again_after_a_restart_in_their_middle() {
    for mode in ["timer", "pingpong", "flood"] {
        let budget = match mode {
            "timer" => "timers",
            "pingpong" => "events",
            _ => "messages",
        };
        for bot in storm(mode, "", budget, true).await {
            bot.rt.shutdown().await;
        }
    }
    for bot in storm("kvfill", "kv_mib = 16", "kv", true).await {
        let usage = bot.rt.storage().kv_usage("storm").await.unwrap();
        assert!(usage.bytes <= 16 << 20, "the quota held across the restart: {usage:?}");
        assert_eq!(bot.rt.storage().kv_usage_recount("storm").await.unwrap(), usage);
        bot.rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_set_while_its_plugin_handles_its_own_timer_waits_the_re_arm_delay() {
    for (limits, delay) in [("", 1_000), ("rearm_delay_ms = 5000", 5_000)] {
        let h = start_on(&Db::Sqlite, &plugins("timer", limits), "").await;
        h.say(STORM_CHAT, "/storm").await;
        h.idle().await;
        // /storm set two timers at 0 delay (not a re-arm: they fired at once); each
        // firing set two more, pushed back by the re-arm delay.
        assert_eq!(h.rt.metrics().timers_fired_count(), 2);
        assert_eq!(h.rt.storage().next_timer_due().await.unwrap(), Some(T0 + delay));
        h.rt.clock().advance(Duration::from_millis(delay as u64 - 1));
        h.idle().await;
        assert_eq!(h.rt.metrics().timers_fired_count(), 2, "nothing fires before the delay");
        h.rt.clock().advance(Duration::from_millis(1));
        h.idle().await;
        assert_eq!(h.rt.metrics().timers_fired_count(), 6);
        h.rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kv_quota_holds_across_turns_and_deleting_frees_it() {
    for db in databases() {
        let limits = "limits = { kv_keys = 4, kv_mib = 1 }";
        let h = start_on(&db, &plugin("probe", "probe", &format!("{ALL}\n{limits}")), "").await;
        h.idle().await;
        let storage = h.rt.storage();
        let keys0 = storage.kv_usage("probe").await.unwrap().keys;
        assert_eq!(keys0, 1, "the probe keeps its lifecycle record");
        // One key per turn: the quota counts what earlier turns stored.
        for i in 1..=5 {
            h.say(5, &format!("/set k{i} v")).await;
            h.idle().await;
        }
        assert_eq!(h.kv::<String>("probe", "k3").await.as_deref(), Some("v"));
        assert_eq!(h.kv::<String>("probe", "k4").await, None, "a fifth key is over kv_keys = 4");
        assert_eq!(h.kv::<String>("probe", "k5").await, None);
        assert_eq!(storage.kv_usage("probe").await.unwrap().keys, 4);
        // Overwriting a key does not add one; deleting one frees room for another.
        h.say(5, "/set k1 w").await;
        h.say(5, "/del k2").await;
        h.say(5, "/set k4 v").await;
        h.idle().await;
        assert_eq!(h.kv::<String>("probe", "k1").await.as_deref(), Some("w"));
        assert_eq!(h.kv::<String>("probe", "k4").await.as_deref(), Some("v"));
        // Bytes: two values of 600 kB do not fit in 1 MiB, not even in separate turns.
        h.say(5, "/del k3").await;
        h.say(5, &format!("/set big1 {}", "x".repeat(600_000))).await;
        h.idle().await;
        h.say(5, &format!("/set big2 {}", "y".repeat(600_000))).await;
        h.idle().await;
        assert!(h.kv::<String>("probe", "big1").await.is_some());
        assert_eq!(h.kv::<String>("probe", "big2").await, None, "over kv_mib = 1");
        h.say(5, "/del big1").await;
        h.say(5, &format!("/set big2 {}", "y".repeat(600_000))).await;
        h.idle().await;
        assert!(h.kv::<String>("probe", "big2").await.is_some(), "deleting freed the bytes");
        let usage = storage.kv_usage("probe").await.unwrap();
        assert!(usage.bytes <= 1 << 20 && usage.keys <= 4, "{usage:?}");
        assert_eq!(storage.kv_usage_recount("probe").await.unwrap(), usage, "{db:?}: the persisted usage is exact");
        assert_eq!(h.rt.metrics().budget_hits("probe", "kv"), 3, "k4, k5, big2 were refused");
        assert!(!h.rt.is_disabled("probe"), "three hits are under max_failures");
        h.rt.shutdown().await;
    }
}
