//! `/invite/{secret}`: the link in an invitation to join an organisation. Without an account
//! the invited person chooses a name and password here (the mail proved the address) and is
//! signed in; with one, they sign in first and accept.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::{Form, Router};
use chrono::Utc;
use maud::{html, Markup};

use super::forms::FormData;
use super::join::{form_page, hashing_turn, notice};
use super::layout::{encode, page};
use super::reasons::field_reason;
use super::session::{set_cookie, CSRF_FIELD};
use super::{Failure, Lang, PageResult, Visitor};
use crate::accounts::sessions::open_session;
use crate::app::orgs::{self, Acceptance};
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::account::{User, MIN_PASSWORD_CHARS};
use crate::domain::org::Organisation;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/invite/{secret}", get(show).post(accept))
}

fn markup(
    v: &Visitor,
    csrf: &str,
    secret: &str,
    org: &Organisation,
    email: &str,
    account: Option<&User>,
    error: Option<(&str, String)>,
) -> Markup {
    let l = v.lang;
    let signed_in_as_invited =
        matches!((v.caller.user(), account), (Some(u), Some(a)) if u.id == a.id);
    let message = |field: &str| {
        error
            .as_ref()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| m.clone())
    };
    let body = html! {
        section.panel style="max-width:32rem;margin:1rem auto" {
            h1 { (l.t("Lời mời tham gia", "Invitation to join")) " " (org.name) }
            p { (match l {
                Lang::Vi => format!("Lời mời này được gửi đến {email}."),
                Lang::En => format!("This invitation was sent to {email}."),
            }) }
            @if let Some(m) = message("") { p.error role="alert" { (m) } }
            @if account.is_none() {
                form method="post" action=(format!("/invite/{}", encode(secret))) {
                    input type="hidden" name=(CSRF_FIELD) value=(csrf);
                    label for="name" { (l.t("Họ tên", "Name")) }
                    input id="name" type="text" name="name" autocomplete="name" required class=[message("name").map(|_| "invalid")];
                    @if let Some(m) = message("name") { p.field-error id="name-error" { (m) } }
                    label for="password" { (l.t("Chọn mật khẩu", "Choose a password")) " "
                        span.hint { (match l {
                            Lang::Vi => format!("(ít nhất {MIN_PASSWORD_CHARS} ký tự)"),
                            Lang::En => format!("(at least {MIN_PASSWORD_CHARS} characters)"),
                        }) }
                    }
                    input id="password" type="password" name="password" autocomplete="new-password" required class=[message("password").map(|_| "invalid")];
                    @if let Some(m) = message("password") { p.field-error id="password-error" { (m) } }
                    p { button type="submit" { (l.t("Tạo tài khoản và tham gia", "Create my account and join")) } }
                }
            } @else if signed_in_as_invited {
                form method="post" action=(format!("/invite/{}", encode(secret))) {
                    input type="hidden" name=(CSRF_FIELD) value=(csrf);
                    p { button type="submit" { (l.t("Nhận lời mời", "Accept the invitation")) } }
                }
            } @else {
                p { (l.t("Địa chỉ này đã có tài khoản: hãy đăng nhập bằng tài khoản đó để nhận lời mời.", "This address has an account: sign in with it to accept.")) }
                p { a.button href=(format!("/signin?next={}", encode(&format!("/invite/{secret}")))) { (l.t("Đăng nhập", "Sign in")) } }
            }
        }
    };
    page(v, l.t("Lời mời tham gia", "Invitation to join"), body)
}

fn gone(v: &Visitor) -> axum::response::Response {
    let l = v.lang;
    notice(
        v,
        StatusCode::NOT_FOUND,
        l.t("Liên kết không dùng được", "This link does not work"),
        l.t(
            "Lời mời này không tồn tại, đã được dùng hoặc đã hết hạn. Hãy đề nghị quản trị viên của tổ chức gửi lời mời mới.",
            "This invitation is unknown, already used or expired. Ask the organisation's administrator for a new one.",
        ),
        ("/", l.t("Về trang chủ", "Back to the home page")),
    )
}

