//! `techmatch import FILE...`: check every file, then store all records at once.

use std::path::PathBuf;
use std::process::ExitCode;

use techmatch::data_dir::DataDir;
use techmatch::import::{check_files, store_drafts, ImportError};
use techmatch::indexer;

/// Options of `import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files to import: .jsonl, .csv or .xlsx.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Check the files and report problems without writing anything.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(data: &DataDir, args: Args) -> anyhow::Result<ExitCode> {
    let drafts = match check_files(&args.files) {
        Ok(d) => d,
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!("{} problem(s) found; nothing was imported", problems.len());
            return Ok(ExitCode::FAILURE);
        }
    };
    if args.dry_run {
        println!("{} record(s) checked; no problems found", drafts.len());
        return Ok(ExitCode::SUCCESS);
    }
    let ids: Vec<String> = drafts.iter().map(|d| d.id().to_string()).collect();
    if data.store_url().is_some() {
        // A shared store: write it, and every node's index follows its change log; this
        // data dir's index (maybe held by a running node) is not touched.
        let store = data.open_backend()?;
        let report = match store_drafts(store.as_store(), drafts) {
            Ok(r) => r,
            Err(ImportError::Invalid(problems)) => {
                for p in &problems {
                    eprintln!("{p}");
                }
                return Ok(ExitCode::FAILURE);
            }
            Err(ImportError::Store(e)) => return Err(e.into()),
        };
        println!(
            "imported {} record(s): {} new, {} updated (up to change {}; nodes index them as \
             they follow the store)",
            report.records,
            report.created,
            report.updated,
            store.last_seq()?
        );
        report_duplicates(store.as_store(), &ids)?;
        return Ok(ExitCode::SUCCESS);
    }
    let (store, index) = super::open_current(data)?;
    let report = match store_drafts(store.as_store(), drafts) {
        Ok(r) => r,
        Err(ImportError::Invalid(problems)) => {
            for p in &problems {
                eprintln!("{p}");
            }
            return Ok(ExitCode::FAILURE);
        }
        Err(ImportError::Store(e)) => return Err(e.into()),
    };
    let bar = super::progress::bar(report.records as u64, "indexing");
    indexer::catch_up(store.as_store(), &index)?;
    bar.finish_and_clear();
    index.close()?;
    println!(
        "imported {} record(s): {} new, {} updated",
        report.records, report.created, report.updated
    );
    report_duplicates(store.as_store(), &ids)?;
    // The next start (a server's) then reads sled's snapshot instead of replaying the log
    // this import wrote.
    // The listings are durable already: a failure here only leaves the next start slower.
    drop(store);
    match data.settle_store() {
        Ok(Some(c)) if c.compacted || c.lacked_room => println!("{c}"),
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "the store was not settled: the next start replays this import's log")
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Near-duplicates shown after an import.
const SHOWN_DUPLICATES: usize = 20;

/// Says which imported listings look like another listing (stored before, or in the same
/// import): the same technology from another exchange, re-typed or shortened. Nothing is
/// merged; brokers see them on the listing pages.
fn report_duplicates(store: &dyn techmatch::store::Store, ids: &[String]) -> anyhow::Result<()> {
    let duplicates = techmatch::duplicates::Duplicates::new();
    duplicates.catch_up(store)?;
    let mut pairs = Vec::new();
    let imported: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
    for id in ids {
        for (other, similarity) in duplicates.of(id) {
            // A pair within the import once.
            if !imported.contains(other.as_str()) || id.as_str() < other.as_str() {
                pairs.push((id.as_str(), other, similarity));
            }
        }
    }
    if pairs.is_empty() {
        return Ok(());
    }
    println!(
        "{} possible near-duplicate pair(s) (same technology listed again?):",
        pairs.len()
    );
    for (id, other, similarity) in pairs.iter().take(SHOWN_DUPLICATES) {
        println!("  {id} ~ {other} (similarity {similarity:.2})");
    }
    if pairs.len() > SHOWN_DUPLICATES {
        println!(
            "  … and {} more (GET /api/v1/listings/ID/duplicates)",
            pairs.len() - SHOWN_DUPLICATES
        );
    }
    Ok(())
}
