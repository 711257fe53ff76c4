//! The load of a cluster bench: writers and readers through haproxy, and for every
//! acknowledged write one probe per running node measuring when that node can find it.
//!
//! A probe is `GET /api/v1/search?q=hx<k>&min_seq=<seq>` sent straight to the node the moment
//! the write is acknowledged. The node holds it until its index has applied `seq` (a watch on
//! the follower's position, no polling), then searches; the probe's lag is the time from the
//! acknowledgement to the answer that contains the listing. It is an upper bound of the true
//! lag by one loopback round trip and one search (well under a millisecond on an idle machine).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::task::JoinSet;

use super::http::{Answer, Conn, Pool};

/// Words readers search for besides the writers' own tokens.
const QUERIES: &[&str] = &[
    "thiết bị",
    "máy sấy",
    "nông sản",
    "xử lý nước",
    "chế biến",
    "công nghệ",
    "thử tải",
    "cà phê",
];
/// How long a probe keeps asking a node that answers 503 (its index is behind by more than
/// the node's own five-second wait) before giving up on measuring that write there.
const PROBE_PATIENCE: Duration = Duration::from_secs(60);

/// The unique searchable word of write `k`.
pub fn token(k: u64) -> String {
    format!("hx{k}")
}

/// The listing id of write `k`.
pub fn listing_id(k: u64) -> String {
    format!("hx-{k}")
}

/// The listing of write `k`: its token in the title.
fn listing(k: u64) -> String {
    json!({
        "id": listing_id(k),
        "kind": "need",
        "title": format!("Thiết bị thử tải {}", token(k)),
        "description": "Cần thiết bị chế biến nông sản, máy sấy công nghệ mới",
    })
    .to_string()
}

/// Whether a search answer has the listing of write `k` among its hits.
pub fn has_hit(answer: &Answer, k: u64) -> bool {
    let id = listing_id(k);
    answer.status == 200
        && answer
            .json()
            .and_then(|v| {
                v["hits"]
                    .as_array()
                    .map(|hits| hits.iter().any(|h| h["id"].as_str() == Some(id.as_str())))
            })
            .unwrap_or(false)
}

/// The search a probe or the final check sends for write `k`.
pub fn probe_path(k: u64, min_seq: u64) -> String {
    format!("/api/v1/search?q={}&min_seq={min_seq}&limit=5", token(k))
}

/// An acknowledged write.
#[derive(Debug, Clone)]
pub struct Write {
    /// Its number (token `hx<k>`, id `hx-<k>`).
    pub k: u64,
    /// The store sequence from `x-techmatch-seq`.
    pub seq: u64,
    /// When the acknowledgement arrived, since the start of the load.
    pub acked: Duration,
    /// The node that took it (haproxy's `x-techmatch-node`).
    pub node: String,
}

/// A request through haproxy.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// When it was answered (or failed), since the start of the load.
    pub at: Duration,
    /// A write (else a search).
    pub write: bool,
    /// Answered as expected.
    pub ok: bool,
}

/// What one probe found.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    /// The write.
    pub k: u64,
    /// The node (index into the node list).
    pub node: usize,
    /// Acknowledgement to searchable on the node; None when not measured (the node went
    /// down, or did not answer within [`PROBE_PATIENCE`]).
    pub lag: Option<Duration>,
    /// The node said it had applied the write but its search did not find it.
    pub miss: bool,
}

/// What every task of the load shares.
pub struct Shared {
    /// The start of the load.
    pub start: Instant,
    /// Writers and readers stop sending at this time.
    pub deadline: Instant,
    /// haproxy.
    pub lb: SocketAddr,
    /// Each node directly (for probes and checks).
    pub nodes: Vec<Pool>,
    /// Whether each node is running (probes go only to running nodes).
    pub up: Vec<AtomicBool>,
    /// The admin token of every node.
    pub token: String,
    /// The next write's number.
    pub next: AtomicU64,
    /// The highest acknowledged sequence.
    pub last_acked: AtomicU64,
    /// The latest acknowledged write (k, seq), for readers' read-your-writes.
    pub latest: Mutex<Option<(u64, u64)>>,
}

