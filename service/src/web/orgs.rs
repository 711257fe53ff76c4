//! Organisations' pages: `/orgs` (the list, verified ones marked), `/orgs/new` (a record, its
//! creator its administrator), `/orgs/{id}` (the public profile with published technologies and
//! needs and the reply rate; verification for the province's brokers, joining for people
//! without an organisation, merging for administrators). The rules are `app::orgs`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;
use maud::{html, Markup};

use super::forms::FormData;
use super::layout::{csrf_field, encode, page};
use super::reasons::field_reason;
use super::session::CSRF_FIELD;
use super::{html_response, Failure, Lang, PageResult, Visitor};
use crate::app::orgs::{self, Actor};
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::account::Role;
use crate::domain::org::{OrgInput, OrgKind, Organisation, ReplyStats};
use crate::domain::{Listing, Provinces};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs", get(list))
        .route("/orgs/new", get(new_form).post(create))
        .route("/orgs/{id}", get(show))
        .route("/orgs/{id}/verify", post(verify))
        .route("/orgs/{id}/revoke", post(revoke))
        .route("/orgs/{id}/join", post(join))
        .route("/orgs/{id}/merge", post(merge))
}

/// The kind of an organisation in the page's language.
pub fn kind_label(l: Lang, kind: OrgKind) -> &'static str {
    l.t(kind.label_vi(), kind.label_en())
}

/// The badge a verified organisation carries wherever it is named.
pub fn verified_badge(l: Lang) -> Markup {
    html! {
        span.badge.verified title=(l.t("Đã được Sở KH&CN xác minh", "Verified by the Department of Science and Technology")) {
            "✓ " (l.t("Đã xác minh", "Verified"))
        }
    }
}

fn province_name(org: &Organisation) -> Option<String> {
    org.province
        .as_ref()
        .and_then(|c| Provinces::get().by_code(c))
        .map(|p| p.short_name.clone())
}

async fn list(State(state): State<AppState>, v: Visitor) -> PageResult {
    let all = state
        .run(|ex| Ok(ex.orgs.orgs()?))
        .await
        .map_err(|e| Failure::from_app(e, &v))?;
    let l = v.lang;
    let body = directory(&v, &all);
    Ok(html_response(page(
        &v,
        l.t("Tổ chức", "Organisations"),
        body,
    )))
}

/// The directory of organisations (merged records left out), with a link to create one for
/// those who may.
fn directory(v: &Visitor, all: &[Organisation]) -> Markup {
    let l = v.lang;
    let may_create = v
        .caller
        .user()
        .is_some_and(|u| u.org.is_none() && !matches!(u.role, Role::Admin | Role::Broker))
        || v.caller.is_admin()
        || v.caller.role() == Some(Role::Broker);
    html! {
        h1 { (l.t("Tổ chức", "Organisations")) }
        @if may_create {
            p { a.button href="/orgs/new" { (l.t("Tạo hồ sơ tổ chức", "Create an organisation")) } }
        }
        div.table-wrap { table {
            thead { tr {
                th { (l.t("Tên", "Name")) }
                th { (l.t("Loại hình", "Kind")) }
                th { (l.t("Tỉnh, thành phố", "Province")) }
            } }
            tbody {
                @for o in all.iter().filter(|o| o.merged_into.is_none()) {
                    tr {
                        td {
                            a href=(format!("/orgs/{}", encode(&o.id))) { (o.name) }
                            @if o.verified.is_some() { " " (verified_badge(l)) }
                        }
                        td { (kind_label(l, o.kind)) }
                        td { (province_name(o).unwrap_or_default()) }
                    }
                }
            }
        } }
    }
}

/// What the form was sent back with, and one message beside its field.
#[derive(Default)]
struct Typed {
    form: FormData,
    error: Option<(String, String)>,
}

impl Typed {
    fn value(&self, name: &str) -> &str {
        self.form.get(name).unwrap_or_default()
    }

