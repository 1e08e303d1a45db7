//! The webhook's HTTP server, hardened against clients that hold connections: at most
//! `max_connections` are served at once (more are closed as they arrive), a client has
//! `header_timeout` to send a request's headers (from connecting, or from the previous
//! response) and `body_timeout` to send its body, and a connection with no request for
//! `idle_timeout` is closed. So half-open or idle connections cannot starve Telegram's
//! real deliveries of file descriptors or slots for long.

use std::future::Future as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::config::WebhookConfig;
use crate::runtime::Metrics;

/// The server's limits, from `[telegram.webhook]`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
}

impl Limits {
    pub(super) fn from_config(c: &WebhookConfig) -> Self {
        Self {
            max_connections: c.max_connections.max(1),
            header_timeout: Duration::from_millis(c.header_timeout_ms),
            body_timeout: Duration::from_millis(c.body_timeout_ms),
            idle_timeout: Duration::from_millis(c.idle_timeout_ms),
        }
    }
}

/// When a connection last finished a request, and how many it is serving.
struct Activity {
    start: Instant,
    /// Milliseconds after `start` of the last request's end.
    last_ms: AtomicU64,
    busy: AtomicU64,
}

impl Activity {
    fn idle_for(&self) -> Option<Duration> {
        if self.busy.load(Ordering::Acquire) > 0 {
            return None;
        }
        let last = self.start + Duration::from_millis(self.last_ms.load(Ordering::Acquire));
        Some(last.elapsed())
    }
}

/// Serve `app` on `listener` within `limits` until the task is aborted.
pub(super) async fn serve(listener: TcpListener, app: Router, limits: Limits, metrics: Arc<Metrics>) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: let connections close first.
                tracing::warn!(target: "wharf.telegram.webhook", error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics.webhook_refused(crate::metrics::WebhookRefusal::Connections);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream, app.clone(), limits, slot));
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    app: Router,
    limits: Limits,
    _slot: tokio::sync::OwnedSemaphorePermit,
) {
    let activity = Arc::new(Activity { start: Instant::now(), last_ms: AtomicU64::new(0), busy: AtomicU64::new(0) });
    let act = activity.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let mut app = app.clone();
        let act = act.clone();
        act.busy.fetch_add(1, Ordering::AcqRel);
        async move {
            let (parts, body) = req.into_parts();
            let body =
                Body::new(TimedBody { inner: body, deadline: Box::pin(tokio::time::sleep(limits.body_timeout)) });
            let response = tower_service::Service::call(&mut app, hyper::Request::from_parts(parts, body)).await;
            let ms = u64::try_from(act.start.elapsed().as_millis()).unwrap_or(u64::MAX);
            act.last_ms.store(ms, Ordering::Release);
            act.busy.fetch_sub(1, Ordering::AcqRel);
            response
        }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let tick = (limits.idle_timeout / 4).max(Duration::from_millis(5));
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(target: "wharf.telegram.webhook", error = %e, "connection ended");
                }
                return;
            }
            () = tokio::time::sleep(tick) => {
                if activity.idle_for().is_some_and(|idle| idle >= limits.idle_timeout) {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// A request body that fails once its deadline passes.
struct TimedBody {
    inner: Incoming,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
}

/// The body's deadline passed.
#[derive(Debug, thiserror::Error)]
#[error("request body not received in time")]
struct BodyTimeout;

impl hyper::body::Body for TimedBody {
    type Data = hyper::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        use std::task::Poll;
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyTimeout))));
        }
        match std::pin::Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(Some(Ok(f))) => Poll::Ready(Some(Ok(f))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}
