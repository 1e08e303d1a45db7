//! The `wharf` command: run the bot, check a config file, talk to the bot, test plugins,
//! re-enable a disabled plugin, create a plugin crate, read the event log, serve the emulators,
//! use plugins' admin views and actions.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use wharf::config::{Config, TelegramMode};
use wharf::{Runtime, RuntimeOptions};

#[derive(Parser)]
#[command(name = "wharf", version, about = "A Telegram bot runtime with sandboxed WebAssembly plugins")]
struct Cli {
    /// Log output format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Pretty)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Pretty,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the runtime: serve the inbox with the configured plugins until Ctrl-C.
    /// SIGHUP re-reads config.toml (applied if valid) and reloads changed plugins.
    Run {
        /// Config file.
        #[arg(long, default_value = "config.toml")]
        config: PathBuf,
        /// Also write the log as JSON lines to files in DIR (wharf.YYYY-MM-DD.log, a new
        /// one each day, UTC).
        #[arg(long, value_name = "DIR")]
        log_dir: Option<PathBuf>,
        /// Daily log files kept in --log-dir (older ones are deleted).
        #[arg(long, value_name = "N", default_value_t = 14, requires = "log_dir",
              value_parser = clap::value_parser!(u16).range(1..))]
        log_keep: u16,
    },
    /// Run the bot with the bundled Bot API emulator and talk to it from this terminal
    /// (or a script on stdin). No token needed. SIGHUP re-reads config.toml and reloads
    /// changed plugins.
    Chat {
        /// Config file.
        #[arg(long, default_value = "config.toml")]
        config: PathBuf,
    },
    /// Serve the Bot API emulator alone (for manual tests with `wharf run`).
    Emulator {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: std::net::SocketAddr,
        /// The bot token it accepts.
        #[arg(long, default_value = "0:local")]
        token: String,
    },
    /// Serve the Esplora-compatible explorer emulator (with CoinGecko-style rates) until
    /// Ctrl-C, driven through its /control API.
    Explorer {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:3002")]
        listen: std::net::SocketAddr,
        /// Height of the chain's tip at start.
        #[arg(long, default_value_t = wharf::explorer::START_HEIGHT)]
        height: u64,
    },
    /// Validate a config file and load its plugins without running them.
    CheckConfig {
        /// Config file.
        #[arg(long, default_value = "config.toml")]
        config: PathBuf,
    },
    /// Run conversation scripts (`> ` lines typed into `wharf chat`, the other lines the
    /// expected answers) against the configured plugins, each on a fresh database.
    /// Non-zero if any answer differs.
    Test {
        /// Config file (its storage is replaced by a temporary database).
        #[arg(long, default_value = "config.toml")]
        config: PathBuf,
        /// Load plugin NAME from PATH instead of its configured path.
        #[arg(long, value_name = "NAME=PATH")]
        wasm: Vec<String>,
        /// The scripts.
        #[arg(required = true)]
        scripts: Vec<PathBuf>,
    },
    /// Show the event log: filter business and host events, follow them, count them.
    ///
    /// The newest 100 events (secrets masked) as a table, filtered by kind, user, plugin
    /// and time; `--json` for JSON lines, `--follow` to keep printing new ones; `wharf logs
    /// stats` counts them. Works while `wharf run` serves the same database.
    Logs(Box<wharf::logs::LogsArgs>),
    /// Plugins' admin views and actions on the configured database (also while the bot
    /// runs): `wharf admin` lists them, `wharf admin PLUGIN VIEW [--PARAM VALUE]…
    /// [--json|--csv]` shows a view, `wharf admin PLUGIN ACTION [--PARAM VALUE]… [--yes]`
    /// runs an action through the bot's inbox (exactly once). Options: --config PATH,
    /// --page CURSOR, --as USER_ID, --request ID, --wait SECONDS.
    #[command(disable_help_flag = true)]
    Admin {
        /// PLUGIN, VIEW or ACTION, and options (see above).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Manage plugins on the configured database (also while the bot runs).
    Plugin {
        #[command(subcommand)]
        action: PluginCmd,
    },
    /// Create a plugin crate NAME (outside this repository) that builds, tests and runs.
    New {
        /// Plugin and crate name (a-z, 0-9, '_', '-').
        name: String,
        /// Directory to create (default: ./NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The wharf-sdk crate to depend on (default: this clone's plugins/sdk).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum PluginCmd {
    /// Enable a plugin the circuit breaker disabled; a running bot picks it up within
    /// a few seconds.
    Enable {
        /// The plugin.
        name: String,
        /// Config file (for the database).
        #[arg(long, default_value = "config.toml")]
        config: PathBuf,
    },
    /// List the plugins the circuit breaker disabled.
    Disabled {
        /// Config file (for the database).
        #[arg(long, default_value = "config.toml")]
        config: PathBuf,
    },
}

/// Log to stderr in `format` and, with `files` (a directory and how many days to keep),
/// also as JSON lines to daily files there. The guard flushes the files when dropped.
fn init_logging(
    format: LogFormat,
    files: Option<(&Path, usize)>,
) -> anyhow::Result<Option<tracing_appender::non_blocking::WorkerGuard>> {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let filter = tracing_subscriber::EnvFilter::try_from_env("WHARF_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,wasmtime=warn,cranelift=warn"));
    // Colours only for a person at a terminal, never in files or pipes.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(ansi);
    let stderr = match format {
        LogFormat::Pretty => stderr.boxed(),
        LogFormat::Json => stderr.json().boxed(),
    };
    let (file, guard) = match files {
        Some((dir, keep)) => {
            let appender = tracing_appender::rolling::RollingFileAppender::builder()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix("wharf")
                .filename_suffix("log")
                .max_log_files(keep)
                .build(dir)
                .with_context(|| format!("--log-dir {}: cannot write log files there", dir.display()))?;
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = tracing_subscriber::fmt::layer().json().with_writer(writer).with_ansi(false);
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    tracing_subscriber::registry().with(filter).with(stderr).with(file).init();
    Ok(guard)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let files = match &cli.command {
        Cmd::Run { log_dir: Some(dir), log_keep, .. } => Some((dir.as_path(), usize::from(*log_keep))),
        _ => None,
    };
    // Kept until the end of main, so the log files get every line.
    let _log_files = match init_logging(cli.log_format, files) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Cmd::Run { config, .. } => run(config).await,
        Cmd::Logs(args) => wharf::logs::run(*args).await,
        Cmd::Admin { args } => wharf::panel::cli::run(&args).await,
        Cmd::CheckConfig { config } => check(config).await,
        Cmd::Chat { config } => chat(config).await,
        Cmd::Emulator { listen, token } => emulator(listen, &token).await,
        Cmd::Explorer { listen, height } => explorer(listen, height).await,
        Cmd::Test { config, wasm, scripts } => test(config, &wasm, &scripts).await,
        Cmd::New { name, dir, sdk } => new(name, dir, sdk),
        Cmd::Plugin { action } => plugin(action).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn check(path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    let report = Runtime::check_plugins(&config).await?;
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if !report.errors.is_empty() {
        let list: Vec<String> = report.errors.iter().map(|e| format!("  - {e}")).collect();
        anyhow::bail!("{}: {} problem(s):\n{}", path.display(), report.errors.len(), list.join("\n"));
    }
    println!("{}: ok ({} plugins enabled)", path.display(), config.plugin_specs().len());
    Ok(())
}

async fn chat(path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    // Listen before anything else, so a SIGHUP never kills the session.
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let (tx, reloads) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            // A reload already waiting covers this signal too.
            if let Err(tokio::sync::mpsc::error::TrySendError::Closed(())) = tx.try_send(()) {
                return;
            }
        }
    });
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    let opts = wharf::chat::Options { reloads: Some(reloads), ..wharf::chat::Options::default() };
    wharf::chat::run_with(&config, opts, stdin, std::io::stdout()).await
}

