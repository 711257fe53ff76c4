//! `/needs/new` (enterprise members post a need), `/listings/new` (institute members list a
//! research output or patent) and `/listings/{id}/edit` (the owner organisation or an admin
//! changes one): forms that keep what was typed and show each error beside its field. They store through `api::listings::store`, so `domain::parse_listing` checks every
//! field and the rights model decides, exactly as for `POST /api/v1/listings`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::{Form, Router};
use maud::{html, Markup};
use serde_json::{Map, Value};

use super::layout::{csrf_field, encode, page};
use super::reasons::field_reason;
use super::session::CSRF_FIELD;
use super::{html_response, Failure, Lang, PageResult, Visitor};
use crate::app::listings::store;
use crate::app::{AppError, AppState};
use crate::domain::account::Role;
use crate::domain::field::fields;
use crate::domain::Provinces;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/needs/new", get(new_need).post(post_need))
        .route("/listings/new", get(new_supply).post(post_supply))
        .route("/listings/{id}/edit", get(edit).post(post_edit))
}

/// Where a form sends what it holds: a new listing, or an existing one to replace.
#[derive(Debug, Clone)]
enum Target {
    New,
    Edit(String),
}

/// A posted form's pairs, in order; a name may repeat (checkboxes).
#[derive(Debug, Default, Clone)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Which form: a need, or a technology (research output or patent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Need,
    Supply,
}

/// How a form field is entered.
enum Input {
    Text,
    Long,
    Email,
    Date,
    Province,
    Field,
    Trl,
    Modes,
    Kind,
    /// A yes/no checkbox (value `true` when ticked).
    Flag,
}

/// The fields of a form: name, input, Vietnamese and English labels.
fn layout(side: Side) -> Vec<(&'static str, Input, &'static str, &'static str)> {
    let mut out = Vec::new();
    if side == Side::Supply {
        out.push(("kind", Input::Kind, "Loại", "Kind"));
    }
    out.extend([
        ("title", Input::Text, "Tiêu đề", "Title"),
        ("description", Input::Long, "Mô tả", "Description"),
        (
            "keywords",
            Input::Text,
            "Từ khóa (cách nhau bởi dấu phẩy)",
            "Keywords (comma-separated)",
        ),
        ("field", Input::Field, "Lĩnh vực", "Field of science"),
        ("province", Input::Province, "Tỉnh, thành phố", "Province"),
    ]);
    match side {
        Side::Need => out.extend([
            ("industry", Input::Text, "Ngành", "Industry"),
            (
                "desired_outcome",
                Input::Long,
                "Kết quả mong muốn",
                "Desired outcome",
            ),
            ("trl_min", Input::Trl, "TRL tối thiểu", "Minimum TRL"),
            (
                "budget_min_vnd",
                Input::Text,
                "Ngân sách từ (đồng)",
                "Budget from (VND)",
            ),
            (
                "budget_max_vnd",
                Input::Text,
                "Ngân sách đến (đồng)",
                "Budget up to (VND)",
            ),
            ("deadline", Input::Date, "Hạn", "Deadline"),
            (
                "confidential",
                Input::Flag,
                "Bảo mật: chỉ công bố phần tóm tắt, lĩnh vực và tỉnh, không nêu tên doanh nghiệp",
                "Confidential: publish only the summary, field and province, not the enterprise's name",
            ),
            (
                "summary",
                Input::Long,
                "Tóm tắt công khai (bắt buộc khi bảo mật)",
                "Public summary (required when confidential)",
            ),
        ]),
        Side::Supply => out.extend([
            ("trl", Input::Trl, "Mức sẵn sàng (TRL)", "Readiness (TRL)"),
            (
                "price_vnd",
                Input::Text,
                "Giá chào (đồng, kết quả nghiên cứu)",
                "Asking price (VND, research outputs)",
            ),
            (
                "year",
                Input::Text,
                "Năm (kết quả nghiên cứu)",
                "Year (research outputs)",
            ),
            (
                "patent_number",
                Input::Text,
                "Số bằng (sáng chế)",
                "Patent number (patents)",
            ),
            (
                "ipc",
                Input::Text,
                "Phân loại IPC (sáng chế)",
                "IPC classes (patents)",
            ),
        ]),
    }
    out.extend([
        (
            "transfer_modes",
            Input::Modes,
            "Hình thức chuyển giao",
            "Transfer modes",
        ),
        ("contact_name", Input::Text, "Người liên hệ", "Contact name"),
        (
            "contact_email",
            Input::Email,
            "E-mail liên hệ",
            "Contact e-mail",
        ),
        (
            "contact_phone",
            Input::Text,
            "Điện thoại liên hệ",
            "Contact phone",
        ),
    ]);
    out
}

