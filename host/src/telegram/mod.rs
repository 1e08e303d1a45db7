//! Telegram I/O: the Bot API client (teloxide's `Bot`), long polling into the inbox,
//! the outbox sender within Telegram's limits, and a Bot API emulator for tests and
//! local runs.
//!
//! | module | role |
//! |---|---|
//! | [`convert`] | updates → events |
//! | [`members`] | live chat-member lookups for plugins |
//! | [`files`] | live file downloads for plugins |
//! | [`live`] | the connection both kinds of live call go through |
//! | `poller` | `getUpdates` → inbox, offset committed with the updates |
//! | `sender` | outbox → Telegram, paced, with retries and dead letters |
//! | `deliver` | one outbox row → one Bot API request, its answer classified |
//! | [`outbox_call`] | the outbox's typed, versioned wire format |
//! | [`limits`] | Telegram's rate limits as token buckets |
//! | `webhook` | webhook mode: updates posted by Telegram → inbox |
//! | `webhook_server` | its HTTP server: connection cap, header/body/idle timeouts |
//! | [`emulator`] | the Bot API emulator |

mod api_health;
pub(crate) mod backoff;
pub mod convert;
mod deliver;
pub mod emulator;
pub mod files;
pub mod limits;
pub mod live;
pub mod members;
pub mod outbox_call;
mod poller;
pub mod ready;
mod sender;
mod webhook;
mod webhook_server;

use std::sync::Arc;

use anyhow::Context as _;
use teloxide_core::Bot;
use teloxide_core::requests::{Request, Requester};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use teloxide_core::payloads::SetWebhookSetters;

use crate::clock::Clock;
use crate::config::{TelegramConfig, TelegramMode};
use crate::runtime::{Link, Metrics};
use crate::secret::redact;
use crate::storage::Storage;
pub use api_health::ApiHealth;
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
    api: Arc<api_health::ApiHealth>,
    wake: Box<dyn Fn() + Send + Sync>,
    outbox_ready: Arc<ready::OutboxReady>,
    limits: RateLimits,
    sender: SenderSettings,
    backoff: Mutex<Backoff>,
}

/// The sender's settings from `[telegram]`.
struct SenderSettings {
    max_in_flight: usize,
    replica_id: String,
}

impl Front {
    /// `text` with the bot token masked (teloxide puts it in request URLs).
    fn redact(&self, text: &str) -> String {
        redact(text, &self.token)
    }
}

/// A running Telegram front end (poller or webhook, and sender). Dropping it stops
/// them; [`Telegram::stop`] also deletes a webhook it set.
pub struct Telegram {
    tasks: Vec<JoinHandle<()>>,
    front: Arc<Front>,
    webhook: bool,
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
    /// Check the token with `getMe`, then start receiving (polling or webhook, as
    /// configured) and sending.
    pub async fn start(link: Link, cfg: &TelegramConfig, token: &str) -> anyhow::Result<Self> {
        let (api_url, limits) = (cfg.api_url.as_str(), cfg.limits);
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
        let id = i64::try_from(me.id.0).context("getMe answered a bot id beyond 64-bit signed integers")?;
        let identity = live::BotIdentity { id, username: username.clone() };
        link.live.connect(bot.clone(), token);
        link.live.set_identity(identity);
        set_commands(&bot, &link.commands, token).await;
        tracing::info!(target: "wharf.telegram", bot = %username, "connected to the Bot API");
        let inbox = link.inbox_ready.clone();
        let front = Arc::new(Front {
            bot,
            token: token.to_owned(),
            bot_username: username.clone(),
            storage: link.storage,
            clock: link.clock,
            metrics: link.metrics,
            api: link.api,
            wake: Box::new(move || inbox.notify_one()),
            outbox_ready: link.outbox_ready,
            limits,
            sender: SenderSettings { max_in_flight: cfg.max_in_flight, replica_id: cfg.replica_id.clone() },
            backoff: Mutex::new(Backoff::new(
                std::time::Duration::from_millis(500),
                std::time::Duration::from_secs(60),
            )),
        });
        let mut tasks = vec![tokio::spawn(sender::run(front.clone()))];
        let webhook = cfg.mode == TelegramMode::Webhook;
        match (&cfg.mode, &cfg.webhook) {
            (TelegramMode::Webhook, Some(hook)) => {
                let secret = match &hook.secret_env {
                    Some(var) => std::env::var(var)
                        .with_context(|| format!("[telegram.webhook] secret_env names ${var}; set it"))?,
                    None => webhook::random_secret(),
                };
                let public = reqwest::Url::parse(&hook.url)
                    .with_context(|| format!("[telegram.webhook] url {:?} is not a URL", hook.url))?;
                let app = webhook::router(front.clone(), public.path(), secret.clone());
                let listener = tokio::net::TcpListener::bind(hook.listen)
                    .await
                    .with_context(|| format!("[telegram.webhook] cannot listen on {}", hook.listen))?;
                let limits = webhook_server::Limits::from_config(hook);
                tasks.push(tokio::spawn(webhook_server::serve(listener, app, limits, front.metrics.clone())));
                front
                    .bot
                    .set_webhook(public)
                    .secret_token(secret)
                    .allowed_updates(convert::ALLOWED_UPDATES)
                    .send()
                    .await
                    .map_err(|e| anyhow::anyhow!("setWebhook failed: {}", front.redact(&e.to_string())))?;
                tracing::info!(target: "wharf.telegram", listen = %hook.listen, "webhook set");
            }
            (TelegramMode::Webhook, None) => anyhow::bail!("[telegram] mode = \"webhook\" needs [telegram.webhook]"),
            (TelegramMode::Polling, _) => tasks.push(tokio::spawn(poller::run(front.clone()))),
            (TelegramMode::None, _) => anyhow::bail!("[telegram] mode = \"none\": there is no Telegram to start"),
        }
        Ok(Self { tasks, front, webhook, username })
    }

    /// Stop receiving and sending; in webhook mode, delete the webhook.
    pub async fn stop(self) {
        for t in &self.tasks {
            t.abort();
        }
        if self.webhook
            && let Err(e) = self.front.bot.delete_webhook().send().await
        {
            tracing::warn!(target: "wharf.telegram", error = %self.front.redact(&e.to_string()), "deleteWebhook failed");
        }
    }
}

/// Publish the plugins' commands as the bot's menu (Telegram wants 3-256 character
/// descriptions; shorter ones are padded with the command name).
async fn set_commands(bot: &Bot, commands: &[(String, String)], token: &str) {
    if commands.is_empty() {
        return;
    }
    let menu: Vec<teloxide_core::types::BotCommand> = commands
        .iter()
        .map(|(name, desc)| {
            let desc = if desc.chars().count() < 3 { format!("/{name} {desc}") } else { desc.clone() };
            teloxide_core::types::BotCommand::new(name.clone(), desc)
        })
        .collect();
    if let Err(e) = bot.set_my_commands(menu).send().await {
        tracing::warn!(target: "wharf.telegram", error = %redact(&e.to_string(), token), "cannot set the command menu");
    }
}
