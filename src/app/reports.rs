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
