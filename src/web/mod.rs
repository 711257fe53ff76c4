//! The web pages: server-rendered HTML (maud) for enterprises, institutes and brokers, in
//! Vietnamese by default and English with `?lang=en` (remembered in a cookie).
//!
//! Every page reads and writes through the same functions as the JSON API (`crate::search`,
//! `crate::matching`, `api::rights`, `api::listings::store`, `api::leads::mark_interest`,
//! `api::deals::move_deal`, `app::reports`), so there is one copy of the rules.
//! Browsers sign in with a session cookie (`session.rs`); every form carries a CSRF token.
//! Pages need no JavaScript: searching and reading are plain links and GET forms.
//!
//! Paths are stable (links get shared): `/`, `/search`, `/listings/{id}`, `/needs/new`,
//! `/listings/new`, `/desk`, `/signin`, `/signout`, `/signup`, `/confirm/{secret}`, `/forgot`,
//! `/reset/{secret}`, `/admin/outbox`, `/me`, `/orgs`, `/orgs/new`, `/orgs/{id}`, `/invite/{secret}`, `/statistics`.

mod charts;
mod collapse;
mod desk;
mod disclose;
mod downloads;
mod duplicates;
mod forms;
mod freshness;
mod i18n;
mod invite;
mod join;
mod layout;
mod listing;
mod me;
pub(crate) mod next;
mod orgs;
mod outbox;
mod reasons;
mod save_search;
mod search;
mod session;
mod signin;
mod source;
mod statistics;

pub use i18n::Lang;
pub use session::{Visitor, LANG_COOKIE, SESSION_COOKIE};

use axum::http::{header, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use maud::{html, Markup};

use crate::api::ApiError;
use crate::server::AppState;

/// The pages' routes, with the layer that remembers a language switch.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(search::router())
        .merge(listing::router())
        .merge(forms::router())
        .merge(desk::router())
        .merge(freshness::router())
        .merge(save_search::router())
        .merge(disclose::router())
        .merge(signin::router())
        .merge(join::router())
        .merge(outbox::router())
        .merge(orgs::router())
        .merge(me::router())
        .merge(invite::router())
        .merge(statistics::router())
        .layer(middleware::from_fn(i18n::remember))
}

/// A page that could not be shown: the status and a message for the visitor, rendered as an
/// HTML page in their language.
#[derive(Debug)]
pub struct Failure {
    /// The answer's status.
    pub status: StatusCode,
    /// What went wrong, for the visitor.
    pub message: String,
    /// The visitor's language.
    pub lang: Lang,
    /// Send the visitor to sign in (and back to `next`) instead of showing the message.
    pub sign_in_then: Option<String>,
}

impl Failure {
    /// A failure from the API's error type, which decides the status and the message (internal
    /// details are logged, never shown).
    pub fn from_api(error: ApiError, visitor: &Visitor) -> Self {
        let status = error.status();
        if let ApiError::Internal(detail) = &error {
            tracing::error!(%detail, "internal error on a page");
        }
        Failure {
            status,
            message: error.to_string(),
            lang: visitor.lang,
            sign_in_then: (status == StatusCode::UNAUTHORIZED).then(|| visitor.here.clone()),
        }
    }

    /// A failure from the application's error, in the visitor's language (internal details
    /// are logged, never shown).
    pub fn from_app(error: crate::app::AppError, visitor: &Visitor) -> Self {
        use crate::app::AppError;
        let l = visitor.lang;
        let (status, message) = match &error {
            AppError::Invalid(e) => (
                StatusCode::BAD_REQUEST,
                format!("{}: {}", e.field, reasons::field_reason(l, &e.reason)),
            ),
            AppError::InvalidLink => (
                StatusCode::NOT_FOUND,
                l.t(
                    "Liên kết này không đúng, đã được dùng hoặc đã hết hạn.",
                    "This link is unknown, already used or expired.",
                )
                .to_string(),
            ),
            AppError::Forbidden(r) => (StatusCode::FORBIDDEN, l.t(r.vi(), r.en()).to_string()),
            AppError::Conflict(r) => (StatusCode::CONFLICT, l.t(r.vi(), r.en()).to_string()),
            AppError::NotFound(_) => (
                StatusCode::NOT_FOUND,
                l.t("Không tìm thấy.", "Not found.").to_string(),
            ),
            AppError::Credentials(_)
            | AppError::Store(_)
            | AppError::Panicked(_)
            | AppError::Csv(_)
            | AppError::Xlsx(_)
            | AppError::Index(_) => {
                tracing::error!(error = %error, "internal error on a page");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    l.t(
                        "Đã có lỗi ở máy chủ; hãy thử lại sau.",
                        "Something failed on the server; try again later.",
                    )
                    .to_string(),
                )
            }
        };
        Failure {
            status,
            message,
            lang: l,
            sign_in_then: None,
        }
    }

    /// A failure with its own status and message.
    pub fn new(status: StatusCode, message: impl Into<String>, lang: Lang) -> Self {
        Failure {
            status,
            message: message.into(),
            lang,
            sign_in_then: None,
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        if let Some(next) = self.sign_in_then {
            let next = next::local_path(&next).unwrap_or_else(|| "/".into());
            return Redirect::to(&format!("/signin?next={}", layout::encode(&next)))
                .into_response();
        }
        let l = self.lang;
        let body = html! {
            section.panel {
                h1 { (l.t("Không thể hiển thị trang", "This page cannot be shown")) }
                p.error { (self.message) }
                p { a href="/" { (l.t("Về trang chủ", "Back to the home page")) } }
            }
        };
        let page = layout::bare(l, l.t("Lỗi", "Error"), body);
        let mut response = html_response(page);
        *response.status_mut() = self.status;
        response
    }
}

/// The page for an address that has none: 404, in the visitor's language.
pub async fn not_found(state: AppState, request: axum::extract::Request) -> Response {
    use axum::extract::FromRequestParts;
    let (mut parts, _) = request.into_parts();
    let lang = match Visitor::from_request_parts(&mut parts, &state).await {
        Ok(v) => v.lang,
        Err(failure) => failure.lang,
    };
    Failure::new(
        StatusCode::NOT_FOUND,
        lang.t(
            "Không có trang nào ở địa chỉ này.",
            "There is no page at this address.",
        ),
        lang,
    )
    .into_response()
}

/// What a page handler answers: a page, a redirect, or a [`Failure`] page.
pub type PageResult = Result<Response, Failure>;

/// A rendered page as an HTML response, with headers that keep scripts, frames and referrers
/// out. Rendering with maud cannot fail; failures to build a page's data are [`Failure`]s.
pub fn html_response(markup: Markup) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
            (header::CACHE_CONTROL, "private, no-cache"),
        ],
        markup.into_string(),
    )
        .into_response()
}

/// Runs blocking store work off the async threads, as the API does.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await?
}
