//! Who is visiting: the session cookie turned into the API's [`Caller`], the language, where
//! they are; plus the cookies the pages set and the CSRF check of every form.
//!
//! Cookies: `tm_session` (HttpOnly, SameSite=Lax, Secure behind TLS) holds the session id,
//! whose SHA-256 alone is stored; `tm_pre` (HttpOnly, SameSite=Strict) gives the sign-in form
//! a CSRF token before there is a session; `tm_lang` remembers the language.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::Utc;

use super::i18n::form_pairs;
use super::{Failure, Lang};
use crate::accounts::sessions::{csrf_token, session_user, SESSION_HOURS};
use crate::app::Caller;
use crate::app::{AppError, AppState};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tm_session";
/// The language cookie's name.
pub const LANG_COOKIE: &str = "tm_lang";
/// The pre-sign-in cookie's name (CSRF token of the sign-in form).
pub const PRE_COOKIE: &str = "tm_pre";
/// The name of the hidden form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// The visitor of a page.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// Who, for the rights model: anonymous, or the session's user.
    pub caller: Caller,
    /// The session id from the cookie, when it signs someone in.
    pub session: Option<String>,
    /// The pre-sign-in cookie's value, if any.
    pub pre: Option<String>,
    /// The page's language.
    pub lang: Lang,
    /// The path and query asked for (for the language switch and returning after sign-in).
    pub here: String,
    /// Whether cookies must be marked `Secure`.
    pub secure: bool,
    /// Unread alerts of the signed-in user, for the header.
    pub unread: usize,
}

/// Newest alerts the header's unread count looks at.
const UNREAD_COUNTED: usize = 100;

/// The value of cookie `name` in a `Cookie` header.
fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Compares without stopping at the first difference, so timing reveals nothing of the token.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let query = parts.uri.query().unwrap_or_default();
        let asked = form_pairs(query)
            .into_iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(&v));
        let lang = asked
            .or_else(|| cookie(parts, LANG_COOKIE).and_then(Lang::parse))
            .unwrap_or_default();
        let secure = state.secure_cookies
            || parts
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
        let mut visitor = Visitor {
            caller: Caller::Anonymous,
            session: None,
            pre: cookie(parts, PRE_COOKIE).map(str::to_string),
            lang,
            here,
            secure,
            unread: 0,
        };
        if let Some(id) = cookie(parts, SESSION_COOKIE).map(str::to_string) {
            let (accounts, alerts) = (state.accounts.clone(), state.alerts.clone());
            let lookup = id.clone();
            let found = tokio::task::spawn_blocking(move || {
                let Some(user) = session_user(accounts.as_ref(), &lookup, Utc::now())? else {
                    return Ok(None);
                };
                // A page's header counts unread alerts; a failing count shows none.
                let unread = alerts
                    .notifications(&user.id, UNREAD_COUNTED)
                    .map_or(0, |n| n.iter().filter(|n| !n.read).count());
                Ok::<_, crate::store::StoreError>(Some((user, unread)))
            })
            .await
            .map_err(AppError::from)
            .and_then(|r| r.map_err(AppError::from))
            .map_err(|e| Failure::from_app(e, &visitor))?;
            // An unknown or expired session reads as anonymous: the pages offer sign-in again.
            if let Some((user, unread)) = found {
                visitor.caller = Caller::User(Box::new(user));
                visitor.session = Some(id);
                visitor.unread = unread;
            }
        }
        Ok(visitor)
    }
}

impl Visitor {
    /// The CSRF token this visitor's forms carry: the session's, else the pre-sign-in
    /// cookie's; `None` when there is neither (no form can be accepted yet).
    pub fn csrf(&self) -> Option<String> {
        self.session
            .as_deref()
            .or(self.pre.as_deref())
            .map(csrf_token)
    }

    /// Refuses a form whose CSRF token is missing or is not this visitor's (403).
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), Failure> {
        match (self.csrf(), sent) {
            (Some(expected), Some(sent)) if same(&expected, sent) => Ok(()),
            _ => Err(Failure::new(
                StatusCode::FORBIDDEN,
                self.lang.t(
                    "Biểu mẫu đã hết hạn hoặc không hợp lệ; hãy tải lại trang và gửi lại.",
                    "This form has expired or is not valid; reload the page and send it again.",
                ),
                self.lang,
            )),
        }
    }

    /// Whether a user is signed in.
    pub fn signed_in(&self) -> bool {
        self.caller != Caller::Anonymous
    }

    /// A `Set-Cookie` value with the attributes every cookie of ours shares.
    pub fn cookie(&self, name: &str, value: &str, max_age_secs: i64, same_site: &str) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite={same_site}{secure}")
    }

    /// The session cookie for a new session id.
    pub fn session_cookie(&self, id: &str) -> String {
        self.cookie(SESSION_COOKIE, id, SESSION_HOURS * 3600, "Lax")
    }

    /// The CSRF token for a form shown before signing in, and the pre-sign-in cookie to set
    /// when the visitor has none yet (its value is what the token is derived from).
    pub fn pre_sign_in_csrf(&self) -> Result<(String, Option<String>), AppError> {
        if let Some(token) = self.csrf() {
            return Ok((token, None));
        }
        let pre = crate::accounts::credentials::random_hex(16).map_err(AppError::from)?;
        Ok((csrf_token(&pre), Some(pre)))
    }

    /// Sets the pre-sign-in cookie made by [`Visitor::pre_sign_in_csrf`], if one was.
    pub fn keep_pre_cookie(&self, response: &mut Response, fresh: Option<String>) {
        if let Some(pre) = fresh {
            set_cookie(response, &self.cookie(PRE_COOKIE, &pre, 3600, "Strict"));
        }
    }
}

/// Adds a `Set-Cookie` header to a response.
pub fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
