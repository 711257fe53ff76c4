//! Joining and getting back in: `/signup` (a form, then "check your mail"), `/confirm/{secret}`
//! (the link in that mail), `/forgot` (a reset link by mail) and `/reset/{secret}` (a new
//! password). The rules are `app::signup` and `app::password`; this module shows forms and
//! answers in the visitor's language.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use chrono::Utc;
use maud::{html, Markup};

use super::forms::FormData;
use super::layout::page;
use super::session::CSRF_FIELD;
use super::{html_response, Failure, Lang, PageResult, Visitor};
use crate::app::password::{request_reset, reset_with_link};
use crate::app::signup::{confirm_email, sign_up, SignUp, MAX_NAME_CHARS};
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::account::MIN_PASSWORD_CHARS;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", get(signup_form).post(signup))
        .route("/confirm/{secret}", get(confirm))
        .route("/forgot", get(forgot_form).post(forgot))
        .route("/reset/{secret}", get(reset_form).post(reset))
}

/// What a form sent back shows: the values typed (never passwords) and one message, beside its
/// field (`""` for the whole form).
#[derive(Default)]
struct Typed<'a> {
    name: &'a str,
    email: &'a str,
    error: Option<(String, String)>,
}

impl Typed<'_> {
    fn bad(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|(f, _)| f == field)
    }

    fn message(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// The visitor's words for what is wrong with a field of these forms.
fn field_message(l: Lang, field: &str) -> String {
    match field {
        "email" => l
            .t(
                "Hãy nhập một địa chỉ e-mail như ten@congty.vn.",
                "Enter an e-mail address like name@company.vn.",
            )
            .to_string(),
        "password" => match l {
            Lang::Vi => format!("Mật khẩu cần ít nhất {MIN_PASSWORD_CHARS} ký tự."),
            Lang::En => format!("The password needs at least {MIN_PASSWORD_CHARS} characters."),
        },
        "name" => match l {
            Lang::Vi => format!("Hãy nhập họ tên (tối đa {MAX_NAME_CHARS} ký tự)."),
            Lang::En => format!("Enter your name (at most {MAX_NAME_CHARS} characters)."),
        },
        _ => l
            .t(
                "Thông tin chưa hợp lệ.",
                "Something in the form is not valid.",
            )
            .to_string(),
    }
}

/// A form page with its CSRF token, setting the pre-sign-in cookie if the visitor had none.
pub(super) fn form_page(
    v: &Visitor,
    status: StatusCode,
    build: impl FnOnce(&str) -> Markup,
) -> PageResult {
    let (csrf, fresh) = v.pre_sign_in_csrf().map_err(|e| Failure::from_app(e, v))?;
    let mut response = html_response(build(&csrf));
    *response.status_mut() = status;
    v.keep_pre_cookie(&mut response, fresh);
    Ok(response)
}

/// A page with a heading and one paragraph (and a link), for outcomes.
pub(super) fn notice(
    v: &Visitor,
    status: StatusCode,
    title: &str,
    text: &str,
    link: (&str, &str),
) -> Response {
    let body = html! {
        section.panel style="max-width:32rem;margin:1rem auto" {
            h1 { (title) }
            p.notice role="status" { (text) }
            p { a href=(link.0) { (link.1) } }
        }
    };
    let mut response = html_response(page(v, title, body));
    *response.status_mut() = status;
    response
}

fn signup_markup(v: &Visitor, csrf: &str, typed: &Typed<'_>) -> Markup {
    let l = v.lang;
    let body = html! {
        section.panel style="max-width:32rem;margin:1rem auto" {
            h1 { (l.t("Đăng ký tài khoản", "Create an account")) }
            p.hint { (l.t(
                "Chúng tôi sẽ gửi một liên kết xác nhận đến địa chỉ e-mail của bạn.",
                "We will send a confirmation link to your e-mail address.",
            )) }
            @if let Some(m) = typed.message("") { p.error role="alert" { (m) } }
            form method="post" action="/signup" {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                label for="name" { (l.t("Họ tên", "Name")) }
                input id="name" type="text" name="name" value=(typed.name) autocomplete="name" required class=[typed.bad("name").then_some("invalid")];
                @if let Some(m) = typed.message("name") { p.field-error id="name-error" { (m) } }
                label for="email" { "E-mail" }
                input id="email" type="email" name="email" value=(typed.email) autocomplete="email" required class=[typed.bad("email").then_some("invalid")];
                @if let Some(m) = typed.message("email") { p.field-error id="email-error" { (m) } }
                label for="password" { (l.t("Mật khẩu", "Password")) " "
                    span.hint { (match l {
                        Lang::Vi => format!("(ít nhất {MIN_PASSWORD_CHARS} ký tự)"),
                        Lang::En => format!("(at least {MIN_PASSWORD_CHARS} characters)"),
                    }) }
                }
                input id="password" type="password" name="password" autocomplete="new-password" required class=[typed.bad("password").then_some("invalid")];
                @if let Some(m) = typed.message("password") { p.field-error id="password-error" { (m) } }
                p { button type="submit" { (l.t("Đăng ký", "Sign up")) } }
            }
            p { (l.t("Đã có tài khoản?", "Have an account?")) " " a href="/signin" { (l.t("Đăng nhập", "Sign in")) } }
        }
    };
    page(v, l.t("Đăng ký", "Sign up"), body)
}

async fn signup_form(v: Visitor) -> PageResult {
    form_page(&v, StatusCode::OK, |csrf| {
        signup_markup(&v, csrf, &Typed::default())
    })
}

/// A turn at hashing a password, as sign-in takes one (argon2id takes ~19 MiB a hash).
pub(super) async fn hashing_turn(
    state: &AppState,
    v: &Visitor,
) -> Result<crate::accounts::gate::HashTurn, Failure> {
    state.passwords.turn().await.map_err(|_| {
        Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            v.lang.t(
                "Máy chủ đang bận; hãy thử lại sau giây lát.",
                "The server is busy; try again in a moment.",
            ),
            v.lang,
        )
    })
}

