//! The connection that plugins' live Bot API calls go through (member lookups in
//! [`super::members`], file downloads in [`super::files`]): empty until the Telegram
//! front end connects, so a runtime without one answers those calls `unavailable`.
//! It also keeps the bot's own account as `getMe` reported it when the front end
//! connected (`config.bot` for plugins).

use std::sync::RwLock;

use teloxide_core::Bot;

/// The bot's own Telegram account, from `getMe`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BotIdentity {
    /// The bot's user id.
    pub id: i64,
    /// Its username, without `@`.
    pub username: String,
}

/// The connected bot and its token, if any, and the bot's account.
#[derive(Default)]
pub struct LiveBot {
    bot: RwLock<Option<(Bot, String)>>,
    identity: RwLock<Option<BotIdentity>>,
}

impl std::fmt::Debug for LiveBot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveBot")
    }
}

/// What live calls say when no front end is connected.
pub(crate) const NOT_CONNECTED: &str = "this host is not connected to Telegram";

impl LiveBot {
    pub(crate) fn connect(&self, bot: Bot, token: &str) {
        if let Ok(mut b) = self.bot.write() {
            *b = Some((bot, token.to_owned()));
        }
    }

    /// The front end connected as `identity` (what `getMe` answered).
    pub(crate) fn set_identity(&self, identity: BotIdentity) {
        if let Ok(mut i) = self.identity.write() {
            *i = Some(identity);
        }
    }

    /// The bot's own account, once a front end connected.
    pub fn identity(&self) -> Option<BotIdentity> {
        self.identity.read().ok().and_then(|i| i.clone())
    }

    /// The bot and its token (for masking errors), or `None` while not connected.
    pub(crate) fn get(&self) -> Option<(Bot, String)> {
        self.bot.read().ok().and_then(|b| b.clone())
    }
}
