//! The connection that plugins' live Bot API calls go through (member lookups in
//! [`super::members`], file downloads in [`super::files`]): empty until the Telegram
//! front end connects, so a runtime without one answers those calls `unavailable`.

use std::sync::RwLock;

use teloxide_core::Bot;

/// The connected bot and its token, if any.
#[derive(Default)]
pub struct LiveBot {
    bot: RwLock<Option<(Bot, String)>>,
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

    /// The bot and its token (for masking errors), or `None` while not connected.
    pub(crate) fn get(&self) -> Option<(Bot, String)> {
        self.bot.read().ok().and_then(|b| b.clone())
    }
}
