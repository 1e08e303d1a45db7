//! One error type for the SDK helpers, convertible into the handler's error with `?`.

use std::fmt;

use crate::HandlerError;
use crate::bindings::wharf::bot::{events, http, kv, scheduler, telegram};

/// An error from an SDK helper or a host capability.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The host refused: the plugin lacks a grant.
    AccessDenied(String),
    /// Something passed to the host or read back was invalid.
    InvalidInput(String),
    /// A service the host reaches for the plugin (Telegram for member lookups and file
    /// downloads) cannot be reached now; trying again later may work.
    Unavailable(String),
    /// A budget across turns is used up (the plugin's KV quota, or its rate of timers,
    /// events or messages); the text names the limit. Trying in a later turn may work.
    QuotaExceeded(String),
    /// Anything else.
    Other(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AccessDenied(m) => write!(f, "access denied: {m}"),
            Self::Unavailable(m) => write!(f, "unavailable: {m}"),
            Self::QuotaExceeded(m) => write!(f, "quota exceeded: {m}"),
            Self::InvalidInput(m) => write!(f, "invalid input: {m}"),
            Self::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for HandlerError {
    fn from(e: Error) -> Self {
        match e {
            Error::AccessDenied(m) => Self::AccessDenied(m),
            Error::InvalidInput(m) => Self::InvalidInput(m),
            Error::Unavailable(m) => Self::Other(format!("unavailable: {m}")),
            Error::QuotaExceeded(m) => Self::Other(format!("quota exceeded: {m}")),
            Error::Other(m) => Self::Other(m),
        }
    }
}

/// An observer's `observe` returns `Result<(), String>`: `?` on a helper's error
/// gives its text.
impl From<Error> for String {
    fn from(e: Error) -> Self {
        e.to_string()
    }
}

impl From<HandlerError> for Error {
    fn from(e: HandlerError) -> Self {
        match e {
            HandlerError::AccessDenied(m) => Self::AccessDenied(m),
            HandlerError::InvalidInput(m) => Self::InvalidInput(m),
            HandlerError::Other(m) => Self::Other(m),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Self::InvalidInput(format!("JSON: {e}"))
    }
}

impl From<kv::Error> for Error {
    fn from(e: kv::Error) -> Self {
        match e {
            kv::Error::AccessDenied => Self::AccessDenied("kv".into()),
            kv::Error::InvalidInput(m) => Self::InvalidInput(m),
            kv::Error::QuotaExceeded(m) => Self::QuotaExceeded(m),
            kv::Error::Other(m) => Self::Other(m),
        }
    }
}

impl From<telegram::Error> for Error {
    fn from(e: telegram::Error) -> Self {
        match e {
            telegram::Error::AccessDenied(m) => Self::AccessDenied(m),
            telegram::Error::InvalidInput(m) => Self::InvalidInput(m),
            telegram::Error::Unavailable(m) => Self::Unavailable(m),
            telegram::Error::QuotaExceeded(m) => Self::QuotaExceeded(m),
            telegram::Error::Other(m) => Self::Other(m),
        }
    }
}

impl From<events::Error> for Error {
    fn from(e: events::Error) -> Self {
        match e {
            events::Error::AccessDenied => Self::AccessDenied("events".into()),
            events::Error::InvalidInput(m) => Self::InvalidInput(m),
            events::Error::QuotaExceeded(m) => Self::QuotaExceeded(m),
            events::Error::Other(m) => Self::Other(m),
        }
    }
}

impl From<scheduler::Error> for Error {
    fn from(e: scheduler::Error) -> Self {
        match e {
            scheduler::Error::AccessDenied => Self::AccessDenied("scheduler".into()),
            scheduler::Error::InvalidInput(m) => Self::InvalidInput(m),
            scheduler::Error::QuotaExceeded(m) => Self::QuotaExceeded(m),
            scheduler::Error::Other(m) => Self::Other(m),
        }
    }
}

impl From<http::Error> for Error {
    fn from(e: http::Error) -> Self {
        match e {
            http::Error::AccessDenied(m) => Self::AccessDenied(m),
            http::Error::InvalidInput(m) => Self::InvalidInput(m),
            http::Error::Timeout => Self::Other("HTTP request timed out".into()),
            http::Error::TooLarge(n) => Self::Other(format!("HTTP response over {n} bytes")),
            http::Error::Other(m) => Self::Other(m),
        }
    }
}

macro_rules! into_handler_error {
    ($($t:ty),*) => {$(
        impl From<$t> for HandlerError {
            fn from(e: $t) -> Self {
                Error::from(e).into()
            }
        }
    )*};
}
into_handler_error!(kv::Error, telegram::Error, events::Error, scheduler::Error, http::Error);
