//! `techmatch bench`: import, reindex, open, search, match and HTTP figures on a generated
//! corpus of N listings, printed as a table and JSON so that runs can be compared.

mod corpus;
mod http;
mod postgres;
mod semantic;
mod served;

pub use corpus::{Corpus, Rng};

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::data_dir::DataDir;
use crate::domain::{parse_listing, RawRecord};
use crate::import::store_drafts;
use crate::indexer;
use crate::matching::{run as run_match, AdHocNeed};
use crate::search::{run as run_search, SearchParams};

/// Listings per import call (each one atomic write, one index commit): a large import file.
const CHUNK: usize = 50_000;

/// Options of one benchmark run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Listings to generate.
    pub listings: usize,
    /// Seed of the generator.
    pub seed: u64,
    /// Searches timed in process.
    pub searches: usize,
    /// Matches timed in process.
    pub matches: usize,
    /// Duration of the HTTP load.
    pub http_seconds: u64,
    /// Concurrent HTTP connections.
    pub connections: usize,
    /// Also load the listings into PostgreSQL and time the same searches there.
    pub postgres: bool,
    /// Time the queries against the listings an earlier run with the same seed left in the
    /// directory, skipping import and reindex (their figures are then null).
    pub reuse: bool,
    /// Measure the semantic figures (vectors for every listing: minutes at 1M).
    pub semantic: bool,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

fn dir_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

/// Peak resident memory of this process, in MiB (Linux; 0 elsewhere).
fn rss_peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status_mib(&status, "VmHWM:")
}

/// A memory figure (`VmHWM:`, `RssAnon:`, …) from the text of a `/proc/<pid>/status` file, in
/// MiB; 0 when absent.
fn status_mib(status: &str, key: &str) -> f64 {
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time this thread has run, in seconds (Linux; 0 elsewhere): on a busy machine it tells
/// the work a phase did apart from the time it waited for a core.
fn thread_cpu_s() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e9)
}

/// Runs every measurement in `dir` (which should be empty) and returns the figures.
pub fn run(dir: &Path, options: &Options) -> anyhow::Result<Value> {
    run_with(dir, options, None)
}

