//! `techmatch bench-cluster`: several nodes on one throw-away PostgreSQL store behind haproxy,
//! under write and search load, one node SIGKILLed and restarted on the way (#10).
//!
//! The run: a [`TempCluster`] (and optionally a streaming replica of it), N `serve --store`
//! children with data dirs of their own in a temporary directory, haproxy configured by
//! `deploy/haproxy.cfg`; writers and readers through haproxy for the given time; at a third
//! of it one node is SIGKILLed, at two thirds it is restarted on the same data dir and port.
//! Every acknowledged write is probed on every running node for its replication lag
//! ([`load`]), and at the end searched for on every node and looked up in the store (and the
//! replica). Everything started is stopped and removed on the way out, errors included.

pub(crate) mod http;
mod load;
mod nodes;
mod replica;
mod report;
mod scrape;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use tokio::task::JoinSet;

use crate::pg::TempCluster;
use http::Pool;
use load::{Shared, Write};
use nodes::{Haproxy, Node};
pub use report::Report;

/// How the bench runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Nodes behind haproxy (at least two: one is killed).
    pub nodes: usize,
    /// Length of the load, in seconds.
    pub seconds: f64,
    /// Concurrent writers.
    pub writers: usize,
    /// Concurrent readers.
    pub readers: usize,
    /// Also run a streaming replica of the store and check it.
    pub replica: bool,
}

/// Longest to wait for haproxy to see every node healthy.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Searches in flight per node in the final check.
const CHECK_CONCURRENCY: usize = 4;
/// The index of the node that is killed and restarted (`node2`).
const VICTIM: usize = 1;

/// Whether the bench can run here: PostgreSQL's server and haproxy are installed.
pub fn prerequisites() -> Result<(), String> {
    if !crate::pg::cluster::is_installed() {
        return Err("PostgreSQL is not installed (apt-get install postgresql)".into());
    }
    if nodes::haproxy_binary().is_none() {
        return Err("haproxy is not installed (apt-get install haproxy)".into());
    }
    Ok(())
}

