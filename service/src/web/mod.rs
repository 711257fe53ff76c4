//! The web pages: server-rendered HTML (maud) for enterprises, institutes and brokers, in
//! Vietnamese by default and English with `?lang=en` (remembered in a cookie).
//!
//! Every page reads and writes through the application (`crate::app`: rights, listings,
//! interest, deals, search, reports, statistics), as the JSON API does, so there is one copy
//! of the rules; this module never imports the API.
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

use crate::app::AppError;
use crate::app::AppState;

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
    /// Our failure behind it, for the log (never shown).
    pub detail: Option<String>,
}

impl Failure {
    /// A failure from the application's error, in the visitor's language (internal details
    /// are logged, never shown).
    pub fn from_app(error: AppError, visitor: &Visitor) -> Self {
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
            AppError::Conflict(r) | AppError::Refused { refusal: r, .. } => {
                (StatusCode::CONFLICT, l.t(r.vi(), r.en()).to_string())
            }
            AppError::NotFound(_) => (
                StatusCode::NOT_FOUND,
                l.t("Không tìm thấy.", "Not found.").to_string(),
            ),
            AppError::InvalidListing(errors) => (
                StatusCode::BAD_REQUEST,
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, reasons::field_reason(l, &e.reason)))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            AppError::Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                l.t("Hãy đăng nhập.", "Please sign in.").to_string(),
            ),
            AppError::Denied(why) => (
                StatusCode::FORBIDDEN,
                l.t("Bạn không có quyền làm việc này.", why).to_string(),
            ),
            AppError::Transition(why) => (
                StatusCode::CONFLICT,
                l.t("Không thể chuyển giao dịch sang giai đoạn này.", why)
                    .to_string(),
            ),
            AppError::Exists(_) => (
                StatusCode::CONFLICT,
                l.t(
                    "Đã có mục với mã này.",
                    "Something with this id exists already.",
                )
                .to_string(),
            ),
            AppError::TooMany { message, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                l.t("Quá nhiều yêu cầu; hãy thử lại sau ít phút.", message)
                    .to_string(),
            ),
            AppError::Pruned(_) => (
                StatusCode::GONE,
                l.t(
                    "Không còn giữ các thay đổi này.",
                    "These changes are no longer kept.",
                )
                .to_string(),
            ),
            AppError::Unavailable(why) => (
                StatusCode::SERVICE_UNAVAILABLE,
                l.t("Dịch vụ tạm thời chưa trả lời được; hãy thử lại sau.", why)
                    .to_string(),
            ),
            AppError::Store(crate::store::StoreError::Backend(_)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                l.t(
                    "Hiện chưa lưu được; hãy thử lại sau.",
                    "Nothing can be saved now; try again later.",
                )
                .to_string(),
            ),
            AppError::Credentials(_)
            | AppError::Store(_)
            | AppError::Panicked(_)
            | AppError::Background(_)
            | AppError::Csv(_)
            | AppError::Json(_)
            | AppError::Digests(_)
            | AppError::Xlsx(_)
            | AppError::Index(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                l.t(
                    "Đã có lỗi ở máy chủ; hãy thử lại sau.",
                    "Something failed on the server; try again later.",
                )
                .to_string(),
            ),
        };
        Failure {
            status,
            message,
            lang: l,
            sign_in_then: (status == StatusCode::UNAUTHORIZED).then(|| visitor.here.clone()),
            detail: status.is_server_error().then(|| error.to_string()),
        }
    }

    /// A failure with its own status and message.
    pub fn new(status: StatusCode, message: impl Into<String>, lang: Lang) -> Self {
        Failure {
            status,
            message: message.into(),
            lang,
            sign_in_then: None,
            detail: None,
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
        if let Some(detail) = self.detail {
            response
                .extensions_mut()
                .insert(crate::app::FailureDetail(detail));
        }
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
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work).await?
}