async fn show(State(state): State<AppState>, v: Visitor, Path(secret): Path<String>) -> PageResult {
    let wanted = secret.clone();
    match state
        .run(move |ex| orgs::invitation(ex, &wanted, Utc::now()))
        .await
    {
        Ok((org, ticket, account)) => form_page(&v, StatusCode::OK, |csrf| {
            markup(
                &v,
                csrf,
                &secret,
                &org,
                &ticket.email,
                account.as_ref(),
                None,
            )
        }),
        Err(AppError::InvalidLink | AppError::NotFound(_) | AppError::Conflict(_)) => Ok(gone(&v)),
        Err(e) => Err(Failure::from_app(e, &v)),
    }
}

async fn accept(
    State(state): State<AppState>,
    v: Visitor,
    Path(secret): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    v.check_csrf(form.get(CSRF_FIELD))?;
    let l = v.lang;
    let signed_in = v.caller.user().cloned();
    let name = form.get("name").unwrap_or_default().to_string();
    let password = form.get("password").unwrap_or_default().to_string();
    let wanted = secret.clone();
    let again = |field: &'static str, message: String| again(&state, &v, &secret, field, message);
    let outcome = if let Some(user) = signed_in {
        state
            .run(move |ex| {
                orgs::accept_invitation(ex, &wanted, Acceptance::SignedIn(&user), Utc::now())
            })
            .await
    } else {
        let _turn = hashing_turn(&state, &v).await?;
        state
            .run(move |ex| {
                orgs::accept_invitation_as_newcomer(ex, &wanted, &name, &password, Utc::now())
            })
            .await
    };
    match outcome {
        Ok(user) => joined(&state, &v, user).await,
        Err(AppError::InvalidLink) => Ok(gone(&v)),
        Err(AppError::Invalid(e)) => again(form_field(&e.field), field_reason(l, &e.reason)).await,
        Err(AppError::Forbidden(r) | AppError::Conflict(r)) => {
            again("", l.t(r.vi(), r.en()).to_string()).await
        }
        Err(e) => Err(Failure::from_app(e, &v)),
    }
}

/// The invitation form's field an error names, if the form has it.
fn form_field(field: &str) -> &'static str {
    match field {
        "name" => "name",
        "password" => "password",
        _ => "",
    }
}

/// After joining: to `/me`, signed in with a new session if the visitor was not.
async fn joined(state: &AppState, v: &Visitor, user: User) -> PageResult {
    let mut response = Redirect::to("/me?done=joined").into_response();
    if v.caller.user().is_none() {
        let accounts = state.accounts.clone();
        let session =
            tokio::task::spawn_blocking(move || open_session(accounts.as_ref(), &user, Utc::now()))
                .await
                .map_err(|e| Failure::from_app(e.into(), v))?
                .map_err(|e| Failure::from_app(crate::accounts::SignInError::from(e).into(), v))?;
        set_cookie(&mut response, &v.session_cookie(&session));
    }
    Ok(response)
}

/// The invitation's form again, with `message` beside `field` (400); the gone page when the
/// invitation is no longer there.
async fn again(
    state: &AppState,
    v: &Visitor,
    secret: &str,
    field: &'static str,
    message: String,
) -> PageResult {
    let wanted = secret.to_string();
    let (org, ticket, account) = match state
        .run(move |ex| orgs::invitation(ex, &wanted, Utc::now()))
        .await
    {
        Ok(found) => found,
        Err(_) => return Ok(gone(v)),
    };
    form_page(v, StatusCode::BAD_REQUEST, |csrf| {
        markup(
            v,
            csrf,
            secret,
            &org,
            &ticket.email,
            account.as_ref(),
            Some((field, message)),
        )
    })
}