/// A fresh admin token shared by every node.
fn admin_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Runs the bench and returns its figures (whether writes were lost is in them).
pub fn run(options: &Options) -> anyhow::Result<Report> {
    ensure!(
        options.nodes >= 2,
        "--nodes must be at least 2 (one is killed)"
    );
    ensure!(options.writers >= 1, "--writers must be at least 1");
    ensure!(options.seconds > 0.0, "--seconds must be positive");
    prerequisites().map_err(anyhow::Error::msg)?;
    let exe = std::env::current_exe().context("finding the techmatch binary")?;
    // Dropped last: every process below is gone by then.
    let work = tempfile::Builder::new()
        .prefix("techmatch-cluster-")
        .tempdir()
        .context("creating the bench directory")?;
    eprintln!("starting PostgreSQL");
    // Each node holds up to six sessions (five pooled, one listening); then the bench's own.
    let sessions = 20 + 8 * u32::try_from(options.nodes).unwrap_or(u32::MAX / 16);
    let cluster = TempCluster::start_with(sessions).context("starting PostgreSQL")?;
    let replica = if options.replica {
        eprintln!("starting a streaming replica (pg_basebackup -R)");
        Some(cluster.start_replica().context("starting the replica")?)
    } else {
        None
    };
    let token = admin_token()?;
    let mut nodes = Vec::new();
    for i in 1..=options.nodes {
        let name = format!("node{i}");
        let dir = work.path().join(&name);
        nodes.push(Node::start(&exe, name, dir, &cluster.url(), &token)?);
    }
    let lb = Haproxy::start(work.path(), &nodes)?;
    eprintln!(
        "{} nodes on {}, haproxy on {}",
        nodes.len(),
        nodes
            .iter()
            .map(|n| n.addr.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        lb.addr
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let bench = Bench {
        options,
        cluster: &cluster,
        replica: replica.as_ref(),
        token,
    };
    // Ctrl-C ends the run here, so that the nodes, haproxy and PostgreSQL are stopped and the
    // directory removed on the way out, as after an error.
    runtime.block_on(async {
        tokio::select! {
            report = bench.drive(&mut nodes, &lb) => report,
            _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted"),
        }
    })
}

/// What the bench's steps share.
struct Bench<'a> {
    options: &'a Options,
    cluster: &'a TempCluster,
    replica: Option<&'a TempCluster>,
    token: String,
}

impl Bench<'_> {
    async fn drive(&self, nodes: &mut [Node], lb: &Haproxy) -> anyhow::Result<Report> {
        wait_until_balanced(lb, nodes).await?;
        let seconds = Duration::from_secs_f64(self.options.seconds);
        let start = Instant::now();
        let shared = Arc::new(Shared {
            start,
            deadline: start + seconds,
            lb: lb.addr,
            nodes: nodes.iter().map(|n| Pool::new(n.addr)).collect(),
            up: nodes.iter().map(|_| AtomicBool::new(true)).collect(),
            token: self.token.clone(),
            next: AtomicU64::new(1),
            last_acked: AtomicU64::new(0),
            latest: Mutex::new(None),
        });
        let poller = match self.replica {
            Some(r) => Some(tokio::task::block_in_place(|| {
                replica::Poller::start(&r.connection_string(), start)
            })?),
            None => None,
        };
        eprintln!("load for {:.0} s", seconds.as_secs_f64());
        let mut writers = JoinSet::new();
        for _ in 0..self.options.writers {
            writers.spawn(load::writer(shared.clone()));
        }
        let mut readers = JoinSet::new();
        // One reader checks read-your-writes through haproxy (its searches wait for the
        // write's sequence); the others search as users do.
        for n in 0..self.options.readers {
            let ryw_every = match (n, self.options.readers) {
                (0, 1) => 2,
                (0, _) => 1,
                _ => 0,
            };
            readers.spawn(load::reader(shared.clone(), n, ryw_every));
        }

        // A third of the way: SIGKILL.
        tokio::time::sleep_until((start + seconds / 3).into()).await;
        let victim_name = nodes[VICTIM].name.clone();
        shared.up[VICTIM].store(false, Ordering::Relaxed);
        let kill_at = shared.now();
        nodes[VICTIM].kill();
        shared.nodes[VICTIM].clear();
        eprintln!("{victim_name} SIGKILLed at {:.1} s", kill_at.as_secs_f64());

        // Two thirds: restart on the same data dir and port, and time its catch-up.
        tokio::time::sleep_until((start + seconds * 2 / 3).into()).await;
        let target_seq = shared.last_acked.load(Ordering::Relaxed);
        let restart_at = shared.now();
        tokio::task::block_in_place(|| nodes[VICTIM].restart())?;
        let listening = shared.now() - restart_at;
        shared.nodes[VICTIM].clear();
        shared.up[VICTIM].store(true, Ordering::Relaxed);
        eprintln!(
            "{victim_name} restarted at {:.1} s, listening after {:.2} s",
            restart_at.as_secs_f64(),
            listening.as_secs_f64()
        );
        let caught_up = catch_up(&shared.nodes[VICTIM], target_seq, restart_at, &shared).await;
        let in_rotation = back_in_rotation(lb, &victim_name, restart_at, &shared).await;

        let mut writes: Vec<Write> = Vec::new();
        let mut requests = Vec::new();
        let mut probes = Vec::new();
        let mut failed_ks = Vec::new();
        while let Some(w) = writers.join_next().await {
            let w = w.context("a writer panicked")?;
            writes.extend(w.writes);
            requests.extend(w.requests);
            probes.extend(w.probes);
            failed_ks.extend(w.failed);
        }
        let (mut ryw_ok, mut ryw_missed) = (0, 0);
        while let Some(r) = readers.join_next().await {
            let r = r.context("a reader panicked")?;
            requests.extend(r.requests);
            ryw_ok += r.ryw_ok;
            ryw_missed += r.ryw_missed;
        }
        let load_end = Instant::now();
        let elapsed = shared.now().min(seconds.max(Duration::from_millis(1)));
        let samples = tokio::task::block_in_place(|| poller.map(|p| p.finish()));
        writes.sort_by_key(|w| w.seq);
        let last = shared.last_acked.load(Ordering::Relaxed);
        eprintln!(
            "{} writes acknowledged; checking every one on every node",
            writes.len()
        );

        let ids: Vec<String> = writes.iter().map(|w| load::listing_id(w.k)).collect();
        // First the replica, so that its catch-up is timed from the end of the load.
        let replica = match (self.replica, samples) {
            (Some(r), Some(samples)) => {
                Some(check_replica(r, &samples, &writes, &ids, last, load_end).await?)
            }
            _ => None,
        };

        // Every acknowledged write, searched for on every node.
        let ks: Arc<Vec<u64>> = Arc::new(writes.iter().map(|w| w.k).collect());
        let mut missing_per_node = BTreeMap::new();
        let mut lost = std::collections::BTreeSet::new();
        for (i, node) in nodes.iter().enumerate() {
            let missing = check_node(&shared, i, ks.clone(), last).await;
            missing_per_node.insert(node.name.clone(), missing.len());
            lost.extend(missing);
        }

        // ... and in the store.
        let db = self
            .cluster
            .connect()
            .await
            .context("connecting to the store")?;
        let missing_in_store = ids.len().saturating_sub(count_ids(&db, &ids).await?);
        let failed_ids: Vec<String> = failed_ks.iter().map(|k| load::listing_id(*k)).collect();
        let failed_writes_stored = count_ids(&db, &failed_ids).await?;

        let node_side_mean_ms = scrape::node_means(&shared.nodes, &shared.token).await;

        // Lags: per node, every probe, and per write the slowest node.
        let mut lag_ms = BTreeMap::new();
        for (i, node) in nodes.iter().enumerate() {
            let lags = probes.iter().filter(|p| p.node == i).filter_map(|p| p.lag);
            if let Some(l) = report::Lag::of(lags) {
                lag_ms.insert(node.name.clone(), l);
            }
        }
        if let Some(l) = report::Lag::of(probes.iter().filter_map(|p| p.lag)) {
            lag_ms.insert("all".into(), l);
        }
        let mut slowest: BTreeMap<u64, Option<Duration>> = BTreeMap::new();
        for p in &probes {
            let entry = slowest.entry(p.k).or_insert(Some(Duration::ZERO));
            *entry = match (*entry, p.lag) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
        }
        if let Some(l) = report::Lag::of(slowest.into_values().flatten()) {
            lag_ms.insert("every_node".into(), l);
        }

        let failed_after: Vec<Duration> = requests
            .iter()
            .filter(|r| !r.ok && r.at >= kill_at)
            .map(|r| r.at)
            .collect();
        let kill = report::Kill {
            node: victim_name,
            at_seconds: report::round(kill_at.as_secs_f64()),
            failed_first_second: failed_after
                .iter()
                .filter(|at| **at < kill_at + Duration::from_secs(1))
                .count(),
            failed_later: failed_after
                .iter()
                .filter(|at| **at >= kill_at + Duration::from_secs(1))
                .count(),
            ok_after: requests.iter().filter(|r| r.ok && r.at >= kill_at).count(),
            failed_before: requests.iter().filter(|r| !r.ok && r.at < kill_at).count(),
        };
        let restart = report::Restart {
            at_seconds: report::round(restart_at.as_secs_f64()),
            target_seq,
            listening_seconds: report::round(listening.as_secs_f64()),
            caught_up_seconds: caught_up.map(|(d, _)| report::round(d.as_secs_f64())),
            index_lag_at_catch_up: caught_up.map(|(_, lag)| lag),
            in_rotation_seconds: in_rotation.map(|d| report::round(d.as_secs_f64())),
        };
        let secs = elapsed.as_secs_f64();
        let mut writes_by_node = BTreeMap::new();
        for w in &writes {
            *writes_by_node.entry(w.node.clone()).or_insert(0) += 1;
        }
        let reads_ok = requests.iter().filter(|r| !r.write && r.ok).count();
        Ok(Report {
            nodes: nodes.len(),
            seconds: report::round(secs),
            writers: self.options.writers,
            readers: self.options.readers,
            acknowledged_writes: writes.len(),
            failed_writes: failed_ks.len(),
            failed_writes_stored,
            reads_ok,
            failed_reads: requests.iter().filter(|r| !r.write && !r.ok).count(),
            writes_per_second: report::round(writes.len() as f64 / secs),
            reads_per_second: report::round(reads_ok as f64 / secs),
            writes_by_node,
            read_your_writes_ok: ryw_ok,
            read_your_writes_missed: ryw_missed,
            lag_ms,
            probes_unmeasured: probes.iter().filter(|p| p.lag.is_none() && !p.miss).count(),
            probe_misses: probes.iter().filter(|p| p.miss).count(),
            failed_requests_after_kill: failed_after.len(),
            kill: Some(kill),
            restart: Some(restart),
            lost_writes: lost.len(),
            missing_per_node,
            missing_in_store,
            missing_examples: lost.iter().take(10).map(|k| load::listing_id(*k)).collect(),
            replica,
            node_side_mean_ms,
        })
    }
}

