//! The admin HTTP listener (`[admin]`): `/metrics` (Prometheus), `/healthz` (alive),
//! `/readyz` (ready to serve, as JSON) and the web dashboard ([`crate::dashboard`]).
//! [`router`] takes the [`Observer`] to serve; [`AdminServer::start`] binds the address
//! and adds the dashboard, which needs the config and the bound address (the base of
//! its sign-in links), and serves until stopped.
//!
//! The listener is a bystander: scrapes run one at a time and read the queues at most
//! once per [`LAG_CACHE`], so a client hammering it cannot take the database's read
//! connections or the cores away from the bot's turns.

mod ready;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

pub use ready::{DB_TIMEOUT, Readiness};

use crate::config::AdminConfig;
use crate::runtime::Observer;
use crate::storage::QueueLag;

/// How long one read of the queues' depth and age is reused.
pub const LAG_CACHE: Duration = Duration::from_secs(1);

/// Content type of the text exposition format Prometheus reads by default.
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Content type of OpenMetrics text, served to scrapers that ask for it.
pub const OPENMETRICS_FORMAT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct AdminState {
    /// The running runtime.
    pub observer: Observer,
    /// The last read of the queues (at most [`LAG_CACHE`] old when reused).
    lag: Arc<Mutex<Option<(Instant, QueueLag)>>>,
    /// Held for a whole `/metrics` request: scrapes wait for each other.
    scrapes: Arc<Mutex<()>>,
}

impl AdminState {
    /// State for the routes of [`router`].
    pub fn new(observer: Observer) -> Self {
        Self { observer, lag: Arc::default(), scrapes: Arc::default() }
    }

    /// The queues' depth and oldest entries, read at most once per [`LAG_CACHE`];
    /// `None` when the database does not answer within [`DB_TIMEOUT`].
    async fn lag(&self) -> Option<QueueLag> {
        let mut last = self.lag.lock().await;
        if let Some((at, lag)) = *last
            && at.elapsed() < LAG_CACHE
        {
            return Some(lag);
        }
        let read = tokio::time::timeout(DB_TIMEOUT, self.observer.storage().queue_lag()).await;
        match read {
            Ok(Ok(lag)) => {
                *last = Some((Instant::now(), lag));
                Some(lag)
            }
            Ok(Err(e)) => {
                tracing::warn!(target: "wharf.admin", error = %e, "cannot read the queues' lag");
                None
            }
            Err(_) => None,
        }
    }
}

/// The routes of the admin listener on one runtime, before they are served.
#[derive(Debug)]
pub struct AdminRoutes {
    observer: Observer,
}

impl AdminRoutes {
    /// `/metrics`, `/healthz` and `/readyz` alone (without the dashboard).
    pub fn probes(&self) -> Router {
        Router::new()
            .route("/metrics", get(metrics))
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .with_state(AdminState::new(self.observer.clone()))
    }

    /// Everything: the probes and the dashboard for `config`, reached at `bound`.
    pub fn with_dashboard(&self, config: &AdminConfig, bound: SocketAddr) -> Router {
        self.probes().merge(crate::dashboard::router(config, self.observer.clone(), bound))
    }
}

/// The admin listener's routes on `observer` (served by [`AdminServer::start`]).
pub fn router(observer: Observer) -> AdminRoutes {
    AdminRoutes { observer }
}

async fn metrics(State(state): State<AdminState>, headers: HeaderMap) -> Response {
    let one_at_a_time = state.scrapes.lock().await;
    let lag = state.lag().await;
    let body = state.observer.render_metrics(lag);
    drop(one_at_a_time);
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/openmetrics-text"));
    let kind = if openmetrics { OPENMETRICS_FORMAT } else { TEXT_FORMAT };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AdminState>) -> Response {
    let r = ready::check(&state).await;
    let status = if r.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(r)).into_response()
}

/// A running admin listener.
#[derive(Debug)]
pub struct AdminServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl AdminServer {
    /// Listen on `config.listen` and serve `routes` (with the dashboard) until
    /// [`AdminServer::stop`].
    pub async fn start(config: &AdminConfig, routes: AdminRoutes) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(config.addr())
            .await
            .with_context(|| format!("[admin] cannot listen on {}", config.addr()))?;
        let addr = listener.local_addr()?;
        let router = routes.with_dashboard(config, addr);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = served.await {
                tracing::error!(target: "wharf.admin", error = %e, "the admin listener stopped");
            }
        });
        tracing::info!(target: "wharf.admin", %addr, "admin listener: /metrics, /healthz, /readyz, the dashboard");
        Ok(Self { addr, stop: Some(stop), task })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop listening; requests in progress finish (bounded).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(Duration::from_secs(5), &mut self.task).await.is_err() {
            self.task.abort();
        }
    }
}