impl Shared {
    /// Time since the start of the load.
    pub fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

/// What one writer saw.
#[derive(Debug, Default)]
pub struct WriterResult {
    /// Acknowledged writes.
    pub writes: Vec<Write>,
    /// Every write request.
    pub requests: Vec<Request>,
    /// The probes of its writes.
    pub probes: Vec<Probe>,
    /// Numbers of writes that failed (may or may not be in the store).
    pub failed: Vec<u64>,
}

/// What one reader saw.
#[derive(Debug, Default)]
pub struct ReaderResult {
    /// Every search request.
    pub requests: Vec<Request>,
    /// Read-your-writes searches (a just-acknowledged write with its `min_seq`) answered.
    pub ryw_ok: u64,
    /// ... answered 200 without the write.
    pub ryw_missed: u64,
}

/// Sends a request on `conn` (connecting first when there is none); a failed connection is
/// dropped, to be made again by the next request.
async fn send(
    conn: &mut Option<Conn>,
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Option<Answer> {
    if conn.is_none() {
        *conn = Conn::connect(addr).await.ok();
    }
    let c = conn.as_mut()?;
    match c.send(method, path, token, body).await {
        Ok((answer, reusable)) => {
            if !reusable {
                *conn = None;
            }
            Some(answer)
        }
        Err(_) => {
            *conn = None;
            None
        }
    }
}

/// Posts listings through haproxy until the deadline, probing each acknowledged one.
pub async fn writer(shared: Arc<Shared>) -> WriterResult {
    let mut out = WriterResult::default();
    let mut conn = None;
    let mut probes = JoinSet::new();
    while Instant::now() < shared.deadline {
        let k = shared.next.fetch_add(1, Ordering::Relaxed);
        let body = listing(k);
        let answer = send(
            &mut conn,
            shared.lb,
            "POST",
            "/api/v1/listings",
            Some(&shared.token),
            Some(&body),
        )
        .await;
        let acked_at = Instant::now();
        let at = acked_at.duration_since(shared.start);
        let seq = answer.as_ref().filter(|a| a.status == 201).and_then(|a| {
            a.header("x-techmatch-seq")
                .and_then(|s| s.parse::<u64>().ok())
        });
        out.requests.push(Request {
            at,
            write: true,
            ok: seq.is_some(),
        });
        let Some(seq) = seq else {
            out.failed.push(k);
            continue;
        };
        let node = answer
            .as_ref()
            .and_then(|a| a.header("x-techmatch-node"))
            .unwrap_or("")
            .to_string();
        shared.last_acked.fetch_max(seq, Ordering::Relaxed);
        {
            let mut latest = shared.latest.lock().unwrap_or_else(|e| e.into_inner());
            if latest.is_none_or(|(_, s)| s < seq) {
                *latest = Some((k, seq));
            }
        }
        for (i, up) in shared.up.iter().enumerate() {
            if up.load(Ordering::Relaxed) {
                probes.spawn(probe(shared.clone(), k, seq, acked_at, i));
            }
        }
        out.writes.push(Write {
            k,
            seq,
            acked: at,
            node,
        });
        while let Some(done) = probes.try_join_next() {
            if let Ok(p) = done {
                out.probes.push(p);
            }
        }
    }
    while let Some(done) = probes.join_next().await {
        if let Ok(p) = done {
            out.probes.push(p);
        }
    }
    out
}

/// Waits until node `node` finds write `k` (see the module's documentation).
async fn probe(shared: Arc<Shared>, k: u64, seq: u64, acked: Instant, node: usize) -> Probe {
    let mut result = Probe {
        k,
        node,
        lag: None,
        miss: false,
    };
    let path = probe_path(k, seq);
    while acked.elapsed() < PROBE_PATIENCE {
        if !shared.up[node].load(Ordering::Relaxed) {
            return result;
        }
        match shared.nodes[node].request("GET", &path, None, None).await {
            Ok(answer) if answer.status == 200 => {
                if has_hit(&answer, k) {
                    result.lag = Some(acked.elapsed());
                } else {
                    result.miss = true;
                }
                return result;
            }
            // 503: the index has not reached `seq` within the node's wait; ask again.
            Ok(_) => {}
            // The node is going down (or a pooled connection went stale): look again shortly.
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    result
}

/// Searches through haproxy until the deadline: the readers' word list, or (`ryw_every` = 1:
/// always, 2: every other time, 0: never) the latest acknowledged write with its `min_seq`
/// (read-your-writes through the balancer; such a search waits out the replication lag).
pub async fn reader(shared: Arc<Shared>, n: usize, ryw_every: usize) -> ReaderResult {
    let mut out = ReaderResult::default();
    let mut conn = None;
    let mut i = n;
    while Instant::now() < shared.deadline {
        i += 1;
        let latest = *shared.latest.lock().unwrap_or_else(|e| e.into_inner());
        let ryw = latest.filter(|_| ryw_every > 0 && i % ryw_every == 0);
        let path = match ryw {
            Some((k, seq)) => probe_path(k, seq),
            None => {
                let q: String =
                    form_urlencoded::byte_serialize(QUERIES[i % QUERIES.len()].as_bytes())
                        .collect();
                format!("/api/v1/search?q={q}")
            }
        };
        let answer = send(&mut conn, shared.lb, "GET", &path, None, None).await;
        let ok = answer.as_ref().is_some_and(|a| a.status == 200);
        if let (Some((k, _)), Some(a)) = (ryw, answer.as_ref().filter(|_| ok)) {
            if has_hit(a, k) {
                out.ryw_ok += 1;
            } else {
                out.ryw_missed += 1;
            }
        }
        out.requests.push(Request {
            at: shared.now(),
            write: false,
            ok,
        });
        if !ok {
            // A failing balancer is not hammered in a tight loop.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    out
}
