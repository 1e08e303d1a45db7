//! `[bot]`: what the host itself says to users, so the bot is never silent.
//!
//! ```toml
//! [bot]
//! fallback = "help"            # a private message nobody answered gets the /help text; or "silent"
//! [bot.start]                  # /start greets with this text and buttons (plugins still get /start)
//! text = "Welcome! What would you like to do?"
//! buttons = [[{ text = "🛒 Shop", command = "shop" }, { text = "💰 Wallet", command = "wallet" }]]
//! ```

use serde::Deserialize;

/// `[bot]`.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct BotConfig {
    /// What a private message that no plugin answered gets (an unknown command, `/start`,
    /// anything else).
    #[serde(default)]
    pub fallback: Fallback,
    /// The `/start` greeting; without it `/start` goes to the plugins only.
    pub start: Option<StartConfig>,
}

/// `[bot] fallback`.
#[derive(Debug, Deserialize, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Fallback {
    /// The help text (after "Sorry, I didn't understand that."); an unknown command gets
    /// a pointer to `/help`.
    #[default]
    Help,
    /// Nothing: the host answers only `/help` and admin-only commands of non-admins.
    Silent,
}

/// `[bot.start]`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct StartConfig {
    /// The greeting (plain text, at most 4,096 characters).
    pub text: String,
    /// Rows of buttons; each runs a plugin's command as if the user had typed it.
    #[serde(default)]
    pub buttons: Vec<Vec<StartButton>>,
}

/// One greeting button.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct StartButton {
    /// The label.
    pub text: String,
    /// The command it runs, without the slash (e.g. `shop`).
    pub command: String,
}

impl BotConfig {
    /// Lengths and names Telegram and the router accept.
    pub(super) fn check(&self) -> Result<(), String> {
        let Some(start) = &self.start else { return Ok(()) };
        let n = start.text.chars().count();
        if start.text.trim().is_empty() || n > 4096 {
            return Err(format!("[bot.start] text must be 1-4096 characters and not blank, got {n}"));
        }
        if start.buttons.len() > 8 || start.buttons.iter().any(|row| row.is_empty() || row.len() > 8) {
            return Err("[bot.start] buttons: at most 8 rows of 1-8 buttons".into());
        }
        for b in start.buttons.iter().flatten() {
            let label = b.text.chars().count();
            if b.text.trim().is_empty() || label > 64 {
                return Err(format!("[bot.start] button text must be 1-64 characters, got {:?}", b.text));
            }
            let ok = !b.command.is_empty()
                && b.command.len() <= 32
                && b.command.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_');
            if !ok {
                return Err(format!(
                    "[bot.start] button {:?}: command {:?} must be a command name without the slash \
                     (1-32 characters of a-z, 0-9, _)",
                    b.text, b.command
                ));
            }
        }
        Ok(())
    }
}
