//! `/readyz`: whether this process can serve, and what an operator wants to see next to
//! that. Ready means the database answers a query within [`DB_TIMEOUT`]: without it no
//! update is stored and no turn commits. The Bot API's health, disabled plugins and the
//! queues' lag are reported but do not make it unready (a restart would not fix them;
//! the alerts are for those).

use std::time::{Duration, Instant};

use serde::Serialize;

use super::AdminState;
use crate::runtime::PluginStatus;
use crate::storage::QueueDepth;

/// How long the database may take to answer before the process counts as not ready.
pub const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// The `/readyz` body.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    /// 200 when true, 503 when false.
    pub ready: bool,
    /// The database.
    pub database: Database,
    /// The Bot API.
    pub telegram: Telegram,
    /// Loaded plugins.
    pub plugins: Plugins,
    /// The inbox (updates and events waiting for a turn); absent when unreadable.
    pub inbox: Option<Queue>,
    /// The outbox (calls waiting to be sent); absent when unreadable.
    pub outbox: Option<Queue>,
}

/// Whether the database answers.
#[derive(Debug, Clone, Serialize)]
pub struct Database {
    /// It answered `SELECT 1` within [`DB_TIMEOUT`].
    pub reachable: bool,
    /// How long it took, in ms (when it answered).
    pub latency_ms: Option<f64>,
    /// Why not (when it did not).
    pub error: Option<String>,
}

/// The Bot API as the poller and the sender last saw it.
#[derive(Debug, Clone, Serialize)]
pub struct Telegram {
    /// The last call that got an answer (Unix ms; none yet: null).
    pub last_success_ms: Option<i64>,
    /// Since when every call has failed (Unix ms), if the last one did.
    pub failing_since_ms: Option<i64>,
}

/// The plugins' state.
#[derive(Debug, Clone, Serialize)]
pub struct Plugins {
    /// Loaded plugins in run order.
    pub loaded: Vec<PluginStatus>,
    /// Names of those the circuit breaker disabled.
    pub disabled: Vec<String>,
}

/// A queue's lag.
#[derive(Debug, Clone, Serialize)]
pub struct Queue {
    /// Rows waiting.
    pub depth: i64,
    /// Age of the oldest, in seconds (0 when empty).
    pub oldest_age_seconds: f64,
}

pub(super) async fn check(state: &AdminState) -> Readiness {
    let obs = &state.observer;
    let started = Instant::now();
    let database = match tokio::time::timeout(DB_TIMEOUT, obs.storage().ping()).await {
        Ok(Ok(())) => {
            Database { reachable: true, latency_ms: Some(started.elapsed().as_secs_f64() * 1000.0), error: None }
        }
        Ok(Err(e)) => Database { reachable: false, latency_ms: None, error: Some(e.to_string()) },
        Err(_) => {
            Database { reachable: false, latency_ms: None, error: Some(format!("no answer within {DB_TIMEOUT:?}")) }
        }
    };
    let lag = if database.reachable { state.lag().await } else { None };
    let now_ms = obs.clock().now_ms();
    let queue = |q: QueueDepth| Queue {
        depth: q.depth,
        oldest_age_seconds: q.oldest_ms.map_or(0.0, |t| (now_ms - t).max(0) as f64 / 1000.0),
    };
    let loaded = obs.plugins();
    let disabled = loaded.iter().filter(|p| p.disabled).map(|p| p.name.clone()).collect();
    Readiness {
        ready: database.reachable,
        database,
        telegram: Telegram {
            last_success_ms: obs.api_health().last_ok_ms(),
            failing_since_ms: obs.api_health().failing_since_ms(),
        },
        plugins: Plugins { loaded, disabled },
        inbox: lag.map(|l| queue(l.inbox)),
        outbox: lag.map(|l| queue(l.outbox)),
    }
}
