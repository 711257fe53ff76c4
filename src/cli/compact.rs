//! `techmatch compact`: rewrite a store left sparse by bulk writes, so that it opens fast.

use std::process::ExitCode;

use techmatch::data_dir::DataDir;
use techmatch::store::sled::Compaction;

/// One line saying what the store held and what was done.
pub fn describe(c: &Compaction) -> String {
    if c.compacted {
        format!(
            "store compacted in {:.1} s: {} of {} segments were free; {} MB → {} MB",
            c.seconds,
            c.free_segments,
            c.segments,
            c.bytes_before / 1_000_000,
            c.bytes_after / 1_000_000
        )
    } else if c.lacked_room {
        format!(
            "store left as it is: {} of {} segments are free, but the disk lacks room for a \
             {} MB copy",
            c.free_segments,
            c.segments,
            c.bytes_before / 1_000_000
        )
    } else {
        format!(
            "store left as it is: {} of {} segments free, too few to be worth a copy",
            c.free_segments, c.segments
        )
    }
}

pub fn run(data: &DataDir) -> anyhow::Result<ExitCode> {
    match data.settle_store()? {
        Some(c) => println!("{}", describe(&c)),
        None => println!("a shared store has nothing to compact here"),
    }
    Ok(ExitCode::SUCCESS)
}
