//! The alerts' follower task: after the index applies changes, compute their alerts.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::Alerter;

/// Computes alerts up to what the index has applied whenever it advances, and every few
/// seconds (daily digests; another node's new saved searches), until the index's follower
/// stops. Failures are retried from the stored position.
pub async fn follow(alerter: Arc<Alerter>, mut applied: watch::Receiver<u64>) {
    // A store that refuses writes (read-only copy, full disk) fails every pass the same way:
    // said once, not every five seconds.
    let mut failing: Option<String> = None;
    loop {
        let upto = *applied.borrow_and_update();
        let a = alerter.clone();
        let failure = match tokio::task::spawn_blocking(move || a.catch_up(upto)).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(format!("computing alerts failed; will retry: {e}")),
            Err(e) => Some(format!("alerts task panicked; will retry: {e}")),
        };
        if let Some(message) = &failure {
            if failing.as_ref() != Some(message) {
                tracing::error!("{message}");
            }
        }
        failing = failure;
        // A closed channel: the index's follower, and with it the server, has stopped.
        let waited = tokio::time::timeout(Duration::from_secs(5), applied.changed()).await;
        if let Ok(Err(_)) = waited {
            return;
        }
    }
}
