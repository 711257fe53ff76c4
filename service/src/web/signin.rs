//! `/signin` (GET the form, POST e-mail and password) and `/signout` (POST). Sign-in goes
//! through `accounts::sign_in_session`, the same per-account and per-address limits and the
//! same pause after a failure as `POST /api/v1/tokens`, and opens a session stored as a hash.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;
use maud::{html, Markup};
use serde::Deserialize;

use super::forms::FormData;
use super::layout::page;
use super::session::{set_cookie, CSRF_FIELD, PRE_COOKIE, SESSION_COOKIE};
use super::{blocking, html_response, Failure, PageResult, Visitor};
use crate::accounts::credentials::random_hex;
use crate::accounts::sessions::{close_session, csrf_token};
use crate::accounts::{sign_in_session, SignInError};
use crate::app::ClientAddr;
use crate::app::{AppError, AppState};
use crate::domain::account::Role;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signin", get(form).post(sign_in))
        .route("/signout", post(sign_out))
}

/// `?next=/path`: where to go after signing in.
#[derive(Debug, Default, Deserialize)]
struct Next {
    next: Option<String>,
}

/// Only paths on this site (`web::next::local_path`).
fn safe_next(next: Option<&str>) -> Option<String> {
    next.and_then(super::next::local_path)
}

fn render(
    v: &Visitor,
    csrf: &str,
    email: &str,
    next: Option<&str>,
    error: Option<(&str, &str)>,
) -> Markup {
    let l = v.lang;
    let bad = |f: &str| error.is_some_and(|(field, _)| field == f);
    let body = html! {
        section.panel style="max-width:28rem;margin:1rem auto" {
            h1 { (l.t("Đăng nhập", "Sign in")) }
            @if let Some(("", message)) = error { p.error id="signin-error" role="alert" { (message) } }
            form method="post" action="/signin" {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                @if let Some(n) = next { input type="hidden" name="next" value=(n); }
                label for="email" { "E-mail" }
                input id="email" type="email" name="email" value=(email) autocomplete="username" required class=[bad("email").then_some("invalid")];
                @if let Some(("email", m)) = error { p.field-error id="email-error" { (m) } }
                label for="password" { (l.t("Mật khẩu", "Password")) }
                input id="password" type="password" name="password" autocomplete="current-password" required;
                p { button type="submit" { (l.t("Đăng nhập", "Sign in")) } }
            }
            p {
                a href="/forgot" { (l.t("Quên mật khẩu?", "Forgot your password?")) }
                " · "
                a href="/signup" { (l.t("Tạo tài khoản", "Create an account")) }
            }
        }
    };
    page(v, l.t("Đăng nhập", "Sign in"), body)
}

/// The sign-in form; gives the browser a pre-sign-in cookie whose token the form carries.
async fn form(v: Visitor, Query(next): Query<Next>) -> PageResult {
    let next = safe_next(next.next.as_deref());
    let (pre, fresh) = match &v.pre {
        Some(p) => (p.clone(), false),
        None => (
            random_hex(16).map_err(|e| Failure::from_app(AppError::from(e), &v))?,
            true,
        ),
    };
    let mut response = html_response(render(&v, &csrf_token(&pre), "", next.as_deref(), None));
    if fresh {
        set_cookie(&mut response, &v.cookie(PRE_COOKIE, &pre, 3600, "Strict"));
    }
    Ok(response)
}

async fn sign_in(
    State(state): State<AppState>,
    v: Visitor,
    ClientAddr(address): ClientAddr,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    v.check_csrf(form.get(CSRF_FIELD))?;
    let l = v.lang;
    let email = form.get("email").unwrap_or_default().to_string();
    let password = form.get("password").unwrap_or_default().to_string();
    let next = safe_next(form.get("next"));
    let result = sign_in_session(
        state.accounts.clone(),
        &state.passwords,
        &email,
        password,
        address,
        Utc::now(),
    )
    .await;
    match result {
        Ok((user, id)) => {
            let to = next.unwrap_or_else(|| home(user.role).to_string());
            let mut response = Redirect::to(&to).into_response();
            set_cookie(&mut response, &v.session_cookie(&id));
            Ok(response)
        }
        Err(e) => match refusal(l, &e) {
            Some((status, field, message)) => {
                if matches!(e, SignInError::WrongCredentials) {
                    // Paced as on the API, without holding a thread.
                    tokio::time::sleep(state.sign_in_delay).await;
                }
                let csrf = v.csrf().unwrap_or_default();
                let page = render(&v, &csrf, &email, next.as_deref(), Some((field, &message)));
                Ok((status, html_response(page)).into_response())
            }
            None => Err(Failure::from_app(e.into(), &v)),
        },
    }
}

/// Where a signed-in person starts: brokers and administrators at the desk, others at home.
fn home(role: Role) -> &'static str {
    match role {
        Role::Broker | Role::Admin => "/desk",
        _ => "/",
    }
}

/// What the sign-in form says to a refused sign-in (status, field, message); `None` for our
/// failures.
fn refusal(l: super::Lang, e: &SignInError) -> Option<(StatusCode, &'static str, String)> {
    Some(match e {
        SignInError::WrongCredentials => (
            StatusCode::UNAUTHORIZED,
            "",
            l.t("Sai e-mail hoặc mật khẩu.", "Wrong e-mail or password.")
                .to_string(),
        ),
        SignInError::Invalid(e) => (StatusCode::BAD_REQUEST, "email", e.reason.clone()),
        SignInError::Unconfirmed => (
            StatusCode::FORBIDDEN,
            "email",
            l.t(
                "Địa chỉ e-mail này chưa được xác nhận: hãy mở liên kết trong thư chúng tôi đã gửi (đăng ký lại để nhận liên kết mới).",
                "This e-mail address is not confirmed yet: open the link in the mail we sent (sign up again to get a new link).",
            )
            .to_string(),
        ),
        SignInError::Locked { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "",
            format!(
                "{} ({e})",
                l.t(
                    "Đăng nhập sai quá nhiều lần; hãy thử lại sau.",
                    "Too many failed sign-ins; try again later."
                )
            ),
        ),
        _ => return None,
    })
}

async fn sign_out(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    v.check_csrf(form.get(CSRF_FIELD))?;
    if let Some(id) = v.session.clone() {
        let accounts = state.accounts.clone();
        blocking(move || Ok(close_session(accounts.as_ref(), &id)?))
            .await
            .map_err(|e| Failure::from_app(e, &v))?;
    }
    let mut response = Redirect::to("/").into_response();
    set_cookie(&mut response, &v.cookie(SESSION_COOKIE, "", 0, "Lax"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/desk")).as_deref(), Some("/desk"));
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "desk"] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
    }
}
