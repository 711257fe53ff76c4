//! `/users`: administrators add users and set their passwords while the server runs (what
//! `techmatch user` does through this route when the server holds the data directory).

use super::openapi as doc;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{json, Value};

use super::error::ApiError;
use super::fields::Fields;
use super::json::JsonObject;
use super::signup::hashing_turn;
use crate::accounts::{add_user, reset_password, AccountError, NewUser};
use crate::app::AppState;
use crate::app::Caller;
use crate::domain::account::{Role, User};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", post(create))
        .route("/users/password", post(set_password))
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid(field) => ApiError::Invalid(field),
            e @ AccountError::EmailTaken(_) => ApiError::invalid("email", e.to_string()),
            AccountError::UnknownUser(email) => ApiError::NotFound(format!("user {email:?}")),
            AccountError::Credentials(e) => ApiError::internal(e),
            AccountError::Store(e) => e.into(),
        }
    }
}

/// A user as the API shows it: never the password's hash.
pub fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "role": user.role,
        "province": user.province,
        "org": user.org,
        "name": user.name,
        "confirmed": user.confirmed,
    })
}

/// `{"email", "role", "password", "province", "org"}` → `201` with the user (admins).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    operation_id = "users_create",
    summary = "Add a user (admin): what `techmatch user add` does, also while the server runs.",
    request_body(content = inline(doc::UsersCreateRequest), content_type = "application/json"),
    responses(
        (status = 201, description = "Added", body = doc::User, content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require_admin()?;
    let body = Fields::new(body, &["email", "role", "password", "province", "org"])?;
    let (email, password) = (body.required("email")?, body.required("password")?);
    let role = body.required("role")?;
    let role = Role::parse(&role).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
        ApiError::invalid("role", format!("expected one of {}", names.join(", ")))
    })?;
    let (province, org) = (body.text("province")?, body.text("org")?);
    let _turn = hashing_turn(&state).await?;
    let accounts = state.accounts.clone();
    let user = tokio::task::spawn_blocking(move || {
        let new = NewUser {
            email: &email,
            role,
            province: province.as_deref(),
            org: org.as_deref(),
            password: &password,
        };
        add_user(accounts.as_ref(), new, Utc::now())
    })
    .await??;
    Ok((StatusCode::CREATED, Json(user_json(&user))))
}

/// `{"email", "password"}` → `200 {"email", "revoked"}`: a new password; the user's tokens and
/// sessions end (admins).
#[utoipa::path(
    post,
    path = "/api/v1/users/password",
    operation_id = "users_set_password",
    summary = "Set a user's password (admin); the user's tokens and sessions end.",
    request_body(content = inline(doc::UsersSetPasswordRequest), content_type = "application/json"),
    responses(
        (status = 200, description = "Set", body = inline(doc::UsersSetPasswordResponse), content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 413, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn set_password(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let body = Fields::new(body, &["email", "password"])?;
    let (email, password) = (body.required("email")?, body.required("password")?);
    let _turn = hashing_turn(&state).await?;
    let accounts = state.accounts.clone();
    let (user, revoked) =
        tokio::task::spawn_blocking(move || reset_password(accounts.as_ref(), &email, &password))
            .await??;
    Ok(Json(json!({ "email": user.email, "revoked": revoked })))
}
