//! `wharf chat`: the bot with the bundled emulator, driven from a terminal.
//!
//! Lines typed are sent as the current user (user 1 at first). Everything the bot does
//! is printed as the emulator receives it, in every chat, also while nobody types (a
//! timer's message, a notice to another user): `screen.rs` describes the format, the
//! per-user "seen" state and how buttons are numbered.
//!
//! | typed | does |
//! |---|---|
//! | `N` | presses the button printed as `[N]` for the current user; a number no button has is sent as text |
//! | `TEXT <<<` … `>>>` | sends the lines between as one message (`TEXT`, if any, is its first line): `/import <<<` |
//! | `\TEXT` | sends `TEXT` as it is (`\2`, `\/as`) |
//! | `/upload PATH [caption]` | sends a local file as a document |
//! | `/as ID`, `/admin` | switches user (to the first configured admin) and prints what they missed; as the admin, `/admin` opens the bot's admin menu |
//! | `/chain …` | acts on the local blockchains, when a plugin watches one (see `chain.rs`) |
//! | `/quit`, end of input | leaves |
//!
//! Each line is handled to completion (the bot idle, its messages delivered) before the
//! next one is read, and what arrived meanwhile is printed in a fixed order (the current
//! user's chat, then the other chats by id), so a piped script gives the same output
//! every time. A message on [`Options::reloads`] (SIGHUP in `wharf chat`) reloads the
//! plugins, as in `wharf run`, and says what changed.

mod chain;
mod input;
mod screen;

use std::io::Write;
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::AsyncBufRead;
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::config::Config;
use crate::telegram::Telegram;
use crate::telegram::emulator::Emulator;
use crate::{Runtime, RuntimeOptions};
use input::{BLOCK_END, BLOCK_START, Input, Reader};
use screen::Screen;

const TOKEN: &str = "0:local-chat";
/// The largest file `/upload` sends (Telegram's limit for bots downloading files).
const MAX_UPLOAD: u64 = 20 << 20;
/// How long one typed line may take to be handled.
const SETTLE: Duration = Duration::from_secs(60);

/// How a chat session runs.
#[derive(Debug)]
pub struct Options {
    /// Host clock (a manual one in tests).
    pub clock: Clock,
    /// Each message reloads the plugins (`wharf chat` sends one per SIGHUP).
    pub reloads: Option<mpsc::Receiver<()>>,
}

impl Default for Options {
    fn default() -> Self {
        Self { clock: Clock::system(), reloads: None }
    }
}

/// Run a chat session reading `input` and writing to `out`, on the system clock.
pub async fn run<R, W>(config: &Config, input: R, out: W) -> anyhow::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: Write,
{
    run_with(config, Options::default(), input, out).await
}

/// What woke the session up.
enum Wake {
    Input(std::io::Result<Option<Input>>),
    Changed,
    Reload,
}

