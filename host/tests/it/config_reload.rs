//! Config reload: `config.toml` read again by the reload SIGHUP triggers (the same
//! `Runtime::reload` the signal handler calls), by `/reload` from an admin in Telegram
//! and by a request from another process; `/plugins`; plugins disabled by hand.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wharf::clock::Clock;
use wharf::config::Config;
use wharf::runtime::{ConfigOutcome, PluginRunState};
use wharf::storage::{EventFilter, EventLogRow, Storage};
use wharf::{Runtime, RuntimeOptions};

use crate::common::*;

const ADMIN: i64 = 1000;

/// A bot whose config lives in a file the test rewrites.
struct Bot {
    rt: Runtime,
    dir: tempfile::TempDir,
    file: PathBuf,
}

fn probe(settings: &str) -> String {
    plugin("probe", "probe", &format!("{ALL}\nsettings = {{ {settings} }}"))
}

fn noop() -> String {
    plugin("noop", "noop", "")
}

fn text(dir: &Path, admins: &[i64], plugins: &str) -> String {
    config_text_with(dir, &Db::Sqlite, admins, plugins, "")
}

async fn start_in(dir: tempfile::TempDir, config: &str) -> Bot {
    let file = dir.path().join("config.toml");
    std::fs::write(&file, config).unwrap();
    let config = Config::load(&file).unwrap();
    let opts = RuntimeOptions { clock: Clock::manual(T0), ..RuntimeOptions::default() };
    let rt = Runtime::start(&config, opts).await.unwrap();
    Bot { rt, dir, file }
}

async fn start(admins: &[i64], plugins: &str) -> Bot {
    let dir = tempfile::tempdir().unwrap();
    let config = text(dir.path(), admins, plugins);
    start_in(dir, &config).await
}

impl Bot {
    fn write(&self, admins: &[i64], plugins: &str) {
        self.write_text(&text(self.dir.path(), admins, plugins));
    }

