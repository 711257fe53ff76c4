//! `/me`: a signed-in user's own page. Their organisation (or how to get one), its members,
//! invitations and requests for its administrators, its listings and needs with drafts, the
//! interest it sent with the answers, its leads inbox with a reply form, and for brokers the
//! organisations of their province waiting for verification. The rules are `app::me`,
//! `app::orgs` and `app::leads`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;
use maud::{html, Markup};
use serde::Deserialize;

use super::forms::FormData;
use super::layout::{csrf_field, encode, page};
use super::orgs::{kind_label, verified_badge};
use super::reasons::field_reason;
use super::session::CSRF_FIELD;
use super::{html_response, Failure, Lang, PageResult, Visitor};
use crate::app::me::{overview, Overview};
use crate::app::orgs::{self, Actor};
use crate::app::AppState;
use crate::app::{leads, AppError, Refusal};
use crate::domain::account::{Role, User};
use crate::domain::deal::Lead;
use crate::domain::Status;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(show))
        .route("/me/invite", post(invite))
        .route("/me/requests/{user_id}", post(answer))
        .route("/me/leads/{id}/reply", post(reply))
        .route("/me/members/{user_id}", post(member))
        .route("/me/email", post(email))
}

/// What the page says after an action (`?done=`).
#[derive(Debug, Deserialize, Default)]
struct Done {
    done: Option<String>,
}

/// A form's refusal shown beside it: (which form, message).
type Refused = Option<(String, String)>;

fn role_label(l: Lang, role: Role) -> &'static str {
    match role {
        Role::Admin => l.t("Quản trị viên", "Administrator"),
        Role::Broker => l.t("Cán bộ môi giới", "Broker"),
        Role::Institute => l.t("Thành viên viện, trường", "Institute member"),
        Role::Enterprise => l.t("Thành viên doanh nghiệp", "Enterprise member"),
        Role::Newcomer => l.t("Thành viên mới", "Newcomer"),
    }
}

fn status_badge(l: Lang, status: Status) -> &'static str {
    match status {
        Status::Draft => l.t("Bản nháp", "Draft"),
        Status::Published => l.t("Đã công bố", "Published"),
        Status::Archived => l.t("Lưu trữ", "Archived"),
    }
}

fn done_text(l: Lang, done: &str) -> Option<&'static str> {
    Some(match done {
        "invited" => l.t("Đã gửi thư mời.", "The invitation is on its way."),
        "accepted" => l.t("Đã nhận thành viên mới.", "The new member is in."),
        "declined" => l.t("Đã từ chối yêu cầu.", "The request was declined."),
        "replied" => l.t("Đã gửi câu trả lời.", "Your answer was sent."),
        "joined" => l.t("Bạn đã tham gia tổ chức.", "You joined the organisation."),
        "removed" => l.t(
            "Đã đưa thành viên ra khỏi tổ chức.",
            "The member was removed.",
        ),
        "admin" => l.t(
            "Thành viên đã là quản trị viên.",
            "The member is an administrator now.",
        ),
        "email" => l.t(
            "Chúng tôi đã gửi liên kết đến địa chỉ mới; địa chỉ chỉ đổi khi liên kết được mở.",
            "We sent a link to the new address; the address changes when it is opened.",
        ),
        _ => return None,
    })
}

fn lead_link(lead: &Lead) -> Markup {
    html! { a href=(format!("/listings/{}", encode(&lead.listing_id))) { (lead.listing_title) } }
}

fn reply_form(v: &Visitor, lead: &Lead, refused: &Refused) -> Markup {
    let l = v.lang;
    let field = format!("reply-{}", lead.id);
    let error = refused
        .as_ref()
        .filter(|(which, _)| *which == field)
        .map(|(_, m)| m.as_str());
    html! {
        form method="post" action=(format!("/me/leads/{}/reply", encode(&lead.id))) {
            (csrf_field(v))
            label for=(field) { (l.t("Trả lời", "Your answer")) }
            textarea id=(field) name="message" required class=[error.map(|_| "invalid")] {}
            @if let Some(m) = error { p.field-error { (m) } }
            button type="submit" { (l.t("Gửi trả lời", "Send the answer")) }
        }
    }
}

