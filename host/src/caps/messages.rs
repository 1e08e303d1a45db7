//! Message handles and ownership. Every send gets a handle, unique without a database
//! round trip: `inbox id × HANDLES_PER_TURN + the call's position in the turn's outbox`
//! (inbox ids are never reused; a re-run of the turn hands out the same handles). The
//! sender records which Telegram message a handle became (`sent_messages`).
//!
//! A plugin may edit or delete only messages it sent:
//! - by handle: one of its sends queued earlier in this turn, a delivered message
//!   recorded under the handle for this plugin and chat, or one of its sends still
//!   waiting in the chat's outbox;
//! - by Telegram message id: the message whose button the plugin is answering (its
//!   keyboard carries the plugin's callback prefix, which only the plugin can set), or a
//!   delivered message recorded for this plugin in that chat.
//!
//! Anything else is `access-denied`, with nothing queued. Messages sent before handles
//! existed have no record and cannot be edited.

use wasmtime::Result;

use super::PluginState;
use super::bindings::wharf::bot::telegram::{Error, MessageRef as WitRef};
use crate::telegram::outbox_call::{MessageRef, OutboxCall};

/// Handles one turn can hand out (bounds the turn's outbox quota).
pub(crate) const HANDLES_PER_TURN: usize = 1 << 12;

/// Queued rows of a chat searched for a send that was not delivered yet.
const QUEUED_SCAN: i64 = 1_000;

impl PluginState {
    /// The handle the next call queued in this turn gets, if it is a send.
    pub(super) fn next_handle(&self) -> i64 {
        let position = i64::try_from(self.turn.totals(&self.call).outbox).unwrap_or(i64::MAX);
        let per_turn = i64::try_from(HANDLES_PER_TURN).unwrap_or(i64::MAX);
        self.turn.inbox_id.unwrap_or(0).saturating_mul(per_turn).saturating_add(position)
    }

    /// `target` as an outbox reference if the running plugin sent that message in
    /// `chat_id`; `access-denied` otherwise. A storage failure aborts the turn attempt.
    /// (Whether the plugin may edit or delete at all is its `telegram` view's check.)
    pub(super) async fn own_message(
        &mut self,
        chat_id: i64,
        target: WitRef,
    ) -> Result<std::result::Result<MessageRef, Error>> {
        let me = self.current().name().to_string();
        let storage = self.host.storage.clone();
        let owned = match target {
            WitRef::Handle(h) => {
                let mut buffered = self.turn.applied.outbox.iter().chain(&self.call.outbox);
                if buffered.any(|o| o.plugin == me && o.chat_id == chat_id && o.call.handle() == Some(h)) {
                    true
                } else {
                    match storage.handle_owner(h).await {
                        Ok(Some((plugin, chat))) => plugin == me && chat == chat_id,
                        Ok(None) => match storage.outbox_chat_head(chat_id, 0, QUEUED_SCAN).await {
                            Ok(rows) => rows.iter().any(|row| {
                                row.plugin == me
                                    && OutboxCall::from_row(&row.payload).is_ok_and(|c| c.handle() == Some(h))
                            }),
                            Err(e) => return Err(self.fault(format!("cannot look up message handle {h}: {e}"))),
                        },
                        Err(e) => return Err(self.fault(format!("cannot look up message handle {h}: {e}"))),
                    }
                }
            }
            WitRef::Id(id) => {
                if let Err(e) = crate::validate::message_id(id) {
                    return Ok(Err(Error::InvalidInput(e)));
                }
                let pressed =
                    self.pressed.as_ref().is_some_and(|(p, c, m)| p.as_str() == me && *c == chat_id && *m == id);
                if pressed {
                    true
                } else {
                    match storage.message_owner(chat_id, id).await {
                        Ok(owner) => owner.as_deref() == Some(me.as_str()),
                        Err(e) => return Err(self.fault(format!("cannot look up message {id}: {e}"))),
                    }
                }
            }
        };
        let what = match target {
            WitRef::Handle(h) => format!("message handle {h}"),
            WitRef::Id(id) => format!("message {id}"),
        };
        if !owned {
            tracing::info!(target: "wharf.telegram", plugin = %me, chat_id, message = %what, "edit or delete of a message the plugin did not send refused");
            return Ok(Err(Error::AccessDenied(format!("{what} in chat {chat_id} was not sent by this plugin"))));
        }
        Ok(Ok(match target {
            WitRef::Handle(h) => MessageRef::Handle(h),
            WitRef::Id(id) => MessageRef::Id(id),
        }))
    }
}
