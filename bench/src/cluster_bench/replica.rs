//! The streaming replica's side of a cluster bench: when each acknowledged write reached it,
//! and whether every acknowledged listing is there at the end.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::load::Write;
use super::report::Lag;

/// How often the replica's sequence is read during the load.
pub const POLL_INTERVAL: Duration = Duration::from_millis(2);

/// Reads the replica's `change_counter` every [`POLL_INTERVAL`] on a thread of its own until
/// stopped; returns (time since `start`, sequence) at each change.
pub struct Poller {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<(Duration, u64)>>,
}

impl Poller {
    /// Connects to the replica (`connection`, libpq style) and starts polling. Blocks until
    /// connected: call it outside async code or in `block_in_place`.
    pub fn start(connection: &str, start: Instant) -> anyhow::Result<Poller> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let connection = connection.to_string();
        let (connected, outcome) = std::sync::mpsc::channel();
        // The sync client runs a runtime of its own, so it lives on this thread only.
        let thread = std::thread::spawn(move || {
            let mut samples: Vec<(Duration, u64)> = Vec::new();
            let mut client = match postgres::Client::connect(&connection, postgres::NoTls) {
                Ok(c) => {
                    let _ = connected.send(Ok(()));
                    c
                }
                Err(e) => {
                    let _ = connected.send(Err(e));
                    return samples;
                }
            };
            while !flag.load(Ordering::Relaxed) {
                if let Ok(row) = client.query_one("SELECT seq FROM change_counter", &[]) {
                    let seq = u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
                    if samples.last().is_none_or(|(_, s)| *s < seq) {
                        samples.push((start.elapsed(), seq));
                    }
                }
                std::thread::sleep(POLL_INTERVAL);
            }
            samples
        });
        match outcome.recv() {
            Ok(Ok(())) => Ok(Poller { stop, thread }),
            Ok(Err(e)) => Err(anyhow::Error::new(e).context("connecting to the replica")),
            Err(_) => anyhow::bail!("the replica poller ended before connecting"),
        }
    }

    /// Stops polling and returns the samples.
    pub fn finish(self) -> Vec<(Duration, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

/// Per acknowledged write, the time from its acknowledgement to the first sample showing its
/// sequence on the replica (0 when the replica had it first); writes never seen are left out.
pub fn lag(samples: &[(Duration, u64)], writes: &[Write]) -> Option<Lag> {
    Lag::of(writes.iter().filter_map(|w| {
        let i = samples.partition_point(|(_, s)| *s < w.seq);
        samples.get(i).map(|(at, _)| at.saturating_sub(w.acked))
    }))
}