/// Run a chat session with `opts`, reading `input` and writing to `out`.
pub async fn run_with<R, W>(config: &Config, opts: Options, input: R, mut out: W) -> anyhow::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: Write,
{
    let emu = Emulator::start(([127, 0, 0, 1], 0).into(), TOKEN).await.context("starting the emulator")?;
    // Plugins that watch a blockchain watch local ones instead.
    let mut config = config.clone();
    let chains = chain::Chains::start(&mut config).await?;
    let config = &config;
    let runtime = Runtime::start(config, RuntimeOptions { clock: opts.clock, ..RuntimeOptions::default() }).await?;
    // The database remembers the last update id of earlier sessions: continue after it,
    // as Telegram would, or the new emulator's updates would be taken for old ones.
    let offset = runtime.storage().telegram_state("offset").await?.unwrap_or(0);
    emu.continue_after(offset);
    let mut tg_config = crate::config::TelegramConfig::polling(&emu.api_url());
    tg_config.limits = config.telegram.as_ref().map(|t| t.limits).unwrap_or_default();
    let tg = Telegram::start(runtime.link(), &tg_config, TOKEN).await?;
    settle(&runtime, None).await?;
    let admin = config.admins.first().copied();
    let mut reloads = opts.reloads;
    welcome(&mut out, admin, reloads.is_some(), !chains.is_empty())?;
    let mut screen = Screen::default();
    let mut reader = Reader::new(input);
    let mut user: i64 = 1;
    loop {
        let changed = emu.changed();
        screen.catch_up(&emu, user, &mut out)?;
        out.flush()?;
        // While a message of several lines is typed, live output waits for its end.
        let wake = tokio::select! {
            next = reader.next() => Wake::Input(next),
            () = changed, if !reader.in_block() => Wake::Changed,
            () = next_reload(&mut reloads) => Wake::Reload,
        };
        let typed = match wake {
            Wake::Changed => continue,
            Wake::Reload => {
                reload(&runtime, &mut out).await?;
                continue;
            }
            Wake::Input(next) => next?,
        };
        let Some(typed) = typed else { break };
        let update_id = match typed {
            Input::Quit => break,
            Input::Unclosed(lines) => {
                writeln!(out, "-- the input ended inside a message of {lines} line(s) (no {BLOCK_END}); not sent")?;
                break;
            }
            Input::As(None) => {
                writeln!(out, "-- /as takes a user id (a positive number)")?;
                continue;
            }
            Input::As(Some(id)) => {
                user = id;
                switch(&mut screen, &emu, user, &format!("user {user}"), &mut out)?;
                continue;
            }
            // As the admin already, `/admin` is the bot's: its menu of plugins' views
            // and actions.
            Input::Admin if admin == Some(user) => {
                screen.retire(user);
                emu.send_text(user, "/admin")
            }
            Input::Admin => {
                match admin {
                    Some(a) => {
                        user = a;
                        switch(&mut screen, &emu, user, &format!("admin {user}"), &mut out)?;
                    }
                    None => writeln!(out, "-- no admins are configured")?,
                }
                continue;
            }
            Input::Upload(args) => match upload(&emu, user, &args).await {
                Ok(id) => {
                    screen.retire(user);
                    id
                }
                Err(e) => {
                    writeln!(out, "-- {e}")?;
                    continue;
                }
            },
            Input::Number(n) => match screen.button(user, n) {
                Some((message_id, data)) => emu.press(user, message_id, &data),
                None => {
                    if screen.has_buttons(user) {
                        writeln!(out, "-- no button [{n}] is shown for you: sent {n} as text")?;
                    }
                    screen.retire(user);
                    emu.send_text(user, &n.to_string())
                }
            },
            Input::Chain(args) if !chains.is_empty() => {
                for line in chains.command(&runtime, user, &args).await? {
                    writeln!(out, "-- {line}")?;
                }
                settle(&runtime, None).await?;
                continue;
            }
            Input::Chain(args) => {
                screen.retire(user);
                emu.send_text(user, format!("/chain {args}").trim_end())
            }
            Input::Text(text) => {
                screen.retire(user);
                emu.send_text(user, &text)
            }
        };
        settle(&runtime, Some(update_id)).await?;
    }
    tg.stop().await;
    runtime.shutdown().await;
    Ok(())
}

fn welcome(out: &mut impl Write, admin: Option<i64>, reloads: bool, chains: bool) -> std::io::Result<()> {
    writeln!(
        out,
        "Wharf chat: you are user 1. Type a message or a /command; what the bot sends appears as it arrives."
    )?;
    writeln!(out, "  N             press the button shown as [N] (a number no button has is sent as text)")?;
    writeln!(
        out,
        "  TEXT {BLOCK_START}      start a message of several lines (e.g. /import {BLOCK_START}); a line {BLOCK_END} sends it"
    )?;
    writeln!(out, "  \\TEXT         send TEXT as it is (e.g. \\2 or \\/as)")?;
    writeln!(out, "  /upload PATH [caption]   send a local file as a document")?;
    match admin {
        Some(a) => writeln!(
            out,
            "  /as ID        switch user (prints what they missed); /admin becomes admin {a} (as them: the admin menu)"
        )?,
        None => writeln!(out, "  /as ID        switch user (prints what they missed)")?,
    }
    if chains {
        writeln!(out, "  /chain pay AMOUNT COIN | /chain mine [N] | /chain reorg N   act on the local blockchains")?;
    }
    if reloads {
        writeln!(out, "  kill -HUP {}  reload the plugins", std::process::id())?;
    }
    writeln!(out, "  /quit         leave (so does the end of the input)")
}

