//! Reading the fields of a small JSON request body (tokens, interest, deals) with errors that
//! name the field: unknown fields, wrong types, missing values.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::error::ApiError;

/// A JSON object body whose fields are taken one by one.
pub struct Fields(Map<String, Value>);

impl Fields {
    /// Takes the body, refusing any field not in `known` (a typo should not pass silently).
    pub fn new(body: Map<String, Value>, known: &[&str]) -> Result<Self, ApiError> {
        if let Some(unknown) = body.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ApiError::invalid(
                unknown,
                format!("unknown field; expected {}", known.join(", ")),
            ));
        }
        Ok(Fields(body))
    }

    /// A text field; blank or null counts as absent.
    pub fn text(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid(name, "must be a string")),
        }
    }

    /// A text field that must be present.
    pub fn required(&self, name: &str) -> Result<String, ApiError> {
        self.text(name)?
            .ok_or_else(|| ApiError::invalid(name, "is required"))
    }

    /// A true or false (`None` when absent).
    pub fn flag(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::invalid(name, "must be true or false")),
        }
    }

    /// A whole non-negative amount.
    pub fn amount(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                ApiError::invalid(name, "must be a whole number of đồng, at least 0")
            }),
        }
    }

    /// A date, `YYYY-MM-DD` or `DD/MM/YYYY`.
    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>, ApiError> {
        let Some(text) = self.text(name)? else {
            return Ok(None);
        };
        Ok(Some(
            crate::domain::deal::parse_date(name, &text).map_err(ApiError::Invalid)?,
        ))
    }
}
