//! The province and national reports, for the API, the desk and its downloads.

use chrono::Utc;

use super::AppError;
use crate::domain::ProvinceCode;
use crate::report::{build, Report};
use crate::store::{DealStore, Store};

/// The report of `province` (the nation's for `None`), from every listing and deal. Blocking:
/// it reads the whole store.
///
/// # Errors
/// [`AppError::Store`] when the store fails.
pub fn compute(
    store: &dyn Store,
    deals: &dyn DealStore,
    province: Option<&ProvinceCode>,
) -> Result<Report, AppError> {
    let listings = store.scan().collect::<Result<Vec<_>, _>>()?;
    let deals = deals.deals()?;
    Ok(build(province, listings, &deals, Utc::now()))
}

/// The report as CSV with a UTF-8 byte-order mark, which spreadsheet programs need to read the
/// diacritics right.
///
/// # Errors
/// [`AppError::Csv`] if the CSV cannot be written.
pub fn csv_for_spreadsheets(report: &Report) -> Result<String, AppError> {
    Ok(format!("\u{feff}{}", report.to_csv()?))
}

/// The report as an XLSX workbook: the CSV's rows on one sheet, figures as numbers.
///
/// # Errors
/// [`AppError::Csv`] or [`AppError::Xlsx`] when the rows or the workbook cannot be written.
pub fn xlsx(report: &Report) -> Result<Vec<u8>, AppError> {
    rows_to_xlsx(&report.to_csv()?)
}

/// CSV text (header first) as an XLSX workbook of one sheet, figures as numbers.
///
/// # Errors
/// [`AppError::Csv`] or [`AppError::Xlsx`] when the rows or the workbook cannot be written.
pub fn rows_to_xlsx(csv: &str) -> Result<Vec<u8>, AppError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("techmatch")?;
    let mut rows = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes());
    for (r, record) in rows.records().enumerate() {
        let record = record?;
        let r = u32::try_from(r).unwrap_or(u32::MAX);
        for (c, cell) in record.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            // CSV guards formulas with a leading quote; a workbook cell is text already.
            let text = cell.strip_prefix('\'').unwrap_or(cell);
            match text.parse::<f64>() {
                Ok(n) if r > 0 && !text.is_empty() => sheet.write_number(r, c, n)?,
                _ => sheet.write_string(r, c, text)?,
            };
        }
    }
    Ok(workbook.save_to_buffer()?)
}
