//! `[alerts] webhook_url`: each alert POSTed as JSON, off the alert task. Deliveries run
//! concurrently (a few at a time), each with a timeout and a few retries with backoff,
//! so a slow or failing receiver delays nothing else: not the check, not the channel or
//! the admins, not another alert's delivery. A queue that is full drops the alert (it is
//! still in the event log) with a warning.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use super::announce::WebhookAlert;
use crate::runtime::Metrics;
use crate::telegram::backoff::Backoff;

/// Tries per alert.
const ATTEMPTS: u32 = 4;
/// Deliveries in flight at once.
const IN_FLIGHT: usize = 4;
/// Alerts waiting for a delivery slot.
const QUEUE: usize = 256;

/// Hands alerts to the delivery task.
#[derive(Clone)]
pub struct Webhook {
    tx: mpsc::Sender<WebhookAlert>,
    metrics: Arc<Metrics>,
}

impl Webhook {
    /// The sender and the delivery task (to be spawned; it ends when every sender is gone).
    pub fn new(
        url: &str,
        timeout: Duration,
        metrics: Arc<Metrics>,
    ) -> Result<(Self, impl Future<Output = ()> + use<>), reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = deliver_all(client, url.to_owned(), rx, metrics.clone());
        Ok((Self { tx, metrics }, task))
    }

    /// Queue `alert` without waiting.
    pub fn send(&self, alert: WebhookAlert) {
        if self.tx.try_send(alert).is_err() {
            self.metrics.alert_webhook("dropped");
            tracing::warn!(target: "wharf.alerts", "the alert webhook's queue is full; an alert was not posted");
        }
    }
}

async fn deliver_all(
    client: reqwest::Client,
    url: String,
    mut rx: mpsc::Receiver<WebhookAlert>,
    metrics: Arc<Metrics>,
) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut running = JoinSet::new();
    while let Some(alert) = rx.recv().await {
        while running.try_join_next().is_some() {}
        let Ok(slot) = slots.clone().acquire_owned().await else { return };
        let (client, url, metrics) = (client.clone(), url.clone(), metrics.clone());
        running.spawn(async move {
            deliver(&client, &url, &alert, &metrics).await;
            drop(slot);
        });
    }
    while running.join_next().await.is_some() {}
}

/// One alert, retried; the URL is never logged (it may carry a token).
async fn deliver(client: &reqwest::Client, url: &str, alert: &WebhookAlert, metrics: &Metrics) {
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(8));
    for attempt in 1..=ATTEMPTS {
        let outcome = match client.post(url).json(alert).send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("status {}", r.status().as_u16())),
            Err(e) if e.is_timeout() => Err("timed out".to_owned()),
            Err(e) if e.is_connect() => Err("cannot connect".to_owned()),
            Err(_) => Err("request failed".to_owned()),
        };
        match outcome {
            Ok(()) => {
                metrics.alert_webhook("sent");
                return;
            }
            Err(why) => {
                metrics.alert_webhook("failed");
                tracing::warn!(target: "wharf.alerts", alert = %alert.alert, attempt, %why, "the alert webhook did not take an alert");
                if attempt < ATTEMPTS {
                    backoff.wait().await;
                }
            }
        }
    }
    metrics.alert_webhook("given_up");
    tracing::error!(target: "wharf.alerts", alert = %alert.alert, attempts = ATTEMPTS, "gave up posting an alert to the webhook");
}
