//! Standing searches and alerts: `POST/GET /saved-searches`, `DELETE /saved-searches/{id}`,
//! `GET /notifications`, `POST /notifications/{id}/read`; and, outside the API, each standing
//! search's private Atom feed (`/feeds/{id}/{secret}`) and one-click unsubscribe link
//! (`/alerts/{id}/unsubscribe/{secret}`), both opened by the secret they carry.

use super::openapi as doc;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{json, Value};

use super::auth::same;
use super::error::ApiError;
use super::fields::Fields;
use super::json::JsonObject;
use crate::alerts::{feed, feed_url};
use crate::app::AppState;
use crate::app::Caller;
use crate::app::Links;
use crate::domain::account::User;
use crate::domain::alert::{Delivery, SavedQuery, StandingSearch};

/// Notifications listed, newest first.
const NOTIFICATIONS: usize = 200;
/// Entries in a feed.
const FEED_ENTRIES: usize = 50;

/// The routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/saved-searches", post(create).get(list))
        .route("/saved-searches/{id}", delete(remove))
        .route("/notifications", get(notifications))
        .route("/notifications/{id}/read", post(mark_read))
}

/// The feed and unsubscribe links, outside the API (people and feed readers open them).
pub fn links_router() -> Router<AppState> {
    Router::new()
        .route("/feeds/{id}/{secret}", get(atom))
        .route("/alerts/{id}/unsubscribe/{secret}", get(unsubscribe))
}

/// The signed-in user; the admin token has no account to alert (403).
fn user(caller: &Caller) -> Result<&User, ApiError> {
    caller.require_signed_in()?;
    caller.user().ok_or_else(|| {
        ApiError::Forbidden("standing searches belong to a user account; sign in as one".into())
    })
}

fn view(links: &Links, s: &StandingSearch) -> Value {
    let mut v = json!({
        "id": s.id,
        "delivery": s.delivery,
        "feed_url": feed_url(links, s),
        "created_at": s.created_at,
        "active": s.active,
    });
    if let Value::Object(map) = &mut v {
        if let Ok(Value::Object(q)) = serde_json::to_value(&s.query) {
            map.extend(q);
        }
        if let Some(id) = &s.listing_id {
            map.insert("listing_id".into(), json!(id));
        }
    }
    v
}

#[utoipa::path(
    post,
    path = "/api/v1/saved-searches",
    operation_id = "saved_searches_create",
    summary = "Save a search: alerts (notification, mail, Atom feed entry) whenever a listing enters its first results",
    request_body(content = doc::SavedSearchRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Saved", body = doc::SavedSearch, content_type = "application/json"),
        (status = 400, response = doc::ErrorResponse),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 409, response = doc::ErrorResponse),
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
    let user = user(&caller)?.clone();
    let (query, delivery) = saved_query(body)?;
    let stored = state
        .run(move |ex| crate::app::saved_searches::save(ex, &user, query, delivery, Utc::now()))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(view(&state.outbox.links, &stored)),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/saved-searches",
    operation_id = "saved_searches_list",
    summary = "The caller's standing searches: saved ones, and those of their organisation's needs and technologies",
    responses(
        (status = 200, description = "Standing searches, oldest first", body = inline(doc::SavedSearchesListResponse), content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let user_id = user(&caller)?.id.clone();
    let alerts = state.alerts.clone();
    let searches = tokio::task::spawn_blocking(move || alerts.searches_of(&user_id)).await??;
    let views: Vec<Value> = searches
        .iter()
        .map(|s| view(&state.outbox.links, s))
        .collect();
    Ok(Json(json!({ "saved_searches": views })))
}

/// Unsubscribes: a saved search is removed; a need's (technology's) is kept switched off, so
/// that its next match does not make it again.
fn stop(alerts: &dyn crate::store::AlertStore, search: &StandingSearch) -> Result<(), ApiError> {
    if search.listing_id.is_some() {
        let mut off = search.clone();
        off.active = false;
        alerts.replace_search(&off)?;
    } else {
        alerts.remove_search(&search.id)?;
    }
    Ok(())
}

#[utoipa::path(
    delete,
    path = "/api/v1/saved-searches/{id}",
    operation_id = "saved_searches_remove",
    summary = "Stop a standing search (one's own)",
    params(
        ("id" = String, Path)
    ),
    responses(
        (status = 204, description = "Stopped"),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user_id = user(&caller)?.id.clone();
    let alerts = state.alerts.clone();
    tokio::task::spawn_blocking(move || {
        match alerts.search(&id)? {
            Some(s) if s.user_id == user_id => stop(alerts.as_ref(), &s)?,
            _ => return Err(ApiError::NotFound(format!("saved search {id:?}"))),
        }
        Ok(StatusCode::NO_CONTENT)
    })
    .await?
}

#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    operation_id = "saved_searches_notifications",
    summary = "The caller's alerts, newest first",
    responses(
        (status = 200, description = "Notifications", body = inline(doc::SavedSearchesNotificationsResponse), content_type = "application/json"),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn notifications(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let user_id = user(&caller)?.id.clone();
    let alerts = state.alerts.clone();
    let notes = tokio::task::spawn_blocking(move || alerts.notifications(&user_id, NOTIFICATIONS))
        .await??;
    let unread = notes.iter().filter(|n| !n.read).count();
    let views: Vec<Value> = notes
        .iter()
        .map(|n| {
            json!({
                "id": n.id,
                "listing_id": n.listing_id,
                "reason": n.reason,
                "created_at": n.created_at,
                "read": n.read,
                "title": n.title,
                "search_id": n.search_id,
            })
        })
        .collect();
    Ok(Json(json!({ "notifications": views, "unread": unread })))
}

#[utoipa::path(
    post,
    path = "/api/v1/notifications/{id}/read",
    operation_id = "saved_searches_mark_read",
    summary = "Mark one of the caller's notifications read",
    params(
        ("id" = String, Path)
    ),
    responses(
        (status = 204, description = "Marked read"),
        (status = 401, response = doc::ErrorResponse),
        (status = 403, response = doc::ErrorResponse),
        (status = 404, response = doc::ErrorResponse),
        (status = 429, response = doc::ErrorResponse),
        (status = 503, response = doc::ErrorResponse)
    ),
    security(("bearer" = []))
)]
async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user_id = user(&caller)?.id.clone();
    let alerts = state.alerts.clone();
    let lookup = id.clone();
    let found = tokio::task::spawn_blocking(move || alerts.mark_read(&user_id, &lookup)).await??;
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("notification {id:?}")))
    }
}

