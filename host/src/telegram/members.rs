//! Live chat-member lookups for plugins (`telegram.get-chat-member`), available once
//! the Telegram front end is connected.

use std::time::Duration;

use teloxide_core::requests::{Request, Requester};
use teloxide_core::types::{ChatId, ChatMemberKind, UserId};

use super::live::{LiveBot, NOT_CONNECTED};
use crate::secret::redact;

/// A member's status, as plugins see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Chat creator.
    Creator,
    /// Administrator.
    Administrator,
    /// Member.
    Member,
    /// Restricted member.
    Restricted,
    /// Not in the chat.
    Left,
    /// Banned.
    Kicked,
}

impl LiveBot {
    /// Ask Telegram for `user`'s status in `chat`, within `timeout`.
    pub async fn member_status(&self, chat: i64, user: i64, timeout: Duration) -> Result<Status, LookupError> {
        let Some((bot, token)) = self.get() else {
            return Err(LookupError::Unavailable(NOT_CONNECTED.into()));
        };
        let user = UserId(u64::try_from(user).map_err(|_| LookupError::Invalid(format!("user id {user}")))?);
        let call = bot.get_chat_member(ChatId(chat), user).send();
        let member = match tokio::time::timeout(timeout, call).await {
            Err(_) => return Err(LookupError::Unavailable("Telegram did not answer in time".into())),
            Ok(Err(e)) => return Err(LookupError::Other(redact(&e.to_string(), &token))),
            Ok(Ok(m)) => m,
        };
        Ok(match member.kind {
            ChatMemberKind::Owner(_) => Status::Creator,
            ChatMemberKind::Administrator(_) => Status::Administrator,
            ChatMemberKind::Member(_) => Status::Member,
            ChatMemberKind::Restricted(_) => Status::Restricted,
            ChatMemberKind::Left => Status::Left,
            ChatMemberKind::Banned(_) => Status::Kicked,
        })
    }
}

/// Why a lookup failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// Not connected, or no answer in time.
    Unavailable(String),
    /// Bad ids.
    Invalid(String),
    /// Telegram refused (message has the token masked).
    Other(String),
}
