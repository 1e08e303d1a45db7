//! `wharf:bot/log`: diagnostics go straight to `tracing` (target `wharf.plugin`), one
//! record per call with control characters escaped, so no line can be forged;
//! business events are buffered with the turn. Secret fields are masked either way.

use wasmtime::Result;
use wasmtime::component::{HasData, Linker};

use super::bindings::wharf::bot::log::{self as wit, BusinessEvent, Error, Field, Host, Level};
use super::{Access, PluginState, Requirement};
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

/// Limits on what one call or turn may log.
#[derive(Clone, Copy, Debug)]
pub struct LogQuotas {
    /// Most business events by one turn.
    pub max_turn_log_events: usize,
    /// Most diagnostic lines per call (the rest are dropped and counted).
    pub max_call_log_lines: usize,
}

impl Default for LogQuotas {
    fn default() -> Self {
        Self { max_turn_log_events: 100, max_call_log_lines: 100 }
    }
}

/// `log` is always available.
pub(super) fn requirement(_func: &str) -> Requirement {
    Requirement::Nothing
}

/// `log` as the running plugin may use it in one host call. Diagnostics are always
/// allowed; business events (an effect of the turn) are not in `describe()`.
pub(crate) struct Log<'a> {
    state: &'a mut PluginState,
    access: Access,
    quotas: LogQuotas,
}

impl PluginState {
    /// The `log` view for this host call.
    pub(super) fn log(&mut self) -> Log<'_> {
        Log { access: self.access(requirement("event")), quotas: self.host.quotas.log, state: self }
    }
}

/// [`HasData`] for linking `log` to [`Log`] views.
pub(super) struct LogCap;

impl HasData for LogCap {
    type Data<'a> = Log<'a>;
}

/// Link `wharf:bot/log` (the current version) to [`Log`] views.
pub(super) fn add_to_linker(linker: &mut Linker<PluginState>) -> Result<()> {
    wit::add_to_linker::<_, LogCap>(linker, PluginState::log)
}

impl Log<'_> {
    /// Count a diagnostic line; `false` when it is over the call's quota (and dropped).
    fn take_line(&mut self) -> bool {
        let s = &mut *self.state;
        s.log_lines += 1;
        if s.log_lines > self.quotas.max_call_log_lines {
            s.dropped_log_lines += 1;
            return false;
        }
        true
    }
}

impl Host for Log<'_> {
    async fn write(&mut self, level: Level, message: String, fields: Vec<Field>) -> Result<()> {
        if !self.take_line() {
            return Ok(());
        }
        let plugin = self.state.current().name().to_string();
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
        if self.access.check(self.state.current().name(), "").is_err() {
            return Ok(Err(Error::AccessDenied));
        }
        let max = self.quotas.max_turn_log_events;
        let s = &mut *self.state;
        if s.turn.totals(&s.call).log >= max {
            return Ok(Err(Error::InvalidInput(format!("a turn may record at most {max} business events"))));
        }
        let plugin = s.current().name().to_string();
        s.call.log.push(NewLogEvent {
            plugin,
            kind: clip(&event.kind, 64).to_owned(),
            user_id: event.user_id,
            fields: serde_json::Value::Object(render_fields(&event.fields)).to_string(),
        });
        Ok(Ok(()))
    }
}
