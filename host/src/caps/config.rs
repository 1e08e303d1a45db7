//! `wharf:bot/config`: the running plugin's own `[plugins.NAME.settings]`, as JSON.

use wasmtime::Result;

use super::PluginState;
use super::bindings::wharf::bot::config::Host;

impl Host for PluginState {
    async fn get(&mut self, key: String) -> Result<Option<String>> {
        Ok(self.current().spec.settings.get(&key).map(|v| v.to_string()))
    }

    async fn get_all(&mut self) -> Result<String> {
        Ok(self.current().settings_json.clone())
    }
}

impl super::bindings::wharf::bot::types::Host for PluginState {}
