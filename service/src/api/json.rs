//! A JSON body extractor whose rejections are answered in our error format.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::BODY_LIMIT;

/// A request body that must be one JSON object.
pub struct JsonObject(pub serde_json::Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::BadJson(
                "the body must be JSON, sent with Content-Type: application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::TooLarge(BODY_LIMIT))?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(JsonObject(map)),
            Ok(_) => Err(ApiError::BadJson("the body must be a JSON object".into())),
            Err(e) => Err(ApiError::BadJson(format!("invalid JSON: {e}"))),
        }
    }
}

/// Reads a JSON object as a `T`; a refusal names the field at fault (`colour`, `need.text`),
/// as every other check of a body does, or says what the body is not (`what`) when no field
/// is to blame.
pub fn typed<T: DeserializeOwned>(body: Map<String, Value>, what: &str) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(Value::Object(body)).map_err(|e| {
        let path = e.path().to_string();
        let reason = e.into_inner().to_string();
        if path.is_empty() || path == "." {
            ApiError::BadJson(format!("{what}: {reason}"))
        } else {
            ApiError::invalid(&path, reason)
        }
    })
}

/// Query parameters, whose rejection (e.g. a parameter given twice) is answered in our format.
pub struct Query<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S>
    for Query<T>
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e| ApiError::invalid("query", e.body_text()))
    }
}
