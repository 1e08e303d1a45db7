//! `wharf:bot/config`: the running plugin's own `[plugins.NAME.settings]`, as JSON, the
//! bot's admins, the bot's own account (from `getMe`, once Telegram is connected) and
//! when the bot first saw a user (the `users` table). Reading them has no effect, so it
//! is always allowed (`describe()` included) and the view needs no access decision.

use wasmtime::Result;
use wasmtime::component::{HasData, Linker};

use super::bindings::wharf::bot::config::{self as wit, BotIdentity, Error, Host};
use super::{PluginState, Requirement};

/// `config` is always available.
pub(super) fn requirement(_func: &str) -> Requirement {
    Requirement::Nothing
}

/// `config` as the running plugin sees it in one host call.
pub(crate) struct Config<'a> {
    state: &'a mut PluginState,
}

impl PluginState {
    /// The `config` view for this host call.
    pub(super) fn config(&mut self) -> Config<'_> {
        Config { state: self }
    }
}

/// [`HasData`] for linking `config` to [`Config`] views.
pub(super) struct ConfigCap;

impl HasData for ConfigCap {
    type Data<'a> = Config<'a>;
}

/// Link `wharf:bot/config` (the current version) to [`Config`] views.
pub(super) fn add_to_linker(linker: &mut Linker<PluginState>) -> Result<()> {
    wit::add_to_linker::<_, ConfigCap>(linker, PluginState::config)
}

impl Host for Config<'_> {
    async fn get(&mut self, key: String) -> Result<std::result::Result<Option<String>, Error>> {
        if key.is_empty() || key.len() > 64 {
            return Ok(Err(Error::InvalidInput(format!("setting keys are 1-64 bytes, got {}", key.len()))));
        }
        Ok(Ok(self.state.current().spec.settings.get(&key).map(|v| v.to_string())))
    }

    async fn get_all(&mut self) -> Result<String> {
        Ok(self.state.current().settings_json.clone())
    }

    async fn admins(&mut self) -> Result<Vec<i64>> {
        Ok(self.state.host.admins.read().map(|a| a.clone()).unwrap_or_else(|e| e.into_inner().clone()))
    }

    async fn bot(&mut self) -> Result<Option<BotIdentity>> {
        Ok(self.state.host.live.identity().map(|i| BotIdentity { id: i.id, username: i.username }))
    }

    async fn user_first_seen(&mut self, user_id: i64) -> Result<Option<i64>> {
        // The turn's own users are recorded when it commits: a new user's first turn
        // reads none. A storage error aborts the attempt (the turn runs again), rather
        // than passing for "never seen".
        match self.state.host.storage.user_first_seen(user_id).await {
            Ok(at) => Ok(at),
            Err(e) => Err(self.state.fault(format_args!("config user-first-seen: {e}"))),
        }
    }
}