/// Runs a use case off the async threads.
async fn run<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<Result<T, AppError>, AppError> {
    Ok(tokio::task::spawn_blocking(work).await?)
}

async fn signup(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    v.check_csrf(form.get(CSRF_FIELD))?;
    let l = v.lang;
    let input = SignUp {
        email: form.get("email").unwrap_or_default().to_string(),
        password: form.get("password").unwrap_or_default().to_string(),
        name: form.get("name").unwrap_or_default().to_string(),
    };
    let _turn = hashing_turn(&state, &v).await?;
    let typed_name = input.name.clone();
    let typed_email = input.email.clone();
    let (accounts, outbox) = (state.accounts.clone(), state.outbox.clone());
    let outcome = run(move || sign_up(accounts.as_ref(), &outbox, input, Utc::now()))
        .await
        .map_err(|e| Failure::from_app(e, &v))?;
    match outcome {
        Ok(email) => Ok(mail_sent(&v, &email)),
        Err(AppError::Invalid(e)) => {
            let typed = Typed {
                name: &typed_name,
                email: &typed_email,
                error: Some((e.field.clone(), field_message(l, &e.field))),
            };
            form_page(&v, StatusCode::BAD_REQUEST, |csrf| {
                signup_markup(&v, csrf, &typed)
            })
        }
        Err(e) => Err(Failure::from_app(e, &v)),
    }
}

fn link_gone(v: &Visitor, what: &str) -> Response {
    let l = v.lang;
    let text = match what {
        "confirm" => l.t(
            "Liên kết này không tồn tại, đã được dùng hoặc đã hết hạn. Nếu bạn đăng nhập được, \
             địa chỉ của bạn đã được xác nhận; nếu chưa, hãy đăng ký lại để nhận liên kết mới.",
            "This link is unknown, already used or expired. If you can sign in, your address is \
             confirmed; if not, sign up again to get a new link.",
        ),
        _ => l.t(
            "Liên kết này không tồn tại, đã được dùng hoặc đã hết hạn. Hãy yêu cầu một liên kết mới.",
            "This link is unknown, already used or expired. Ask for a new one.",
        ),
    };
    let again = if what == "confirm" {
        ("/signup", l.t("Đăng ký", "Sign up"))
    } else {
        ("/forgot", l.t("Quên mật khẩu", "Forgot password"))
    };
    notice(
        v,
        StatusCode::NOT_FOUND,
        l.t("Liên kết không dùng được", "This link does not work"),
        text,
        again,
    )
}

