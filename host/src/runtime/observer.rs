//! A handle on a running runtime for the admin listener and the web dashboard:
//! storage, metrics, the Bot API's health and the plugins' state, plus the few things
//! the dashboard changes outside turns (an admin disabling or enabling a plugin, waking
//! the queues after a dead letter is retried, recording `dashboard.*` events), and the
//! host's answer to `/dashboard` in Telegram (a one-time sign-in link).

use std::sync::Arc;

use super::Shared;
use crate::caps::bindings::wharf::bot::types::{ChatKind, Message};
use crate::clock::Clock;
use crate::metrics::{Metrics, Scraped};
use crate::storage::{NewLogEvent, QueueLag, Storage};
use crate::telegram::ApiHealth;

/// A loaded plugin as the admin listener shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PluginStatus {
    /// Its name.
    pub name: String,
    /// Its manifest version.
    pub version: String,
    /// Whether the circuit breaker has it disabled.
    pub disabled: bool,
}

/// A loaded plugin as the dashboard's plugins page shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PluginDetail {
    /// Its name.
    pub name: String,
    /// Its manifest version.
    pub version: String,
    /// Whether the circuit breaker (or an admin) has it disabled.
    pub disabled: bool,
    /// Calls that trapped, timed out or ran out of memory since the start.
    pub failures: u64,
    /// Its grants as written in the config.
    pub grants: Vec<String>,
    /// Hosts it may reach over HTTP.
    pub http: Vec<String>,
    /// Whether it has admin views or actions.
    pub admin: bool,
    /// Whether it observes updates.
    pub observer: bool,
}

/// Cheap to clone; keeps the runtime's shared state alive while held.
#[derive(Clone)]
pub struct Observer {
    pub(super) shared: Arc<Shared>,
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observer").finish_non_exhaustive()
    }
}

impl Observer {
    /// The database.
    pub fn storage(&self) -> &Storage {
        &self.shared.host.storage
    }

    /// Plugins' admin views and actions.
    pub fn console(&self) -> super::Console {
        super::Console { shared: self.shared.clone(), serving: true, wait: super::ACT_WAIT }
    }

    /// The host clock.
    pub fn clock(&self) -> &Clock {
        &self.shared.host.clock
    }

    /// Counters.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Whether the Bot API answers.
    pub fn api_health(&self) -> &ApiHealth {
        &self.shared.api
    }

    /// The loaded plugins in run order.
    pub fn plugins(&self) -> Vec<PluginStatus> {
        self.shared
            .current_set()
            .plugins
            .iter()
            .map(|p| PluginStatus {
                name: p.name().to_string(),
                version: p.manifest.version.clone(),
                disabled: self.shared.breaker.is_open(p.name()),
            })
            .collect()
    }

    /// An id of this runtime unique while it runs (the dashboard registers its sign-in
    /// links under it).
    pub fn key(&self) -> usize {
        Arc::as_ptr(&self.shared) as usize
    }

    /// Whether `user` is one of the configured admins.
    pub fn is_admin(&self, user: i64) -> bool {
        self.shared.admins.contains(&user)
    }

    /// The loaded plugins in run order, with what the plugins page shows.
    pub fn plugin_details(&self) -> Vec<PluginDetail> {
        self.shared
            .current_set()
            .plugins
            .iter()
            .map(|p| PluginDetail {
                name: p.name().to_string(),
                version: p.manifest.version.clone(),
                disabled: self.shared.breaker.is_open(p.name()),
                failures: self.metrics().plugin_malfunctions(p.name().as_str()),
                grants: p.ctx.spec.grants.iter().map(ToString::to_string).collect(),
                http: p.ctx.spec.http.iter().map(|h| h.as_str().to_owned()).collect(),
                admin: p.admin.is_some(),
                observer: p.observer.is_some(),
            })
            .collect()
    }

    /// An admin disables `plugin` (kept across restarts and new versions until enabled;
    /// see [`super::Console::disable`]); false when no such plugin is loaded.
    pub async fn disable_plugin(&self, plugin: &str, by: &str) -> bool {
        match self.console().disable(plugin, by).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(target: "wharf.admin", plugin, error = %format!("{e:#}"), "cannot disable a plugin");
                false
            }
        }
    }

    /// An admin enables `plugin` again, whoever disabled it (see
    /// [`super::Console::enable`]); false when no such plugin is loaded.
    pub async fn enable_plugin(&self, plugin: &str, by: &str) -> anyhow::Result<bool> {
        if self.shared.current_set().get(plugin).is_none() {
            return Ok(false);
        }
        self.console().enable(plugin, by).await.map(|_| true)
    }

    /// Record a host event in the event log (the log sink looks at once).
    pub async fn record(&self, event: NewLogEvent) {
        super::notice::record(&self.shared, event).await;
    }

    /// Tell the dispatcher that the inbox has new entries.
    pub fn wake_inbox(&self) {
        self.shared.wake.notify_one();
    }

    /// Tell the sender that these chats have new outbox rows.
    pub fn wake_outbox(&self, chats: impl IntoIterator<Item = i64>) {
        self.shared.outbox_ready.chats(chats);
    }

    /// The metrics in the text exposition format, with the gauges read now; `lag` is
    /// the queues' depth and oldest entries (see [`Storage::queue_lag`]), when read.
    pub fn render_metrics(&self, lag: Option<QueueLag>) -> String {
        let scraped = Scraped {
            now_ms: self.clock().now_ms(),
            lag,
            api_last_ok_ms: self.api_health().last_ok_ms(),
            breakers: self.plugins().into_iter().map(|p| (p.name, p.disabled)).collect(),
        };
        self.metrics().encode(&scraped).unwrap_or_else(|e| {
            tracing::error!(target: "wharf.admin", error = %e, "cannot encode the metrics");
            String::new()
        })
    }
}

/// The host's answer to `/dashboard` (no plugin declares it): for an admin in a private
/// chat, a one-time sign-in link from the dashboard this process serves.
pub(crate) fn dashboard_reply(shared: &Shared, msg: &Message, now_ms: i64) -> String {
    let Some(user) = msg.sender.as_ref().map(|u| u.id).filter(|id| shared.admins.contains(id)) else {
        return super::answers::ADMINS_ONLY.to_owned();
    };
    if msg.chat.kind != ChatKind::Private {
        return "Send /dashboard in a private chat with me: a sign-in link is for you alone.".to_owned();
    }
    crate::dashboard::link_reply(shared as *const Shared as usize, user, now_ms)
}
