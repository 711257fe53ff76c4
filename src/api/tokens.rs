//! `/tokens`: sign in with e-mail and password for a bearer API token, and revoke tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::json;

use super::auth::{Caller, ClientAddr};
use super::error::ApiError;
use super::fields::Fields;
use super::json::JsonObject;
use crate::accounts::{sign_in, SignInError};
use crate::server::AppState;

/// The routes of this module: sign-in and revocation.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tokens", post(create))
        .route("/tokens/{id}", delete(revoke))
}

/// `{"email", "password"}` → `201 {"id", "token", "user"}`; the token is shown this once.
async fn create(
    State(state): State<AppState>,
    // Extracted only so that a wrong bearer token is refused here as everywhere.
    _caller: Caller,
    ClientAddr(address): ClientAddr,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let body = Fields::new(body, &["email", "password"])?;
    let email = body.required("email")?;
    let password = body.required("password")?;
    let accounts = state.accounts.clone();
    let result = tokio::task::spawn_blocking(move || {
        sign_in(accounts.as_ref(), &email, &password, address, Utc::now())
    })
    .await?;
    match result {
        Ok((user, issued)) => Ok((
            StatusCode::CREATED,
            Json(json!({
                "id": issued.id,
                "token": issued.token,
                "user": {
                    "email": user.email,
                    "role": user.role,
                    "province": user.province,
                    "org": user.org,
                },
            })),
        )
            .into_response()),
        Err(SignInError::WrongCredentials) => {
            // Paced without holding a thread: a guesser waits, the runtime does not.
            tokio::time::sleep(state.sign_in_delay).await;
            Err(SignInError::WrongCredentials.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Revokes a token: one's own, or any for an administrator.
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_signed_in()?;
    let accounts = state.accounts.clone();
    tokio::task::spawn_blocking(move || {
        let token = accounts
            .token(&id)?
            .ok_or_else(|| ApiError::NotFound(format!("token {id:?}")))?;
        let own = caller.user().is_some_and(|u| u.id == token.user_id);
        if !own && !caller.is_admin() {
            return Err(ApiError::Forbidden(
                "only its owner or an administrator may revoke a token".into(),
            ));
        }
        accounts.revoke_token(&id)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await?
}
