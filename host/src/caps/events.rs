//! `wharf:bot/events`: emitted events become inbox entries in the turn's commit, so they
//! are delivered after it, exactly once, in the same lane (chat) as the emitting turn.

use wasmtime::Result;

use super::bindings::wharf::bot::events::{Error, Host};
use super::budget::Kind;
use super::{PluginState, Requirement};
use crate::config::Grant;
use crate::inbox::{self, Entry};
use crate::storage::NewInbox;
use crate::validate;

/// Importing `events` needs the `events` grant.
pub(super) fn requirement(_func: &str) -> Requirement {
    Requirement::Grant(Grant::Events)
}

impl Host for PluginState {
    async fn emit(&mut self, topic: String, payload: Vec<u8>) -> Result<std::result::Result<(), Error>> {
        if self.describing {
            return Ok(Err(Error::AccessDenied));
        }
        if let Err(e) = validate::name_like("topic", &topic, 64, &['.', '-']) {
            return Ok(Err(Error::InvalidInput(e)));
        }
        let q = &self.host.quotas;
        if payload.len() > q.max_payload_bytes {
            return Ok(Err(Error::InvalidInput(format!(
                "payload is {} bytes; at most {}",
                payload.len(),
                q.max_payload_bytes
            ))));
        }
        if self.turn.totals(&self.call).events >= q.max_turn_events {
            return Ok(Err(Error::InvalidInput(format!("a turn may emit at most {} events", q.max_turn_events))));
        }
        if let Err(e) = self.check_hops().and_then(|()| self.charge(Kind::Events)) {
            return Ok(Err(e));
        }
        let source = self.current().name().to_string();
        // `hops` is set by the turn when it commits (the handled entry's + 1).
        let entry = Entry::new(inbox::Event::Custom(inbox::CustomEvent { topic, payload, source }));
        match NewInbox::entry(self.turn.lane, None, &entry, None) {
            Ok(e) => self.call.inbox.push(e),
            Err(e) => return Err(self.fault(format_args!("encode event: {e}"))),
        }
        Ok(Ok(()))
    }
}