fn control(l: Lang, name: &str, input: &Input, form: &FormData, bad: bool) -> Markup {
    let value = form.get(name).unwrap_or_default();
    let class = bad.then_some("invalid");
    let described = bad.then(|| format!("{name}-error"));
    html! {
        @match input {
            Input::Text => input id=(name) name=(name) type="text" value=(value) class=[class] aria-describedby=[described];
            Input::Email => input id=(name) name=(name) type="email" value=(value) class=[class] aria-describedby=[described];
            Input::Date => input id=(name) name=(name) type="date" value=(value) class=[class] aria-describedby=[described];
            Input::Long => textarea id=(name) name=(name) class=[class] aria-describedby=[described] { (value) }
            Input::Trl => select id=(name) name=(name) class=[class] aria-describedby=[described] {
                option value="" { "—" }
                @for t in 1..=9u8 { @let t = t.to_string(); option value=(t) selected[value == t] { (t) } }
            }
            Input::Field => select id=(name) name=(name) class=[class] aria-describedby=[described] {
                option value="" { "—" }
                @for f in fields() {
                    option value=(f.code.as_str()) selected[value == f.code.as_str()] {
                        (f.code.as_str()) " " (l.t(&f.label_vi, &f.label_en))
                    }
                }
            }
            Input::Province => select id=(name) name=(name) class=[class] aria-describedby=[described] {
                option value="" { "—" }
                @for p in Provinces::get().all() {
                    option value=(p.code.as_str()) selected[value == p.code.as_str()] { (p.short_name) }
                }
            }
            Input::Kind => select id=(name) name=(name) class=[class] aria-describedby=[described] {
                @for k in ["research_output", "patent"] { option value=(k) selected[value == k] { (l.kind(k)) } }
            }
            Input::Flag => label { input id=(name) type="checkbox" name=(name) value="true" checked[value == "true"]; }
            Input::Modes => div.checks id=(name) {
                @let chosen = form.all(name);
                @for m in crate::domain::TransferMode::names() {
                    label { input type="checkbox" name=(name) value=(m) checked[chosen.contains(&m)]; " " (l.mode(m)) }
                }
            }
        }
    }
}

fn render(
    v: &Visitor,
    side: Side,
    target: &Target,
    form: &FormData,
    errors: &BTreeMap<String, Vec<String>>,
    general: Option<&str>,
) -> Markup {
    let l = v.lang;
    let (title, action) = match (side, target) {
        (_, Target::Edit(id)) => (
            l.t("Sửa tin", "Edit listing"),
            format!("/listings/{}/edit", encode(id)),
        ),
        (Side::Need, Target::New) => (
            l.t("Đăng nhu cầu công nghệ", "Post a technology need"),
            "/needs/new".to_string(),
        ),
        (Side::Supply, Target::New) => (
            l.t("Đăng công nghệ", "List a technology"),
            "/listings/new".to_string(),
        ),
    };
    let required = ["kind", "title", "description"];
    let body = html! {
        section.panel {
            h1 { (title) }
            @if let Some(g) = general { p.error id="form-error" { (g) } }
            @if !errors.is_empty() {
                p.error role="alert" { (l.t("Vui lòng sửa các mục được đánh dấu.", "Please correct the marked fields.")) }
            }
            form method="post" action=(action) novalidate {
                (csrf_field(v))
                @for (name, input, vi, en) in layout(side) {
                    @let bad = errors.get(name);
                    div.field data-field=(name) {
                        label for=(name) {
                            (l.t(vi, en))
                            @if required.contains(&name) { " *" }
                        }
                        (control(l, name, &input, form, bad.is_some()))
                        @if let Some(reasons) = bad {
                            @for r in reasons { p.field-error id=(format!("{name}-error")) { (field_reason(l, r)) } }
                        }
                    }
                }
                label for="status" { (l.t("Trạng thái", "Status")) }
                select id="status" name="status" {
                    option value="published" selected[form.get("status") != Some("draft")] { (l.t("Công bố ngay", "Publish now")) }
                    option value="draft" selected[form.get("status") == Some("draft")] { (l.t("Lưu nháp", "Save as draft")) }
                }
                p { button type="submit" { (l.t("Đăng", "Post")) } }
            }
        }
    };
    page(v, title, body)
}

