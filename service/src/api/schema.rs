//! The listing interchange format, written down: `GET /schema/listing.json` (JSON Schema) and,
//! beside it, the import template `GET /schema/listing-template.csv` (the columns, in order).

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::app::AppState;
use crate::domain::input::all_columns;

/// The JSON Schema of a listing as techmatch imports, exports and serves it.
pub const LISTING_SCHEMA: &str = include_str!("listing.schema.json");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/schema/listing.json", get(listing_schema))
        .route("/schema/listing-template.csv", get(template))
}

#[utoipa::path(
    get,
    path = "/api/v1/schema/listing.json",
    operation_id = "schema_listing_schema",
    summary = "The listing interchange format as a JSON Schema (what import takes, export writes, the change feed and downloads serve)",
    responses(
        (status = 200, description = "JSON Schema (2020-12)", body = HashMap<String, serde_json::Value>, content_type = "application/schema+json")
    )
)]
async fn listing_schema() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/schema+json")],
        LISTING_SCHEMA,
    )
}

/// The header row of the import template, with a byte-order mark for spreadsheet programs.
#[utoipa::path(
    get,
    path = "/api/v1/schema/listing-template.csv",
    operation_id = "schema_template",
    summary = "The import template beside the schema: the CSV header row of every column, in order (UTF-8 with a byte-order mark)",
    responses(
        (status = 200, description = "CSV header", body = String, content_type = "text/csv")
    )
)]
async fn template() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"techmatch-listing-template.csv\"",
            ),
        ],
        format!("\u{feff}{}\r\n", all_columns().join(",")),
    )
}
