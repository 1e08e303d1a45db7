//! `wharf:bot/config`: the running plugin's own `[plugins.NAME.settings]`, as JSON.

use wasmtime::Result;

use super::bindings::wharf::bot::config::{Error, Host};
use super::{PluginState, Requirement};

/// `config` is always available.
pub(super) fn requirement(_func: &str) -> Requirement {
    Requirement::Nothing
}

impl Host for PluginState {
    async fn get(&mut self, key: String) -> Result<std::result::Result<Option<String>, Error>> {
        if key.is_empty() || key.len() > 64 {
            return Ok(Err(Error::InvalidInput(format!("setting keys are 1-64 bytes, got {}", key.len()))));
        }
        Ok(Ok(self.current().spec.settings.get(&key).map(|v| v.to_string())))
    }

    async fn get_all(&mut self) -> Result<String> {
        Ok(self.current().settings_json.clone())
    }

    async fn admins(&mut self) -> Result<Vec<i64>> {
        Ok(self.host.admins.clone())
    }
}

impl super::bindings::wharf::bot::types::Host for PluginState {}
