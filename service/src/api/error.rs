//! The API's one error type and its JSON body: `{"error": {"code", "message", "field"}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::accounts::SignInError;
use crate::app::AppError;
use crate::domain::deal::StageError;
use crate::domain::FieldError;
use crate::store::StoreError;

/// Everything a handler can answer with instead of success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// One parameter or field is wrong.
    #[error("{}: {}", .0.field, .0.reason)]
    Invalid(FieldError),
    /// A listing has several wrong fields; all are reported.
    #[error("the listing has {} invalid field(s)", .0.len())]
    InvalidListing(Vec<FieldError>),
    /// The body is not the JSON we expect.
    #[error("{0}")]
    BadJson(String),
    /// The body is larger than allowed.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// No credentials, or wrong ones.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Signed in, but without the right to do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many failed sign-ins; refused until the lockout ends.
    #[error("{message}")]
    TooManyRequests {
        /// What happened and until when.
        message: String,
        /// Seconds until the lockout ends (the `Retry-After` header).
        retry_after_secs: u64,
    },
    /// The deal pipeline does not allow this move.
    #[error("{0}")]
    InvalidTransition(String),
    /// The route exists but not with this method.
    #[error("this route does not answer to this method")]
    MethodNotAllowed,
    /// Nothing with that id.
    #[error("{0} not found")]
    NotFound(String),
    /// The id is taken.
    #[error("{0} already exists; use PUT to replace it")]
    Conflict(String),
    /// The service cannot answer now (index behind, shutting down).
    /// What is stored stands in the way of the request (409), in words.
    #[error("{0}")]
    Clash(String),
    #[error("{0}")]
    Unavailable(String),
    /// What is stored stands in the way of this field (409), said in English and Vietnamese.
    #[error("{}", .refusal.en())]
    Refused {
        /// The field at fault.
        field: &'static str,
        /// Why.
        refusal: crate::app::Refusal,
    },
    /// The change feed no longer keeps the changes after `after` (the log was pruned to this
    /// sequence): the follower starts again from the snapshot.
    #[error("the change log now begins after sequence {0}; read /api/v1/changes/snapshot, then follow from its seq")]
    Pruned(u64),
    /// Our failure; its source goes to the log, not to the client.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The store could not take the write (disk full, read-only); reads still work.
    #[error("the store cannot take writes now: {0}")]
    StoreUnavailable(String),
}

impl ApiError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) | ApiError::InvalidListing(_) | ApiError::BadJson(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::InvalidTransition(_) => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) | ApiError::Clash(_) | ApiError::Refused { .. } => {
                StatusCode::CONFLICT
            }
            ApiError::Unavailable(_) | ApiError::StoreUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Pruned(_) => StatusCode::GONE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid(_) => "invalid_parameter",
            ApiError::InvalidListing(_) => "invalid_listing",
            ApiError::BadJson(_) => "invalid_json",
            ApiError::TooLarge(_) => "body_too_large",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::InvalidTransition(_) => "invalid_transition",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) | ApiError::Clash(_) | ApiError::Refused { .. } => "conflict",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Pruned(_) => "log_pruned",
            ApiError::Internal(_) => "internal",
            ApiError::StoreUnavailable(_) => "store_unavailable",
        }
    }

    /// Our failure, keeping its source for the log.
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(e))
    }

    /// Shorthand for a wrong parameter.
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        ApiError::Invalid(FieldError {
            field: field.into(),
            reason: reason.into(),
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code(), "message": self.to_string() });
        match &self {
            ApiError::Invalid(e) => {
                error["field"] = json!(e.field);
            }
            ApiError::InvalidListing(errors) => {
                error["field"] = json!(errors.first().map(|e| e.field.as_str()));
                error["details"] = json!(errors);
            }
            ApiError::InvalidTransition(_) => {
                error["field"] = json!("stage");
            }
            ApiError::Refused { field, refusal } => {
                error["field"] = json!(field);
                error["message_vi"] = json!(refusal.vi());
            }
            ApiError::Pruned(floor) => {
                error["field"] = json!("after");
                error["floor"] = json!(floor);
                error["snapshot"] = json!("/api/v1/changes/snapshot");
            }
            _ => {}
        }
        let mut response = (self.status(), Json(json!({ "error": error }))).into_response();
        let detail = match &self {
            ApiError::Internal(source) => Some(chain(source.as_ref())),
            ApiError::StoreUnavailable(detail) => Some(detail.clone()),
            _ => None,
        };
        if let Some(detail) = detail {
            response
                .extensions_mut()
                .insert(crate::app::FailureDetail(detail));
        }
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

impl From<StageError> for ApiError {
    fn from(e: StageError) -> Self {
        match e {
            StageError::Invalid(field) => ApiError::Invalid(field),
            e @ StageError::Forbidden { .. } => ApiError::InvalidTransition(e.to_string()),
        }
    }
}

impl From<SignInError> for ApiError {
    fn from(e: SignInError) -> Self {
        AppError::from(e).into()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Backend(detail) => ApiError::StoreUnavailable(detail),
            e => ApiError::internal(e),
        }
    }
}

impl From<techmatch_index::IndexError> for ApiError {
    fn from(e: techmatch_index::IndexError) -> Self {
        ApiError::internal(e)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(e)
    }
}

/// An error and its sources, one line, for the log.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(field) => ApiError::Invalid(field),
            AppError::InvalidLink => ApiError::NotFound("link".into()),
            AppError::Forbidden(r) => ApiError::Forbidden(r.en().into()),
            AppError::NotFound(what) => ApiError::NotFound(what),
            AppError::InvalidListing(errors) => ApiError::InvalidListing(errors),
            AppError::Unauthorized(why) => ApiError::Unauthorized(why),
            AppError::Denied(why) => ApiError::Forbidden(why),
            AppError::Transition(why) => ApiError::InvalidTransition(why),
            AppError::Exists(what) => ApiError::Conflict(what),
            AppError::TooMany {
                message,
                retry_after_secs,
            } => ApiError::TooManyRequests {
                message,
                retry_after_secs,
            },
            AppError::Unavailable(why) => ApiError::Unavailable(why),
            AppError::Pruned(floor) => ApiError::Pruned(floor),
            AppError::Conflict(r) => ApiError::Clash(r.en().into()),
            AppError::Refused { field, refusal } => ApiError::Refused { field, refusal },
            e @ (AppError::Credentials(_)
            | AppError::Csv(_)
            | AppError::Json(_)
            | AppError::Digests(_)
            | AppError::Xlsx(_)
            | AppError::Index(_)
            | AppError::Panicked(_)
            | AppError::Background(_)) => ApiError::internal(e),
            AppError::Store(e) => e.into(),
        }
    }
}
