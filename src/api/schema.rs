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

async fn listing_schema() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/schema+json")],
        LISTING_SCHEMA,
    )
}

/// The header row of the import template, with a byte-order mark for spreadsheet programs.
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
