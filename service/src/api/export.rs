//! Search results as downloads: `GET /search?...&format=csv|xlsx|jsonl`. Each hit is written as
//! the listing the caller may see, in the interchange format (the import template's columns),
//! so a download imports back: CSV with a byte-order mark for spreadsheet programs, XLSX (one
//! sheet, header in row 1), JSON Lines.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use crate::app::AppState;
use crate::app::Caller;
use crate::domain::input::all_columns;
use crate::domain::Listing;
use crate::embed::SharedSemantic;
use techmatch_index::SearchRequest;

/// Most hits one download holds (from the requested offset).
pub const MAX_EXPORT: usize = 1000;

/// A download format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values, UTF-8 with a byte-order mark.
    Csv,
    /// An Excel workbook.
    Xlsx,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// Reads `format`: `None` for the JSON answer (`json` or absent).
    pub fn parse(format: Option<&str>) -> Result<Option<Format>, ApiError> {
        match format.map(str::trim).filter(|f| !f.is_empty()) {
            None | Some("json") => Ok(None),
            Some("csv") => Ok(Some(Format::Csv)),
            Some("xlsx") => Ok(Some(Format::Xlsx)),
            Some("jsonl") => Ok(Some(Format::Jsonl)),
            Some(_) => Err(ApiError::invalid(
                "format",
                "must be json, csv, xlsx or jsonl",
            )),
        }
    }
}

/// Runs the search page by page (up to [`MAX_EXPORT`] hits from the request's offset, the
/// request's `limit` ignored) and answers the listings as a file.
pub(crate) async fn search_download(
    state: &AppState,
    caller: &Caller,
    request: SearchRequest,
    semantic: SharedSemantic,
    format: Format,
) -> Result<Response, ApiError> {
    let listings =
        crate::app::search::listings_found(state, caller, request, semantic, MAX_EXPORT).await?;
    let (bytes, content_type, extension) = match format {
        Format::Jsonl => (jsonl(&listings)?, "application/x-ndjson", "jsonl"),
        Format::Csv => (csv(&listings)?, "text/csv; charset=utf-8", "csv"),
        Format::Xlsx => (
            xlsx(&listings)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"techmatch-search.{extension}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn internal(e: impl std::error::Error + Send + Sync + 'static) -> ApiError {
    ApiError::internal(e)
}

fn jsonl(listings: &[Listing]) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    for l in listings {
        serde_json::to_writer(&mut out, &l.interchange()).map_err(internal)?;
        out.push(b'\n');
    }
    Ok(out)
}

/// The listing's cells in the template's column order: lists joined with "; ".
fn cells(listing: &Listing) -> Result<Vec<String>, ApiError> {
    let value = serde_json::to_value(listing).map_err(internal)?;
    Ok(all_columns()
        .iter()
        .map(|c| match &value[*c] {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        })
        .collect())
}

fn csv(listings: &[Listing]) -> Result<Vec<u8>, ApiError> {
    // The byte-order mark makes spreadsheet programs read UTF-8 (Vietnamese) correctly.
    let mut writer = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    writer.write_record(all_columns()).map_err(internal)?;
    for l in listings {
        writer.write_record(cells(l)?).map_err(internal)?;
    }
    writer.into_inner().map_err(internal)
}

fn xlsx(listings: &[Listing]) -> Result<Vec<u8>, ApiError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, name) in all_columns().iter().enumerate() {
        let c = u16::try_from(c).map_err(internal)?;
        sheet.write_string(0, c, *name).map_err(internal)?;
    }
    for (r, l) in listings.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(internal)?;
        for (c, cell) in cells(l)?.iter().enumerate() {
            if !cell.is_empty() {
                let c = u16::try_from(c).map_err(internal)?;
                sheet.write_string(r, c, cell).map_err(internal)?;
            }
        }
    }
    book.save_to_buffer().map_err(internal)
}
