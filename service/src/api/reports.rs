//! `/reports`: the province report for its brokers and administrators, and the national report
//! for administrators; JSON, or CSV with `?format=csv`.

use super::openapi as doc;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::error::ApiError;
use super::json::Query;
use crate::app::AppState;
use crate::app::Caller;
use crate::domain::{ProvinceCode, Provinces};
use crate::report::Report;

/// The routes of this module: province and national reports.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports/provinces/{code}", get(province))
        .route("/reports/national", get(national))
}

/// `?format=json` (default), `?format=csv` or `?format=xlsx`.
#[derive(Debug, Default, Deserialize)]
struct Format {
    format: Option<String>,
}

/// Scans listings and deals and computes the report in a blocking thread (also for the desk).
pub(crate) async fn compute(
    state: &AppState,
    province: Option<ProvinceCode>,
) -> Result<Report, ApiError> {
    let (store, deals) = (state.store.clone(), state.deals.clone());
    let report = tokio::task::spawn_blocking(move || {
        crate::app::reports::compute(store.as_ref(), deals.as_ref(), province.as_ref())
    })
    .await??;
    Ok(report)
}

fn answer(report: &Report, format: &Format) -> Result<Response, ApiError> {
    match format.format.as_deref().map(str::trim) {
        None | Some("") | Some("json") => Ok(Json(report).into_response()),
        Some("csv") => {
            let csv = report.to_csv().map_err(ApiError::internal)?;
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
        }
        Some("xlsx") => {
            let book = crate::app::reports::xlsx(report)?;
            Ok((
                [(
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                )],
                book,
            )
                .into_response())
        }
        Some(other) => Err(ApiError::invalid(
            "format",
            format!("{other:?} is not one of json, csv, xlsx"),
        )),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/provinces/{code}",
    operation_id = "reports_province",
    summary = "Province report (its brokers and admins): supply and demand by field, needs without a deal after 30 days, deals by stage, conversion, signed value, flows between provinces",
    params(
        ("code" = String, Path, description = "Province code or name"),
        ("format" = inline(Option<doc::ReportFormat>), Query)
    ),
    responses(
        (status = 200, description = "The report", content((doc::Report = "application/json"), (String = "text/csv"), (inline(doc::Binary) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn province(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(format): Query<Format>,
) -> Result<Response, ApiError> {
    caller.require_signed_in()?;
    let province = Provinces::get()
        .resolve(&code)
        .map_err(|e| ApiError::NotFound(format!("province: {e}")))?
        .code
        .clone();
    caller.may_report(&province)?;
    let report = compute(&state, Some(province)).await?;
    answer(&report, &format)
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/national",
    operation_id = "reports_national",
    summary = "National report (admins)",
    params(
        ("format" = inline(Option<doc::ReportFormat>), Query)
    ),
    responses(
        (status = 200, description = "The report", content((doc::Report = "application/json"), (String = "text/csv"), (inline(doc::Binary) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn national(
    State(state): State<AppState>,
    caller: Caller,
    Query(format): Query<Format>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let report = compute(&state, None).await?;
    answer(&report, &format)
}
