//! Custom events between plugins (grant `events`). An emitted event is delivered after
//! the turn commits, exactly once, to every plugin whose manifest lists its topic
//! ([`ManifestExt::topic`](crate::ManifestExt::topic)), as
//! [`Event::Custom`](crate::Event), in the chat of the emitting turn. Payloads are bytes;
//! by convention JSON, which [`emit`] and [`decode`] handle.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use wharf_sdk::{events, prelude::*};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Paid { order: i64, amount: i64 }
//!
//! fn announce(order: i64, amount: i64) -> Result<(), wharf_sdk::Error> {
//!     events::emit("shop.paid", &Paid { order, amount })
//! }
//!
//! fn on_custom(e: &CustomEvent) -> Result<Option<Paid>, wharf_sdk::Error> {
//!     if e.topic != "shop.paid" {
//!         return Ok(None);
//!     }
//!     events::decode(e).map(Some)
//! }
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::host::events as raw;
use crate::{CustomEvent, Error};

/// Emit `payload` as JSON on `topic` (1-64 characters of `a-z 0-9 . _ -`).
pub fn emit<T>(topic: &str, payload: &T) -> Result<(), Error>
where
    T: Serialize + ?Sized,
{
    emit_bytes(topic, &serde_json::to_vec(payload)?)
}

/// Emit raw bytes on `topic`.
pub fn emit_bytes(topic: &str, payload: &[u8]) -> Result<(), Error> {
    Ok(raw::emit(topic, payload)?)
}

/// The JSON payload of a custom event.
pub fn decode<T>(event: &CustomEvent) -> Result<T, Error>
where
    T: DeserializeOwned,
{
    serde_json::from_slice(&event.payload)
        .map_err(|e| Error::InvalidInput(format!("payload of {:?} from {}: {e}", event.topic, event.source)))
}