/// Waits until haproxy has answered from every node (each passed its health checks).
async fn wait_until_balanced(lb: &Haproxy, nodes: &[Node]) -> anyhow::Result<()> {
    let pool = Pool::new(lb.addr);
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut seen = std::collections::HashSet::new();
    while seen.len() < nodes.len() {
        ensure!(
            Instant::now() < deadline,
            "haproxy did not balance over every node within {} s (answered: {seen:?})",
            READY_TIMEOUT.as_secs()
        );
        if let Ok(answer) = pool.request("GET", "/api/v1/health", None, None).await {
            if let (200, Some(node)) = (answer.status, answer.header("x-techmatch-node")) {
                seen.insert(node.to_string());
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Polls the restarted node's health until its index has applied `target`; the time since
/// the restart and the node's `index_lag` then.
async fn catch_up(
    node: &Pool,
    target: u64,
    restart_at: Duration,
    shared: &Shared,
) -> Option<(Duration, u64)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(health) = node.get_json("/api/v1/health").await {
            let applied = health["index_seq"].as_u64().unwrap_or(0);
            if applied >= target {
                let lag = health["index_lag"].as_u64().unwrap_or(0);
                return Some((shared.now() - restart_at, lag));
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

/// Asks haproxy for health until the restarted node answers; the time since the restart.
async fn back_in_rotation(
    lb: &Haproxy,
    name: &str,
    restart_at: Duration,
    shared: &Shared,
) -> Option<Duration> {
    let pool = Pool::new(lb.addr);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(answer) = pool.request("GET", "/api/v1/health", None, None).await {
            if answer.header("x-techmatch-node") == Some(name) {
                return Some(shared.now() - restart_at);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// Searches node `node` for each write in `ks`, once its index has reached `last`; the ones
/// not found (all of them when the node never reaches `last`).
async fn check_node(shared: &Arc<Shared>, node: usize, ks: Arc<Vec<u64>>, last: u64) -> Vec<u64> {
    let pool = &shared.nodes[node];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let applied = pool
            .get_json("/api/v1/health")
            .await
            .and_then(|h| h["index_seq"].as_u64());
        if applied.is_some_and(|a| a >= last) {
            break;
        }
        if Instant::now() > deadline {
            return ks.to_vec();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut tasks = JoinSet::new();
    for w in 0..CHECK_CONCURRENCY {
        let (shared, ks) = (shared.clone(), ks.clone());
        tasks.spawn(async move {
            let mut missing = Vec::new();
            for k in ks.iter().skip(w).step_by(CHECK_CONCURRENCY) {
                // The node is past `last`: no waiting, a listing not found is missing.
                let path = load::probe_path(*k, 0);
                let mut found = false;
                for _ in 0..5 {
                    match shared.nodes[node].request("GET", &path, None, None).await {
                        Ok(a) if a.status == 200 => {
                            found = load::has_hit(&a, *k);
                            break;
                        }
                        _ => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
                if !found {
                    missing.push(*k);
                }
            }
            missing
        });
    }
    let mut missing = Vec::new();
    while let Some(m) = tasks.join_next().await {
        // A panicked checker checked nothing: count its share as missing.
        missing.extend(m.unwrap_or_else(|_| ks.to_vec()));
    }
    missing.sort_unstable();
    missing.dedup();
    missing
}

/// How many of `ids` are in the `listings` table.
async fn count_ids(db: &tokio_postgres::Client, ids: &[String]) -> anyhow::Result<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    let row = db
        .query_one("SELECT count(*) FROM listings WHERE id = ANY($1)", &[&ids])
        .await
        .context("counting listings")?;
    Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

/// Waits for the replica to reach `last`, then counts the acknowledged listings on it.
async fn check_replica(
    replica: &TempCluster,
    samples: &[(Duration, u64)],
    writes: &[Write],
    ids: &[String],
    last: u64,
    load_end: Instant,
) -> anyhow::Result<report::Replica> {
    let db = replica
        .connect()
        .await
        .context("connecting to the replica")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut final_seq = 0;
    let mut caught_up = None;
    while Instant::now() < deadline {
        let row = db
            .query_one("SELECT seq FROM change_counter", &[])
            .await
            .context("reading the replica's change_counter")?;
        final_seq = u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
        if final_seq >= last {
            caught_up = Some(load_end.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let present = count_ids(&db, ids).await?;
    Ok(report::Replica {
        port: replica.port(),
        lag_ms: replica::lag(samples, writes),
        poll_interval_ms: replica::POLL_INTERVAL.as_millis() as u64,
        final_seq,
        caught_up_after_load_ms: caught_up.map(|d| report::round(d.as_secs_f64() * 1000.0)),
        missing: ids.len().saturating_sub(present),
    })
}