async fn confirm(
    State(state): State<AppState>,
    v: Visitor,
    Path(secret): Path<String>,
) -> PageResult {
    let l = v.lang;
    let (accounts, outbox) = (state.accounts.clone(), state.outbox.clone());
    let outcome = run(move || confirm_email(accounts.as_ref(), &outbox, &secret, Utc::now()))
        .await
        .map_err(|e| Failure::from_app(e, &v))?;
    match outcome {
        Ok(user) => {
            let text = match l {
                Lang::Vi => format!(
                    "Địa chỉ {} đã được xác nhận. Bạn có thể đăng nhập.",
                    user.email
                ),
                Lang::En => format!("{} is confirmed. You can sign in now.", user.email),
            };
            Ok(notice(
                &v,
                StatusCode::OK,
                l.t("Đã xác nhận e-mail", "E-mail confirmed"),
                &text,
                ("/signin", l.t("Đăng nhập", "Sign in")),
            ))
        }
        Err(AppError::InvalidLink) => Ok(link_gone(&v, "confirm")),
        Err(e) => Err(Failure::from_app(e, &v)),
    }
}

fn forgot_markup(v: &Visitor, csrf: &str, typed: &Typed<'_>) -> Markup {
    let l = v.lang;
    let body = html! {
        section.panel style="max-width:32rem;margin:1rem auto" {
            h1 { (l.t("Quên mật khẩu", "Forgot your password")) }
            p.hint { (l.t(
                "Nhập địa chỉ e-mail của tài khoản; chúng tôi sẽ gửi liên kết để đặt mật khẩu mới.",
                "Enter your account's e-mail address; we will send a link to choose a new password.",
            )) }
            form method="post" action="/forgot" {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                label for="email" { "E-mail" }
                input id="email" type="email" name="email" value=(typed.email) autocomplete="email" required class=[typed.bad("email").then_some("invalid")];
                @if let Some(m) = typed.message("email") { p.field-error id="email-error" { (m) } }
                p { button type="submit" { (l.t("Gửi liên kết", "Send the link")) } }
            }
        }
    };
    page(v, l.t("Quên mật khẩu", "Forgot password"), body)
}

async fn forgot_form(v: Visitor) -> PageResult {
    form_page(&v, StatusCode::OK, |csrf| {
        forgot_markup(&v, csrf, &Typed::default())
    })
}

async fn forgot(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    v.check_csrf(form.get(CSRF_FIELD))?;
    let l = v.lang;
    let email = form.get("email").unwrap_or_default().to_string();
    let typed_email = email.clone();
    let (accounts, outbox) = (state.accounts.clone(), state.outbox.clone());
    let outcome = run(move || request_reset(accounts.as_ref(), &outbox, &email, Utc::now()))
        .await
        .map_err(|e| Failure::from_app(e, &v))?;
    match outcome {
        Ok(()) => Ok(notice(
            &v,
            StatusCode::OK,
            l.t("Hãy kiểm tra hộp thư", "Check your mailbox"),
            l.t(
                "Nếu địa chỉ này có tài khoản, chúng tôi đã gửi đến đó một liên kết để đặt mật \
                 khẩu mới (có hiệu lực 2 giờ).",
                "If this address has an account, we sent it a link to choose a new password \
                 (valid for 2 hours).",
            ),
            ("/signin", l.t("Đăng nhập", "Sign in")),
        )),
        Err(AppError::Invalid(e)) => {
            let typed = Typed {
                email: &typed_email,
                error: Some((e.field.clone(), field_message(l, &e.field))),
                ..Typed::default()
            };
            form_page(&v, StatusCode::BAD_REQUEST, |csrf| {
                forgot_markup(&v, csrf, &typed)
            })
        }
        Err(e) => Err(Failure::from_app(e, &v)),
    }
}

