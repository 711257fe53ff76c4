//! `GET /statistics`: the market's public statistics (`app::statistics`), national or for one
//! province (`?province=`), for one year (`?year=`), as JSON, CSV or XLSX (`?format=`).

use super::openapi as doc;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::error::ApiError;
use super::json::Query;
use crate::app::statistics::{
    comparables_of, statistics_of, to_csv, to_xlsx, Comparables, StatisticsQuery,
};
use crate::app::{AppState, Caller};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/statistics", get(statistics))
        .route("/listings/{id}/comparables", get(comparables))
}

#[utoipa::path(
    get,
    path = "/api/v1/statistics",
    operation_id = "statistics_statistics",
    summary = "The market's public statistics (Decision 1158/QĐ-TTg figures): value of agreed transactions by year and its growth, the share that is intellectual property, the share from domestic institutes and universities, intermediaries with deals, supply, demand and needs without a deal, by field of science. A cell resting on fewer than three agreed deals shows its count only.",
    params(
        ("province" = Option<String>, Query, description = "code or name; deals whose need or technology is there"),
        ("year" = Option<String>, Query, description = "year of signing"),
        ("format" = inline(Option<doc::ReportFormat>), Query)
    ),
    responses(
        (status = 200, description = "Statistics", content((doc::Statistics = "application/json"), (String = "text/csv"), (inline(doc::Binary) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn statistics(
    State(state): State<AppState>,
    // Extracted so that a wrong bearer token is refused here as everywhere.
    _caller: Caller,
    Query(query): Query<StatisticsQuery>,
) -> Result<Response, ApiError> {
    let format = query.format.as_deref().map(str::trim).unwrap_or("json");
    if !matches!(format, "" | "json" | "csv" | "xlsx") {
        return Err(ApiError::invalid(
            "format",
            format!("{format:?} is not one of json, csv, xlsx"),
        ));
    }
    let stats = statistics_of(&state, query.scope()?).await?;
    Ok(match format {
        "csv" => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            to_csv(&stats)?,
        )
            .into_response(),
        "xlsx" => (
            [(
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )],
            to_xlsx(&stats)?,
        )
            .into_response(),
        _ => Json(stats).into_response(),
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/listings/{id}/comparables",
    operation_id = "statistics_comparables",
    summary = "Contract values of agreed deals on similar technologies (same sub-field of science or IPC subclass; this one's own left out), as count, median and range; the values are withheld below three deals. For brokers, administrators and the technology's organisation.",
    params(
        ("id" = String, Path)
    ),
    responses(
        (status = 200, description = "Comparable deals", body = inline(doc::StatisticsComparablesResponse), content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn comparables(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Comparables>, ApiError> {
    Ok(Json(comparables_of(&state, &caller, id).await?))
}
