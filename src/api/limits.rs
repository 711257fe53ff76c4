//! Load limits: a cap on requests in flight and a time limit per request. Over a limit the
//! answer is a prompt 503 with our JSON error, never a hang.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::error::ApiError;

/// The limits one server applies.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Requests handled at once; more are refused rather than queued.
    pub max_in_flight: usize,
    /// Longest a request may take.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_in_flight: 512,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Applies `limits` around one request.
pub async fn apply(
    slots: Arc<Semaphore>,
    timeout: Duration,
    request: Request,
    next: Next,
) -> Response {
    let Ok(_slot) = slots.try_acquire() else {
        return ApiError::Unavailable("the server is busy; retry shortly".into()).into_response();
    };
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Unavailable(format!(
            "the request took longer than {} s",
            timeout.as_secs()
        ))
        .into_response(),
    }
}
