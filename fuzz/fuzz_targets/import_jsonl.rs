//! Any bytes as a JSON Lines import file: read and check every record without panicking.
#![no_main]

#[allow(dead_code)] // each target uses one entry
#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::import_jsonl(data));