/// Become `user` and print what they missed.
fn switch(screen: &mut Screen, emu: &Emulator, user: i64, who: &str, out: &mut impl Write) -> std::io::Result<()> {
    let missed = screen.missed(emu, user);
    match missed.len() {
        0 => writeln!(out, "-- you are {who}")?,
        1 => writeln!(out, "-- you are {who}; 1 message you have not seen:")?,
        n => writeln!(out, "-- you are {who}; {n} messages you have not seen:")?,
    }
    for m in &missed {
        screen.print(user, m, user, out)?;
    }
    Ok(())
}

/// The next reload request; never, without a channel or once it is closed.
async fn next_reload(reloads: &mut Option<mpsc::Receiver<()>>) {
    if let Some(rx) = reloads.as_mut() {
        if rx.recv().await.is_some() {
            return;
        }
        *reloads = None;
    }
    std::future::pending().await
}

/// Reload the plugins and say what changed.
async fn reload(runtime: &Runtime, out: &mut impl Write) -> std::io::Result<()> {
    match runtime.reload().await {
        Ok(report) => {
            tracing::info!(target: "wharf.reload", swapped = ?report.swapped, rejected = report.rejected.len(), "chat reload");
            if report.swapped.is_empty() {
                writeln!(out, "-- reloaded: no plugin changed")?;
            } else {
                writeln!(out, "-- reloaded: {}", report.swapped.join(", "))?;
            }
            for (plugin, why) in &report.rejected {
                let why = crate::validate::escape_controls(why);
                writeln!(out, "-- the new {plugin} was rejected (the old one keeps serving): {why}")?;
            }
        }
        Err(e) => {
            tracing::error!(target: "wharf.reload", error = %format!("{e:#}"), "chat reload failed");
            writeln!(out, "-- reload failed: {e:#}")?;
        }
    }
    out.flush()
}

/// `/upload PATH [caption]`: send the local file at PATH as a document from `user`.
async fn upload(emu: &Emulator, user: i64, args: &str) -> Result<i64, String> {
    let args = args.trim();
    let (path, caption) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    if path.is_empty() {
        return Err("/upload takes a file path and an optional caption".into());
    }
    let path = std::path::Path::new(path);
    let len = tokio::fs::metadata(path).await.map_err(|e| format!("cannot read {}: {e}", path.display()))?.len();
    if len > MAX_UPLOAD {
        return Err(format!("{} is {len} bytes; at most {MAX_UPLOAD}", path.display()));
    }
    let bytes = tokio::fs::read(path).await.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let caption = Some(caption.trim()).filter(|c| !c.is_empty());
    Ok(emu.send_document(user, &name, bytes, caption))
}

/// Wait until update `update_id` is in the inbox (the stored offset passed it), was
/// handled, and its messages were sent.
async fn settle(runtime: &Runtime, update_id: Option<i64>) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + SETTLE;
    if let Some(id) = update_id {
        while runtime.storage().telegram_state("offset").await?.unwrap_or(0) <= id {
            anyhow::ensure!(std::time::Instant::now() < deadline, "the update was not received within {SETTLE:?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    loop {
        runtime.wait_idle(SETTLE).await?;
        if runtime.storage().outbox(None).await?.is_empty() {
            return Ok(());
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "the bot did not settle within {SETTLE:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
