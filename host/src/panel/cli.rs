//! `wharf admin`: plugins' admin views and actions from the terminal, against the
//! configured database (also while `wharf run` serves it: views run in this process,
//! read-only; actions are queued in the inbox and run by the bot, exactly once).
//!
//! ```text
//! wharf admin                                  plugins, their views and actions
//! wharf admin PLUGIN                           one plugin's views and actions, with parameters
//! wharf admin PLUGIN VIEW [--PARAM VALUE]…     a view as a table (--json, --csv, --page CURSOR)
//! wharf admin PLUGIN ACTION [--PARAM VALUE]…   an action, after a confirmation (--yes skips it)
//! wharf admin reload                           the running bot re-reads config.toml and its plugins
//! wharf admin disable|enable PLUGIN            stop or resume calling a plugin
//! ```
//! Options anywhere: `--config PATH`, `--json`, `--csv`, `--yes`, `--page CURSOR`,
//! `--as USER_ID` (the admin the plugin sees), `--request ID` (retry a request exactly
//! once), `--wait SECONDS` (for an action's reply; default 30).

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};

use super::{Console, Item, PanelPlugin, ParamKind, Surface, Who, render};
use crate::config::Config;
use crate::{Runtime, RuntimeOptions};

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Config file.
    pub config: PathBuf,
    /// Output format.
    pub format: Format,
    /// Skip the confirmation of an action.
    pub yes: bool,
    /// A view's page cursor.
    pub page: Option<String>,
    /// The admin's Telegram id, if given.
    pub as_user: Option<i64>,
    /// A request id to reuse.
    pub request: Option<String>,
    /// Seconds to wait for an action's reply.
    pub wait: u64,
    /// Plugin, then view or action.
    pub words: Vec<String>,
    /// `--PARAM VALUE` pairs.
    pub params: Vec<(String, String)>,
}

/// How to print output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned text.
    Table,
    /// JSON.
    Json,
    /// CSV.
    Csv,
}

/// Parse the arguments after `wharf admin`.
pub fn parse_args(args: &[String]) -> anyhow::Result<Request> {
    let mut r = Request {
        config: PathBuf::from("config.toml"),
        format: Format::Table,
        yes: false,
        page: None,
        as_user: None,
        request: None,
        wait: 30,
        words: Vec::new(),
        params: Vec::new(),
    };
    let mut it = args.iter().peekable();
    while let Some(arg) = it.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            r.words.push(arg.clone());
            continue;
        };
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (flag, None),
        };
        match name {
            "json" => r.format = Format::Json,
            "csv" => r.format = Format::Csv,
            "yes" | "y" => r.yes = true,
            _ => {
                let value = match inline {
                    Some(v) => v,
                    None => it.next().cloned().with_context(|| format!("--{name} needs a value"))?,
                };
                match name {
                    "config" => r.config = PathBuf::from(value),
                    "page" => r.page = Some(value),
                    "as" => {
                        r.as_user = Some(value.parse().with_context(|| format!("--as {value}: a Telegram user id"))?)
                    }
                    "request" => r.request = Some(value),
                    "wait" => r.wait = value.parse().with_context(|| format!("--wait {value}: seconds"))?,
                    _ => r.params.push((name.to_owned(), value)),
                }
            }
        }
    }
    if r.words.len() > 2 {
        bail!("unexpected argument {:?} (parameters are given as --NAME VALUE)", r.words[2]);
    }
    Ok(r)
}

/// What `wharf admin --help` prints.
pub const USAGE: &str = "\
Plugins' admin views and actions on the configured database (also while `wharf run` serves it).

Usage:
  wharf admin                                 plugins with their views and actions
  wharf admin PLUGIN                          one plugin's views and actions, with parameters
  wharf admin PLUGIN VIEW [--PARAM VALUE]...  a view (--json, --csv, --page CURSOR)
  wharf admin PLUGIN ACTION [--PARAM VALUE]... an action, run once by the bot (asks first; --yes)
  wharf admin reload                          the running bot re-reads config.toml and plugins
  wharf admin disable|enable PLUGIN           stop or resume calling a plugin (kept across restarts)
  wharf admin hash-password                   the argon2 hash of a password (stdin) for [admin] password_hash

