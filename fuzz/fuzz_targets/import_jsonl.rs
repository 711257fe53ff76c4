//! Any bytes as a JSON Lines import file: read and check every record without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use techmatch::domain::parse_listing;
use techmatch::import::jsonl;

fuzz_target!(|data: &[u8]| {
    if let Ok((records, _)) = jsonl::read_bytes(std::path::Path::new("fuzz.jsonl"), data) {
        for r in records {
            let _ = parse_listing(&r.record);
        }
    }
});
