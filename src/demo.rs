//! The demo data shipped in `fixtures/demo`: Vietnamese listings written as departments,
//! institutes and firms write them, and NASA's public-domain technology listings in English.

use std::path::Path;

use crate::domain::parse_listing;
use crate::import::{jsonl, store_drafts, ImportError, ImportReport, Problem};
use crate::store::Store;

/// The demo files: name and contents.
pub const FILES: [(&str, &str); 2] = [
    (
        "fixtures/demo/listings-vi.jsonl",
        include_str!("../fixtures/demo/listings-vi.jsonl"),
    ),
    (
        "fixtures/demo/nasa-en.jsonl",
        include_str!("../fixtures/demo/nasa-en.jsonl"),
    ),
];

/// Stores every demo listing in one durable write.
pub fn load(store: &dyn Store) -> Result<ImportReport, ImportError> {
    let mut drafts = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in FILES {
        let path = Path::new(name);
        let (records, unreadable) =
            jsonl::read_bytes(path, text.as_bytes()).map_err(ImportError::Invalid)?;
        problems.extend(unreadable);
        for located in records {
            match parse_listing(&located.record) {
                Ok(d) => drafts.push(d),
                Err(errors) => problems.extend(errors.into_iter().map(|e| Problem {
                    file: path.to_path_buf(),
                    line: located.line,
                    field: e.field,
                    reason: e.reason,
                })),
            }
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid(problems));
    }
    store_drafts(store, drafts)
}