/// The standing search `id` if `secret` is its own.
async fn by_secret(
    state: &AppState,
    id: String,
    secret: String,
) -> Result<Option<StandingSearch>, ApiError> {
    let alerts = state.alerts.clone();
    let found = tokio::task::spawn_blocking(move || alerts.search(&id)).await??;
    Ok(found.filter(|s| same(s.secret.as_bytes(), secret.as_bytes())))
}

const GONE: &str = "Liên kết không đúng hoặc tìm kiếm đã bị xoá. / This link is wrong, or the \
                    search was deleted.";

async fn atom(
    State(state): State<AppState>,
    Path((id, secret)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let Some(search) = by_secret(&state, id, secret).await? else {
        return Ok((StatusCode::NOT_FOUND, GONE).into_response());
    };
    let alerts = state.alerts.clone();
    let (user_id, search_id) = (search.user_id.clone(), search.id.clone());
    let notes = tokio::task::spawn_blocking(move || {
        alerts
            .notifications(&user_id, 10 * FEED_ENTRIES)
            .map(|all| {
                all.into_iter()
                    .filter(|n| n.search_id == search_id)
                    .take(FEED_ENTRIES)
                    .collect::<Vec<_>>()
            })
    })
    .await??;
    let xml = feed::render(&state.outbox.links, &search, &notes, Utc::now());
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        xml,
    )
        .into_response())
}

async fn unsubscribe(
    State(state): State<AppState>,
    Path((id, secret)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let Some(search) = by_secret(&state, id, secret).await? else {
        return Ok((StatusCode::NOT_FOUND, Html(page(GONE))).into_response());
    };
    let alerts = state.alerts.clone();
    tokio::task::spawn_blocking(move || stop(alerts.as_ref(), &search)).await??;
    Ok(Html(page(
        "Bạn sẽ không nhận thông báo của tìm kiếm này nữa. / You will get no more alerts from \
         this search.",
    ))
    .into_response())
}

fn page(message: &str) -> String {
    format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>techmatch</title>\
         </head><body><p>{message}</p></body></html>"
    )
}

/// The saved search a body asks for: the search's parameters and the delivery.
fn saved_query(
    mut body: serde_json::Map<String, Value>,
) -> Result<(SavedQuery, Delivery), ApiError> {
    // A readiness level may come as a number or as the text the search route takes.
    if let Some(Value::Number(n)) = body.get("trl_min") {
        let text = n.to_string();
        body.insert("trl_min".into(), Value::String(text));
    }
    let known = [
        "q",
        "kind",
        "province",
        "field",
        "trl_min",
        "transfer_mode",
        "delivery",
    ];
    let body = Fields::new(body, &known)?;
    let delivery = match body.text("delivery")?.as_deref().map(str::trim) {
        None | Some("immediate") => Delivery::Immediate,
        Some("daily") => Delivery::Daily,
        Some(other) => {
            return Err(ApiError::invalid(
                "delivery",
                format!("{other:?} is not one of immediate, daily"),
            ))
        }
    };
    let query = SavedQuery {
        q: body.text("q")?,
        kind: body.text("kind")?,
        province: body.text("province")?,
        field: body.text("field")?,
        trl_min: body.text("trl_min")?,
        transfer_mode: body.text("transfer_mode")?,
    };
    Ok((query, delivery))
}