    fn message(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

fn text_field(l: Lang, typed: &Typed, name: &str, vi: &str, en: &str, required: bool) -> Markup {
    let message = typed.message(name);
    html! {
        label for=(name) { (l.t(vi, en)) @if !required { " " span.hint { (l.t("(không bắt buộc)", "(optional)")) } } }
        input id=(name) type="text" name=(name) value=(typed.value(name)) required[required] class=[message.map(|_| "invalid")];
        @if let Some(m) = message { p.field-error id=(format!("{name}-error")) { (m) } }
    }
}

fn org_form(v: &Visitor, typed: &Typed) -> Markup {
    let l = v.lang;
    let chosen_kind = typed.value("kind");
    let chosen_province = typed.value("province");
    let body = html! {
        section.panel style="max-width:40rem;margin:1rem auto" {
            h1 { (l.t("Tạo hồ sơ tổ chức", "Create an organisation")) }
            p.hint { (l.t(
                "Bạn sẽ là quản trị viên của hồ sơ: mời thành viên và duyệt yêu cầu tham gia. Cán bộ môi giới của tỉnh sẽ xác minh tổ chức.",
                "You will manage the record: invite members and accept requests to join. The province's broker verifies the organisation.",
            )) }
            @if let Some(m) = typed.message("") { p.error role="alert" { (m) } }
            form method="post" action="/orgs/new" {
                (csrf_field(v))
                (text_field(l, typed, "name", "Tên tổ chức", "Name", true))
                label for="kind" { (l.t("Loại hình", "Kind")) }
                select id="kind" name="kind" class=[typed.message("kind").map(|_| "invalid")] {
                    @for k in OrgKind::ALL {
                        option value=(k.as_str()) selected[chosen_kind == k.as_str()] { (kind_label(l, k)) }
                    }
                }
                @if let Some(m) = typed.message("kind") { p.field-error id="kind-error" { (m) } }
                label for="province" { (l.t("Tỉnh, thành phố", "Province")) }
                select id="province" name="province" class=[typed.message("province").map(|_| "invalid")] {
                    option value="" { "—" }
                    @for p in Provinces::get().all() {
                        option value=(p.code.as_str()) selected[chosen_province == p.code.as_str()] { (p.short_name) }
                    }
                }
                @if let Some(m) = typed.message("province") { p.field-error id="province-error" { (m) } }
                (text_field(l, typed, "registration_no", "Mã số thuế hoặc mã số tổ chức", "Tax code or institute code", false))
                (text_field(l, typed, "website", "Trang web", "Website", false))
                @let description_error = typed.message("description");
                label for="description" { (l.t("Giới thiệu", "Description")) " " span.hint { (l.t("(không bắt buộc)", "(optional)")) } }
                textarea id="description" name="description" class=[description_error.map(|_| "invalid")] { (typed.value("description")) }
                @if let Some(m) = description_error { p.field-error id="description-error" { (m) } }
                p { button type="submit" { (l.t("Tạo", "Create")) } }
            }
        }
    };
    page(v, l.t("Tạo hồ sơ tổ chức", "Create an organisation"), body)
}

async fn new_form(v: Visitor) -> PageResult {
    v.caller
        .require_signed_in()
        .map_err(|e| Failure::from_app(e, &v))?;
    Ok(html_response(org_form(&v, &Typed::default())))
}

async fn create(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    v.check_csrf(form.get(CSRF_FIELD))?;
    v.caller
        .require_signed_in()
        .map_err(|e| Failure::from_app(e, &v))?;
    let input = OrgInput {
        name: form.get("name").unwrap_or_default().into(),
        kind: form.get("kind").unwrap_or_default().into(),
        province: form.get("province").unwrap_or_default().into(),
        registration_no: form.get("registration_no").unwrap_or_default().into(),
        website: form.get("website").unwrap_or_default().into(),
        description: form.get("description").unwrap_or_default().into(),
    };
    let caller = v.caller.clone();
    let outcome = state
        .run(move |ex| orgs::create(ex, caller.actor()?, &input, Utc::now()))
        .await;
    let l = v.lang;
    let again = |field: &str, message: String| {
        let typed = Typed {
            form: form.clone(),
            error: Some((field.to_string(), message)),
        };
        let mut response = html_response(org_form(&v, &typed));
        *response.status_mut() = StatusCode::BAD_REQUEST;
        response
    };
    match outcome {
        Ok((org, _)) => Ok(Redirect::to(&format!("/orgs/{}", encode(&org.id))).into_response()),
        Err(AppError::Invalid(e)) => Ok(again(&e.field, field_reason(l, &e.reason))),
        Err(AppError::Conflict(r)) => Ok(again("name", l.t(r.vi(), r.en()).to_string())),
        Err(e) => Err(Failure::from_app(e, &v)),
    }
}

fn reply_line(l: Lang, replies: &ReplyStats) -> String {
    match (replies.rate(), replies.median_reply_hours) {
        (None, _) => l
            .t("Chưa nhận được quan tâm nào.", "No interest received yet.")
            .to_string(),
        (Some(rate), median) => {
            let pct = (rate * 100.0).round();
            let median = median.map(|h| {
                if h < 48.0 {
                    format!("{h:.0} {}", l.t("giờ", "hours"))
                } else {
                    format!("{:.0} {}", h / 24.0, l.t("ngày", "days"))
                }
            });
            match (l, median) {
                (Lang::Vi, Some(m)) => format!(
                    "Đã trả lời {}/{} quan tâm ({pct}%), thời gian trả lời trung vị {m}.",
                    replies.replied, replies.received
                ),
                (Lang::Vi, None) => format!(
                    "Đã trả lời {}/{} quan tâm ({pct}%).",
                    replies.replied, replies.received
                ),
                (Lang::En, Some(m)) => format!(
                    "Answered {} of {} interests ({pct}%); median reply time {m}.",
                    replies.replied, replies.received
                ),
                (Lang::En, None) => format!(
                    "Answered {} of {} interests ({pct}%).",
                    replies.replied, replies.received
                ),
            }
        }
    }
}

fn listing_rows(l: Lang, listings: &[&Listing]) -> Markup {
    html! {
        ul {
            @for x in listings {
                li {
                    a href=(format!("/listings/{}", encode(&x.id))) { (x.title) }
                    " " span.badge { (l.kind(&crate::indexer::enum_name(&x.kind))) }
                }
            }
        }
    }
}

async fn show(State(state): State<AppState>, v: Visitor, Path(id): Path<String>) -> PageResult {
    let wanted = id.clone();
    let (profile, others) = state
        .run(move |ex| {
            let profile = orgs::profile(ex, &wanted)?;
            Ok((profile, ex.orgs.orgs()?))
        })
        .await
        .map_err(|e| Failure::from_app(e, &v))?;
    if profile.org.id != id {
        // A merged record: its profile is the one it went into.
        return Ok(Redirect::to(&format!("/orgs/{}", encode(&profile.org.id))).into_response());
    }
    Ok(html_response(page(
        &v,
        &profile.org.name,
        profile_page(&v, &profile, &others),
    )))
}

/// An organisation's profile: its facts, the actions the visitor may take, its listings.
fn profile_page(v: &Visitor, profile: &orgs::Profile, others: &[Organisation]) -> Markup {
    let l = v.lang;
    let org = &profile.org;
    let supply: Vec<&Listing> = profile
        .listings
        .iter()
        .filter(|x| x.kind != crate::domain::Kind::Need)
        .collect();
    let needs: Vec<&Listing> = profile
        .listings
        .iter()
        .filter(|x| x.kind == crate::domain::Kind::Need)
        .collect();
    let user = v.caller.user();
    let province_staff = v.caller.is_admin()
        || user.is_some_and(|u| {
            u.role == Role::Broker && u.province.is_some() && u.province == org.province
        });
    let may_join =
        user.is_some_and(|u| u.org.is_none() && !matches!(u.role, Role::Admin | Role::Broker));
    let asked = user.is_some_and(|u| org.requests.iter().any(|r| r.user_id == u.id));
    html! {
        section.panel {
            h1 { (org.name) @if org.verified.is_some() { " " (verified_badge(l)) } }
            dl.facts {
                dt { (l.t("Loại hình", "Kind")) } dd { (kind_label(l, org.kind)) }
                @if let Some(p) = province_name(org) { dt { (l.t("Tỉnh, thành phố", "Province")) } dd { (p) } }
                @if let Some(r) = &org.registration_no { dt { (l.t("Mã số thuế / mã số", "Registration number")) } dd { (r) } }
                @if let Some(w) = &org.website { dt { (l.t("Trang web", "Website")) } dd { a href=(w) rel="nofollow noopener" { (w) } } }
                dt { (l.t("Xác minh", "Verification")) }
                dd { @match &org.verified {
                    Some(ver) => { (l.t("Đã xác minh ngày", "Verified on")) " " (ver.at.format("%Y-%m-%d")) }
                    None => { (l.t("Chưa xác minh", "Not verified")) }
                } }
                dt { (l.t("Trả lời quan tâm", "Answers to interest")) } dd id="reply-rate" { (reply_line(l, &profile.replies)) }
            }
            @if let Some(d) = &org.description { p style="white-space:pre-wrap" { (d) } }
            @if province_staff {
                @if org.verified.is_some() {
                    form method="post" action=(format!("/orgs/{}/revoke", encode(&org.id))) {
                        (csrf_field(v))
                        button id="revoke" type="submit" { (l.t("Thu hồi xác minh", "Revoke verification")) }
                    }
                } @else {
                    form method="post" action=(format!("/orgs/{}/verify", encode(&org.id))) {
                        (csrf_field(v))
                        button id="verify" type="submit" { (l.t("Xác minh tổ chức", "Verify this organisation")) }
                    }
                }
            }
            @if may_join {
                @if asked {
                    p.notice { (l.t("Bạn đã xin tham gia; đang chờ quản trị viên của tổ chức.", "You asked to join; waiting for the organisation's administrator.")) }
                } @else {
                    form method="post" action=(format!("/orgs/{}/join", encode(&org.id))) {
                        (csrf_field(v))
                        button id="join" type="submit" { (l.t("Xin tham gia tổ chức", "Ask to join")) }
                    }
                }
            }
            @if v.caller.is_admin() {
                form method="post" action=(format!("/orgs/{}/merge", encode(&org.id))) {
                    (csrf_field(v))
                    label for="from" { (l.t("Gộp một hồ sơ trùng vào hồ sơ này", "Merge a duplicate record into this one")) }
                    select id="from" name="from" {
                        @for o in others.iter().filter(|o| o.id != org.id && o.merged_into.is_none()) {
                            option value=(o.id) { (o.name) }
                        }
                    }
                    p { button type="submit" { (l.t("Gộp", "Merge")) } }
                }
            }
        }
        section.panel {
            h2 { (l.t("Công nghệ", "Technologies")) " (" (supply.len()) ")" }
            @if supply.is_empty() { p.meta { (l.t("Chưa có.", "None yet.")) } } @else { (listing_rows(l, &supply)) }
            h2 { (l.t("Nhu cầu công nghệ", "Technology needs")) " (" (needs.len()) ")" }
            @if needs.is_empty() { p.meta { (l.t("Chưa có.", "None yet.")) } } @else { (listing_rows(l, &needs)) }
        }
    }
}

/// Runs one of the profile's buttons and goes back to the profile.
async fn act(
    state: &AppState,
    v: &Visitor,
    form: &FormData,
    id: &str,
    work: impl FnOnce(crate::app::Exchange<'_>, Actor<'_>) -> Result<(), AppError> + Send + 'static,
) -> PageResult {
    v.check_csrf(form.get(CSRF_FIELD))?;
    let caller = v.caller.clone();
    caller
        .require_signed_in()
        .map_err(|e| Failure::from_app(e, v))?;
    state
        .run(move |ex| {
            let actor = caller
                .actor()
                .map_err(|_| AppError::Forbidden(crate::app::Refusal::UsersOnly))?;
            work(ex, actor)
        })
        .await
        .map_err(|e| Failure::from_app(e, v))?;
    Ok(Redirect::to(&format!("/orgs/{}", encode(id))).into_response())
}

async fn verify(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let target = id.clone();
    act(&state, &v, &FormData(form), &id, move |ex, actor| {
        orgs::set_verified(ex, actor, &target, true, Utc::now()).map(drop)
    })
    .await
}

async fn revoke(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let target = id.clone();
    act(&state, &v, &FormData(form), &id, move |ex, actor| {
        orgs::set_verified(ex, actor, &target, false, Utc::now()).map(drop)
    })
    .await
}

async fn join(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let target = id.clone();
    act(
        &state,
        &v,
        &FormData(form),
        &id,
        move |ex, actor| match actor {
            Actor::User(u) => orgs::request_to_join(ex, u, &target, Utc::now()).map(drop),
            Actor::AdminToken => Err(AppError::Conflict(crate::app::Refusal::StaffJoinNone)),
        },
    )
    .await
}

async fn merge(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    let from = form.get("from").unwrap_or_default().to_string();
    let into = id.clone();
    let written = state.written.clone();
    let response = act(&state, &v, &form, &id, move |ex, actor| {
        orgs::merge(ex, actor, &from, &into, Utc::now()).map(drop)
    })
    .await?;
    written.notify_one();
    Ok(response)
}