/// [`run`], with the embedder's throughput and query time measured too when one is given.
pub fn run_with(
    dir: &Path,
    options: &Options,
    embedder: Option<&dyn crate::embed::Embedder>,
) -> anyhow::Result<Value> {
    let data = DataDir::new(dir);
    let mut corpus = Corpus::new(options.seed);

    // Import, end to end: parse and check, store durably, index. Records are generated a chunk
    // at a time (outside the timing), as a file would be read, so memory stays flat.
    let mut import_s = f64::NAN;
    let mut merge_s = f64::NAN;
    if options.reuse {
        // The generator is shared by listings and queries: draw the listings again, unused, so
        // that the queries are the ones the imported corpus was timed with.
        for n in 0..options.listings {
            corpus.listing(n);
        }
    } else {
        import_s = 0.0;
        let store = data.open_store()?;
        let index = data.open_index()?;
        for from in (0..options.listings).step_by(CHUNK) {
            let to = (from + CHUNK).min(options.listings);
            let chunk: Vec<Value> = (from..to).map(|n| corpus.listing(n)).collect();
            let started = Instant::now();
            let mut drafts = Vec::with_capacity(chunk.len());
            for r in chunk {
                let Value::Object(map) = r else {
                    continue;
                };
                let draft = parse_listing(&RawRecord::from_json(map))
                    .map_err(|e| anyhow::anyhow!("generated record invalid: {e:?}"))?;
                drafts.push(draft);
            }
            store_drafts(&store, drafts)?;
            indexer::catch_up(&store, &index)?;
            import_s += started.elapsed().as_secs_f64();
        }
        // Searchable now; the merges that follow a bulk load are waited for apart, so that the
        // figures after are those of a settled index, not of one busy merging.
        let started = Instant::now();
        index.close()?;
        merge_s = started.elapsed().as_secs_f64();
    }
    let disk = dir_bytes(dir);

    let started = Instant::now();
    let store = data.open_store()?;
    let index = data.open_index()?;
    indexer::catch_up(&store, &index)?;
    let open_s = started.elapsed().as_secs_f64();

    let mut reindex_s = f64::NAN;
    let mut index = index;
    if !options.reuse {
        let started = Instant::now();
        indexer::rebuild(&store, &index, |_| {})?;
        reindex_s = started.elapsed().as_secs_f64();
        index.close()?;
        index = data.open_index()?;
    }

    // Search mix: short queries, a third unaccented, some filtered, some deep; facets always.
    let mut params = Vec::new();
    for i in 0..options.searches {
        let mut p = SearchParams {
            q: Some(corpus.query()),
            ..SearchParams::default()
        };
        match i % 5 {
            1 => p.province = Some(corpus.province()),
            2 => {
                p.kind = Some("research_output,patent".into());
                p.trl_min = Some("5".into());
            }
            3 => p.offset = Some((100 * (1 + corpus.below(5))).to_string()),
            _ => {}
        }
        params.push(p);
    }
    let mut search_times = Vec::with_capacity(params.len());
    let cpu_before = thread_cpu_s();
    for p in &params {
        let request = p.to_request(false).map_err(|e| anyhow::anyhow!("{e}"))?;
        let started = Instant::now();
        run_search(&index, &request)?;
        search_times.push(started.elapsed());
    }
    let search_cpu_ms = (thread_cpu_s() - cpu_before) * 1000.0 / params.len().max(1) as f64;
    search_times.sort();

    let mut match_times = Vec::with_capacity(options.matches);
    for _ in 0..options.matches {
        let need = AdHocNeed {
            text: corpus.need_text(),
            province: Some(corpus.province()),
            ..AdHocNeed::default()
        };
        let request = need.to_request().map_err(|e| anyhow::anyhow!("{e}"))?;
        let started = Instant::now();
        run_match(&index, &request)?;
        match_times.push(started.elapsed());
    }
    match_times.sort();

    let needs: Vec<AdHocNeed> = (0..options.matches)
        .map(|_| AdHocNeed {
            text: corpus.need_text(),
            province: Some(corpus.province()),
            ..AdHocNeed::default()
        })
        .collect();

    // HTTP: the real router on loopback, hit by keep-alive connections.
    let paths: Vec<String> = params
        .iter()
        .map(|p| {
            let q = p.q.clone().unwrap_or_default();
            let mut path = format!("/api/v1/search?q={}", encode(&q));
            if let Some(pr) = &p.province {
                path.push_str(&format!("&province={}", encode(pr)));
            }
            path
        })
        .collect();
    // The data dir is handed to a server process of its own (sled allows one process).
    drop(store);
    drop(index);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let duration = Duration::from_secs(options.http_seconds);
    // First the engine alone, every search run (`http_rps`), then the server as shipped, whose
    // cache answers what the load repeats (`http_cached_rps`). The load replays the same
    // searches over and over, so the second figure is mostly the cache's, as its hit rate says.
    let uncached = {
        let served = served::Served::start(dir, &["--search-cache-mib", "0"])?;
        http_load(
            &runtime,
            &served,
            paths.clone(),
            options.connections,
            duration,
        )
    };
    let served = served::Served::start(dir, &[])?;
    let cached = http_load(&runtime, &served, paths, options.connections, duration);
    let hits = served.metric("techmatch_search_cache_total{result=\"hit\"}")?;
    let misses = served.metric("techmatch_search_cache_total{result=\"miss\"}")?;
    let memory = served.memory();
    drop(served);
    let store = data.open_store()?;
    let index = data.open_index()?;
    let semantic = if options.semantic {
        semantic::measure(&store, &index, &params, &needs, options.seed, embedder)?
    } else {
        Value::Null
    };

    let n = options.listings.max(1) as f64;
    let mut figures = json!({
        "listings": options.listings,
        "import_per_s": finite(round(n / import_s, 0)),
        "import_merge_wait_s": finite(round(merge_s, 2)),
        "reindex_s": finite(round(reindex_s, 2)),
        "disk_bytes_per_listing": round(disk as f64 / n, 0),
        "open_s": round(open_s, 3),
        "search_p50_ms": round(percentile(&search_times, 0.50), 2),
        "search_p95_ms": round(percentile(&search_times, 0.95), 2),
        "search_p99_ms": round(percentile(&search_times, 0.99), 2),
        "search_cpu_mean_ms": round(search_cpu_ms, 2),
        "http_rps": round(uncached.rps, 0),
        "http_p99_ms": round(uncached.p99_ms, 2),
        "http_errors": cached.errors + uncached.errors,
        "http_cached_rps": round(cached.rps, 0),
        "http_cached_p99_ms": round(cached.p99_ms, 2),
        "http_cache_hit_rate": round(hits / (hits + misses).max(1.0), 3),
        "http_connections": options.connections,
        "match_p50_ms": round(percentile(&match_times, 0.50), 2),
        "match_p99_ms": round(percentile(&match_times, 0.99), 2),
        "rss_peak_mib": round(memory.peak, 0),
        "rss_anon_mib": round(memory.anon, 0),
        "rss_file_mib": round(memory.file, 0),
        "rss_peak_bench_mib": round(rss_peak_mib(), 0),
        "semantic": semantic,
    });
    if options.postgres {
        postgres::add_figures(&mut figures, options, &params)?;
    }
    Ok(figures)
}

/// Throughput and tail latency of one HTTP load.
struct HttpFigures {
    rps: f64,
    p99_ms: f64,
    errors: usize,
}

/// Runs the closed-loop load against `served` and sums it up.
fn http_load(
    runtime: &tokio::runtime::Runtime,
    served: &served::Served,
    paths: Vec<String>,
    connections: usize,
    duration: Duration,
) -> HttpFigures {
    let started = Instant::now();
    let (mut times, errors) =
        runtime.block_on(http::load(served.addr, paths, connections, duration));
    let seconds = started.elapsed().as_secs_f64();
    times.sort();
    HttpFigures {
        rps: times.len() as f64 / seconds,
        p99_ms: percentile(&times, 0.99),
        errors,
    }
}

/// `x` as JSON, or null when it was not measured (NaN).
fn finite(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
