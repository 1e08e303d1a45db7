//! Telegram I/O: the Bot API client (teloxide's `Bot`), long polling into the inbox,
//! the outbox sender within Telegram's limits, and a Bot API emulator for tests and
//! local runs.
//!
//! | module | role |
//! |---|---|
//! | [`convert`] | updates → events |
//! | `poller` | `getUpdates` → inbox, offset committed with the updates |
//! | `sender` | outbox → Telegram, paced, with retries and dead letters |
//! | [`limits`] | Telegram's rate limits as token buckets |
//! | [`emulator`] | the Bot API emulator |

mod backoff;
pub mod convert;
pub mod emulator;
pub mod limits;
mod poller;
mod sender;

use std::sync::Arc;

use anyhow::Context as _;
use teloxide_core::Bot;
use teloxide_core::requests::{Request, Requester};
use tokio::sync::{Mutex, Notify};
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::runtime::{Link, Metrics};
use crate::secret::redact;
use crate::storage::Storage;
use backoff::Backoff;
use limits::RateLimits;

/// What the poller and the sender share.
pub(crate) struct Front {
    bot: Bot,
    token: String,
    bot_username: String,
    storage: Storage,
    clock: Clock,
    metrics: Arc<Metrics>,
    wake: Box<dyn Fn() + Send + Sync>,
    outbox_ready: Arc<Notify>,
    limits: RateLimits,
    backoff: Mutex<Backoff>,
}

impl Front {
    /// `text` with the bot token masked (teloxide puts it in request URLs).
    fn redact(&self, text: &str) -> String {
        redact(text, &self.token)
    }
}

/// A running Telegram front end (poller and sender). Dropping it stops both.
pub struct Telegram {
    tasks: Vec<JoinHandle<()>>,
    /// The bot's username, from `getMe`.
    pub username: String,
}

impl Drop for Telegram {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Telegram {
    /// Check the token with `getMe`, then start polling and sending.
    pub async fn start(link: Link, api_url: &str, token: &str, limits: RateLimits) -> anyhow::Result<Self> {
        let url =
            reqwest::Url::parse(api_url).with_context(|| format!("[telegram] api_url {api_url:?} is not a URL"))?;
        // The client's timeout must outlast a long poll.
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(u64::from(poller::LONG_POLL_SECS) + 15))
            .tcp_nodelay(true)
            .build()
            .context("building the HTTP client")?;
        let bot = Bot::with_client(token, client).set_api_url(url);
        let me = bot
            .get_me()
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("getMe failed: {}", redact(&e.to_string(), token)))?;
        let username = me.username.clone().unwrap_or_default();
        tracing::info!(target: "wharf.telegram", bot = %username, "connected to the Bot API");
        let inbox = link.inbox_ready.clone();
        let front = Arc::new(Front {
            bot,
            token: token.to_owned(),
            bot_username: username.clone(),
            storage: link.storage,
            clock: link.clock,
            metrics: link.metrics,
            wake: Box::new(move || inbox.notify_one()),
            outbox_ready: link.outbox_ready,
            limits,
            backoff: Mutex::new(Backoff::new(
                std::time::Duration::from_millis(500),
                std::time::Duration::from_secs(60),
            )),
        });
        let tasks = vec![tokio::spawn(poller::run(front.clone())), tokio::spawn(sender::run(front))];
        Ok(Self { tasks, username })
    }
}
