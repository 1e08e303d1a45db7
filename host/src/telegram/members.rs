//! Live chat lookups for plugins, available once the Telegram front end is connected:
//! `telegram.get-chat-member` ([`LiveBot::member_status`]), `telegram.chat-member`
//! ([`LiveBot::member_info`]: the status with Telegram's `is_member`) and
//! `telegram.get-chat` ([`LiveBot::chat_info`]: a chat by `@username` or id).
//!
//! The two newer calls tell a refusal (`Bad Request: …`, `Forbidden: …`: Telegram's
//! description, e.g. "member list is inaccessible" when the bot is not an administrator
//! of a channel) from Telegram being unavailable (no answer in time, a network error,
//! 429, a server error), so that a plugin can act on each.

use std::time::Duration;

use teloxide_core::RequestError;
use teloxide_core::requests::{Request, Requester};
use teloxide_core::types::{ChatId, ChatMemberKind, Recipient, UserId};

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

/// A member's status and whether they are in the chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberInfo {
    /// The status Telegram reports.
    pub status: Status,
    /// In the chat: creator, administrator and member are; left and kicked are not; a
    /// restricted member is when Telegram says so (`is_member`).
    pub is_member: bool,
}

/// What Telegram says about a chat (`getChat`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatInfo {
    /// The chat's id.
    pub id: i64,
    /// Title of a group or channel.
    pub title: Option<String>,
    /// Public username, without the `@`.
    pub username: Option<String>,
    /// The primary invite link, if Telegram gives the bot one.
    pub invite_link: Option<String>,
}

/// A chat as plugins name it: `@username` or a numeric id written as a string.
fn recipient(chat: &str) -> Result<Recipient, LookupError> {
    if let Some(name) = chat.strip_prefix('@') {
        let ok = (4..=32).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        return if ok {
            Ok(Recipient::ChannelUsername(chat.to_owned()))
        } else {
            Err(LookupError::Invalid(format!("{chat:?} is not a chat username (@ and 4-32 of A-Z, a-z, 0-9, _)")))
        };
    }
    chat.parse::<i64>()
        .ok()
        .filter(|id| *id != 0)
        .map(|id| Recipient::Id(ChatId(id)))
        .ok_or_else(|| LookupError::Invalid(format!("{chat:?} is neither @username nor a chat id")))
}

/// A failed request as a [`LookupError`]: Telegram's refusals (`Bad Request`,
/// `Forbidden`, `Unauthorized`, `Not Found`) are [`LookupError::Other`] with its
/// description; no answer, 429, server errors and unreadable answers are
/// [`LookupError::Unavailable`]. The token is masked.
fn classify(e: &RequestError, token: &str) -> LookupError {
    let text = match e {
        RequestError::Api(teloxide_core::ApiError::Unknown(desc)) => desc.clone(),
        RequestError::Api(api) => api.to_string(),
        RequestError::RetryAfter(s) => {
            return LookupError::Unavailable(format!("Telegram asks to retry after {} s", s.seconds()));
        }
        RequestError::Network(_) | RequestError::Io(_) | RequestError::InvalidJson { .. } => {
            return LookupError::Unavailable(redact(&format!("Telegram did not answer: {e}"), token));
        }
        RequestError::MigrateToChatId(id) => format!("Bad Request: group chat was upgraded to a supergroup chat {id}"),
    };
    let refused = ["Bad Request", "Forbidden", "Unauthorized", "Not Found"].iter().any(|p| text.starts_with(p));
    let text = redact(&text, token);
    if refused { LookupError::Other(text) } else { LookupError::Unavailable(format!("Telegram failed: {text}")) }
}

fn status(kind: &ChatMemberKind) -> MemberInfo {
    let (status, is_member) = match kind {
        ChatMemberKind::Owner(_) => (Status::Creator, true),
        ChatMemberKind::Administrator(_) => (Status::Administrator, true),
        ChatMemberKind::Member(_) => (Status::Member, true),
        ChatMemberKind::Restricted(r) => (Status::Restricted, r.is_member),
        ChatMemberKind::Left => (Status::Left, false),
        ChatMemberKind::Banned(_) => (Status::Kicked, false),
    };
    MemberInfo { status, is_member }
}

