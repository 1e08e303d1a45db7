//! Typed access to the plugin's `[plugins.NAME.settings]` table, and what the host knows
//! about the bot: its admins, its own Telegram account, when it first saw a user.

use serde::de::DeserializeOwned;

use crate::Error;
use crate::host::config as raw;

pub use crate::bindings::wharf::bot::config::BotIdentity;

/// All settings, decoded into `T` (a struct with `#[derive(Deserialize)]`).
///
/// An error names the setting at fault as ``setting `KEY`: …`` (``setting
/// `methods[0].name`: …`` inside a list or table); the host reads that form when
/// `describe()` fails on it and points the operator at the key's line and column in
/// `config.toml`. So a plugin that checks its settings in `describe()` (and panics with
/// this error) gets typos and wrong types reported where they are.
pub fn all<T>() -> Result<T, Error>
where
    T: DeserializeOwned,
{
    let json = raw::get_all();
    let mut de = serde_json::Deserializer::from_str(&json);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let reason = without_position(&e.into_inner());
        match path.as_str() {
            "." => Error::InvalidInput(format!("settings: {reason}")),
            key => Error::InvalidInput(format!("setting `{key}`: {reason}")),
        }
    })
}

/// A JSON error's message without "at line 1 column 27": positions in the JSON the host
/// made mean nothing to whoever wrote `config.toml`.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// One setting decoded into `T`, or `None` when it is not set.
pub fn get<T>(key: &str) -> Result<Option<T>, Error>
where
    T: DeserializeOwned,
{
    let found = raw::get(key).map_err(|raw::Error::InvalidInput(m)| Error::InvalidInput(m))?;
    let Some(json) = found else {
        return Ok(None);
    };
    serde_json::from_str(&json)
        .map(Some)
        .map_err(|e| Error::InvalidInput(format!("setting `{key}`: {}", without_position(&e))))
}

/// Telegram user ids of the bot's admins (`admins` in `config.toml`), e.g. to tell them
/// about a request that needs a decision.
pub fn admins() -> Vec<i64> {
    raw::admins()
}

/// The bot's own Telegram account (id and username, as `getMe` reported them), once the
/// host is connected to Telegram; `None` before that and when it runs without Telegram.
/// E.g. for deep links: `https://t.me/{username}?start=PAYLOAD`.
pub fn bot() -> Option<BotIdentity> {
    raw::bot()
}

/// When the bot first saw `user_id` in a private chat (a message, button press or member
/// update there), in Unix milliseconds; `None` for a user never seen before this turn.
/// The host records a turn's users when the turn commits, so while a new user's first
/// update is handled this is still `None`: that tells a new user from a returning one
/// (e.g. whether `/start PAYLOAD` is their first contact).
pub fn user_first_seen(user_id: i64) -> Option<i64> {
    raw::user_first_seen(user_id)
}
