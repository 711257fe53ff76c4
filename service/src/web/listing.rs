//! `/listings/{id}`: everything public about a listing (contact details only for those the
//! rights model lets see them), its best matches with their reasons, and the "I'm interested"
//! form for signed-in enterprise members (`POST /listings/{id}/interest`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::forms::FormData;
use super::layout::{csrf_field, encode, page};
use super::orgs::verified_badge;
use super::reasons::field_reason;
use super::session::CSRF_FIELD;
use super::{blocking, html_response, Failure, Lang, PageResult, Visitor};
use crate::app::leads::express_interest;
use crate::app::statistics::comparables_of;
use crate::app::statistics::{Comparables, MIN_DEALS};
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::account::Role;
use crate::domain::confidential::DisclosedVia;
use crate::domain::field::field_by_code;
use crate::domain::listing::format_vnd;
use crate::domain::org::Organisation;
use crate::domain::{Kind, Listing, Provinces, Status};
use crate::matching::{for_listing, run, MatchParams};

/// Matches shown under a listing.
const MATCHES: usize = 5;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/listings/{id}", get(show))
        .route("/listings/{id}/interest", post(interest))
}

/// `?sent=1` after interest was recorded.
#[derive(Debug, Default, Deserialize)]
struct Shown {
    sent: Option<String>,
}

fn enum_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

fn facts(l: Lang, x: &Listing, org: Option<&Organisation>) -> Markup {
    let province = x
        .province
        .as_ref()
        .and_then(|p| Provinces::get().by_code(p))
        .map(|p| p.name.clone());
    let field = x.field.as_ref().map(|f| match field_by_code(f) {
        Some(fos) => format!("{} {}", f.as_str(), l.t(&fos.label_vi, &fos.label_en)),
        None => f.as_str().to_string(),
    });
    let modes: Vec<String> = x
        .transfer_modes
        .iter()
        .map(|m| l.mode(&enum_name(m)))
        .collect();
    let row = |k: &str, v: Option<String>| {
        html! { @if let Some(v) = v { dt { (k) } dd { (v) } } }
    };
    html! {
        dl.facts {
            (row(l.t("Loại", "Kind"), Some(l.kind(&enum_name(&x.kind)))))
            @match (org, &x.owner) {
                (Some(o), _) => {
                    dt { (l.t("Đơn vị", "Organisation")) }
                    dd { a href=(format!("/orgs/{}", encode(&o.id))) id="owner" { (o.name) } @if o.verified.is_some() { " " (verified_badge(l)) } }
                }
                (None, owner) => { (row(l.t("Đơn vị", "Organisation"), owner.clone())) }
            }
            (row(l.t("Tỉnh, thành phố", "Province"), province))
            (row(l.t("Lĩnh vực", "Field of science"), field))
            (row("TRL", x.trl.map(|t| t.get().to_string())))
            (row(l.t("TRL tối thiểu", "Minimum TRL"), x.trl_min.map(|t| t.get().to_string())))
            (row(l.t("Hình thức chuyển giao", "Transfer modes"), (!modes.is_empty()).then(|| modes.join(", "))))
            (row(l.t("Giá chào", "Asking price"), x.price_vnd.map(format_vnd)))
            (row(l.t("Năm", "Year"), x.year.map(|y| y.to_string())))
            (row(l.t("Số bằng", "Patent number"), x.patent_number.clone()))
            (row("IPC", (!x.ipc.is_empty()).then(|| x.ipc.join("; "))))
            (row(l.t("Chủ sở hữu", "Holder"), x.holder.clone()))
            (row(l.t("Ngày hết hạn", "Expires"), x.expiry_date.map(|d| d.to_string())))
            (row(l.t("Ngành", "Industry"), x.industry.clone()))
            (row(l.t("Kết quả mong muốn", "Desired outcome"), x.desired_outcome.clone()))
            (row(l.t("Ngân sách", "Budget"), match (x.budget_min_vnd, x.budget_max_vnd) {
                (None, None) => None,
                (a, b) => Some(format!("{} – {}", a.map(format_vnd).unwrap_or_default(), b.map(format_vnd).unwrap_or_default())),
            }))
            (row(l.t("Hạn", "Deadline"), x.deadline.map(|d| d.to_string())))
            (row(l.t("Từ khóa", "Keywords"), (!x.keywords.is_empty()).then(|| x.keywords.join(", "))))
        }
    }
}

