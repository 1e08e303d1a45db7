//! Diagnostics and business events.

use crate::host::log as raw;

pub use crate::bindings::wharf::bot::log::{BusinessEvent, Field, Level};

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

/// Builds a business event; [`Event::record`] hands it to the host.
#[derive(Debug, Clone)]
pub struct Event(BusinessEvent);

impl Event {
    /// A new event of `kind`, e.g. `purchase.succeeded`.
    pub fn new(kind: &str) -> Self {
        Self(BusinessEvent { kind: kind.into(), user_id: None, fields: Vec::new() })
    }

    /// The user concerned.
    pub fn user(mut self, user_id: i64) -> Self {
        self.0.user_id = Some(user_id);
        self
    }

    /// A field shown as is.
    pub fn field(mut self, key: &str, value: impl ToString) -> Self {
        self.0.fields.push(Field { key: key.into(), value: value.to_string(), secret: false });
        self
    }

    /// A field the host masks wherever it writes it.
    pub fn secret(mut self, key: &str, value: impl ToString) -> Self {
        self.0.fields.push(Field { key: key.into(), value: value.to_string(), secret: true });
        self
    }

    /// Record it; it commits with the turn (and is discarded with it).
    pub fn record(self) -> Result<(), crate::Error> {
        raw::event(&self.0).map_err(|e| match e {
            raw::Error::InvalidInput(m) => crate::Error::InvalidInput(m),
            raw::Error::AccessDenied => crate::Error::AccessDenied("business events from describe()".into()),
        })
    }
}
