//! `techmatch import FILE...`: check every file, then store all records at once.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::data_dir::DataDir;
use crate::import::{check_files, store_drafts, ImportError};
use crate::indexer;

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
    Ok(ExitCode::SUCCESS)
}
