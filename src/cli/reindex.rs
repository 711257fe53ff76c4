//! `techmatch reindex`: throw the index away and rebuild it from the store.

use std::process::ExitCode;

use techmatch::data_dir::DataDir;
use techmatch::indexer;

pub fn run(data: &DataDir) -> anyhow::Result<ExitCode> {
    let store = data.open_backend()?;
    let index = data.open_index()?;
    let bar = super::progress::bar(store.count()? as u64, "reindexing");
    let started = std::time::Instant::now();
    let seq = indexer::rebuild(store.as_store(), &index, |n| bar.set_position(n as u64))?;
    bar.finish_and_clear();
    let docs = index.num_docs();
    let indexed_s = started.elapsed().as_secs_f64();
    index.close()?;
    println!(
        "reindexed {docs} listing(s) up to change {seq} in {indexed_s:.1} s (segments merged after {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