/// Refuses visitors who may not use this form: anonymous ones go to sign in; other roles get 403.
fn admit(v: &Visitor, side: Side) -> Result<(), Failure> {
    v.caller
        .require_signed_in()
        .map_err(|e| Failure::from_app(e, v))?;
    let allowed = matches!(
        (side, v.caller.role()),
        (_, Some(Role::Admin))
            | (Side::Need, Some(Role::Enterprise))
            | (Side::Supply, Some(Role::Institute))
    );
    if allowed {
        Ok(())
    } else {
        Err(Failure::new(
            StatusCode::FORBIDDEN,
            match side {
                Side::Need => v.lang.t(
                    "Nhu cầu do thành viên doanh nghiệp đăng.",
                    "Needs are posted by enterprise members.",
                ),
                Side::Supply => v.lang.t(
                    "Công nghệ do thành viên viện, trường đăng.",
                    "Technologies are listed by institute members.",
                ),
            },
            v.lang,
        ))
    }
}

/// The JSON body the API would take for this form: every non-blank field.
fn body(side: Side, form: &FormData) -> Map<String, Value> {
    let mut body = Map::new();
    let kind = match side {
        Side::Need => "need",
        Side::Supply => form.get("kind").unwrap_or("research_output"),
    };
    body.insert("kind".into(), Value::String(kind.into()));
    for (name, input, _, _) in layout(side) {
        if matches!(input, Input::Modes) {
            let modes: Vec<Value> = form
                .all(name)
                .into_iter()
                .map(|m| Value::String(m.into()))
                .collect();
            if !modes.is_empty() {
                body.insert(name.into(), Value::Array(modes));
            }
        } else if let Some(v) = form.get(name).filter(|v| !v.trim().is_empty()) {
            if name != "kind" {
                body.insert(name.into(), Value::String(v.to_string()));
            }
        }
    }
    if let Some(s) = form.get("status") {
        body.insert("status".into(), Value::String(s.into()));
    }
    body
}

async fn show(v: Visitor, side: Side) -> PageResult {
    admit(&v, side)?;
    Ok(html_response(render(
        &v,
        side,
        &Target::New,
        &FormData::default(),
        &BTreeMap::new(),
        None,
    )))
}

