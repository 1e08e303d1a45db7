//! `wharf:bot/events`: emitted events become inbox entries in the turn's commit, so they
//! are delivered after it, exactly once, in the same lane (chat) as the emitting turn.
//! Topics under `telegram.` are the host's (e.g. `telegram.chat-member`, from Telegram's
//! `chat_member` updates): a plugin cannot emit them, so subscribers can trust them.

use wasmtime::Result;
use wasmtime::component::{HasData, Linker};

use super::bindings::wharf::bot::events::{self as wit, Error, Host};
use super::budget::Kind;
use super::{Access, PluginState, Requirement};
use crate::config::Grant;
use crate::inbox::{self, Entry};
use crate::storage::NewInbox;
use crate::validate;

/// Per-turn limits on events.
#[derive(Clone, Copy, Debug)]
pub struct EventQuotas {
    /// Most events emitted by one turn.
    pub max_turn_events: usize,
    /// Largest payload, in bytes.
    pub max_payload_bytes: usize,
}

impl Default for EventQuotas {
    fn default() -> Self {
        Self { max_turn_events: 100, max_payload_bytes: 64 << 10 }
    }
}

/// Topics only the host emits.
pub const HOST_TOPICS: &str = "telegram.";

/// Importing `events` needs the `events` grant.
pub(super) fn requirement(_func: &str) -> Requirement {
    Requirement::Grant(Grant::Events)
}

/// `events` as the running plugin may use it in one host call.
pub(crate) struct Events<'a> {
    state: &'a mut PluginState,
    access: Access,
    quotas: EventQuotas,
}

impl PluginState {
    /// The `events` view for this host call.
    pub(super) fn events(&mut self) -> Events<'_> {
        Events { access: self.write_access(requirement("emit")), quotas: self.host.quotas.events, state: self }
    }
}

/// [`HasData`] for linking `events` to [`Events`] views.
pub(super) struct EventsCap;

impl HasData for EventsCap {
    type Data<'a> = Events<'a>;
}

/// Link `wharf:bot/events` (the current version) to [`Events`] views.
pub(super) fn add_to_linker(linker: &mut Linker<PluginState>) -> Result<()> {
    wit::add_to_linker::<_, EventsCap>(linker, PluginState::events)
}

impl Host for Events<'_> {
    async fn emit(&mut self, topic: String, payload: Vec<u8>) -> Result<std::result::Result<(), Error>> {
        if self.access.check(self.state.current().name(), "").is_err() {
            return Ok(Err(Error::AccessDenied));
        }
        if let Err(e) = validate::name_like("topic", &topic, 64, &['.', '-']) {
            return Ok(Err(Error::InvalidInput(e)));
        }
        if topic.starts_with(HOST_TOPICS) {
            return Ok(Err(Error::InvalidInput(format!(
                "topics under {HOST_TOPICS:?} are the host's; {topic:?} cannot be emitted"
            ))));
        }
        let q = self.quotas;
        if payload.len() > q.max_payload_bytes {
            return Ok(Err(Error::InvalidInput(format!(
                "payload is {} bytes; at most {}",
                payload.len(),
                q.max_payload_bytes
            ))));
        }
        let s = &mut *self.state;
        if s.turn.totals(&s.call).events >= q.max_turn_events {
            return Ok(Err(Error::InvalidInput(format!("a turn may emit at most {} events", q.max_turn_events))));
        }
        if let Err(e) = s.check_hops().and_then(|()| s.charge(Kind::Events)) {
            return Ok(Err(e));
        }
        let source = s.current().name().to_string();
        // `hops` is set by the turn when it commits (the handled entry's + 1).
        let entry = Entry::new(inbox::Event::Custom(inbox::CustomEvent { topic, payload, source }));
        match NewInbox::entry(s.turn.lane, None, &entry, None) {
            Ok(e) => s.call.inbox.push(e),
            Err(e) => return Err(s.fault(format_args!("encode event: {e}"))),
        }
        Ok(Ok(()))
    }
}
