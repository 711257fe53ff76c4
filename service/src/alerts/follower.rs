//! The alerts' follower task: after the index applies changes, compute their alerts.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::Alerter;

/// How long each slice of warming the saved searches' first hits takes; the follower rests
/// as long between slices, so warming takes at most half a core.
const WARM_SLICE: Duration = Duration::from_millis(500);

/// Computes alerts up to what the index has applied whenever it advances, and every few
/// seconds (daily digests; another node's new saved searches), until the index's follower
/// stops. Failures are retried from the stored position. In between, the saved searches'
/// first hits are ranked ahead of need, so that new listings are percolated without ranking.
pub async fn follow(alerter: Arc<Alerter>, mut applied: watch::Receiver<u64>) {
    // A store that refuses writes (read-only copy, full disk) fails every pass the same way:
    // said once, not every five seconds.
    let mut failing: Option<String> = None;
    loop {
        let upto = *applied.borrow_and_update();
        let a = alerter.clone();
        let mut failure = match tokio::task::spawn_blocking(move || a.catch_up(upto)).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(format!("computing alerts failed; will retry: {e}")),
            Err(e) => Some(format!("alerts task panicked; will retry: {e}")),
        };
        let mut warm = true;
        if failure.is_none() {
            let a = alerter.clone();
            // Ranking ahead of need is for later listings: requests go first.
            match crate::app::background::run("warm-alerts", move || a.warm(WARM_SLICE)).await {
                Ok(Ok(done)) => warm = done,
                Ok(Err(e)) => failure = Some(format!("ranking saved searches failed: {e}")),
                Err(e) => failure = Some(format!("ranking saved searches panicked: {e}")),
            }
        }
        if let Some(message) = &failure {
            if failing.as_ref() != Some(message) {
                tracing::error!("{message}");
            }
        }
        failing = failure;
        let rest = if warm {
            Duration::from_secs(5)
        } else {
            WARM_SLICE
        };
        // A closed channel: the index's follower, and with it the server, has stopped.
        let waited = tokio::time::timeout(rest, applied.changed()).await;
        if let Ok(Err(_)) = waited {
            return;
        }
    }
}