Options (anywhere):
  --config PATH      config file [default: config.toml]
  --json | --csv     output format [default: a table]
  --yes              do not ask before an action
  --page CURSOR      a view's next page
  --as USER_ID       the admin the plugin sees (default: none)
  --request ID       reuse a request id: an action runs at most once per id
  --wait SECONDS     how long to wait for an action's reply [default: 30]
";

/// Run `wharf admin` with the arguments after it.
pub async fn run(args: &[String]) -> anyhow::Result<()> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}");
        return Ok(());
    }
    let req = parse_args(args)?;
    if req.words == ["hash-password"] {
        return hash_password();
    }
    let config = Config::load(&req.config)?;
    let who = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()));
    match req.words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["reload"] => return reload(&config, &who).await,
        ["disable" | "enable", plugin] => return switch(&config, &req.words[0], plugin, &who).await,
        _ => {}
    }
    let console =
        Runtime::open_console(&config, RuntimeOptions::default()).await?.with_wait(Duration::from_secs(req.wait));
    let plugins = console.plugins();
    let mut out = std::io::stdout().lock();
    match req.words.as_slice() {
        [] => {
            if req.format == Format::Json {
                writeln!(out, "{}", serde_json::to_string_pretty(&plugins)?)?;
            } else {
                write!(out, "{}", list(&plugins))?;
            }
        }
        [plugin] => {
            let p = find(&plugins, plugin)?;
            if req.format == Format::Json {
                writeln!(out, "{}", serde_json::to_string_pretty(p)?)?;
            } else {
                write!(out, "{}", describe(p))?;
            }
        }
        [plugin, name] => {
            let p = find(&plugins, plugin)?;
            let who = Who {
                user_id: req.as_user,
                via: Surface::Cli,
                label: std::env::var("USER").unwrap_or_else(|_| "cli".into()),
            };
            let output = if p.spec.view(name).is_some() {
                console.view(plugin, name, &req.params, req.page.as_deref(), &who).await?
            } else if let Some(action) = p.spec.action(name) {
                act(&console, p, action, &req, &who).await?
            } else {
                bail!("plugin {plugin} has no view or action {name}; `wharf admin {plugin}` lists them");
            };
            match req.format {
                Format::Table => write!(out, "{}", render::text(&output))?,
                Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&output)?)?,
                Format::Csv => write!(out, "{}", render::csv(&output))?,
            }
        }
        _ => unreachable!("checked by parse_args"),
    }
    Ok(())
}

async fn storage(config: &Config) -> anyhow::Result<crate::storage::Storage> {
    let url = config.storage_url();
    crate::storage::Storage::open(&url, None)
        .await
        .with_context(|| format!("opening storage {}", crate::secret::mask_url(&url)))
}

/// `wharf admin hash-password`: the argon2 hash of the password on standard input's
/// first line, for `[admin] password_hash`.
fn hash_password() -> anyhow::Result<()> {
    if std::io::stdin().is_terminal() {
        eprint!("Password (shown as you type; pipe it in to avoid that): ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.chars().count() < 8 {
        bail!("a password of at least 8 characters, please");
    }
    let hash = crate::config::AdminConfig::hash_password(password).map_err(anyhow::Error::msg)?;
    println!("{hash}");
    Ok(())
}

/// `wharf admin reload`: ask the bot serving the database to reload (as SIGHUP does).
async fn reload(config: &Config, who: &str) -> anyhow::Result<()> {
    crate::runtime::request_reload(&storage(config).await?, who).await?;
    println!(
        "Reload requested: the bot serving this database re-reads its config and plugins within about 2 seconds \
         (`wharf logs --plugin wharf --since 5m` shows how it went)."
    );
    Ok(())
}

/// `wharf admin disable|enable PLUGIN`.
async fn switch(config: &Config, verb: &str, plugin: &str, who: &str) -> anyhow::Result<()> {
    if !config.plugin_specs().iter().any(|s| s.name.as_str() == plugin) {
        bail!("no plugin {plugin} in the config");
    }
    let storage = storage(config).await?;
    if verb == "disable" {
        let version = storage.plugin_version(plugin).await?.unwrap_or_default();
        crate::runtime::disable_plugin(&storage, plugin, &version, who).await?;
        println!("{plugin} is disabled (kept across restarts); `wharf admin enable {plugin}` enables it.");
    } else if crate::runtime::enable_plugin(&storage, plugin, who).await? {
        println!("{plugin} is enabled again.");
    } else {
        println!("{plugin} was not disabled.");
    }
    Ok(())
}

async fn act(
    console: &Console,
    p: &PanelPlugin,
    action: &Item,
    req: &Request,
    who: &Who,
) -> anyhow::Result<super::Output> {
    // Check the parameters before asking, so a typo is not confirmed first.
    super::params::parse(action, &req.params)?;
    if !req.yes {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            bail!("{} · {} changes things: confirm with --yes", p.plugin, action.title);
        }
        let shown: Vec<String> = req.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        eprint!("Run {} · {} ({})? [y/N] ", p.plugin, action.title, shown.join(" "));
        std::io::stderr().flush()?;
        let mut answer = String::new();
        stdin.lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            bail!("not run");
        }
    }
    let request = req.request.clone().unwrap_or_else(Console::new_request);
    let out = console.act(&p.plugin, &action.name, &req.params, who, &request).await;
    out.with_context(|| format!("request {request} (retry with --request {request} to run it at most once)"))
}

