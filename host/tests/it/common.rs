//! Test harness: a runtime over a temporary database with plugins built by `build.rs`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde::de::DeserializeOwned;
use wharf::clock::Clock;
use wharf::config::Config;
use wharf::{Runtime, RuntimeOptions};

/// Start of the manual clock in every test.
pub const T0: i64 = 1_700_000_000_000;
/// How long a test waits for the runtime to go idle.
pub const IDLE: Duration = Duration::from_secs(120);

/// The lines of a `wharf chat` output after its welcome (a first line, then indented help).
pub fn transcript(out: &str) -> Vec<&str> {
    out.lines().skip(1).skip_while(|l| l.starts_with("  ")).collect()
}

/// Path of a built plugin.
pub fn wasm(name: &str) -> PathBuf {
    PathBuf::from(env!("WHARF_PLUGIN_DIR")).join(format!("{name}.wasm"))
}

/// Compiled plugins are cached across tests here.
fn cache_dir() -> PathBuf {
    PathBuf::from(env!("WHARF_PLUGIN_DIR")).join("../../../wharf-test-cache")
}

/// Which database a test runs on.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite,
    Postgres(String),
}

/// SQLite always; PostgreSQL too when `WHARF_TEST_DATABASE_URL` is set.
pub fn databases() -> Vec<Db> {
    let mut v = vec![Db::Sqlite];
    if let Ok(url) = std::env::var("WHARF_TEST_DATABASE_URL")
        && !url.is_empty()
    {
        v.push(Db::Postgres(url));
    }
    v
}

static SCHEMA: AtomicU32 = AtomicU32::new(0);

pub struct Harness {
    pub rt: Runtime,
    /// Keeps the database directory alive for the test.
    _dir: tempfile::TempDir,
}

/// Config text for `plugins` (TOML tables) over `db`, in `dir`.
pub fn config_text(dir: &std::path::Path, db: &Db, plugins: &str, runtime_extra: &str) -> String {
    config_text_with(dir, db, &[1000], plugins, runtime_extra)
}

/// Config text with the given admins.
pub fn config_text_with(dir: &std::path::Path, db: &Db, admins: &[i64], plugins: &str, runtime_extra: &str) -> String {
    let url = match db {
        Db::Sqlite => format!("sqlite:{}", dir.join("wharf.db").display()),
        Db::Postgres(url) => url.clone(),
    };
    // Fixture plugins handle commands they do not declare and answer nothing: unless a
    // test sets `[bot]` itself, the host's own answers to what nobody answered are off.
    let bot = if plugins.contains("[bot") { "" } else { "[bot]\nfallback = \"silent\"\n" };
    format!(
        "admins = {admins:?}\n[storage]\nurl = \"{url}\"\n[runtime]\ncache_dir = \"{}\"\nwatch = false\n{runtime_extra}\n{plugins}\n{bot}",
        cache_dir().display()
    )
}

/// A `[plugins.NAME]` table for the built plugin `wasm_name`.
pub fn plugin(name: &str, wasm_name: &str, extra: &str) -> String {
    format!("[plugins.{name}]\npath = \"{}\"\n{extra}\n", wasm(wasm_name).display())
}

/// Every grant, for plugins that use everything.
pub const ALL: &str = r#"grants = ["kv", "telegram", "events", "scheduler"]
http = ["127.0.0.1"]"#;

pub async fn start(plugins: &str) -> Harness {
    start_on(&Db::Sqlite, plugins, "").await
}

pub async fn start_on(db: &Db, plugins: &str, runtime_extra: &str) -> Harness {
    try_start_on(db, plugins, runtime_extra).await.expect("runtime starts")
}

pub async fn try_start_on(db: &Db, plugins: &str, runtime_extra: &str) -> anyhow::Result<Harness> {
    try_start_with(db, &[1000], plugins, runtime_extra).await
}

/// Start with the given admins.
pub async fn try_start_with(db: &Db, admins: &[i64], plugins: &str, runtime_extra: &str) -> anyhow::Result<Harness> {
    let dir = tempfile::tempdir()?;
    let text = config_text_with(dir.path(), db, admins, plugins, runtime_extra);
    let config = Config::parse(&text, dir.path()).map_err(anyhow::Error::msg)?;
    let pg_schema = match db {
        Db::Sqlite => None,
        Db::Postgres(_) => {
            Some(format!("wharf_t{}_{}_{}", std::process::id(), SCHEMA.fetch_add(1, Ordering::Relaxed), rand_suffix()))
        }
    };
    let opts = RuntimeOptions { clock: Clock::manual(T0), pg_schema, ..RuntimeOptions::default() };
    let rt = Runtime::start(&config, opts).await?;
    Ok(Harness { rt, _dir: dir })
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos())
}

impl Harness {
    /// Send a text message from `user` in their private chat.
    pub async fn say(&self, user: i64, text: &str) {
        self.rt.enqueue(user, &wharf::event::text(user, text)).await.expect("enqueue");
    }

    pub async fn idle(&self) {
        self.rt.wait_idle(IDLE).await.expect("runtime goes idle");
    }

    /// A JSON value from a plugin's namespace.
    pub async fn kv<T: DeserializeOwned>(&self, plugin: &str, key: &str) -> Option<T> {
        let (bytes, _) = self.rt.storage().kv_get(plugin, key).await.expect("kv read");
        bytes.map(|b| serde_json::from_slice(&b).unwrap_or_else(|e| panic!("{plugin}/{key} is not JSON: {e}")))
    }

    /// Texts of `sendMessage` calls queued for `chat`, oldest first.
    pub async fn sent(&self, chat: i64) -> Vec<String> {
        self.rt
            .storage()
            .outbox(Some(chat))
            .await
            .expect("outbox")
            .iter()
            .filter_map(|row| {
                let v: serde_json::Value = serde_json::from_str(&row.payload).ok()?;
                v["params"]["text"].as_str().map(str::to_owned)
            })
            .collect()
    }

    pub async fn outbox_len(&self) -> usize {
        self.rt.storage().outbox(None).await.expect("outbox").len()
    }
}

/// The compiled-plugin cache the tests share (for tests that write their own config).
pub fn plugin_cache_dir() -> PathBuf {
    cache_dir()
}
