//! `techmatch bench-cluster`: nodes on a throw-away PostgreSQL store behind haproxy, under
//! load, one of them SIGKILLed and restarted; prints the figures and fails when an
//! acknowledged write is missing anywhere.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use techmatch_bench::cluster_bench::{run, Options};

/// Options of `bench-cluster`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Nodes behind haproxy (one is killed at a third of the run, restarted at two thirds).
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 30.0)]
    seconds: f64,
    /// Concurrent writers through haproxy.
    #[arg(long, default_value_t = 2)]
    writers: usize,
    /// Concurrent readers through haproxy (the first checks read-your-writes: it searches for
    /// the latest acknowledged write with its min_seq).
    #[arg(long, default_value_t = 8)]
    readers: usize,
    /// Also run a streaming replica of the store (pg_basebackup -R) and check that it
    /// received every acknowledged write.
    #[arg(long)]
    replica: bool,
    /// Also write the figures to this file as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Runs the bench; exit code 1 when an acknowledged write is missing.
pub fn run_cmd(args: Args) -> anyhow::Result<ExitCode> {
    let report = run(&Options {
        nodes: args.nodes,
        seconds: args.seconds,
        writers: args.writers,
        readers: args.readers,
        replica: args.replica,
    })?;
    print!("{}", report.table());
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
