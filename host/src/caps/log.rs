//! `wharf:bot/log`: diagnostics go straight to `tracing` (target `wharf.plugin`), one
//! record per call with control characters escaped, so no line can be forged;
//! business events are buffered with the turn. Secret fields are masked either way.

use wasmtime::Result;

use super::bindings::wharf::bot::log::{BusinessEvent, Error, Field, Host, Level};
use super::{PluginState, Requirement};
use crate::secret::MASK;
use crate::storage::NewLogEvent;

const MAX_MESSAGE: usize = 2048;
const MAX_FIELDS: usize = 32;
const MAX_FIELD: usize = 512;

fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn render_fields(fields: &[Field]) -> serde_json::Map<String, serde_json::Value> {
    fields
        .iter()
        .take(MAX_FIELDS)
        .map(|f| {
            let value = if f.secret { MASK } else { clip(&f.value, MAX_FIELD) };
            (clip(&f.key, 64).to_owned(), serde_json::Value::String(value.to_owned()))
        })
        .collect()
}

/// `log` is always available.
pub(super) fn requirement(_func: &str) -> Requirement {
    Requirement::Nothing
}

impl Host for PluginState {
    async fn write(&mut self, level: Level, message: String, fields: Vec<Field>) -> Result<()> {
        if !self.take_log_line() {
            return Ok(());
        }
        let plugin = self.current().name().to_string();
        // One record per call: a newline or control character cannot start a forged line.
        let message = crate::validate::escape_controls(clip(&message, MAX_MESSAGE));
        let fields = serde_json::Value::Object(render_fields(&fields)).to_string();
        match level {
            Level::Trace => tracing::trace!(target: "wharf.plugin", %plugin, %fields, "{message}"),
            Level::Debug => tracing::debug!(target: "wharf.plugin", %plugin, %fields, "{message}"),
            Level::Info => tracing::info!(target: "wharf.plugin", %plugin, %fields, "{message}"),
            Level::Warn => tracing::warn!(target: "wharf.plugin", %plugin, %fields, "{message}"),
            Level::Error => tracing::error!(target: "wharf.plugin", %plugin, %fields, "{message}"),
        }
        Ok(())
    }

    async fn event(&mut self, event: BusinessEvent) -> Result<std::result::Result<(), Error>> {
        if self.describing {
            return Ok(Err(Error::AccessDenied));
        }
        let max = self.host.quotas.max_turn_log_events;
        if self.turn.totals(&self.call).log >= max {
            return Ok(Err(Error::InvalidInput(format!("a turn may record at most {max} business events"))));
        }
        let plugin = self.current().name().to_string();
        self.call.log.push(NewLogEvent {
            plugin,
            kind: clip(&event.kind, 64).to_owned(),
            user_id: event.user_id,
            fields: serde_json::Value::Object(render_fields(&event.fields)).to_string(),
        });
        Ok(Ok(()))
    }
}