fn contact(l: Lang, x: &Listing) -> Markup {
    let any = x.contact_name.is_some() || x.contact_email.is_some() || x.contact_phone.is_some();
    html! {
        @if any {
            section.panel id="contact" {
                h2 { (l.t("Liên hệ", "Contact")) }
                dl.facts {
                    @if let Some(n) = &x.contact_name { dt { (l.t("Người liên hệ", "Name")) } dd { (n) } }
                    @if let Some(e) = &x.contact_email { dt { "E-mail" } dd { a href=(format!("mailto:{e}")) { (e) } } }
                    @if let Some(p) = &x.contact_phone { dt { (l.t("Điện thoại", "Phone")) } dd { (p) } }
                }
            }
        }
    }
}

/// A confidential need's disclosures, for those who read it in full and may see them (its
/// organisation, brokers, administrators).
fn disclosures(l: Lang, x: &Listing) -> Markup {
    html! {
        @if x.confidential {
            section.panel id="disclosures" {
                h2 { (l.t("Đã mở toàn văn cho", "Disclosed in full to")) }
                @if x.disclosures.is_empty() { p.meta { (l.t("Chưa có tổ chức nào.", "No organisation yet.")) } }
                ul {
                    @for d in &x.disclosures {
                        li {
                            (d.org) " · " (d.at.format("%Y-%m-%d %H:%M")) " · " (d.by) " · "
                            (match d.via {
                                DisclosedVia::Owner => l.t("doanh nghiệp chấp nhận", "accepted by the enterprise"),
                                DisclosedVia::Broker => l.t("môi giới giới thiệu", "introduced by a broker"),
                                DisclosedVia::Deal => l.t("đề xuất giao dịch", "deal proposed"),
                            })
                        }
                    }
                }
            }
        }
    }
}

/// A broker's button that proposes a deal between a need and a fitting technology.
fn propose_button(v: &Visitor, need: &str, technology: &str) -> Markup {
    html! {
        form.propose method="post" action="/desk/deals" style="display:inline" {
            (csrf_field(v))
            input type="hidden" name="need_id" value=(need);
            input type="hidden" name="listing_id" value=(technology);
            button type="submit" { (v.lang.t("Đề xuất giao dịch", "Propose a deal")) }
        }
    }
}

fn matches(v: &Visitor, x: &Listing, found: &[Value]) -> Markup {
    let l = v.lang;
    let broker = v.caller.desk().is_ok();
    let heading = if x.kind == Kind::Need {
        l.t("Công nghệ phù hợp nhất", "Best-fitting technologies")
    } else {
        l.t("Nhu cầu phù hợp nhất", "Best-fitting needs")
    };
    html! {
        section.panel id="matches" {
            h2 { (heading) }
            @if found.is_empty() { p.meta { (l.t("Chưa có kết quả phù hợp.", "No match yet.")) } }
            ol {
                @for m in found {
                    @let id = m["id"].as_str().unwrap_or_default();
                    li {
                        a href=(format!("/listings/{}", encode(id))) { (m["title"].as_str().unwrap_or(id)) }
                        " " span.meta { "(" (format!("{:.0}", m["score"].as_f64().unwrap_or(0.0) * 100.0)) "%)" }
                        @if broker {
                            " " @if x.kind == Kind::Need { (propose_button(v, &x.id, id)) } @else { (propose_button(v, id, &x.id)) }
                        }
                        br;
                        span.meta.reason { (m["reason"][l.code()].as_str().unwrap_or_default()) }
                    }
                }
            }
        }
    }
}

