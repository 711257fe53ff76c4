//! `GET /statistics`: the market's public statistics (`app::statistics`), national or for one
//! province (`?province=`), for one year (`?year=`), as JSON, CSV or XLSX (`?format=`).

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

async fn comparables(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Comparables>, ApiError> {
    Ok(Json(comparables_of(&state, &caller, id).await?))
}
