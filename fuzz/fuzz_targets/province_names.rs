//! Any text as a province name, and through every analysis chain: no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use techmatch::domain::Provinces;
use techmatch_index::analysis::{tokens, Chain};
use techmatch_index::snippet;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = Provinces::get().resolve(&text);
    for chain in [Chain::Exact, Chain::Folded, Chain::Bigram] {
        let _ = tokens(chain, &text);
    }
    let _ = snippet(&text, &tokens(Chain::Folded, "nuoi tom"), 80);
});
