//! Who is calling: the administrator (bearer admin token) or an anonymous reader.
//!
//! Until accounts exist, the admin token from `<data dir>/admin.token` is the only credential.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::server::AppState;

/// The caller, as far as rights go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// No credentials: sees published listings without contact details.
    Anonymous,
    /// Holds the admin token.
    Admin,
}

impl Caller {
    /// Refuses anyone but the administrator.
    pub fn require_admin(self) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Anonymous => Err(ApiError::Unauthorized(
                "this action needs the admin token: Authorization: Bearer <token>",
            )),
        }
    }
}

/// Compares without stopping at the first difference, so timing reveals nothing of the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(Caller::Anonymous);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match token {
            Some(t) if same(t.as_bytes(), state.admin_token.as_bytes()) => Ok(Caller::Admin),
            // A wrong token is an error, not a silent downgrade to anonymous.
            _ => Err(ApiError::Unauthorized("invalid token")),
        }
    }
}
