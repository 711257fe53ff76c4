//! The plain-tantivy reference, measured in the same run on the same listings and queries: a
//! plain tantivy index (title and description, tantivy's default tokenizer, one writer with
//! the budget import uses, a commit per import chunk) and each query as a plain BM25 OR query
//! over both fields, top 10 with a count. It is the engine techmatch is built on doing the
//! least work; the distance to it is techmatch's own cost, and ratios to it hold across
//! machines where absolute figures do not.

use std::path::Path;
use std::time::{Duration, Instant};

use tantivy::collector::{Count, TopDocs};
use tantivy::query::QueryParser;
use tantivy::schema::{Schema, TEXT};
use tantivy::{doc, Index, IndexWriter, ReloadPolicy};

use super::{percentile, process_cpu_s, Corpus, CHUNK};

/// The writer's memory, as techmatch's index writer has.
const WRITER_BUDGET: usize = 128 * 1024 * 1024;

/// What the reference measured.
pub struct Reference {
    /// Listings indexed per second, commits included.
    pub import_per_s: f64,
    /// CPU time per listing indexed (every thread of the process), in milliseconds.
    pub import_cpu_ms_per_listing: f64,
    /// Search latency percentiles, in milliseconds.
    pub search_p50_ms: f64,
    /// See `search_p50_ms`.
    pub search_p99_ms: f64,
}

/// Indexes the `listings` listings `seed` generates in a plain tantivy index under `dir`
/// (removed afterwards) and times `queries` on it.
pub fn measure(
    dir: &Path,
    seed: u64,
    listings: usize,
    queries: &[String],
) -> anyhow::Result<Reference> {
    let path = dir.join("tantivy-reference");
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path)?;
    let result = build_and_search(&path, seed, listings, queries);
    let _ = std::fs::remove_dir_all(&path);
    result
}

fn build_and_search(
    path: &Path,
    seed: u64,
    listings: usize,
    queries: &[String],
) -> anyhow::Result<Reference> {
    let mut builder = Schema::builder();
    let title = builder.add_text_field("title", TEXT);
    let description = builder.add_text_field("description", TEXT);
    let index = Index::create_in_dir(path, builder.build())?;
    let mut writer: IndexWriter = index.writer(WRITER_BUDGET)?;
    // The same generator as the import: the same listings in the same order.
    let mut corpus = Corpus::new(seed);
    let mut elapsed = Duration::ZERO;
    let mut cpu_s = 0.0;
    for from in (0..listings).step_by(CHUNK) {
        let to = (from + CHUNK).min(listings);
        let chunk: Vec<(String, String)> = (from..to)
            .map(|n| {
                let l = corpus.listing(n);
                let text = |k: &str| l[k].as_str().map(str::to_string).unwrap_or_default();
                (text("title"), text("description"))
            })
            .collect();
        let started = Instant::now();
        let cpu_started = process_cpu_s();
        for (t, d) in chunk {
            writer.add_document(doc!(title => t, description => d))?;
        }
        writer.commit()?;
        elapsed += started.elapsed();
        cpu_s += process_cpu_s() - cpu_started;
    }
    // Settled, as techmatch's index is before its queries are timed.
    writer.wait_merging_threads()?;
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    let searcher = reader.searcher();
    // Terms OR-ed: the parser's default.
    let parser = QueryParser::for_index(&index, vec![title, description]);
    let mut times = Vec::with_capacity(queries.len());
    for q in queries {
        let started = Instant::now();
        let (query, _) = parser.parse_query_lenient(q);
        let (top, count) = searcher.search(&query, &(TopDocs::with_limit(10), Count))?;
        std::hint::black_box((top, count));
        times.push(started.elapsed());
    }
    times.sort();
    Ok(Reference {
        import_per_s: listings as f64 / elapsed.as_secs_f64().max(1e-9),
        import_cpu_ms_per_listing: cpu_s * 1000.0 / listings.max(1) as f64,
        search_p50_ms: percentile(&times, 0.50),
        search_p99_ms: percentile(&times, 0.99),
    })
}
