//! `/tokens`: sign in with e-mail and password for a bearer API token, and revoke tokens.

use super::openapi as doc;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::error::ApiError;
use super::fields::Fields;
use super::json::JsonObject;
use crate::accounts::{sign_in, SignInError};
use crate::app::AppState;
use crate::app::Caller;
use crate::app::ClientAddr;
use crate::domain::account::MAX_TOKEN_DAYS;

/// The routes of this module: sign-in and revocation.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tokens", post(create))
        .route("/tokens/{id}", delete(revoke))
}

/// `{"email", "password", "expires_in_days"?}` → `201 {"id", "token", "expires_at", "user"}`;
/// the token is shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    operation_id = "tokens_create",
    summary = "Sign in: e-mail and password for a bearer API token (shown once, stored hashed). Ten wrong passwords in a row, per account or per address, refuse sign-in for 15 minutes (429). Every attempt counts before its password is checked; sign-ins per address are limited (429), and a full queue of password checks answers 503. An account whose e-mail is not confirmed yet gets 403.",
    request_body(content = doc::TokenRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Issued", body = doc::IssuedToken, content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse)
    )
)]
async fn create(
    State(state): State<AppState>,
    // Extracted only so that a wrong bearer token is refused here as everywhere.
    _caller: Caller,
    ClientAddr(address): ClientAddr,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let body = Fields::new(body, &["email", "password", "expires_in_days"])?;
    let email = body.required("email")?;
    let password = body.required("password")?;
    let now = Utc::now();
    let expires_at = expiry(&body, now)?;
    let result = sign_in(
        state.accounts.clone(),
        &state.passwords,
        &email,
        password,
        address,
        now,
        expires_at,
    )
    .await;
    match result {
        Ok((user, issued)) => Ok((
            StatusCode::CREATED,
            Json(token_view(&user, &issued, expires_at)),
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

/// When a token asked for with `expires_in_days` (a whole number of days, 1 to ten years)
/// expires; `None` without one.
fn expiry(body: &Fields, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, ApiError> {
    let bad = || {
        ApiError::invalid(
            "expires_in_days",
            format!("must be a whole number of days from 1 to {MAX_TOKEN_DAYS}"),
        )
    };
    let Some(days) = body.amount("expires_in_days").map_err(|_| bad())? else {
        return Ok(None);
    };
    match i64::try_from(days) {
        Ok(d) if (1..=MAX_TOKEN_DAYS).contains(&d) => Ok(Some(now + Duration::days(d))),
        _ => Err(bad()),
    }
}

/// Revokes a token: one's own, or any for an administrator.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    operation_id = "tokens_revoke",
    summary = "Revoke a token (one's own; admins any)",
    params(
        ("id" = String, Path)
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
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

/// A new token as `POST /tokens` answers it: the secret is shown this once.
fn token_view(
    user: &crate::domain::account::User,
    issued: &crate::accounts::credentials::IssuedToken,
    expires_at: Option<chrono::DateTime<Utc>>,
) -> Value {
    json!({
        "id": issued.id,
        "token": issued.token,
        "expires_at": expires_at,
        "user": {
            "email": user.email,
            "role": user.role,
            "province": user.province,
            "org": user.org,
        },
    })
}
