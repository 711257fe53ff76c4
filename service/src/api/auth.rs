//! Who is calling: anonymous, the administrator by the break-glass token in
//! `<data dir>/admin.token`, or a user signed in with a bearer API token; and from where.
//!
//! What each caller may do is in `app/rights.rs`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::accounts::authenticate;
use crate::app::AppState;
use crate::app::Caller;

/// Compares without stopping at the first difference, so timing reveals nothing of the token.
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
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
            .map(str::trim)
            .filter(|t| !t.is_empty())
            // A wrong token is an error, not a silent downgrade to anonymous.
            .ok_or(ApiError::Unauthorized("invalid token"))?;
        if same(token.as_bytes(), state.admin_token.as_bytes()) {
            return Ok(Caller::Admin);
        }
        let (accounts, token) = (state.accounts.clone(), token.to_string());
        match tokio::task::spawn_blocking(move || authenticate(accounts.as_ref(), &token)).await?? {
            Some((user, _)) => Ok(Caller::User(Box::new(user))),
            None => Err(ApiError::Unauthorized("invalid token")),
        }
    }
}
