//! JSON Lines: one JSON object per line.

use std::path::Path;

use serde_json::Value;

use super::{Located, Problem, Read};
use crate::domain::RawRecord;

/// Reads every non-blank line of `bytes` as one record; `path` names them in problems.
pub fn read_bytes(path: &Path, bytes: &[u8]) -> Read {
    let problem = |line: usize, reason: String| Problem {
        file: path.to_path_buf(),
        line,
        field: "-".into(),
        reason,
    };
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = i + 1;
        let Ok(text) = std::str::from_utf8(raw) else {
            problems.push(problem(line, "is not valid UTF-8".into()));
            continue;
        };
        let text = text.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => records.push(Located {
                line,
                record: RawRecord::from_json(object),
            }),
            Ok(_) => problems.push(problem(line, "must be a JSON object".into())),
            Err(e) => problems.push(problem(line, format!("invalid JSON: {e}"))),
        }
    }
    Ok((records, problems))
}
