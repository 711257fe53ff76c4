//! Any text as search parameters and query, run against a small index: a clear error or an
//! answer, never a panic.
#![no_main]

#[allow(dead_code)] // each target uses one entry
#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::search_params(data));