fn interest_form(v: &Visitor, x: &Listing, typed: &str, error: Option<&str>) -> Markup {
    let l = v.lang;
    html! {
        section.panel id="interest" {
            h2 { (l.t("Tôi quan tâm", "I'm interested")) }
            form method="post" action=(format!("/listings/{}/interest", encode(&x.id))) {
                (csrf_field(v))
                label for="message" { (l.t("Lời nhắn cho đơn vị sở hữu và môi giới", "Message to the owner and the brokers")) }
                textarea id="message" name="message" class=[error.map(|_| "invalid")] required { (typed) }
                @if let Some(e) = error { p.field-error id="message-error" { (e) } }
                p { button type="submit" { (l.t("Gửi quan tâm", "Send interest")) } }
            }
        }
    }
}

/// A listing as the visitor may see it, its matches, its organisation's record, and (for those
/// who value it) what deals on similar technologies were worth.
type Loaded = (
    Listing,
    Vec<Value>,
    Option<Organisation>,
    Option<Comparables>,
);

/// Loads the listing as the visitor may see it, its matches and its organisation.
async fn load(state: &AppState, visitor: &Visitor, id: &str) -> Result<Loaded, Failure> {
    let (store, lookup) = (state.store.clone(), id.to_string());
    let listing = blocking(move || Ok(store.get(&lookup)?))
        .await
        .map_err(|e| Failure::from_app(e, visitor))?;
    let Some(view) = listing.and_then(|x| visitor.caller.listing_view(&x)) else {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            visitor
                .lang
                .t("Không có tin này.", "There is no such listing."),
            visitor.lang,
        ));
    };
    // Drafts are not matched (as on the API): they are not yet on the market.
    let found = if view.status == Status::Draft {
        Vec::new()
    } else {
        let (geography, _) = MatchParams::default()
            .check()
            .map_err(|e| Failure::from_app(AppError::Invalid(e), visitor))?;
        let mut request = for_listing(&view, geography, MATCHES);
        let index = state.index.clone();
        let semantic = state.semantic.clone();
        // A listing without a vector yet is matched by its text, waited for only until the
        // deadline.
        let vector = match &semantic {
            // A redacted need is matched by its summary, not by the vector of its full text.
            Some(s) => {
                let own = (!view.confidential || view.owner.is_some()).then_some(view.id.as_str());
                s.match_vector_within(&request, own).await
            }
            None => None,
        };
        blocking(move || {
            if let (Some(semantic), Some(vector)) = (semantic, vector) {
                semantic.add_match_neighbours(&mut request, &vector);
            }
            Ok(run(&index, &request)?)
        })
        .await
        .map_err(|e| Failure::from_app(e, visitor))?
        .matches
    };
    let org = match view.owner.clone() {
        Some(owner) => state
            .run(move |ex| Ok(ex.orgs.org_by_name(&owner)?))
            .await
            .map_err(|e| Failure::from_app(e, visitor))?,
        None => None,
    };
    let comparables = if view.kind != Kind::Need && visitor.caller.may_value(&view) {
        let id = view.id.clone();
        Some(
            comparables_of(state, &visitor.caller, id)
                .await
                .map_err(|e| Failure::from_app(e, visitor))?,
        )
    } else {
        None
    };
    Ok((view, found, org, comparables))
}

/// What agreed deals on similar technologies were worth (withheld below three deals).
fn valuation(l: Lang, c: &Comparables) -> Markup {
    html! {
        section.panel id="comparables" {
            h2 { (l.t("Giá trị tham chiếu", "Comparable deals")) }
            @if c.suppressed {
                p.meta { (match l {
                    Lang::Vi => format!("{} giao dịch đã ký về công nghệ tương tự: chưa đủ {MIN_DEALS} để công bố giá trị.", c.count),
                    Lang::En => format!("{} agreed deals on similar technologies: fewer than {MIN_DEALS}, so no values are shown.", c.count),
                }) }
            } @else {
                dl.facts {
                    dt { (l.t("Số giao dịch", "Deals")) } dd { (c.count) }
                    dt { (l.t("Trung vị", "Median")) } dd { (c.median_vnd.map(format_vnd).unwrap_or_default()) }
                    dt { (l.t("Khoảng", "Range")) } dd { (c.min_vnd.map(format_vnd).unwrap_or_default()) " – " (c.max_vnd.map(format_vnd).unwrap_or_default()) }
                }
                p.hint { (l.t(
                    "Giao dịch đã ký về công nghệ cùng phân ngành khoa học hoặc cùng phân lớp IPC.",
                    "Agreed deals on technologies of the same sub-field of science or IPC subclass.",
                )) }
            }
        }
    }
}

