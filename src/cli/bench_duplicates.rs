//! `techmatch bench-duplicates`: precision and recall of near-duplicate detection on a labelled
//! set built from the demo data (see `bench::duplicates`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use techmatch::domain::{parse_listing, Listing};

/// Options of `bench-duplicates`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Demo listings that get an altered copy (a fifth of them of each kind).
    #[arg(long, default_value_t = 1000)]
    copies: usize,
    /// Similarity from which a pair is reported.
    #[arg(long, default_value_t = techmatch_index::duplicates::DEFAULT_THRESHOLD)]
    threshold: f32,
    /// Seed of the generator (same seed, same set).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Also write the figures to this file as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// The demo's listings.
fn demo_listings() -> anyhow::Result<Vec<Listing>> {
    let now = chrono::Utc::now();
    let mut listings = Vec::new();
    for (name, text) in techmatch::demo::FILES {
        let (records, problems) =
            techmatch::import::jsonl::read_bytes(Path::new(name), text.as_bytes())
                .map_err(|p| anyhow::anyhow!("{name}: {} unreadable lines", p.len()))?;
        anyhow::ensure!(
            problems.is_empty(),
            "{name}: {} unreadable lines",
            problems.len()
        );
        for located in records {
            let draft = parse_listing(&located.record)
                .map_err(|e| anyhow::anyhow!("{name}:{}: {e:?}", located.line))?;
            listings.push(draft.without_timestamps().into_listing(None, now));
        }
    }
    Ok(listings)
}

/// Runs the measurement and prints the figures as JSON.
pub fn run_cmd(args: Args) -> anyhow::Result<ExitCode> {
    let listings = demo_listings()?;
    let report =
        techmatch_bench::bench::duplicates::run(&listings, args.copies, args.threshold, args.seed);
    let text = serde_json::to_string_pretty(&report)?;
    println!("{text}");
    if let Some(path) = &args.json {
        std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
