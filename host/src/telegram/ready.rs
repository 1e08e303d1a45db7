//! Outbox readiness: which chats just got outbox rows, so the sender goes straight to
//! them instead of looking through the outbox after every commit. A producer that
//! cannot say which chats (or a list grown too long) asks for a full look instead; the
//! sender also looks through the outbox every second anyway (rows of other replicas).

use std::sync::{Mutex, PoisonError};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

/// More chats than this at once: a full look is cheaper than the list.
const MAX_CHATS: usize = 1024;

/// Shared by the runtime (which commits rows) and the sender (which delivers them).
#[derive(Debug, Default)]
pub struct OutboxReady {
    pending: Mutex<Pending>,
    notify: Notify,
}

#[derive(Debug, Default)]
struct Pending {
    chats: Vec<i64>,
    look: bool,
}

impl OutboxReady {
    /// Rows were committed for these chats.
    pub fn chats(&self, chats: impl IntoIterator<Item = i64>) {
        {
            let mut p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            for chat in chats {
                if !p.chats.contains(&chat) {
                    p.chats.push(chat);
                }
            }
            if p.chats.len() > MAX_CHATS {
                p.chats.clear();
                p.look = true;
            }
        }
        self.notify.notify_one();
    }

    /// Rows were committed; look through the outbox for them.
    pub fn look(&self) {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner).look = true;
        self.notify.notify_one();
    }

    /// Wakes once something was signalled after it was created (and enabled).
    pub fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }

    /// The chats signalled since the last call, and whether a full look was asked for.
    pub fn take(&self) -> (Vec<i64>, bool) {
        let mut p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        (std::mem::take(&mut p.chats), std::mem::take(&mut p.look))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chats_are_listed_once_and_a_long_list_becomes_a_look() {
        let ready = OutboxReady::default();
        ready.chats([5, 7, 5]);
        assert_eq!(ready.take(), (vec![5, 7], false));
        assert_eq!(ready.take(), (vec![], false));
        ready.chats(0..=MAX_CHATS as i64);
        assert_eq!(ready.take(), (vec![], true));
        ready.look();
        assert_eq!(ready.take(), (vec![], true));
    }
}