fn render(
    v: &Visitor,
    (x, found, org, comparables): &Loaded,
    form: Markup,
    sent: bool,
    duplicates: Markup,
) -> Markup {
    let org = org.as_ref();
    let l = v.lang;
    let body = html! {
        article.panel {
            p.meta { span.badge { (l.kind(&enum_name(&x.kind))) } @if x.status != Status::Published { span.badge { (status_label(l, x.status)) } } @if x.confidential { " " span.badge id="confidential" { (l.t("Nhu cầu bảo mật", "Confidential need")) } } }
            h1 { (x.title) }
            @if v.caller.role().is_some() && v.caller.may_write_listing(Some(x), None).is_ok() {
                p { a href=(format!("/listings/{}/edit", encode(&x.id))) id="edit" { (l.t("Sửa tin", "Edit")) } }
            }
            @if sent { p.notice id="sent" { (l.t("Đã gửi quan tâm của bạn.", "Your interest was sent.")) } }
            p { (x.description) }
            (facts(l, x, org))
            (super::source::source(l, x))
            (super::freshness::confirmed_line(l, x))
            @if v.caller.role().is_some() && x.status == Status::Published && v.caller.may_write_listing(Some(x), None).is_ok() {
                (super::freshness::confirm_button(v, x))
            }
        }
        @if v.caller.desk().is_ok() || (v.caller.role().is_some() && v.caller.may_write_listing(Some(x), None).is_ok()) { (disclosures(l, x)) @if x.confidential { section.panel { (super::disclose::form(v, &x.id)) } } }
        (contact(l, x))
        @if let Some(c) = comparables { (valuation(l, c)) }
        (form)
        (duplicates)
        (matches(v, x, found))
    };
    page(v, &x.title, body)
}

/// Whether the visitor may mark interest in this listing.
fn may_mark_interest(v: &Visitor, x: &Listing) -> bool {
    v.caller.role() == Some(Role::Enterprise) && x.kind != Kind::Need
}

async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(shown): Query<Shown>,
) -> PageResult {
    let loaded = load(&state, &visitor, &id).await?;
    let form = if may_mark_interest(&visitor, &loaded.0) {
        interest_form(&visitor, &loaded.0, "", None)
    } else {
        html! {}
    };
    let sent = shown.sent.is_some();
    let duplicates = super::duplicates::panel(&state, &visitor, &loaded.0).await;
    Ok(html_response(render(
        &visitor, &loaded, form, sent, duplicates,
    )))
}

async fn interest(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    visitor.check_csrf(form.get(CSRF_FIELD))?;
    let message = form.get("message").unwrap_or_default().to_string();
    match express_interest(&state, &visitor.caller, id.clone(), Some(message.clone())).await {
        Ok(_) => Ok(Redirect::to(&format!("/listings/{}?sent=1", encode(&id))).into_response()),
        Err(AppError::Invalid(e)) if e.field == "message" => {
            let loaded = load(&state, &visitor, &id).await?;
            let reason = field_reason(visitor.lang, &e.reason);
            let form = interest_form(&visitor, &loaded.0, &message, Some(&reason));
            let duplicates = super::duplicates::panel(&state, &visitor, &loaded.0).await;
            let mut response = html_response(render(&visitor, &loaded, form, false, duplicates));
            *response.status_mut() = StatusCode::BAD_REQUEST;
            Ok(response)
        }
        Err(e) => Err(Failure::from_app(e, &visitor)),
    }
}

/// A listing's status in the page's language.
fn status_label(l: Lang, status: Status) -> &'static str {
    match status {
        Status::Draft => l.t("Bản nháp", "Draft"),
        Status::Published => l.t("Đã công bố", "Published"),
        Status::Archived => l.t("Lưu trữ", "Archived"),
    }
}
