//! Any bytes as an XLSX import file: read and check every record without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use techmatch::domain::parse_listing;
use techmatch::import::xlsx;

fuzz_target!(|data: &[u8]| {
    if let Ok((records, _)) = xlsx::read_bytes(std::path::Path::new("fuzz.xlsx"), data) {
        for r in records {
            let _ = parse_listing(&r.record);
        }
    }
});
