//! The figures of a cluster bench: JSON for files, a table for people.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// Percentiles of a set of latencies, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Lag {
    /// How many were measured.
    pub samples: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Lag {
    /// Percentiles of `values` (nearest rank); None when empty.
    pub fn of(values: impl IntoIterator<Item = Duration>) -> Option<Lag> {
        let mut ms: Vec<f64> = values
            .into_iter()
            .map(|d| d.as_secs_f64() * 1000.0)
            .collect();
        if ms.is_empty() {
            return None;
        }
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
        Some(Lag {
            samples: ms.len(),
            p50_ms: round(at(0.50)),
            p99_ms: round(at(0.99)),
            max_ms: round(at(1.0)),
        })
    }
}

/// Rounds to a hundredth (of a millisecond or second).
pub fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The SIGKILL of one node under load.
#[derive(Debug, Clone, Serialize)]
pub struct Kill {
    /// The node killed.
    pub node: String,
    /// When, in seconds since the start of the load.
    pub at_seconds: f64,
    /// Requests through haproxy that failed in the first second after the kill.
    pub failed_first_second: usize,
    /// ... that failed later (until the end of the load).
    pub failed_later: usize,
    /// Requests through haproxy answered as expected after the kill.
    pub ok_after: usize,
    /// Requests that failed before the kill.
    pub failed_before: usize,
}

/// The restart of the killed node on its data dir.
#[derive(Debug, Clone, Serialize)]
pub struct Restart {
    /// When, in seconds since the start of the load.
    pub at_seconds: f64,
    /// The last acknowledged sequence when the restart began: what the node must catch up to.
    pub target_seq: u64,
    /// From the restart to listening (the node brings its index up to date before it listens).
    pub listening_seconds: f64,
    /// From the restart to a health answer with `index_seq >= target_seq`.
    pub caught_up_seconds: Option<f64>,
    /// The node's `index_lag` in that answer (writes go on meanwhile).
    pub index_lag_at_catch_up: Option<u64>,
    /// From the restart to haproxy's first answer from the node (two health checks 500 ms
    /// apart bring it back).
    pub in_rotation_seconds: Option<f64>,
}

/// The streaming replica of the store's primary.
#[derive(Debug, Clone, Serialize)]
pub struct Replica {
    /// Its loopback port.
    pub port: u16,
    /// Acknowledgement of a write to the replica's `change_counter` reaching its sequence,
    /// polled every `poll_interval_ms` (so no finer than that; 0 when the replica had it
    /// before the client had the acknowledgement).
    pub lag_ms: Option<Lag>,
    /// Interval of the replica polling.
    pub poll_interval_ms: u64,
    /// The replica's `change_counter` at the end.
    pub final_seq: u64,
    /// From the end of the load until the replica reached the last acknowledged sequence.
    pub caught_up_after_load_ms: Option<f64>,
    /// Acknowledged listings absent from the replica's `listings` table.
    pub missing: usize,
}

/// Everything a cluster bench found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Nodes behind haproxy.
    pub nodes: usize,
    /// Length of the load, in seconds.
    pub seconds: f64,
    /// Concurrent writers.
    pub writers: usize,
    /// Concurrent readers.
    pub readers: usize,
    /// Writes answered 201 with a sequence.
    pub acknowledged_writes: usize,
    /// Writes answered otherwise, or not at all.
    pub failed_writes: usize,
    /// Failed writes found in the store anyway (committed, the answer lost with the node).
    pub failed_writes_stored: usize,
    /// Searches answered 200 (read-your-writes ones included).
    pub reads_ok: usize,
    /// Searches answered otherwise, or not at all.
    pub failed_reads: usize,
    /// Acknowledged writes per second.
    pub writes_per_second: f64,
    /// Answered searches per second.
    pub reads_per_second: f64,
    /// Acknowledged writes per node that took them.
    pub writes_by_node: BTreeMap<String, usize>,
    /// Searches for the latest acknowledged write with its `min_seq`, through haproxy, that
    /// found it.
    pub read_your_writes_ok: u64,
    /// ... that did not.
    pub read_your_writes_missed: u64,
    /// Replication lag (acknowledgement to searchable) per node; `all`: every probe of every
    /// node; `every_node`: per write, the slowest node.
    pub lag_ms: BTreeMap<String, Lag>,
    /// Probes not measured (the node went down while it was waiting).
    pub probes_unmeasured: usize,
    /// Probes whose node reported the write applied but did not find it.
    pub probe_misses: usize,
    /// Requests through haproxy that failed after the kill.
    pub failed_requests_after_kill: usize,
    /// The kill.
    pub kill: Option<Kill>,
    /// The restart.
    pub restart: Option<Restart>,
    /// Acknowledged writes that some node cannot find at the end (must be 0).
    pub lost_writes: usize,
    /// Per node, acknowledged writes it cannot find at the end.
    pub missing_per_node: BTreeMap<String, usize>,
    /// Acknowledged writes absent from the store (must be 0).
    pub missing_in_store: usize,
    /// A few of the missing listings' ids.
    pub missing_examples: Vec<String>,
    /// The streaming replica, when asked for.
    pub replica: Option<Replica>,
    /// Mean milliseconds inside the nodes per request route ("http <route>"; searches include
    /// the probes' `min_seq` waits) and per store call ("store <operation>"), from `/metrics`.
    pub node_side_mean_ms: BTreeMap<String, f64>,
}

