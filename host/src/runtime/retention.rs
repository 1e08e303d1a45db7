//! Retention of the event log: rows older than `[log_sink] keep_days` are deleted in
//! small batches, once at start and then every hour of host time (tests advance a
//! manual clock instead of waiting). Replies to admins' actions older than
//! [`super::panel::REPLY_KEEP_MS`] go the same way.

use std::sync::Arc;
use std::time::Duration;

use super::Shared;

/// Rows deleted per statement: short enough that turns' commits, which share the
/// writer, barely notice.
const BATCH: i64 = 500;
/// Real time between two batches of one sweep, so commits get the writer in between.
const PAUSE: Duration = Duration::from_millis(50);
/// Host time between two sweeps.
const EVERY_MS: i64 = 60 * 60 * 1000;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

pub(crate) async fn run(shared: Arc<Shared>) {
    let keep_ms = i64::from(shared.log_sink.keep_days).saturating_mul(DAY_MS);
    loop {
        if shared.is_shutting_down() {
            return;
        }
        let clock = &shared.host.clock;
        let started = clock.now_ms();
        sweep(&shared, started.saturating_sub(keep_ms)).await;
        sweep_replies(&shared, started.saturating_sub(super::panel::REPLY_KEEP_MS)).await;
        let next = started.saturating_add(EVERY_MS);
        while clock.now_ms() < next {
            if shared.is_shutting_down() {
                return;
            }
            clock.sleep_until(next, Duration::from_secs(60)).await;
        }
    }
}

/// Delete every row recorded before `before_ms`, one batch at a time.
async fn sweep(shared: &Shared, before_ms: i64) {
    let mut total = 0;
    loop {
        match shared.host.storage.prune_events(before_ms, BATCH).await {
            Ok(n) => {
                total += n;
                if n < BATCH.unsigned_abs() || shared.is_shutting_down() {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(target: "wharf.retention", error = %e, "cannot prune the event log");
                break;
            }
        }
        tokio::time::sleep(PAUSE).await;
    }
    if total > 0 {
        tracing::info!(target: "wharf.retention", deleted = total, before_ms, "pruned the event log");
    }
}

/// Delete replies to admins' actions recorded before `before_ms`, one batch at a time.
async fn sweep_replies(shared: &Shared, before_ms: i64) {
    let mut after = None;
    let mut total = 0;
    loop {
        match super::panel::prune_replies(shared, before_ms, after.take(), BATCH).await {
            Ok((n, next)) => {
                total += n;
                match next {
                    Some(key) if !shared.is_shutting_down() => after = Some(key),
                    _ => break,
                }
            }
            Err(e) => {
                tracing::warn!(target: "wharf.retention", error = %format!("{e:#}"), "cannot prune admin replies");
                break;
            }
        }
        tokio::time::sleep(PAUSE).await;
    }
    if total > 0 {
        tracing::info!(target: "wharf.retention", deleted = total, before_ms, "pruned replies to admin actions");
    }
}
