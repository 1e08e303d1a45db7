//! Typed access to the plugin's `[plugins.NAME.settings]` table.

use serde::de::DeserializeOwned;

use crate::Error;
use crate::host::config as raw;

/// All settings, decoded into `T` (a struct with `#[derive(Deserialize)]`).
pub fn all<T>() -> Result<T, Error>
where
    T: DeserializeOwned,
{
    serde_json::from_str(&raw::get_all()).map_err(|e| Error::InvalidInput(format!("plugin settings: {e}")))
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
    serde_json::from_str(&json).map(Some).map_err(|e| Error::InvalidInput(format!("setting {key:?}: {e}")))
}

/// Telegram user ids of the bot's admins (`admins` in `config.toml`), e.g. to tell them
/// about a request that needs a decision.
pub fn admins() -> Vec<i64> {
    raw::admins()
}