async fn test(path: PathBuf, wasm: &[String], scripts: &[PathBuf]) -> anyhow::Result<()> {
    let mut failed = 0;
    for script in scripts {
        let script = wharf::testkit::Script::load(script)?;
        let mut config = Config::load(&path)?;
        for w in wasm {
            let (name, file) = w.split_once('=').context("--wasm takes NAME=PATH")?;
            let plugin = config.plugins.iter_mut().find(|(n, _)| n.as_str() == name);
            let (_, plugin) =
                plugin.with_context(|| format!("--wasm {name}: no plugin {name} in {}", path.display()))?;
            plugin.get_mut().path = std::path::absolute(file)?;
        }
        let dir = tempfile::tempdir().context("creating a temporary directory")?;
        wharf::testkit::isolate(&mut config, dir.path());
        let outcome = wharf::testkit::run(&config, &script).await?;
        println!("{outcome}");
        failed += usize::from(!outcome.passed());
    }
    anyhow::ensure!(failed == 0, "{failed} of {} scripts failed", scripts.len());
    Ok(())
}

fn new(name: String, dir: Option<PathBuf>, sdk: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
    let sdk = sdk.unwrap_or_else(wharf::scaffold::default_sdk);
    let wharf = std::env::current_exe().context("locating the wharf binary")?;
    let opts = wharf::scaffold::Options { name, dir: dir.clone(), sdk, wharf };
    let files = wharf::scaffold::create(&opts)?;
    println!("created {} ({} files). Next:", dir.display(), files.len());
    println!("  cd {}", dir.display());
    println!("  cargo test                                     # native tests, then tests/*.chat on the built plugin");
    println!("  cargo build --release --target wasm32-wasip2   # the .wasm");
    println!("  {} chat                                  # talk to it", opts.wharf.display());
    Ok(())
}