fn find<'a>(plugins: &'a [PanelPlugin], name: &str) -> anyhow::Result<&'a PanelPlugin> {
    plugins.iter().find(|p| p.plugin == name).with_context(|| {
        let names: Vec<&str> = plugins.iter().map(|p| p.plugin.as_str()).collect();
        format!("no plugin {name} with admin views or actions (there are: {})", names.join(", "))
    })
}

/// Every plugin with its views and actions, one line each.
pub fn list(plugins: &[PanelPlugin]) -> String {
    if plugins.is_empty() {
        return "No plugin offers admin views or actions.\n".into();
    }
    let mut s = String::new();
    for p in plugins {
        let state = if p.disabled { " (disabled)" } else { "" };
        s.push_str(&format!("{} {}{state}\n", p.plugin, p.version));
        let views: Vec<&str> = p.spec.views.iter().map(|i| i.name.as_str()).collect();
        let actions: Vec<&str> = p.spec.actions.iter().map(|i| i.name.as_str()).collect();
        s.push_str(&format!("  views:   {}\n", if views.is_empty() { "-".into() } else { views.join(", ") }));
        s.push_str(&format!("  actions: {}\n", if actions.is_empty() { "-".into() } else { actions.join(", ") }));
    }
    s
}

/// One plugin's views and actions with their parameters.
pub fn describe(p: &PanelPlugin) -> String {
    let mut s = format!("{} {}\n", p.plugin, p.version);
    for (heading, items) in [("Views", &p.spec.views), ("Actions", &p.spec.actions)] {
        if items.is_empty() {
            continue;
        }
        s.push_str(&format!("\n{heading}:\n"));
        for i in items {
            s.push_str(&format!("  {} — {}\n", i.name, i.title));
            if !i.description.is_empty() {
                s.push_str(&format!("      {}\n", i.description));
            }
            for param in &i.params {
                let req = if param.required { ", required" } else { "" };
                let help = if param.help.is_empty() { String::new() } else { format!(" — {}", param.help) };
                s.push_str(&format!("      --{} ({}{req}){help}\n", param.name, kind(&param.kind)));
            }
        }
    }
    s
}

fn kind(k: &ParamKind) -> String {
    match k {
        ParamKind::Text => "text".into(),
        ParamKind::Integer => "integer".into(),
        ParamKind::Amount(d) => format!("amount, {d} decimals"),
        ParamKind::Date => "YYYY-MM-DD".into(),
        ParamKind::Choice(c) => format!("one of {}", c.join("|")),
        ParamKind::UserId => "user id".into(),
        ParamKind::Ids => "ids, comma-separated".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn flags_go_anywhere_and_the_rest_are_parameters() {
        let r = parse_args(&args("shop products --city Warsaw --json --config x.toml --ids=a,b --yes")).expect("ok");
        assert_eq!(r.words, ["shop", "products"]);
        assert_eq!(r.format, Format::Json);
        assert!(r.yes);
        assert_eq!(r.config, PathBuf::from("x.toml"));
        assert_eq!(r.params, [("city".to_owned(), "Warsaw".to_owned()), ("ids".to_owned(), "a,b".to_owned())]);
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(
            parse_args(&args("shop products --city")).is_err_and(|e| e.to_string().contains("--city needs a value"))
        );
        assert!(parse_args(&args("shop products extra")).is_err_and(|e| e.to_string().contains("--NAME VALUE")));
        assert!(parse_args(&args("--as bob")).is_err());
    }
}
