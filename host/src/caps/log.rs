//! `wharf:bot/log`: diagnostics go straight to `tracing` (target `wharf.plugin`), one
//! record per call with control characters escaped, so no line can be forged;
//! business events are buffered with the turn. Secret fields are masked either way.

use wasmtime::Result;
use wasmtime::component::{HasData, Linker};

use super::bindings::wharf::bot::log::{
    self as wit, BusinessEvent, Error, EventField, Field, Host, Level, Reveal, TitledEvent,
};
use super::{Access, PluginState, Requirement};
use crate::config::LogLevel;
use crate::secret::{MASK, mask_middle};
use crate::storage::NewLogEvent;

const MAX_MESSAGE: usize = 2048;
const MAX_FIELDS: usize = 32;
const MAX_FIELD: usize = 512;
const MAX_TITLE: usize = 128;
const MAX_EMOJI: usize = 8;

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

fn render_fields(fields: &[Field]) -> Vec<(String, String)> {
    fields
        .iter()
        .take(MAX_FIELDS)
        .map(|f| {
            let value = if f.secret { MASK } else { clip(&f.value, MAX_FIELD) };
            (clip(&f.key, 64).to_owned(), value.to_owned())
        })
        .collect()
}

/// A titled event's fields with their reveal rules applied.
fn reveal_fields(fields: &[EventField]) -> Vec<(String, String)> {
    fields
        .iter()
        .take(MAX_FIELDS)
        .map(|f| {
            let value = match f.reveal {
                Reveal::All => clip(&f.value, MAX_FIELD).to_owned(),
                Reveal::None => MASK.to_owned(),
                Reveal::Ends(e) => mask_middle(clip(&f.value, MAX_FIELD), e.head.into(), e.tail.into()),
            };
            (one_line(&f.key, 64).unwrap_or_else(|| "field".into()), value)
        })
        .collect()
}

fn log_level(level: Level) -> LogLevel {
    match level {
        Level::Trace => LogLevel::Trace,
        Level::Debug => LogLevel::Debug,
        Level::Info => LogLevel::Info,
        Level::Warn => LogLevel::Warn,
        Level::Error => LogLevel::Error,
    }
}

/// `text` clipped to `max` characters, on one line.
fn one_line(text: &str, max: usize) -> Option<String> {
    let text: String = text.chars().filter(|c| !crate::validate::is_unsafe_char(*c)).take(max).collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
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
        Log { access: self.write_access(requirement("event")), quotas: self.host.quotas.log, state: self }
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
        let fields: serde_json::Map<_, _> =
            render_fields(&fields).into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
        let fields = serde_json::Value::Object(fields).to_string();
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
        let fields = render_fields(&event.fields)
            .into_iter()
            .map(|(k, v)| (one_line(&k, 64).unwrap_or_else(|| "field".into()), v))
            .collect();
        Ok(self.record(NewLogEvent {
            plugin: String::new(),
            kind: clip(&event.kind, 64).to_owned(),
            level: LogLevel::Info,
            title: None,
            emoji: None,
            user_id: event.user_id,
            fields,
        }))
    }

    async fn record_event(&mut self, event: TitledEvent) -> Result<std::result::Result<(), Error>> {
        Ok(self.record(NewLogEvent {
            plugin: String::new(),
            kind: clip(&event.kind, 64).to_owned(),
            level: log_level(event.level),
            title: one_line(&event.title, MAX_TITLE),
            emoji: one_line(&event.emoji, MAX_EMOJI),
            user_id: event.user_id,
            fields: reveal_fields(&event.fields),
        }))
    }
}

impl Log<'_> {
    /// Buffer `event` with the turn, as the running plugin's, within the turn's quota.
    fn record(&mut self, mut event: NewLogEvent) -> std::result::Result<(), Error> {
        if self.access.check(self.state.current().name(), "").is_err() {
            return Err(Error::AccessDenied);
        }
        let max = self.quotas.max_turn_log_events;
        let s = &mut *self.state;
        if s.turn.totals(&s.call).log >= max {
            return Err(Error::InvalidInput(format!("a turn may record at most {max} business events")));
        }
        event.plugin = s.current().name().to_string();
        s.call.log.push(event);
        Ok(())
    }
}
