//! `wharf chat`: the bot with the bundled emulator, driven from a terminal.
//!
//! Lines typed are sent as the current user; the bot's answers are printed with their
//! buttons numbered; typing a number presses that button of the newest message (other
//! numbers are sent as text). `/upload PATH [caption]` sends a local file as a document, `/as ID` switches user, `/admin` becomes the first
//! configured admin, `/quit` (or end of input) leaves.
//! Each line is handled to completion before the next one is read, so a piped script
//! gives the same output every time.

use std::io::Write;
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::config::Config;
use crate::telegram::Telegram;
use crate::telegram::emulator::{Emulator, Sent};
use crate::{Runtime, RuntimeOptions};

const TOKEN: &str = "0:local-chat";
/// The largest file `/upload` sends (Telegram's limit for bots downloading files).
const MAX_UPLOAD: u64 = 20 << 20;

/// Run a chat session reading `input` and writing to `out`.
pub async fn run<R, W>(config: &Config, input: R, mut out: W) -> anyhow::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: Write,
{
    let emu = Emulator::start(([127, 0, 0, 1], 0).into(), TOKEN).await.context("starting the emulator")?;
    let runtime = Runtime::start(config, RuntimeOptions::default()).await?;
    // The database remembers the last update id of earlier sessions: continue after it,
    // as Telegram would, or the new emulator's updates would be taken for old ones.
    let offset = runtime.storage().telegram_state("offset").await?.unwrap_or(0);
    emu.continue_after(offset);
    let mut tg_config = crate::config::TelegramConfig::polling(&emu.api_url());
    tg_config.limits = config.telegram.as_ref().map(|t| t.limits).unwrap_or_default();
    let tg = Telegram::start(runtime.link(), &tg_config, TOKEN).await?;
    settle(&runtime, None).await?;
    let admin = config.admins.first().copied();
    let mut user: i64 = 1;
    writeln!(
        out,
        "Wharf chat: you are user {user}. Type messages or /commands; a number presses a button of the last message; \
         /upload PATH [caption] sends a file; /as ID switches user{}; /quit leaves.",
        admin.map_or(String::new(), |a| format!(", /admin becomes admin {a}"))
    )?;
    // (message id, edits) of what was printed for the current user.
    let mut seen: Vec<(i32, u32)> = Vec::new();
    let mut answered = emu.answered().len();
    let mut lines = input.lines();
    while let Some(line) = lines.next_line().await? {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "/quit" {
            break;
        }
        if let Some(id) = line.strip_prefix("/as ") {
            match id.trim().parse() {
                Ok(id) => {
                    user = id;
                    seen = versions(&emu.sent(user));
                    writeln!(out, "-- you are user {user}")?;
                }
                Err(_) => writeln!(out, "-- /as takes a numeric user id")?,
            }
            continue;
        }
        if line == "/admin" {
            match admin {
                Some(a) => {
                    user = a;
                    seen = versions(&emu.sent(user));
                    writeln!(out, "-- you are admin {user}")?;
                }
                None => writeln!(out, "-- no admins are configured")?,
            }
            continue;
        }
        let upload_args = line.strip_prefix("/upload").filter(|r| r.is_empty() || r.starts_with(char::is_whitespace));
        let update_id = if let Some(rest) = upload_args {
            match upload(&emu, user, rest).await {
                Ok(id) => id,
                Err(e) => {
                    writeln!(out, "-- {e}")?;
                    continue;
                }
            }
        } else if let Some((message_id, _, data)) =
            line.parse::<usize>().ok().and_then(|n| buttons(&emu.sent(user)).get(n.wrapping_sub(1)).cloned())
        {
            emu.press(user, message_id, &data)
        } else {
            emu.send_text(user, line)
        };
        settle(&runtime, Some(update_id)).await?;
        let sent = emu.sent(user);
        // New messages, and messages the bot edited (menus change in place).
        let fresh: Vec<&Sent> =
            sent.iter().filter(|m| !m.deleted && !seen.contains(&(m.message_id, m.edits))).collect();
        for m in &fresh {
            let text = if m.parse_mode.as_deref() == Some("HTML") { plain(&m.text) } else { m.text.clone() };
            let edited = if seen.iter().any(|(id, _)| *id == m.message_id) { " (edited)" } else { "" };
            match &m.photo {
                Some(photo) => writeln!(out, "bot{edited}: [photo {photo}] {text}")?,
                None => writeln!(out, "bot{edited}: {text}")?,
            }
        }
        let new_keyboard = fresh.iter().any(|m| m.reply_markup.is_some());
        seen = versions(&sent);
        let answers = emu.answered();
        for (_, text) in answers.iter().skip(answered) {
            if let Some(t) = text {
                writeln!(out, "bot (popup): {t}")?;
            }
        }
        answered = answers.len();
        let choices = buttons(&sent);
        if new_keyboard && !choices.is_empty() {
            let labels: Vec<String> =
                choices.iter().enumerate().map(|(i, (_, label, _))| format!("[{}] {label}", i + 1)).collect();
            writeln!(out, "     {}", labels.join("  "))?;
        }
        out.flush()?;
    }
    tg.stop().await;
    runtime.shutdown().await;
    Ok(())
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

fn versions(sent: &[Sent]) -> Vec<(i32, u32)> {
    sent.iter().map(|m| (m.message_id, m.edits)).collect()
}

/// Telegram HTML as a terminal shows it: strike-through as `~text~`, other tags
/// dropped, entities decoded.
fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let tag = &rest[start + 1..start + end];
        if matches!(tag, "s" | "/s" | "del" | "/del" | "strike" | "/strike") {
            out.push('~');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&")
}

/// Buttons of the latest message with a keyboard: (message id, label, callback data).
fn buttons(sent: &[Sent]) -> Vec<(i32, String, String)> {
    // Only the newest message's keyboard: after a question without buttons, numbers are text.
    let Some(m) = sent.iter().rev().find(|m| !m.deleted) else { return Vec::new() };
    let Some(rows) = m.reply_markup.as_ref().and_then(|r| r["inline_keyboard"].as_array()) else { return Vec::new() };
    rows.iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|b| {
            let label = b["text"].as_str()?.to_owned();
            let data = b["callback_data"].as_str()?.to_owned();
            Some((m.message_id, label, data))
        })
        .collect()
}

/// Wait until update `update_id` is in the inbox (the stored offset passed it), was
/// handled, and its messages were sent.
async fn settle(runtime: &Runtime, update_id: Option<i64>) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    if let Some(id) = update_id {
        while runtime.storage().telegram_state("offset").await?.unwrap_or(0) <= id {
            anyhow::ensure!(std::time::Instant::now() < deadline, "the update was not received within 60 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    loop {
        runtime.wait_idle(Duration::from_secs(60)).await?;
        if runtime.storage().outbox(None).await?.is_empty() {
            return Ok(());
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "the bot did not settle within 60 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_reads_as_plain_text() {
        assert_eq!(
            super::plain("<b>Price</b>: <s>100 PLN</s> 80 PLN −20% &lt;3 &amp; co"),
            "Price: ~100 PLN~ 80 PLN −20% <3 & co"
        );
        assert_eq!(super::plain("a < b"), "a < b");
    }
}
