//! Importing listings from the files departments keep: JSON Lines, CSV and XLSX.
//!
//! Every file is read and every record checked before anything is written; a problem anywhere
//! writes nothing and is reported as `file:line: field: reason`. Records with an id already
//! stored replace it (their creation time is kept).

pub mod csv_file;
pub mod jsonl;
pub mod xlsx;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::domain::{parse_listing, Draft, Listing, RawRecord};
use crate::store::{Store, StoreError};

/// One problem found in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file.
    pub file: PathBuf,
    /// 1-based line (JSONL, CSV) or row (XLSX); 0 when the whole file is at fault.
    pub line: usize,
    /// The field at fault, or `-` for the whole record.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.field,
            self.reason
        )
    }
}

/// A record read from a file with the line it came from.
pub struct Located {
    /// 1-based line or row.
    pub line: usize,
    /// The record.
    pub record: RawRecord,
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Input files have problems; every one is listed.
    #[error("{} problem(s) in the input; nothing was imported", .0.len())]
    Invalid(Vec<Problem>),
    /// The store refused the write.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Records read.
    pub records: usize,
    /// Listings that did not exist before.
    pub created: usize,
    /// Listings replaced.
    pub updated: usize,
    /// Sequence of the last change written.
    pub seq: u64,
}

/// What a reader got from a file: the records it could read, and the problems with the rest;
/// `Err` when the file could not be read at all.
pub type Read = Result<(Vec<Located>, Vec<Problem>), Vec<Problem>>;

/// Reads the file at `path` and hands its bytes to `read`; an unreadable file is one problem.
fn read_path(path: &Path, read: fn(&Path, &[u8]) -> Read) -> Read {
    let bytes = std::fs::read(path).map_err(|e| {
        vec![Problem {
            file: path.to_path_buf(),
            line: 0,
            field: "-".into(),
            reason: e.to_string(),
        }]
    })?;
    read(path, &bytes)
}

/// Reads one file's records, choosing the reader by extension.
pub fn read_file(path: &Path) -> Read {
    let whole = |reason: String| {
        vec![Problem {
            file: path.to_path_buf(),
            line: 0,
            field: "-".into(),
            reason,
        }]
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "jsonl" | "ndjson" | "json" => read_path(path, jsonl::read_bytes),
        "csv" => read_path(path, csv_file::read_bytes),
        "xlsx" | "xlsm" | "xls" | "ods" => xlsx::read(path),
        _ => Err(whole(format!(
            "unknown file type {ext:?}; use .jsonl, .csv or .xlsx"
        ))),
    }
}

/// Reads and checks files; returns the drafts, or every problem found.
pub fn check_files(paths: &[PathBuf]) -> Result<Vec<Draft>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut drafts = Vec::new();
    // An id twice in one import is almost always a copy-paste slip, so it is refused.
    let mut seen: HashMap<String, (PathBuf, usize)> = HashMap::new();
    for path in paths {
        let records = match read_file(path) {
            Ok((records, unreadable)) => {
                problems.extend(unreadable);
                records
            }
            Err(p) => {
                problems.extend(p);
                continue;
            }
        };
        for Located { line, record } in records {
            let problem = |field: String, reason: String| Problem {
                file: path.clone(),
                line,
                field,
                reason,
            };
            match parse_listing(&record) {
                Ok(draft) => {
                    if let Some((file, first)) =
                        seen.insert(draft.id().to_string(), (path.clone(), line))
                    {
                        problems.push(problem(
                            "id".into(),
                            format!(
                                "{:?} already appears at {}:{first}",
                                draft.id(),
                                file.display()
                            ),
                        ));
                    }
                    drafts.push(draft);
                }
                Err(errors) => {
                    problems.extend(errors.into_iter().map(|e| problem(e.field, e.reason)))
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(drafts)
    } else {
        Err(problems)
    }
}

/// Checks every file, then stores all records in one durable write.
pub fn import_files(store: &dyn Store, paths: &[PathBuf]) -> Result<ImportReport, ImportError> {
    let drafts = check_files(paths).map_err(ImportError::Invalid)?;
    store_drafts(store, drafts)
}

/// Stores checked drafts in one durable write, keeping creation times of replaced listings.
pub fn store_drafts(store: &dyn Store, drafts: Vec<Draft>) -> Result<ImportReport, ImportError> {
    let now = Utc::now();
    let mut report = ImportReport {
        records: drafts.len(),
        ..ImportReport::default()
    };
    let mut listings: Vec<Listing> = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let existing = store.get(draft.id())?;
        if existing.is_some() {
            report.updated += 1;
        } else {
            report.created += 1;
        }
        listings.push(draft.into_listing(existing.as_ref(), now));
    }
    report.seq = if listings.is_empty() {
        store.last_seq()?
    } else {
        store.put_all(&listings)?
    };
    Ok(report)
}
