//! Background work that gives way to requests: each piece runs on a thread of its own at a
//! lower CPU priority, so that on busy cores the kernel hands searches and matches their turns
//! first, and the background takes what they leave.
//!
//! The scans a server starts with (near-duplicate signatures of every listing, the freshness
//! sweep, ranking the saved searches ahead of need) took a whole core for minutes at 1M
//! listings, under the first requests. A tokio blocking thread cannot carry the lower priority
//! (the pool hands it to a request next), hence a thread per piece: a piece is a second of
//! work or more, so the thread's start (tens of microseconds) does not count.

use tokio::sync::oneshot;

/// How much lower than requests background threads run (Linux `nice`, 0..=19).
///
/// At 10 the kernel gives a busy core's background thread about a tenth of what it gives a
/// request thread: requests barely feel it, and background work still advances (tests and
/// alerts wait for it) when other processes keep the cores busy.
pub const NICENESS: i32 = 10;

/// Background work that panicked instead of returning.
#[derive(Debug, thiserror::Error)]
#[error("background work `{0}` panicked")]
pub struct Panicked(pub &'static str);

/// Runs `work` on a thread of its own named `name`, at [`NICENESS`], and waits for its result.
///
/// # Errors
/// [`Panicked`] when `work` panics (or its thread cannot be started).
pub async fn run<T: Send + 'static>(
    name: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Panicked> {
    let (tx, rx) = oneshot::channel();
    let started = std::thread::Builder::new()
        .name(format!("bg-{name}"))
        .spawn(move || {
            lower_priority();
            let _ = tx.send(work());
        });
    if let Err(e) = started {
        tracing::error!(error = %e, "starting a background thread");
        return Err(Panicked(name));
    }
    rx.await.map_err(|_| Panicked(name))
}

/// Lowers the calling thread's CPU priority by [`NICENESS`]. On Linux, priority is per thread.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let me = rustix::thread::gettid();
        let now = rustix::process::getpriority_process(Some(me)).unwrap_or(0);
        let lower = (now + NICENESS).min(19);
        if let Err(e) = rustix::process::setpriority_process(Some(me), lower) {
            tracing::debug!(error = %e, "background thread keeps its priority");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This thread's niceness, from `/proc` (field 19 of `stat`).
    #[cfg(target_os = "linux")]
    fn niceness() -> i64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("stat");
        let after = &stat[stat.rfind(')').expect("comm") + 2..];
        after
            .split(' ')
            .nth(16)
            .expect("nice")
            .parse()
            .expect("number")
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn work_runs_lower_than_requests_and_returns_its_result() {
        let request = niceness();
        let (value, background) = run("test", || (41 + 1, niceness())).await.expect("ran");
        assert_eq!(value, 42);
        assert_eq!(
            background,
            (request + i64::from(NICENESS)).min(19),
            "background {background}, request {request}"
        );
        // The request's own thread keeps its priority.
        assert_eq!(niceness(), request);
    }

    #[tokio::test]
    async fn a_panic_is_an_error_not_a_hang() {
        let r: Result<(), _> = run("panics", || panic!("on purpose")).await;
        assert!(matches!(r, Err(Panicked("panics"))), "{r:?}");
    }
}
