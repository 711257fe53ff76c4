//! The command line: global options, one module per command, and the exit code.

mod backup;
mod bench;
mod bench_cluster;
mod bench_duplicates;
mod compact;
mod embedder;
mod eval;
mod eval_postgres;
mod export;
mod import;
mod mail_args;
mod match_cmd;
mod progress;
mod reindex;
mod search;
mod semantic;
mod serve;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use techmatch_index::SearchIndex;

use techmatch::data_dir::DataDir;

/// Every file and directory this process creates is its owner's alone (0600 files, 0700
/// directories): the store holds password and token hashes and contact details, and sled and
/// tantivy create files of their own long after start-up, so a mode set once would not do.
fn private_files() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}
use techmatch::indexer;
use techmatch::store::Backend;

/// Technology-transfer matchmaking for Vietnam's provincial Departments of Science and Technology.
#[derive(Debug, Parser)]
#[command(name = "techmatch", version, about)]
struct Cli {
    /// Data directory (store, index, admin token).
    #[arg(
        long,
        global = true,
        env = "TECHMATCH_DATA_DIR",
        default_value = "data"
    )]
    data_dir: PathBuf,
    /// A shared PostgreSQL store (`postgres://user@host:port/db`) instead of the embedded
    /// store in the data dir, which then keeps only this node's index.
    #[arg(long, global = true, env = "TECHMATCH_STORE_URL")]
    store: Option<String>,
    /// Ranking weights (JSON) instead of the shipped fixtures/ranking.json.
    #[arg(long, global = true, env = "TECHMATCH_RANKING")]
    ranking: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API.
    Serve(serve::Args),
    /// Import listings from JSON Lines, CSV or XLSX files (all or nothing).
    Import(import::Args),
    /// Write every listing as JSON Lines (imports back unchanged).
    Export(export::Args),
    /// Search listings.
    Search(search::Args),
    /// Match a need to technologies (or a technology to needs), with reasons.
    Match(match_cmd::Args),
    /// Rebuild the search index from the store.
    Reindex,
    /// Rewrite the embedded store compactly when bulk writes left it sparse (server stopped).
    Compact,
    /// Copy the store into a new directory (through the server when one is running).
    Backup(backup::BackupArgs),
    /// Replace the store with a backup and rebuild the index (server stopped).
    Restore(backup::RestoreArgs),
    /// Print the CSV column template for imports.
    Template,
    /// Measure ranking quality on a labelled set (BEIR layout).
    Eval(eval::Args),
    /// Measure import, search, match and HTTP performance on a generated corpus.
    Bench(bench::Args),
    /// Manage accounts: add users, reset passwords.
    User(user::Args),
    /// Nodes on a throw-away PostgreSQL store behind haproxy, under load, one SIGKILLed and
    /// restarted: replication lag, failed requests, catch-up, lost writes.
    BenchCluster(bench_cluster::Args),
    /// Precision and recall of near-duplicate detection on altered copies of the demo listings.
    BenchDuplicates(bench_duplicates::Args),
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    private_files();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TECHMATCH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Some(path) = &cli.ranking {
        if let Err(e) = techmatch::config::load(path) {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let data = DataDir::new(cli.data_dir).with_store_url(cli.store);
    let result = match cli.command {
        Command::Serve(args) => serve::run(&data, args),
        Command::Import(args) => import::run(&data, args),
        Command::Export(args) => export::run(&data, args),
        Command::Search(args) => search::run(&data, args),
        Command::Match(args) => match_cmd::run_cmd(&data, args),
        Command::Reindex => reindex::run(&data),
        Command::Compact => compact::run(&data),
        Command::Backup(args) => backup::backup(&data, args),
        Command::Restore(args) => backup::restore_cmd(&data, args),
        Command::Eval(args) => eval::run(args),
        Command::Bench(args) => bench::run_cmd(args),
        Command::User(args) => user::run(&data, args),
        Command::BenchCluster(args) => bench_cluster::run_cmd(args),
        Command::BenchDuplicates(args) => bench_duplicates::run_cmd(args),
        Command::Template => {
            println!("{}", techmatch::domain::input::all_columns().join(","));
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Opens store and index and brings the index up to date.
fn open_current(data: &DataDir) -> anyhow::Result<(Arc<dyn Backend>, SearchIndex)> {
    let store = data.open_backend()?;
    let index = data.open_index()?;
    let behind = store.last_seq()?.saturating_sub(index.applied_seq());
    let bar = progress::bar(behind, "indexing");
    // Also when not behind: an index ahead of its store is rebuilt.
    indexer::catch_up(store.as_store(), &index)?;
    bar.finish_and_clear();
    Ok((store, index))
}
