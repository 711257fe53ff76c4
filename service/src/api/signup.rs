//! `/signup` and `/password-resets`: joining the exchange and recovering a forgotten password,
//! both by links in mail. The use cases are `app::signup` and `app::password`.

use super::openapi as doc;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{json, Value};

use super::error::ApiError;
use super::fields::Fields;
use super::json::JsonObject;
use crate::app::password::{request_reset, reset_with_link};
use crate::app::signup::{sign_up, SignUp};
use crate::app::AppState;
use crate::app::Caller;

/// A turn at hashing a password, as sign-in takes one (argon2id takes ~19 MiB a hash);
/// `503` when too many wait already.
pub(super) async fn hashing_turn(
    state: &AppState,
) -> Result<crate::accounts::gate::HashTurn, ApiError> {
    state
        .passwords
        .turn()
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))
}

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", post(create))
        .route("/password-resets", post(request))
        .route("/password-resets/{secret}", post(reset))
}

/// `{"email", "password", "name"}` → `201`; the account signs in once the link mailed to the
/// address has been opened. The answer is the same for an address that has an account.
#[utoipa::path(
    post,
    path = "/api/v1/signup",
    operation_id = "signup_create",
    summary = "Sign up with e-mail, password and name. A mail carries the link that confirms the address; until it is opened, POST /tokens gives no token (403). The answer is the same for an address that has an account (its owner gets a mail saying so).",
    request_body(content = doc::SignUpRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Confirmation sent", body = inline(doc::SignupCreateResponse), content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn create(
    State(state): State<AppState>,
    // Extracted only so that a wrong bearer token is refused here as everywhere.
    _caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = Fields::new(body, &["email", "password", "name"])?;
    let input = SignUp {
        email: body.required("email")?,
        password: body.required("password")?,
        name: body.required("name")?,
    };
    let _turn = hashing_turn(&state).await?;
    let (accounts, outbox) = (state.accounts.clone(), state.outbox.clone());
    let email =
        tokio::task::spawn_blocking(move || sign_up(accounts.as_ref(), &outbox, input, Utc::now()))
            .await??;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "email": email, "confirmation": "sent" })),
    ))
}

/// `{"email"}` → `202`: a reset link goes to the address if it has an account (the answer
/// does not say whether it has).
#[utoipa::path(
    post,
    path = "/api/v1/password-resets",
    operation_id = "signup_request",
    summary = "Ask for a password-reset link by mail (valid 2 hours, once). The answer does not say whether the address has an account.",
    request_body(content = inline(doc::SignupRequestRequest), content_type = "application/json"),
    responses(
        (status = 202, description = "Sent if registered", body = inline(doc::SignupRequestResponse), content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn request(
    State(state): State<AppState>,
    _caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = Fields::new(body, &["email"])?;
    let email = body.required("email")?;
    let (accounts, outbox) = (state.accounts.clone(), state.outbox.clone());
    tokio::task::spawn_blocking(move || {
        request_reset(accounts.as_ref(), &outbox, &email, Utc::now())
    })
    .await??;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "reset": "sent_if_registered" })),
    ))
}

/// `{"password"}` with the secret of a reset link → `200 {"email"}`; the user's tokens and
/// sessions end.
#[utoipa::path(
    post,
    path = "/api/v1/password-resets/{secret}",
    operation_id = "signup_reset",
    summary = "Set a new password with the secret of a reset link; the user's tokens and sessions end.",
    params(
        ("secret" = String, Path)
    ),
    request_body(content = inline(doc::SignupResetRequest), content_type = "application/json"),
    responses(
        (status = 200, description = "Password set", body = inline(doc::SignupResetResponse), content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    )
)]
async fn reset(
    State(state): State<AppState>,
    _caller: Caller,
    Path(secret): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let body = Fields::new(body, &["password"])?;
    let password = body.required("password")?;
    let _turn = hashing_turn(&state).await?;
    let (accounts, outbox) = (state.accounts.clone(), state.outbox.clone());
    let user = tokio::task::spawn_blocking(move || {
        reset_with_link(accounts.as_ref(), &outbox, &secret, &password, Utc::now())
    })
    .await??;
    Ok(Json(json!({ "email": user.email })))
}