/// The form's pairs for a stored listing, so that editing starts from what is there.
fn prefill(listing: &crate::domain::Listing) -> FormData {
    let mut pairs = Vec::new();
    if let Ok(Value::Object(map)) = serde_json::to_value(listing) {
        for (name, value) in map {
            match value {
                Value::String(s) => pairs.push((name, s)),
                Value::Number(n) => pairs.push((name, n.to_string())),
                Value::Bool(true) => pairs.push((name, "true".to_string())),
                Value::Array(items) => {
                    for item in items {
                        if let Value::String(s) = item {
                            pairs.push((name.clone(), s));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    FormData(pairs)
}

/// The stored listing `id` and its form side, if the visitor may change it.
async fn editable(
    state: &AppState,
    v: &Visitor,
    id: &str,
) -> Result<(crate::domain::Listing, Side), Failure> {
    v.caller
        .require_signed_in()
        .map_err(|e| Failure::from_app(e, v))?;
    let store = state.store.clone();
    let lookup = id.to_string();
    let listing = tokio::task::spawn_blocking(move || store.get(&lookup))
        .await
        .map_err(|e| Failure::from_app(AppError::from(e), v))?
        .map_err(|e| Failure::from_app(AppError::from(e), v))?
        .ok_or_else(|| Failure::from_app(AppError::NotFound(format!("listing {id:?}")), v))?;
    v.caller
        .may_write_listing(Some(&listing), None)
        .map_err(|e| Failure::from_app(e, v))?;
    let side = if listing.kind == crate::domain::Kind::Need {
        Side::Need
    } else {
        Side::Supply
    };
    Ok((listing, side))
}

async fn edit(
    State(state): State<AppState>,
    v: Visitor,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> PageResult {
    let (listing, side) = editable(&state, &v, &id).await?;
    Ok(html_response(render(
        &v,
        side,
        &Target::Edit(id),
        &prefill(&listing),
        &BTreeMap::new(),
        None,
    )))
}

async fn post_edit(
    State(state): State<AppState>,
    v: Visitor,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let (listing, side) = editable(&state, &v, &id).await?;
    submit(
        state,
        v,
        side,
        Target::Edit(id),
        FormData(form),
        Some(&listing),
    )
    .await
}

async fn submit(
    state: AppState,
    v: Visitor,
    side: Side,
    target: Target,
    form: FormData,
    existing: Option<&crate::domain::Listing>,
) -> PageResult {
    if matches!(target, Target::New) {
        admit(&v, side)?;
    }
    v.check_csrf(form.get(CSRF_FIELD))?;
    let mut fields = body(side, &form);
    if let (Target::Edit(id), Some(existing)) = (&target, existing) {
        fields = with_stored(side, existing, id, fields);
    }
    let must_be_new = matches!(target, Target::New);
    let errors: Vec<(String, String)> = match store(&state, &v.caller, fields, must_be_new).await {
        Ok((listing, _, _)) => {
            return Ok(Redirect::to(&format!("/listings/{}", encode(&listing.id))).into_response())
        }
        Err(AppError::InvalidListing(errors)) => {
            errors.into_iter().map(|e| (e.field, e.reason)).collect()
        }
        Err(AppError::Invalid(e)) => vec![(e.field, e.reason)],
        Err(AppError::Denied(message)) => {
            let message = v.lang.t("Bạn không có quyền lưu tin này.", &message);
            let page = render(&v, side, &target, &form, &BTreeMap::new(), Some(message));
            let mut response = html_response(page);
            *response.status_mut() = StatusCode::FORBIDDEN;
            return Ok(response);
        }
        Err(e) => return Err(Failure::from_app(e, &v)),
    };
    Ok(refused(&v, side, &target, &form, errors))
}

/// The form's fields over the stored listing's: the form shows some fields only, and the
/// others keep their stored values.
fn with_stored(
    side: Side,
    existing: &crate::domain::Listing,
    id: &str,
    fields: Map<String, Value>,
) -> Map<String, Value> {
    let mut merged = match serde_json::to_value(existing) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    for (name, _, _, _) in layout(side) {
        merged.remove(name);
    }
    for key in ["created_at", "updated_at"] {
        merged.remove(key);
    }
    merged.extend(fields);
    merged.insert("id".into(), Value::String(id.to_string()));
    merged
}

/// The form again with each error beside its field (400).
fn refused(
    v: &Visitor,
    side: Side,
    target: &Target,
    form: &FormData,
    errors: Vec<(String, String)>,
) -> axum::response::Response {
    let mut by_field: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (field, reason) in errors {
        by_field.entry(field).or_default().push(reason);
    }
    // An error on a field the form does not show (the domain's checks are wider) still shows.
    let shown: Vec<&str> = layout(side).iter().map(|f| f.0).collect();
    let general: Vec<String> = by_field
        .iter()
        .filter(|(f, _)| !shown.contains(&f.as_str()))
        .map(|(f, r)| format!("{f}: {}", r.join("; ")))
        .collect();
    let general = (!general.is_empty()).then(|| general.join(" · "));
    let mut response = html_response(render(v, side, target, form, &by_field, general.as_deref()));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
}

async fn new_need(v: Visitor) -> PageResult {
    show(v, Side::Need).await
}

async fn new_supply(v: Visitor) -> PageResult {
    show(v, Side::Supply).await
}

async fn post_need(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    submit(state, v, Side::Need, Target::New, FormData(form), None).await
}

async fn post_supply(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    submit(state, v, Side::Supply, Target::New, FormData(form), None).await
}