fn reset_markup(v: &Visitor, csrf: &str, secret: &str, typed: &Typed<'_>) -> Markup {
    let l = v.lang;
    let body = html! {
        section.panel style="max-width:32rem;margin:1rem auto" {
            h1 { (l.t("Đặt mật khẩu mới", "Choose a new password")) }
            form method="post" action=(format!("/reset/{secret}")) {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                label for="password" { (l.t("Mật khẩu mới", "New password")) }
                input id="password" type="password" name="password" autocomplete="new-password" required class=[typed.bad("password").then_some("invalid")];
                @if let Some(m) = typed.message("password") { p.field-error id="password-error" { (m) } }
                p { button type="submit" { (l.t("Lưu mật khẩu", "Save the password")) } }
            }
        }
    };
    page(v, l.t("Đặt mật khẩu mới", "New password"), body)
}

/// Only what a link's secret can be: hex, as `random_hex` makes it (anything else is refused
/// before it reaches a form's action).
fn plausible_secret(secret: &str) -> bool {
    !secret.is_empty() && secret.len() <= 128 && secret.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn reset_form(v: Visitor, Path(secret): Path<String>) -> PageResult {
    if !plausible_secret(&secret) {
        return Ok(link_gone(&v, "reset"));
    }
    form_page(&v, StatusCode::OK, |csrf| {
        reset_markup(&v, csrf, &secret, &Typed::default())
    })
}

/// After signing up: the mail is on its way.
fn mail_sent(v: &Visitor, email: &str) -> Response {
    let l = v.lang;
    let text = match l {
        Lang::Vi => format!(
            "Chúng tôi đã gửi thư đến {email}. Hãy mở liên kết trong thư để xác nhận địa \
             chỉ, rồi đăng nhập. Không thấy thư? Hãy xem thư mục thư rác."
        ),
        Lang::En => format!(
            "We sent a mail to {email}. Open the link in it to confirm your address, \
             then sign in. No mail? Look in the spam folder."
        ),
    };
    notice(
        v,
        StatusCode::CREATED,
        l.t("Hãy kiểm tra hộp thư", "Check your mailbox"),
        &text,
        ("/signin", l.t("Đăng nhập", "Sign in")),
    )
}

async fn reset(
    State(state): State<AppState>,
    v: Visitor,
    Path(secret): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    v.check_csrf(form.get(CSRF_FIELD))?;
    let l = v.lang;
    if !plausible_secret(&secret) {
        return Ok(link_gone(&v, "reset"));
    }
    let password = form.get("password").unwrap_or_default().to_string();
    let _turn = hashing_turn(&state, &v).await?;
    let (accounts, outbox, link) = (state.accounts.clone(), state.outbox.clone(), secret.clone());
    let outcome =
        run(move || reset_with_link(accounts.as_ref(), &outbox, &link, &password, Utc::now()))
            .await
            .map_err(|e| Failure::from_app(e, &v))?;
    match outcome {
        Ok(_) => Ok(notice(
            &v,
            StatusCode::OK,
            l.t("Đã đổi mật khẩu", "Password changed"),
            l.t(
                "Mật khẩu mới đã được lưu. Hãy đăng nhập bằng mật khẩu mới.",
                "Your new password is saved. Sign in with it.",
            ),
            ("/signin", l.t("Đăng nhập", "Sign in")),
        )),
        Err(AppError::Invalid(e)) => {
            let typed = Typed {
                error: Some((e.field.clone(), field_message(l, &e.field))),
                ..Typed::default()
            };
            form_page(&v, StatusCode::BAD_REQUEST, |csrf| {
                reset_markup(&v, csrf, &secret, &typed)
            })
        }
        Err(AppError::InvalidLink) => Ok(link_gone(&v, "reset")),
        Err(e) => Err(Failure::from_app(e, &v)),
    }
}
