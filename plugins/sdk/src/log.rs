//! Diagnostics and business events.

use crate::host::log as raw;

pub use crate::bindings::wharf::bot::log::{BusinessEvent, Ends, EventField, Field, Level, Reveal, TitledEvent};

/// Write a diagnostic line at `level` with fields (e.g. `Field { key: "order".into(),
/// value: id.to_string(), secret: false }`). Lines are written at once, even if the turn
/// is later discarded; long ones are truncated.
pub fn write(level: Level, message: &str, fields: &[Field]) {
    raw::write(level, message, fields);
}

/// Log a diagnostic line at `debug`.
pub fn debug(message: &str) {
    raw::write(Level::Debug, message, &[]);
}

/// Log a diagnostic line at `info`.
pub fn info(message: &str) {
    raw::write(Level::Info, message, &[]);
}

/// Log a diagnostic line at `warn`.
pub fn warn(message: &str) {
    raw::write(Level::Warn, message, &[]);
}

/// Log a diagnostic line at `error`.
pub fn error(message: &str) {
    raw::write(Level::Error, message, &[]);
}

/// Builds a business event; [`Event::record`] hands it to the host, which commits it with
/// the turn into the event log and feeds the admin log channel.
///
/// ```no_run
/// # fn main() -> Result<(), wharf_sdk::Error> {
/// use wharf_sdk::log::Event;
/// Event::new("purchase.succeeded")
///     .title("Purchase successful")
///     .emoji("🛒")
///     .user(42)
///     .field("product", "Widget")
///     .partial("payment_ref", "PAYREF-2026-000123", 4, 4) // shown as PAYR•••0123
///     .secret("code", "SECRET-CODE")                      // never shown
///     .record()
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Event(TitledEvent);

impl Event {
    /// A new event of `kind`, e.g. `purchase.succeeded` (level info, no title: the channel
    /// then shows the kind).
    pub fn new(kind: &str) -> Self {
        Self(TitledEvent {
            kind: kind.into(),
            title: String::new(),
            emoji: String::new(),
            level: Level::Info,
            user_id: None,
            fields: Vec::new(),
        })
    }

    /// Its title in the admin log channel, e.g. "Purchase successful" (at most 128
    /// characters; a per-kind override in `[log_sink.titles]` wins).
    pub fn title(mut self, title: &str) -> Self {
        self.0.title = title.into();
        self
    }

    /// The emoji in front of the title (the level's when not set).
    pub fn emoji(mut self, emoji: &str) -> Self {
        self.0.emoji = emoji.into();
        self
    }

    /// Its severity (info when not set): `[log_sink] min_level` filters on it.
    pub fn level(mut self, level: Level) -> Self {
        self.0.level = level;
        self
    }

    /// The user concerned.
    pub fn user(mut self, user_id: i64) -> Self {
        self.0.user_id = Some(user_id);
        self
    }

    fn push(mut self, key: &str, value: String, reveal: Reveal) -> Self {
        self.0.fields.push(EventField { key: key.into(), value, reveal });
        self
    }

    /// A field shown as is.
    pub fn field(self, key: &str, value: impl ToString) -> Self {
        self.push(key, value.to_string(), Reveal::All)
    }

    /// A field the host masks wherever it writes it.
    pub fn secret(self, key: &str, value: impl ToString) -> Self {
        self.push(key, value.to_string(), Reveal::None)
    }

    /// A field of which only the first `head` and last `tail` characters are shown (at
    /// most 8 each; all of it is masked when that would show half of it or more).
    pub fn partial(self, key: &str, value: impl ToString, head: u8, tail: u8) -> Self {
        self.push(key, value.to_string(), Reveal::Ends(Ends { head, tail }))
    }

    /// Record it; it commits with the turn (and is discarded with it).
    pub fn record(self) -> Result<(), crate::Error> {
        raw::record_event(&self.0).map_err(|e| match e {
            raw::Error::InvalidInput(m) => crate::Error::InvalidInput(m),
            raw::Error::AccessDenied => crate::Error::AccessDenied("business events from describe()".into()),
        })
    }
}
