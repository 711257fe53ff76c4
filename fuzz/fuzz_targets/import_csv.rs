//! Any bytes as a CSV import file: read and check every record without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use techmatch::domain::parse_listing;
use techmatch::import::csv_file;

fuzz_target!(|data: &[u8]| {
    if let Ok((records, _)) = csv_file::read_bytes(std::path::Path::new("fuzz.csv"), data) {
        for r in records {
            let _ = parse_listing(&r.record);
        }
    }
});
