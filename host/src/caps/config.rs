//! `wharf:bot/config`: the running plugin's own `[plugins.NAME.settings]`, as JSON, and
//! the bot's admins. Reading them has no effect, so it is always allowed (`describe()`
//! included) and the view needs no access decision.

use wasmtime::Result;
use wasmtime::component::{HasData, Linker};

use super::bindings::wharf::bot::config::{self as wit, Error, Host};
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
        Ok(self.state.host.admins.clone())
    }
}