async fn emulator(listen: std::net::SocketAddr, token: &str) -> anyhow::Result<()> {
    let emu = wharf::telegram::emulator::Emulator::start(listen, token).await.context("starting the emulator")?;
    println!("Bot API emulator at {} (token {token}); Ctrl-C stops it", emu.api_url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}

async fn explorer(listen: std::net::SocketAddr, height: u64) -> anyhow::Result<()> {
    let explorer =
        wharf::explorer::Explorer::start_at(listen, height).await.context("starting the explorer emulator")?;
    println!(
        "Esplora API at {} (tip {}), rates at {}; Ctrl-C stops it",
        explorer.url(),
        explorer.tip_height(),
        explorer.rates_url()
    );
    println!(
        "control: POST /control/pay {{\"outputs\":[{{\"address\":\"…\",\"value\":100000}}]}}, /control/mine {{\"blocks\":1}}, \
         /control/reorg {{\"depth\":1}}, /control/replace, /control/drop, /control/fault, /control/rate; GET /control/stats"
    );
    tokio::signal::ctrl_c().await?;
    explorer.shutdown().await;
    Ok(())
}

async fn plugin(action: PluginCmd) -> anyhow::Result<()> {
    let (PluginCmd::Enable { config, .. } | PluginCmd::Disabled { config }) = &action;
    let config = Config::load(config)?;
    let url = config.storage_url();
    let storage = wharf::storage::Storage::open(&url, None)
        .await
        .with_context(|| format!("opening storage {}", wharf::secret::mask_url(&url)))?;
    match action {
        PluginCmd::Enable { name, .. } => {
            if storage.enable_plugin(&name).await? {
                println!("{name}: enabled (a running bot resumes calling it within a few seconds)");
            } else {
                println!("{name}: was not disabled");
            }
        }
        PluginCmd::Disabled { .. } => {
            for d in storage.disabled_plugins().await? {
                println!("{}\t{}\tdisabled at {} ms: {}", d.plugin, d.version, d.disabled_at_ms, d.reason);
            }
        }
    }
    Ok(())
}

async fn run(path: PathBuf) -> anyhow::Result<()> {
    // Before anything is started or logged: a SIGTERM or SIGHUP sent as soon as the
    // start is logged is then handled (a clean shutdown, a reload), never the default
    // (killed).
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let config = Config::load(&path)?;
    let Some(tg) = &config.telegram else {
        anyhow::bail!(
            "{}: no [telegram] table, so `wharf run` has no bot to serve. Add one (api_url, mode; the token goes in \
             $WHARF_TELEGRAM_TOKEN), or set [telegram] mode = \"none\" to serve only the inbox. \
             `wharf chat` runs the bot locally without Telegram.",
            path.display()
        );
    };
    // Check the token before starting anything.
    let token = match tg.mode {
        TelegramMode::None => None,
        _ => Some(std::env::var(&tg.token_env).with_context(|| {
            format!("the bot token is read from ${} (named by [telegram] token_env); set it", tg.token_env)
        })?),
    };
    let runtime = Runtime::start(&config, RuntimeOptions::default()).await.context("starting the runtime")?;
    let telegram = match token {
        Some(token) => Some(wharf::telegram::Telegram::start(runtime.link(), tg, &token).await?),
        None => {
            tracing::warn!(target: "wharf.runtime", "[telegram] mode = \"none\": serving the inbox only");
            None
        }
    };
    let admin = match &config.admin {
        Some(a) => Some(wharf::admin::AdminServer::start(a, wharf::admin::router(runtime.observer())).await?),
        None => None,
    };
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            _ = hup.recv() => match runtime.reload().await {
                Ok(report) => tracing::info!(target: "wharf.reload", swapped = ?report.swapped, rejected = report.rejected.len(), config = ?report.config, "SIGHUP reload"),
                Err(e) => tracing::error!(target: "wharf.reload", error = %format!("{e:#}"), "SIGHUP reload failed"),
            },
        }
    }
    tracing::info!(target: "wharf.runtime", "shutting down");
    if let Some(admin) = admin {
        admin.stop().await;
    }
    if let Some(tg) = telegram {
        tg.stop().await;
    }
    runtime.shutdown().await;
    Ok(())
}