    fn write_text(&self, text: &str) {
        let tmp = self.file.with_extension("new");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &self.file).unwrap();
    }

    fn db_url(&self) -> String {
        format!("sqlite:{}", self.dir.path().join("wharf.db").display())
    }

    /// What the bot says to `user` in answer to `text`.
    async fn ask(&self, user: i64, text: &str) -> Vec<String> {
        let before = self.sent(user).await.len();
        self.rt.enqueue(user, &wharf::event::text(user, text)).await.unwrap();
        self.rt.wait_idle(IDLE).await.unwrap();
        self.sent(user).await.split_off(before)
    }

    async fn sent(&self, chat: i64) -> Vec<String> {
        let rows = self.rt.storage().outbox(Some(chat)).await.unwrap();
        rows.iter()
            .filter_map(|row| {
                let v: serde_json::Value = serde_json::from_str(&row.payload).ok()?;
                v["params"]["text"].as_str().map(str::to_owned)
            })
            .collect()
    }

    async fn kv<T: serde::de::DeserializeOwned>(&self, ns: &str, key: &str) -> Option<T> {
        let (bytes, _) = self.rt.storage().kv_get(ns, key).await.unwrap();
        bytes.map(|b| serde_json::from_slice(&b).unwrap())
    }

    async fn events(&self, kind: &str) -> Vec<EventLogRow> {
        let rows = self.rt.storage().newest_events(&EventFilter::default(), 500).await.unwrap();
        rows.into_iter().filter(|r| r.kind == kind).collect()
    }

    /// Wait until `chat` was sent a message containing `needle`.
    async fn wait_sent(&self, chat: i64, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(t) = self.sent(chat).await.into_iter().find(|t| t.contains(needle)) {
                return t;
            }
            assert!(Instant::now() < deadline, "{chat} never got {needle:?}: {:?}", self.sent(chat).await);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn wait_until(what: &str, mut cond: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn applied(outcome: &ConfigOutcome) -> &wharf::config::ConfigDiff {
    match outcome {
        ConfigOutcome::Applied(d) => d,
        other => panic!("config not applied: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_settings_and_admins_change_without_a_restart() {
    let bot = start(&[ADMIN], &noop()).await;
    assert!(bot.ask(2000, "/whoami").await.is_empty(), "no plugin has /whoami yet");

    // A plugin added, an admin added.
    bot.write(&[ADMIN, 2000], &(noop() + &probe("topic = \"first\"")));
    let report = bot.rt.reload().await.unwrap();
    let diff = applied(&report.config);
    assert_eq!(diff.added, ["probe"]);
    assert!(diff.admins && diff.removed.is_empty() && diff.changed.is_empty(), "{diff:?}");
    assert!(report.swapped.is_empty() && report.rejected.is_empty(), "{report:?}");
    bot.rt.wait_idle(IDLE).await.unwrap();
    assert_eq!(bot.kv::<Vec<String>>("probe", "lifecycle").await.unwrap(), ["installed 1.0.0"]);
    assert_eq!(bot.ask(5, "/setting topic").await, ["first"]);
    let who = bot.ask(2000, "/whoami").await;
    assert!(who.len() == 1 && who[0].starts_with("admin=true"), "the new admin may use admin commands: {who:?}");
    assert!(bot.rt.is_admin(2000));
    assert_eq!(bot.ask(5, "/admins").await, ["[1000, 2000]"], "plugins' config.admins() too");

    // A setting changed, the admin removed again: the next turn sees both.
    bot.write(&[ADMIN], &(noop() + &probe("topic = \"second\"")));
    let report = bot.rt.reload().await.unwrap();
    assert_eq!(applied(&report.config).changed, ["probe"]);
    assert_eq!(bot.ask(5, "/setting topic").await, ["second"]);
    assert_eq!(bot.ask(2000, "/whoami").await, ["This command is for admins."]);

    // Reading the same file again changes nothing.
    assert_eq!(bot.rt.reload().await.unwrap().config, ConfigOutcome::Unchanged);

    // Removed: it gets no more events, its data stays.
    bot.write(&[ADMIN], &noop());
    let report = bot.rt.reload().await.unwrap();
    assert_eq!(applied(&report.config).removed, ["probe"]);
    assert!(bot.ask(5, "/setting topic").await.is_empty());
    assert_eq!(bot.rt.plugin_version("probe"), None);
    assert_eq!(bot.kv::<Vec<String>>("probe", "lifecycle").await.unwrap(), ["installed 1.0.0"]);

    let events = bot.events("config.reloaded").await;
    assert_eq!(events.len(), 3, "{events:?}");
    // Oldest first.
    assert_eq!(events[0].fields["added"], "probe");
    assert_eq!(events[0].fields["by"], "SIGHUP or a local call");
    assert_eq!(events[2].fields["removed"], "probe");
    bot.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_config_changes_nothing_and_admins_are_told_where() {
    let bot = start(&[ADMIN], &probe("topic = \"kept\"")).await;
    let good = text(bot.dir.path(), &[ADMIN, 2000], &probe("topic = \"new\""));
    let missing = bot.dir.path().join("missing.wasm");
    let cases = [
        ("bad TOML", good.replacen("admins = [1000, 2000]", "admins = [1000, 2000", 1), "TOML parse error at line"),
        ("unknown key", good.replacen("[plugins.probe]\n", "[plugins.probe]\npth = \"x\"\n", 1), "unknown field `pth`"),
        ("invalid grant", good.replacen("grants = [\"kv\"", "grants = [\"telepathy\", \"kv\"", 1), "telepathy"),
        (
            "a module that is not there",
            good.replacen(wasm("probe").to_str().unwrap(), missing.to_str().unwrap(), 1),
            "cannot read",
        ),
        (
            "a bad value holding a secret",
            good.clone() + "[alerts]\nwebhook_url = \"ftp://hooks.example.com/T0KEN-SECRET-99\"\n",
            "must be an http:// or https:// URL",
        ),
        (
            "a grant the plugin needs, gone",
            good.replacen("\"kv\", \"telegram\", \"events\", \"scheduler\"", "\"kv\"", 1),
            "telegram",
        ),
    ];
    for (i, (case, broken, why)) in cases.iter().enumerate() {
        assert_ne!(broken, &good, "{case}: the test breaks the file");
        bot.write_text(broken);
        let told = bot.sent(ADMIN).await.len();
        let report = bot.rt.reload().await.unwrap();
        let ConfigOutcome::Rejected(reason) = &report.config else { panic!("{case}: {:?}", report.config) };
        assert!(reason.contains(why), "{case}: {reason}");
        if i < 3 {
            assert!(reason.contains("line ") && reason.contains("column "), "{case}: where: {reason}");
        }
        assert_eq!(bot.ask(5, "/setting topic").await, ["kept"], "{case}: the old config serves on");
        assert!(!bot.rt.is_admin(2000), "{case}");
        let notices = bot.sent(ADMIN).await.split_off(told);
        assert_eq!(notices.len(), 1, "{case}: {notices:?}");
        assert!(
            notices[0].starts_with("⛔ config.toml was not reloaded") && notices[0].contains(why),
            "{case}: {notices:?}"
        );
        assert!(!notices[0].contains("SECRET"), "{case}: a config value is masked for admins: {notices:?}");
    }
    let rejected = bot.events("config.rejected").await;
    assert_eq!(rejected.len(), cases.len());
    assert!(rejected.iter().all(|e| !e.fields["why"].contains("SECRET")), "the event log gets it masked too");
    assert!(bot.events("config.reloaded").await.is_empty());

    // Fixed: applied at last.
    bot.write_text(&good);
    applied(&bot.rt.reload().await.unwrap().config);
    assert_eq!(bot.ask(5, "/setting topic").await, ["new"]);
    bot.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_a_reload_cannot_apply_are_kept_and_admins_told() {
    let bot = start(&[ADMIN], &probe("")).await;
    let changed = text(bot.dir.path(), &[ADMIN], &probe("")).replace("watch = false", "watch = true\nconcurrency = 3");
    bot.write_text(&changed);
    let report = bot.rt.reload().await.unwrap();
    let diff = applied(&report.config);
    assert_eq!(diff.restart_only, ["runtime.concurrency", "runtime.watch"]);
    assert!(!diff.applies_anything());
    let notice = bot.wait_sent(ADMIN, "cannot apply").await;
    assert!(notice.contains("runtime.concurrency, runtime.watch") && notice.contains("restarted"), "{notice}");
    bot.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_and_plugins_from_an_admin_in_telegram() {
    // An impostor declares /reload: an admin's /reload is still the host's.
    let squatter = plugin(
        "squatter",
        "impostor",
        "grants = [\"telegram.send\"]\nsettings = { command = \"reload\", prefix = \"sq\" }",
    );
    let plugins = probe("topic = \"a\"") + &squatter;
    let bot = start(&[ADMIN], &plugins).await;

    let list = bot.ask(ADMIN, "/plugins").await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert!(
        list[0].contains("• probe 1.0.0 — running") && list[0].contains("• squatter 6.6.6 — running"),
        "{}",
        list[0]
    );
    assert_eq!(bot.ask(7, "/plugins").await, ["This command is for admins."]);
    assert!(bot.ask(7, "/reload").await.is_empty(), "a non-admin's /reload is the plugin's that declares it");
    let help = bot.ask(ADMIN, "/help").await.join("\n");
    assert!(help.contains("/reload — ") && help.contains("/plugins — "), "{help}");

    bot.write(&[ADMIN], &(probe("topic = \"b\"") + &squatter));
    let ack = bot.ask(ADMIN, "/reload probe").await;
    assert_eq!(ack[0], "🔄 Reloading… the result follows here.");
    let result = bot.wait_sent(ADMIN, "Reload done").await;
    assert!(result.contains("probe: module unchanged, version 1.0.0"), "{result}");
    assert!(result.contains("config.toml applied: reconfigured probe"), "{result}");
    assert_eq!(bot.ask(5, "/setting topic").await, ["b"]);
    let events = bot.events("config.reloaded").await;
    assert_eq!(events.len(), 1, "one /reload, one reload: {events:?}");
    assert_eq!(events[0].fields["by"], "admin 1000 (/reload in Telegram)");

    assert_eq!(bot.ask(ADMIN, "/reload nosuch").await, ["There is no plugin nosuch. /plugins lists them."]);
    // A broken file: the admin who asked hears why.
    bot.write_text("admins = [1000]\n[storage]\n");
    bot.ask(ADMIN, "/reload").await;
    let result = bot.wait_sent(ADMIN, "config.toml rejected").await;
    assert!(result.contains("missing field `url`"), "{result}");
    bot.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_asks_for_a_reload() {
    let bot = start(&[ADMIN], &probe("topic = \"a\"")).await;
    bot.write(&[ADMIN], &probe("topic = \"b\""));
    // `wharf admin reload` opens the database on its own.
    let other = Storage::open(&bot.db_url(), None).await.unwrap();
    wharf::runtime::request_reload(&other, "cli: ops\u{1b}[31m").await.unwrap();
    wait_until("the reload", async || !bot.events("config.reloaded").await.is_empty()).await;
    let event = &bot.events("config.reloaded").await[0];
    assert_eq!(event.fields["by"], "cli: ops\\u{1b}[31m", "who asked, control characters escaped");
    assert_eq!(bot.ask(5, "/setting topic").await, ["b"]);
    let left = bot.rt.storage().kv_keys("_runtime", "reload:", None, 10).await.unwrap();
    assert!(left.is_empty(), "the request is taken once: {left:?}");

    // A request whose value is garbage is still performed (by "someone") and removed.
    bot.write(&[ADMIN], &probe("topic = \"c\""));
    let junk = wharf::storage::TurnCommit {
        writes: vec![("_runtime".into(), "reload:0000000000001:junk".into(), Some(b"{not json".to_vec()))],
        now_ms: T0,
        ..Default::default()
    };
    other.commit(junk).await.unwrap();
    wait_until("the junk request", async || bot.events("config.reloaded").await.len() == 2).await;
    assert_eq!(bot.events("config.reloaded").await[1].fields["by"], "someone");
    assert!(bot.rt.storage().kv_keys("_runtime", "reload:", None, 10).await.unwrap().is_empty());
    assert_eq!(bot.ask(5, "/setting topic").await, ["c"]);
    bot.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_disabled_by_hand_stays_disabled_until_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let wasm_dir = tempfile::tempdir().unwrap();
    let module = wasm_dir.path().join("probe.wasm");
    std::fs::copy(wasm("probe"), &module).unwrap();
    let table = format!("[plugins.probe]\npath = \"{}\"\n{ALL}\nsettings = {{ topic = \"t\" }}\n", module.display());
    let config = text(dir.path(), &[ADMIN], &table);
    let bot = start_in(dir, &config).await;
    let console = bot.rt.console();
    console.disable("probe", "admin 1000 (dashboard)").await.unwrap();
    assert!(bot.ask(5, "/setting topic").await.is_empty(), "a disabled plugin is not called");
    let by = PluginRunState::DisabledByAdmin { by: "admin 1000 (dashboard)".into() };
    assert_eq!(console.plugin_rows()[0].state, by);
    assert!(bot.ask(ADMIN, "/plugins").await[0].contains("probe 1.0.0 — disabled by admin 1000 (dashboard)"));

    // A new module does not enable it (a breaker trip would be cleared).
    std::fs::copy(wasm("probe_v2"), &module).unwrap();
    assert_eq!(bot.rt.reload().await.unwrap().swapped, ["probe"]);
    assert!(bot.rt.is_disabled("probe"));

    // Kept across a restart.
    let Bot { rt, dir, .. } = bot;
    rt.shutdown().await;
    let bot = start_in(dir, &config).await;
    assert!(bot.rt.is_disabled("probe"), "still disabled after a restart");
    assert_eq!(bot.rt.console().plugin_rows()[0].state, by);

    // Enabled from another process (the CLI), then disabled from it again.
    let other = Storage::open(&bot.db_url(), None).await.unwrap();
    assert!(wharf::runtime::enable_plugin(&other, "probe", "cli: ops").await.unwrap());
    wait_until("the enable", async || !bot.rt.is_disabled("probe")).await;
    assert_eq!(bot.ask(5, "/setting topic").await, ["t"]);
    wharf::runtime::disable_plugin(&other, "probe", "2.0.0", "cli: ops").await.unwrap();
    wait_until("the disable", async || bot.rt.is_disabled("probe")).await;
    assert!(bot.ask(5, "/setting topic").await.is_empty());
    assert!(bot.rt.console().enable("probe", "admin 1000 (dashboard)").await.unwrap());
    assert_eq!(bot.ask(5, "/setting topic").await, ["t"]);
    let kinds: Vec<String> = bot.events("plugin.enabled").await.iter().map(|e| e.fields["by"].clone()).collect();
    assert_eq!(kinds, ["cli: ops", "admin 1000 (dashboard)"]);
    assert_eq!(bot.events("plugin.disabled").await.len(), 2);
    bot.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_code_set_on_top_of_the_file_stays_until_the_file_changes_it() {
    // As `wharf chat` points plugins at its local chains: the file says one thing, the
    // runtime is started with another.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let plugins = noop() + &probe("topic = \"file\"");
    std::fs::write(&file, text(dir.path(), &[ADMIN], &plugins)).unwrap();
    let mut config = Config::load(&file).unwrap();
    let (_, probe_table) = config.plugins.iter_mut().find(|(n, _)| n.as_str() == "probe").unwrap();
    for (k, v) in probe_table.get_mut().settings.iter_mut() {
        if k.get_ref() == "topic" {
            *v = toml::Value::String("code".into());
        }
    }
    let opts = RuntimeOptions { clock: Clock::manual(T0), ..RuntimeOptions::default() };
    let bot = Bot { rt: Runtime::start(&config, opts).await.unwrap(), dir, file };
    assert_eq!(bot.ask(5, "/setting topic").await, ["code"]);

    bot.write(&[ADMIN, 2000], &plugins);
    assert!(applied(&bot.rt.reload().await.unwrap().config).admins);
    assert_eq!(bot.ask(5, "/setting topic").await, ["code"], "the file did not change the probe");
    bot.write(&[ADMIN, 2000], &(noop() + &probe("topic = \"file2\"")));
    assert_eq!(applied(&bot.rt.reload().await.unwrap().config).changed, ["probe"]);
    assert_eq!(bot.ask(5, "/setting topic").await, ["file2"], "the file changed it");
    bot.rt.shutdown().await;
}
