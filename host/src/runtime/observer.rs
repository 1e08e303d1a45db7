//! A read-only handle on a running runtime for the admin listener (and later the
//! dashboard): storage, metrics, the Bot API's health and the plugins' state.

use std::sync::Arc;

use super::Shared;
use crate::clock::Clock;
use crate::metrics::{Metrics, Scraped};
use crate::storage::{QueueLag, Storage};
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
