//! `techmatch compact`: rewrite a store left sparse by bulk writes, so that it opens fast.

use std::process::ExitCode;

use techmatch::data_dir::DataDir;

pub fn run(data: &DataDir) -> anyhow::Result<ExitCode> {
    match data.settle_store()? {
        Some(c) => println!("{c}"),
        None => println!("a shared store has nothing to compact here"),
    }
    Ok(ExitCode::SUCCESS)
}