impl Report {
    /// Whether every acknowledged write is everywhere it must be.
    pub fn passed(&self) -> bool {
        self.lost_writes == 0
            && self.missing_in_store == 0
            && self.replica.as_ref().is_none_or(|r| r.missing == 0)
    }

    /// The report as a table.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let mut line = |s: String| {
            t.push_str(&s);
            t.push('\n');
        };
        line(format!(
            "cluster bench: {} nodes behind haproxy, {:.1} s, {} writers, {} readers",
            self.nodes, self.seconds, self.writers, self.readers
        ));
        line(format!(
            "  writes acknowledged {:>8}  {:>8.1}/s   failed {} ({} of them stored anyway)",
            self.acknowledged_writes,
            self.writes_per_second,
            self.failed_writes,
            self.failed_writes_stored
        ));
        line(format!(
            "  searches answered   {:>8}  {:>8.1}/s   failed {}",
            self.reads_ok, self.reads_per_second, self.failed_reads
        ));
        let by_node: Vec<String> = self
            .writes_by_node
            .iter()
            .map(|(n, c)| format!("{n} {c}"))
            .collect();
        line(format!("  writes taken by     {}", by_node.join(", ")));
        line(format!(
            "  read-your-writes through haproxy: {} found, {} missed",
            self.read_your_writes_ok, self.read_your_writes_missed
        ));
        line("  lag, acknowledgement to searchable (ms):".into());
        line(format!(
            "    {:<12} {:>8} {:>9} {:>9} {:>9}",
            "node", "writes", "p50", "p99", "max"
        ));
        for (name, lag) in &self.lag_ms {
            line(format!(
                "    {:<12} {:>8} {:>9.2} {:>9.2} {:>9.2}",
                name, lag.samples, lag.p50_ms, lag.p99_ms, lag.max_ms
            ));
        }
        line(format!(
            "    probes not measured (node down) {}, applied but not found {}",
            self.probes_unmeasured, self.probe_misses
        ));
        let inside: Vec<String> = self
            .node_side_mean_ms
            .iter()
            .map(|(k, ms)| format!("{k} {ms:.2}"))
            .collect();
        line(format!("  mean ms inside the nodes: {}", inside.join(", ")));
        if let Some(k) = &self.kill {
            line(format!(
                "  {} SIGKILLed at {:.1} s: failed through haproxy {} in the first second, {} later; {} answered after the kill",
                k.node, k.at_seconds, k.failed_first_second, k.failed_later, k.ok_after
            ));
        }
        if let Some(r) = &self.restart {
            let opt = |x: Option<f64>| x.map_or("never".to_string(), |s| format!("{s:.2} s"));
            line(format!(
                "  restarted at {:.1} s: listening after {:.2} s, caught up to seq {} after {} (index_lag then {}), back in haproxy's rotation after {}",
                r.at_seconds,
                r.listening_seconds,
                r.target_seq,
                opt(r.caught_up_seconds),
                r.index_lag_at_catch_up.map_or("-".into(), |l| l.to_string()),
                opt(r.in_rotation_seconds)
            ));
        }
        if let Some(r) = &self.replica {
            let lag = r.lag_ms.as_ref().map_or("-".to_string(), |l| {
                format!(
                    "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                    l.p50_ms, l.p99_ms, l.max_ms
                )
            });
            line(format!(
                "  streaming replica (port {}): lag {lag} (polled every {} ms); seq {} at the end, {} acknowledged listings missing",
                r.port, r.poll_interval_ms, r.final_seq, r.missing
            ));
        }
        let missing: Vec<String> = self
            .missing_per_node
            .iter()
            .map(|(n, c)| format!("{n} {c}"))
            .collect();
        line(format!(
            "  lost writes: {} (missing per node: {}; missing in the store: {}) => {}",
            self.lost_writes,
            missing.join(", "),
            self.missing_in_store,
            if self.passed() {
                "every acknowledged write is searchable on every node"
            } else {
                "ACKNOWLEDGED WRITES ARE MISSING"
            }
        ));
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let lag = Lag::of((1..=100).map(Duration::from_millis)).expect("values");
        assert_eq!(lag.samples, 100);
        assert_eq!(lag.p50_ms, 50.0);
        assert_eq!(lag.p99_ms, 99.0);
        assert_eq!(lag.max_ms, 100.0);
        assert!(Lag::of(Vec::new()).is_none());
    }
}
