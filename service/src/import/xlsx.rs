//! Spreadsheets (XLSX, and the older formats calamine reads): the first sheet, header in row 1.

use std::path::Path;

use std::io::Cursor;

use calamine::{open_workbook_auto, Data, Reader, Xlsx};

use super::{Located, Problem, Read};
use crate::domain::{RawRecord, RawValue};

/// Reads every row after the header of the first sheet of a workbook file as one record.
pub fn read(path: &Path) -> Read {
    let mut workbook = open_workbook_auto(path).map_err(|e| unreadable(path, e))?;
    rows(path, workbook.worksheet_range_at(0))
}

/// Reads an XLSX workbook from `bytes`; `path` names it in problems.
pub fn read_bytes(path: &Path, bytes: &[u8]) -> Read {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(path, e))?;
    rows(path, workbook.worksheet_range_at(0))
}

fn unreadable(path: &Path, e: impl std::fmt::Display) -> Vec<Problem> {
    vec![Problem {
        file: path.to_path_buf(),
        line: 0,
        field: "-".into(),
        reason: format!("unreadable workbook: {e}"),
    }]
}

/// The records of the first sheet, given as calamine read it.
fn rows<E: std::fmt::Display>(
    path: &Path,
    sheet: Option<Result<calamine::Range<Data>, E>>,
) -> Read {
    let problem = |line: usize, reason: String| Problem {
        file: path.to_path_buf(),
        line,
        field: "-".into(),
        reason,
    };
    let range = match sheet {
        Some(Ok(range)) => range,
        Some(Err(e)) => return Err(vec![problem(0, format!("unreadable sheet: {e}"))]),
        None => return Err(vec![problem(0, "the workbook has no sheet".into())]),
    };
    // Row numbers as the spreadsheet shows them, even when the used range starts lower.
    let first_row = range.start().map_or(0, |(r, _)| r as usize) + 1;
    let mut rows = range.rows();
    let Some(header) = rows.next() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let headers: Vec<String> = header
        .iter()
        .map(|c| cell_text(c).unwrap_or_default().trim().to_lowercase())
        .collect();
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for (i, row) in rows.enumerate() {
        let line = first_row + 1 + i;
        let mut fields = Vec::new();
        for (h, cell) in headers.iter().zip(row) {
            if h.is_empty() {
                continue;
            }
            match cell_text(cell) {
                Ok(text) if text.trim().is_empty() => {}
                Ok(text) => fields.push((h.clone(), RawValue::Text(text))),
                Err(reason) => problems.push(Problem {
                    file: path.to_path_buf(),
                    line,
                    field: h.clone(),
                    reason,
                }),
            }
        }
        if !fields.is_empty() {
            records.push(Located {
                line,
                record: RawRecord { fields },
            });
        }
    }
    Ok((records, problems))
}

/// A cell as text: whole numbers without ".0", dates as YYYY-MM-DD.
fn cell_text(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(dt) if dt.time() == chrono::NaiveTime::MIN => dt.date().to_string(),
            Some(dt) => dt.to_string(),
            None => return Err("holds an unreadable date".into()),
        },
        Data::Error(e) => return Err(format!("holds the spreadsheet error {e}")),
    })
}
