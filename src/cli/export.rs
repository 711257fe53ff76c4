//! `techmatch export`: every listing as JSON Lines, in id order.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use techmatch::data_dir::DataDir;

/// Options of `export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub fn run(data: &DataDir, args: Args) -> anyhow::Result<ExitCode> {
    let store = data.open_backend()?;
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::new(out);
    let mut n = 0;
    for listing in store.scan() {
        // The interchange format: a confidential need's disclosures stay in the store.
        serde_json::to_writer(&mut out, &listing?.interchange())?;
        out.write_all(b"\n")?;
        n += 1;
    }
    out.flush()?;
    if args.output.is_some() {
        eprintln!("exported {n} listing(s)");
    }
    Ok(ExitCode::SUCCESS)
}