impl LiveBot {
    /// Ask Telegram for `user`'s status in `chat` and whether they are in it, within
    /// `timeout`.
    pub async fn member_info(&self, chat: i64, user: i64, timeout: Duration) -> Result<MemberInfo, LookupError> {
        let Some((bot, token)) = self.get() else {
            return Err(LookupError::Unavailable(NOT_CONNECTED.into()));
        };
        if chat == 0 {
            return Err(LookupError::Invalid("chat id 0".into()));
        }
        let user = UserId(u64::try_from(user).map_err(|_| LookupError::Invalid(format!("user id {user}")))?);
        let call = bot.get_chat_member(ChatId(chat), user).send();
        match tokio::time::timeout(timeout, call).await {
            Err(_) => Err(LookupError::Unavailable("Telegram did not answer in time".into())),
            Ok(Err(e)) => Err(classify(&e, &token)),
            Ok(Ok(m)) => Ok(status(&m.kind)),
        }
    }

    /// Ask Telegram about `chat` (`@username` or a numeric id as a string), within
    /// `timeout`.
    pub async fn chat_info(&self, chat: &str, timeout: Duration) -> Result<ChatInfo, LookupError> {
        let Some((bot, token)) = self.get() else {
            return Err(LookupError::Unavailable(NOT_CONNECTED.into()));
        };
        let call = bot.get_chat(recipient(chat)?).send();
        match tokio::time::timeout(timeout, call).await {
            Err(_) => Err(LookupError::Unavailable("Telegram did not answer in time".into())),
            Ok(Err(e)) => Err(classify(&e, &token)),
            Ok(Ok(c)) => Ok(ChatInfo {
                id: c.id.0,
                title: c.title().map(str::to_owned),
                username: c.username().map(str::to_owned),
                invite_link: c.invite_link().map(str::to_owned),
            }),
        }
    }
}

/// Why a lookup failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// Not connected, or no answer in time (for `member_info` and `chat_info` also 429,
    /// network and server errors).
    Unavailable(String),
    /// Bad ids.
    Invalid(String),
    /// Telegram refused (message has the token masked).
    Other(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chats_are_usernames_or_ids() {
        assert_eq!(recipient("@wharf_news").unwrap(), Recipient::ChannelUsername("@wharf_news".into()));
        assert_eq!(recipient("-1001234567890").unwrap(), Recipient::Id(ChatId(-1_001_234_567_890)));
        for bad in ["@", "@a b", "@abc", "wharf_news", "0", "", "-100x"] {
            assert!(matches!(recipient(bad), Err(LookupError::Invalid(_))), "{bad:?}");
        }
    }

    const TOKEN: &str = "123:SECRET";

    #[test]
    fn refusals_and_outages_are_told_apart() {
        let api = |d: &str| RequestError::Api(teloxide_core::ApiError::Unknown(d.into()));
        assert_eq!(
            classify(&api("Bad Request: member list is inaccessible"), TOKEN),
            LookupError::Other("Bad Request: member list is inaccessible".into())
        );
        assert_eq!(
            classify(&RequestError::Api(teloxide_core::ApiError::ChatNotFound), TOKEN),
            LookupError::Other("Bad Request: chat not found".into())
        );
        assert!(matches!(classify(&api("Internal Server Error"), TOKEN), LookupError::Unavailable(_)));
        let retry = RequestError::RetryAfter(teloxide_core::types::Seconds::from_seconds(3));
        assert!(matches!(classify(&retry, TOKEN), LookupError::Unavailable(m) if m.contains("3 s")));
        let leaky = api("Forbidden: bot 123:SECRET is not a member");
        assert_eq!(classify(&leaky, TOKEN), LookupError::Other("Forbidden: bot ••• is not a member".into()));
    }
}