fn org_section(v: &Visitor, me: &Overview, refused: &Refused) -> Markup {
    let l = v.lang;
    let Some(org) = &me.org else {
        if matches!(me.user.role, Role::Admin | Role::Broker) || me.user.org.is_some() {
            return html! {};
        }
        return html! {
            section.panel id="org" {
                h2 { (l.t("Tổ chức của bạn", "Your organisation")) }
                p { (l.t(
                    "Bạn chưa thuộc tổ chức nào. Tạo hồ sơ cho tổ chức của bạn, hoặc tìm tổ chức và xin tham gia.",
                    "You belong to no organisation yet. Create your organisation's record, or find it and ask to join.",
                )) }
                p {
                    a.button href="/orgs/new" { (l.t("Tạo hồ sơ tổ chức", "Create an organisation")) } " "
                    a href="/orgs" { (l.t("Tìm tổ chức", "Find an organisation")) }
                }
            }
        };
    };
    let invite_error = refused
        .as_ref()
        .filter(|(which, _)| which == "email")
        .map(|(_, m)| m.as_str());
    html! {
        section.panel id="org" {
            h2 { (l.t("Tổ chức của bạn", "Your organisation")) }
            p {
                a href=(format!("/orgs/{}", encode(&org.id))) { (org.name) }
                " · " (kind_label(l, org.kind))
                @if org.verified.is_some() { " " (verified_badge(l)) } @else { " " span.meta { (l.t("(chưa xác minh)", "(not verified)")) } }
            }
            @if me.org_admin {
                h3 { (l.t("Mời thành viên", "Invite a member")) }
                form method="post" action="/me/invite" {
                    (csrf_field(v))
                    label for="email" { "E-mail" }
                    input id="email" type="email" name="email" required class=[invite_error.map(|_| "invalid")];
                    @if let Some(m) = invite_error { p.field-error id="email-error" { (m) } }
                    button type="submit" { (l.t("Gửi lời mời", "Send the invitation")) }
                }
                h3 { (l.t("Thành viên", "Members")) }
                ul id="members" {
                    @for m in &me.members {
                        li {
                            (m.name.clone().unwrap_or_default()) " <" (m.email) "> "
                            @if org.is_admin(&m.id) { span.badge { (l.t("Quản trị", "Administrator")) } }
                            @if m.id != me.user.id {
                                form style="display:inline" method="post" action=(format!("/me/members/{}", encode(&m.id))) {
                                    (csrf_field(v))
                                    @if !org.is_admin(&m.id) {
                                        button type="submit" name="action" value="admin" { (l.t("Cho làm quản trị", "Make administrator")) } " "
                                    }
                                    button type="submit" name="action" value="remove" { (l.t("Đưa ra khỏi tổ chức", "Remove")) }
                                }
                            }
                        }
                    }
                }
                @if !org.requests.is_empty() {
                    h3 { (l.t("Yêu cầu tham gia", "Requests to join")) }
                    ul id="requests" {
                        @for r in &org.requests {
                            li {
                                (r.name.clone().unwrap_or_default()) " <" (r.email) "> "
                                form style="display:inline" method="post" action=(format!("/me/requests/{}", encode(&r.user_id))) {
                                    (csrf_field(v))
                                    button type="submit" name="accept" value="yes" { (l.t("Chấp nhận", "Accept")) } " "
                                    button type="submit" name="accept" value="no" { (l.t("Từ chối", "Decline")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The newest alerts of the user's standing searches, unread ones first in bold.
fn notifications(l: Lang, me: &Overview) -> Markup {
    html! {
        @if !me.notifications.is_empty() {
            section.panel id="notifications" {
                h2 { (l.t("Thông báo", "Notifications")) }
                ul {
                    @for n in &me.notifications {
                        li class=[(!n.read).then_some("unread")] {
                            a href=(format!("/listings/{}", encode(&n.listing_id))) {
                                @if n.read { (n.title) } @else { strong { (n.title) } }
                            }
                            " " span.meta { (n.created_at.format("%Y-%m-%d")) }
                        }
                    }
                }
            }
        }
    }
}

fn email_form(v: &Visitor, refused: &Refused) -> Markup {
    let l = v.lang;
    let error = refused
        .as_ref()
        .filter(|(which, _)| which == "new_email")
        .map(|(_, m)| m.as_str());
    html! {
        details.panel id="account" open[error.is_some()] {
            summary { (l.t("Đổi địa chỉ e-mail", "Change my e-mail address")) }
            form method="post" action="/me/email" {
                (csrf_field(v))
                label for="new_email" { (l.t("Địa chỉ mới", "New address")) }
                input id="new_email" type="email" name="email" required class=[error.map(|_| "invalid")];
                @if let Some(m) = error { p.field-error id="new_email-error" { (m) } }
                p.hint { (l.t(
                    "Chúng tôi gửi liên kết xác nhận đến địa chỉ mới; địa chỉ cũ vẫn dùng được cho đến khi liên kết được mở.",
                    "We send a confirmation link to the new address; the old one stays until the link is opened.",
                )) }
                button type="submit" { (l.t("Gửi liên kết xác nhận", "Send the confirmation link")) }
            }
        }
    }
}

fn render(v: &Visitor, me: &Overview, done: Option<&str>, refused: &Refused) -> Markup {
    let l = v.lang;
    let user = &me.user;
    html! {
        h1 { (user.name.clone().unwrap_or_else(|| user.email.clone())) }
        p.meta { (user.email) " · " (role_label(l, user.role)) }
        @if let Some(text) = done.and_then(|d| done_text(l, d)) { p.notice role="status" { (text) } }
        @if let Some((which, m)) = refused.as_ref().filter(|(w, _)| w.is_empty()) { p.error role="alert" data-form=(which) { (m) } }
        (notifications(l, me))
        (super::freshness::to_confirm(v, &me.to_confirm))
        (org_section(v, me, refused))
        (email_form(v, refused))
        @if user.role == Role::Broker || user.role == Role::Admin {
            section.panel {
                p { a href="/desk" { (l.t("Bàn môi giới", "Broker desk")) } }
                @if !me.to_verify.is_empty() {
                    h2 { (l.t("Tổ chức chờ xác minh", "Organisations waiting for verification")) }
                    ul id="to-verify" { @for o in &me.to_verify {
                        li { a href=(format!("/orgs/{}", encode(&o.id))) { (o.name) } }
                    } }
                }
            }
        }
        @if user.org.is_some() && user.role.is_member() {
            section.panel id="listings" {
                h2 { @if user.role == Role::Enterprise { (l.t("Nhu cầu của tổ chức", "Our needs")) } @else { (l.t("Công nghệ của tổ chức", "Our technologies")) } }
                @if me.listings.is_empty() {
                    p.meta { (l.t("Chưa có tin nào.", "Nothing listed yet.")) }
                } @else {
                    div.table-wrap { table {
                        thead { tr {
                            th { (l.t("Tiêu đề", "Title")) }
                            th { (l.t("Trạng thái", "Status")) }
                            th { (l.t("Cập nhật", "Updated")) }
                            th {}
                        } }
                        tbody { @for x in &me.listings { tr {
                            td { a href=(format!("/listings/{}", encode(&x.id))) { (x.title) } }
                            td { span.badge { (status_badge(l, x.status)) } }
                            td { (x.updated_at.format("%Y-%m-%d")) }
                            td { a href=(format!("/listings/{}/edit", encode(&x.id))) { (l.t("Sửa", "Edit")) } }
                        } } }
                    } }
                }
            }
            @if !me.sent_interest.is_empty() || user.role == Role::Enterprise {
                section.panel id="sent" {
                    h2 { (l.t("Quan tâm đã gửi", "Interest we sent")) }
                    @if me.sent_interest.is_empty() { p.meta { (l.t("Chưa gửi quan tâm nào.", "None sent yet.")) } }
                    @for lead in &me.sent_interest {
                        div.card {
                            p { (lead_link(lead)) " · " span.meta { (lead.listing_owner.clone().unwrap_or_default()) } }
                            p { (lead.message) }
                            @match &lead.reply {
                                Some(r) => { p.notice { strong { (l.t("Trả lời: ", "Answer: ")) } (r.message) " " span.meta { "(" (r.at.format("%Y-%m-%d")) ")" } } }
                                None => { p.meta { (l.t("Chưa có trả lời.", "No answer yet.")) } }
                            }
                        }
                    }
                }
            }
            @if !me.leads_inbox.is_empty() || user.role == Role::Institute {
                section.panel id="inbox" {
                    h2 { (l.t("Quan tâm đến công nghệ của tổ chức", "Interest in our technologies")) }
                    @if me.leads_inbox.is_empty() { p.meta { (l.t("Chưa có quan tâm nào.", "No interest yet.")) } }
                    @for lead in &me.leads_inbox {
                        div.card.lead {
                            p { (lead_link(lead)) }
                            p.meta { (lead.from_org) " · " (lead.from_email) " · " (lead.created_at.format("%Y-%m-%d")) }
                            p { (lead.message) }
                            @match &lead.reply {
                                Some(r) => { p.notice { strong { (l.t("Đã trả lời: ", "Answered: ")) } (r.message) } }
                                None => { (reply_form(v, lead, refused)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The signed-in user, or the sign-in page (and back here).
fn user_of(v: &Visitor) -> Result<User, Failure> {
    v.caller
        .require_signed_in()
        .map_err(|e| Failure::from_app(e, v))?;
    v.caller.user().cloned().ok_or_else(|| {
        Failure::new(
            StatusCode::FORBIDDEN,
            v.lang.t(
                "Khoá quản trị không có trang riêng; hãy đăng nhập bằng tài khoản.",
                "The administrator token has no page of its own; sign in with an account.",
            ),
            v.lang,
        )
    })
}

async fn page_of(
    state: &AppState,
    v: &Visitor,
    done: Option<&str>,
    refused: Refused,
) -> PageResult {
    let user = user_of(v)?;
    let me = state
        .run(move |ex| overview(ex, &user))
        .await
        .map_err(|e| Failure::from_app(e, v))?;
    let l = v.lang;
    let mut response = html_response(page(
        v,
        l.t("Trang của tôi", "My page"),
        render(v, &me, done, &refused),
    ));
    if refused.is_some() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

async fn show(State(state): State<AppState>, v: Visitor, Query(done): Query<Done>) -> PageResult {
    page_of(&state, &v, done.done.as_deref(), None).await
}

/// A refusal's words, beside the form `which`; our failures become the error page.
fn refusal(v: &Visitor, which: &str, error: AppError) -> Result<Refused, Failure> {
    let l = v.lang;
    match error {
        AppError::Invalid(e) => Ok(Some((which.to_string(), field_reason(l, &e.reason)))),
        AppError::Forbidden(r) | AppError::Conflict(r) => {
            Ok(Some((which.to_string(), l.t(r.vi(), r.en()).to_string())))
        }
        other => Err(Failure::from_app(other, v)),
    }
}

/// The organisation the signed-in user manages (its administrators' forms act on it).
fn own_org(user: &User) -> Result<String, AppError> {
    user.org_id
        .clone()
        .ok_or(AppError::Forbidden(Refusal::NotOrgAdmin))
}

/// After a form's use case: back to `/me` saying `done`, or the page again with the refusal
/// beside the form `which`.
async fn settle<T>(
    state: &AppState,
    v: &Visitor,
    outcome: Result<T, AppError>,
    done: &str,
    which: &str,
) -> PageResult {
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/me?done={done}")).into_response()),
        Err(e) => {
            let refused = refusal(v, which, e)?;
            page_of(state, v, None, refused).await
        }
    }
}

async fn invite(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    v.check_csrf(form.get(CSRF_FIELD))?;
    let user = user_of(&v)?;
    let email = form.get("email").unwrap_or_default().to_string();
    let outcome = state
        .run(move |ex| {
            let org = own_org(&user)?;
            orgs::invite(ex, Actor::User(&user), &org, &email, Utc::now())
        })
        .await;
    settle(&state, &v, outcome, "invited", "email").await
}

async fn answer(
    State(state): State<AppState>,
    v: Visitor,
    Path(user_id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    v.check_csrf(form.get(CSRF_FIELD))?;
    let user = user_of(&v)?;
    let accept = form.get("accept") == Some("yes");
    state
        .run(move |ex| {
            let org = own_org(&user)?;
            orgs::answer_request(ex, Actor::User(&user), &org, &user_id, accept, Utc::now())
        })
        .await
        .map_err(|e| Failure::from_app(e, &v))?;
    let done = if accept { "accepted" } else { "declined" };
    Ok(Redirect::to(&format!("/me?done={done}")).into_response())
}

async fn reply(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    v.check_csrf(form.get(CSRF_FIELD))?;
    let user = user_of(&v)?;
    let message = form.get("message").unwrap_or_default().to_string();
    let lead_id = id.clone();
    let outcome = state
        .run(move |ex| {
            // A lead the user may not answer answers as if it did not exist.
            match ex.deals.lead(&lead_id)? {
                Some(l) if orgs::answers_lead(&user, &l) || user.role == Role::Admin => {}
                _ => return Err(AppError::NotFound("lead".into())),
            }
            leads::reply(
                ex.deals,
                ex.outbox,
                Actor::User(&user),
                &lead_id,
                &message,
                Utc::now(),
            )
        })
        .await;
    settle(&state, &v, outcome, "replied", &format!("reply-{id}")).await
}

async fn member(
    State(state): State<AppState>,
    v: Visitor,
    Path(user_id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    v.check_csrf(form.get(CSRF_FIELD))?;
    let user = user_of(&v)?;
    let change = if form.get("action") == Some("admin") {
        orgs::MemberChange::MakeAdmin
    } else {
        orgs::MemberChange::Remove
    };
    let outcome = state
        .run(move |ex| {
            let org = own_org(&user)?;
            orgs::manage_member(ex, Actor::User(&user), &org, &user_id, change)
        })
        .await;
    let done = match change {
        orgs::MemberChange::MakeAdmin => "admin",
        orgs::MemberChange::Remove => "removed",
    };
    settle(&state, &v, outcome, done, "").await
}

async fn email(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    v.check_csrf(form.get(CSRF_FIELD))?;
    let user = user_of(&v)?;
    let email = form.get("email").unwrap_or_default().to_string();
    let outcome = state
        .run(move |ex| {
            crate::app::signup::request_email_change(
                ex.accounts,
                ex.outbox,
                &user,
                &email,
                Utc::now(),
            )
        })
        .await;
    settle(&state, &v, outcome, "email", "new_email").await
}
