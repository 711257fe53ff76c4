//! CSV with a header row of field names (see the column template in the README).

use std::path::Path;

use super::{Located, Problem, Read};
use crate::domain::{RawRecord, RawValue};

/// Reads CSV from `bytes`; `path` names it in problems.
pub fn read_bytes(path: &Path, bytes: &[u8]) -> Read {
    let problem = |line: usize, reason: String| Problem {
        file: path.to_path_buf(),
        line,
        field: "-".into(),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase())
            .collect(),
        Err(e) => return Err(vec![problem(1, format!("unreadable header: {e}"))]),
    };
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for row in reader.records() {
        match row {
            Ok(row) => {
                let line = row.position().map_or(0, |p| p.line() as usize);
                let fields = headers
                    .iter()
                    .zip(row.iter())
                    .filter(|(h, v)| !h.is_empty() && !v.trim().is_empty())
                    .map(|(h, v)| (h.clone(), RawValue::Text(v.to_string())))
                    .collect();
                records.push(Located {
                    line,
                    record: RawRecord { fields },
                });
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                let reason = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_string(),
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("has {len} columns; the header has {expected_len}"),
                    _ => e.to_string(),
                };
                problems.push(problem(line, reason));
            }
        }
    }
    Ok((records, problems))
}
