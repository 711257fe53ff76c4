//! `/desk`, the broker's desk: the province report as charts, the deals board by stage with a
//! form to move each open deal (`POST /desk/deals/{id}/stage`, through `app::deals::move_deal`),
//! and the leads. Administrators see the national desk.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};

use super::forms::FormData;
use super::layout::{csrf_field, encode, page};
use super::reasons::field_reason;
use super::session::CSRF_FIELD;
use super::{blocking, charts, html_response, Failure, Lang, PageResult, Visitor};
use crate::app::deals::{move_deal, propose_deal, Proposal, StageMove};
use crate::app::AppError;
use crate::app::AppState;
use crate::app::Desk;
use crate::domain::deal::{Deal, DealEvent, EventKind, Lead, Stage};
use crate::domain::listing::format_vnd;
use crate::domain::{Kind, Provinces, Status};
use crate::report::Report;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/desk", get(show))
        .route("/desk/report.csv", get(report_csv))
        .route("/desk/report.xlsx", get(report_xlsx))
        .route("/desk/deals/{id}/stage", post(move_stage))
        .route("/desk/deals", post(propose))
}

/// What the desk shows.
struct Board {
    report: Report,
    deals: Vec<Deal>,
    /// Leads not yet made into a deal.
    leads: Vec<Lead>,
    /// Listing titles by id, for the cards.
    titles: HashMap<String, String>,
    /// Each deal's history, oldest first.
    histories: HashMap<String, Vec<DealEvent>>,
    /// The published needs of each lead's enterprise (id, title), to propose a deal from.
    needs_of: HashMap<String, Vec<(String, String)>>,
    /// The province's stale listings, oldest confirmation first.
    stale: Vec<crate::domain::Listing>,
}

/// A failed move, shown on its deal's card: the form as typed and the error by field.
struct Refused {
    deal: String,
    form: FormData,
    field: String,
    reason: String,
}

async fn load(state: &AppState, v: &Visitor) -> Result<(Desk, Board), Failure> {
    let desk = v.caller.desk().map_err(|e| Failure::from_app(e, v))?;
    let province = match &desk {
        Desk::All => None,
        Desk::Province(p) => Some(p.clone()),
    };
    let report = report_of(state, province.clone(), v).await?;
    let (store, deal_store, caller, covering) = (
        state.store.clone(),
        state.deals.clone(),
        v.caller.clone(),
        desk.clone(),
    );
    let (deals, leads, titles, histories, needs_of, stale) = blocking(move || {
        let all_deals = deal_store.deals()?;
        // A lead that became a deal has left the list: the deal carries it on.
        let dealt: std::collections::HashSet<&str> = all_deals
            .iter()
            .filter_map(|d| d.lead_id.as_deref())
            .collect();
        let leads: Vec<Lead> = deal_store
            .leads()?
            .into_iter()
            .filter(|l| caller.may_see_lead(l) && !dealt.contains(l.id.as_str()))
            .collect();
        // Overdue, unanswered interest first: the desk chases it.
        let now = chrono::Utc::now();
        let mut leads = leads;
        leads.sort_by_key(|l| !crate::app::replies::overdue(l, now));
        let deals: Vec<Deal> = all_deals
            .into_iter()
            .filter(|d| covering.covers(d))
            .collect();
        let mut histories = HashMap::new();
        for d in &deals {
            histories.insert(d.id.clone(), deal_store.history(&d.id)?);
        }
        let mut needs_of: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for lead in &leads {
            if !needs_of.contains_key(&lead.from_org) {
                let needs = store
                    .owned_by(&lead.from_org)?
                    .into_iter()
                    .filter(|x| x.kind == Kind::Need && x.status == Status::Published)
                    .map(|x| (x.id, x.title))
                    .collect();
                needs_of.insert(lead.from_org.clone(), needs);
            }
        }
        let mut titles = HashMap::new();
        for d in &deals {
            for id in [&d.need_id, &d.listing_id] {
                if !titles.contains_key(id) {
                    if let Some(x) = store.get(id)? {
                        titles.insert(id.clone(), x.title);
                    }
                }
            }
        }
        let stale = crate::app::freshness::stale_in(store.as_ref(), province.as_ref())?;
        Ok((deals, leads, titles, histories, needs_of, stale))
    })
    .await
    .map_err(|e| Failure::from_app(e, v))?;
    Ok((
        desk,
        Board {
            report,
            deals,
            leads,
            titles,
            histories,
            needs_of,
            stale,
        },
    ))
}

/// The desk's report, computed off the async threads.
async fn report_of(
    state: &AppState,
    province: Option<crate::domain::ProvinceCode>,
    v: &Visitor,
) -> Result<Report, Failure> {
    let (store, deals) = (state.store.clone(), state.deals.clone());
    blocking(move || {
        crate::app::reports::compute(store.as_ref(), deals.as_ref(), province.as_ref())
    })
    .await
    .map_err(|e| Failure::from_app(e, v))
}

/// `/desk/report.csv`: the desk's report as a spreadsheet-ready CSV file.
async fn report_csv(State(state): State<AppState>, v: Visitor) -> PageResult {
    let desk = v.caller.desk().map_err(|e| Failure::from_app(e, &v))?;
    let (province, name) = match &desk {
        Desk::All => (None, "techmatch-national.csv".to_string()),
        Desk::Province(p) => (Some(p.clone()), format!("techmatch-province-{p}.csv")),
    };
    let report = report_of(&state, province, &v).await?;
    let csv =
        crate::app::reports::csv_for_spreadsheets(&report).map_err(|e| Failure::from_app(e, &v))?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        csv,
    )
        .into_response())
}

/// `/desk/report.xlsx`: the desk's report as a workbook.
async fn report_xlsx(State(state): State<AppState>, v: Visitor) -> PageResult {
    let desk = v.caller.desk().map_err(|e| Failure::from_app(e, &v))?;
    let (province, name) = match &desk {
        Desk::All => (None, "techmatch-national.xlsx".to_string()),
        Desk::Province(p) => (Some(p.clone()), format!("techmatch-province-{p}.xlsx")),
    };
    let report = report_of(&state, province, &v).await?;
    let book = crate::app::reports::xlsx(&report).map_err(|e| Failure::from_app(e, &v))?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        book,
    )
        .into_response())
}

fn listing_link(board: &Board, id: &str) -> Markup {
    html! { a href=(format!("/listings/{}", encode(id))) { (board.titles.get(id).map_or(id, String::as_str)) } }
}

fn move_form(v: &Visitor, deal: &Deal, refused: Option<&Refused>) -> Markup {
    let l = v.lang;
    let refused = refused.filter(|r| r.deal == deal.id);
    let typed = |name: &str| {
        refused
            .and_then(|r| r.form.get(name))
            .unwrap_or_default()
            .to_string()
    };
    let error = |name: &str| {
        refused
            .filter(|r| r.field == name)
            .map(|r| field_reason(l, &r.reason))
    };
    let id = |name: &str| format!("{name}-{}", deal.id);
    html! {
        form method="post" action=(format!("/desk/deals/{}/stage", encode(&deal.id))) data-deal=(deal.id) {
            (csrf_field(v))
            label for=(id("stage")) { (l.t("Chuyển sang", "Move to")) }
            select id=(id("stage")) name="stage" class=[error("stage").map(|_| "invalid")] {
                @for s in deal.stage.next() {
                    option value=(s.name()) selected[typed("stage") == s.name()] { (l.stage(s)) }
                }
            }
            @if let Some(e) = error("stage") { p.field-error { (e) } }
            label for=(id("note")) { (l.t("Ghi chú", "Note")) }
            input id=(id("note")) name="note" type="text" value=(typed("note"));
            @if let Some(e) = error("note") { p.field-error { (e) } }
            @if deal.stage == Stage::Negotiating {
                label for=(id("value")) { (l.t("Giá trị hợp đồng (đồng, khi ký)", "Contract value (VND, if agreed)")) }
                input id=(id("value")) name="contract_value_vnd" type="text" inputmode="numeric" value=(typed("contract_value_vnd"))
                    class=[error("contract_value_vnd").map(|_| "invalid")];
                @if let Some(e) = error("contract_value_vnd") { p.field-error { (e) } }
                label for=(id("signed")) { (l.t("Ngày ký", "Signed on")) }
                input id=(id("signed")) name="signed_on" type="date" value=(typed("signed_on"))
                    class=[error("signed_on").map(|_| "invalid")];
                @if let Some(e) = error("signed_on") { p.field-error { (e) } }
            }
            label for=(id("reason")) { (l.t("Lý do (khi không thành)", "Reason (if lost)")) }
            input id=(id("reason")) name="reason" type="text" value=(typed("reason"))
                class=[error("reason").map(|_| "invalid")];
            @if let Some(e) = error("reason") { p.field-error { (e) } }
            p { button type="submit" { (l.t("Cập nhật", "Update")) } }
        }
    }
}

/// A deal's history: who did what, when, with the notes.
fn history(l: Lang, events: &[DealEvent]) -> Markup {
    html! {
        @if !events.is_empty() {
            details.history {
                summary { (l.t("Lịch sử", "History")) " (" (events.len()) ")" }
                ol {
                    @for e in events {
                        li {
                            (e.at.format("%Y-%m-%d %H:%M")) " · " (e.by) " · "
                            @match &e.what {
                                EventKind::Proposed { .. } => { (l.t("đề xuất", "proposed")) }
                                EventKind::Stage { from, to, .. } => { (l.stage(*from)) " → " (l.stage(*to)) }
                            }
                            @if let Some(n) = &e.note { br; span.meta { (n) } }
                        }
                    }
                }
            }
        }
    }
}

/// The form that makes a lead a deal: the enterprise's need (one of its published needs, or an
/// id typed) and a note.
fn propose_form(
    v: &Visitor,
    lead: &Lead,
    needs: &[(String, String)],
    refused: Option<&Refused>,
) -> Markup {
    let l = v.lang;
    let refused = refused.filter(|r| r.deal == format!("lead:{}", lead.id));
    let id = |name: &str| format!("{name}-{}", lead.id);
    html! {
        form method="post" action="/desk/deals" data-lead=(lead.id) {
            (csrf_field(v))
            input type="hidden" name="lead_id" value=(lead.id);
            label for=(id("need")) { (l.t("Nhu cầu", "Need")) }
            @if needs.is_empty() {
                input id=(id("need")) name="need_id" type="text" placeholder=(l.t("mã nhu cầu", "need id"));
            } @else {
                select id=(id("need")) name="need_id" {
                    @for (nid, title) in needs { option value=(nid) { (title) } }
                }
            }
            label for=(id("note")) { (l.t("Ghi chú", "Note")) }
            input id=(id("note")) name="note" type="text";
            @if let Some(r) = refused { p.field-error { (field_reason(l, &r.reason)) } }
            button type="submit" { (l.t("Đề xuất", "Propose")) }
        }
    }
}

fn province_name(code: Option<&crate::domain::ProvinceCode>) -> String {
    code.and_then(|c| Provinces::get().by_code(c))
        .map_or_else(|| "–".to_string(), |p| p.short_name.clone())
}

fn render(v: &Visitor, desk: &Desk, board: &Board, refused: Option<&Refused>) -> Markup {
    let l = v.lang;
    let scope = match desk {
        Desk::All => l.t("Toàn quốc", "National").to_string(),
        Desk::Province(p) => province_name(Some(p)),
    };
    let title = format!("{} · {scope}", l.t("Bàn môi giới", "Broker desk"));
    let body = html! {
        h1 { (title) }
        @if let Some(r) = refused {
            @if r.deal.starts_with("lead:") || r.deal.is_empty() {
                p.error role="alert" { (l.t("Không đề xuất được giao dịch", "The deal was not proposed")) ": " (field_reason(l, &r.reason)) }
            } @else {
                p.error role="alert" { (l.t("Không cập nhật được giao dịch", "The deal was not updated")) " " (r.deal) ": " (field_reason(l, &r.reason)) }
            }
        }
        section.panel id="report" {
            h2 { (l.t("Báo cáo thị trường", "Market report")) }
            p {
                a.button href="/desk/report.csv" download { (l.t("Tải báo cáo (CSV)", "Download the report (CSV)")) } " "
                a.button href="/desk/report.xlsx" download { (l.t("Tải báo cáo (Excel)", "Download the report (Excel)")) }
            }
            p.meta {
                (board.report.deals.total) " " (l.t("giao dịch", "deals")) " · "
                (l.t("giá trị đã ký", "signed value")) " " (format_vnd(board.report.deals.signed_value_vnd)) " · "
                (board.report.stale_needs.len()) " " (l.t("nhu cầu quá 30 ngày chưa có giao dịch", "needs without a deal after 30 days"))
            }
            div.charts {
                (charts::supply_demand(l, &board.report.supply_demand))
                (charts::funnel(l, &board.report.deals))
                (charts::flows(l, &board.report.flows))
            }
        }
        section id="deals" {
            h2 { (l.t("Giao dịch theo giai đoạn", "Deals by stage")) }
            div.board {
                @for stage in Stage::ALL {
                    div.column data-stage=(stage.name()) {
                        h3 { (l.stage(stage)) " (" (board.deals.iter().filter(|d| d.stage == stage).count()) ")" }
                        @for d in board.deals.iter().filter(|d| d.stage == stage) {
                            div.card id=(format!("deal-{}", d.id)) {
                                span.meta { (d.id) } br;
                                (l.t("Nhu cầu", "Need")) ": " (listing_link(board, &d.need_id)) " (" (province_name(d.need_province.as_ref())) ")" br;
                                (l.t("Công nghệ", "Technology")) ": " (listing_link(board, &d.listing_id)) " (" (province_name(d.listing_province.as_ref())) ")"
                                @if let Some(value) = d.contract_value_vnd { br; (format_vnd(value)) }
                                @if let Some(reason) = &d.lost_reason { br; span.meta { (reason) } }
                                (history(l, board.histories.get(&d.id).map_or(&[][..], Vec::as_slice)))
                                @if !d.stage.is_closed() { (move_form(v, d, refused)) }
                            }
                        }
                    }
                }
            }
        }
        section.panel id="leads" {
            h2 { (l.t("Quan tâm từ doanh nghiệp", "Leads")) }
            @if board.leads.is_empty() { p.meta { (l.t("Chưa có.", "None yet.")) } }
            @else {
                div.table-wrap { table {
                    thead { tr { th { (l.t("Công nghệ", "Technology")) } th { (l.t("Doanh nghiệp", "Enterprise")) } th { (l.t("Lời nhắn", "Message")) } th { (l.t("Ngày", "Date")) } th { (l.t("Hạn trả lời", "Reply by")) } th { (l.t("Đề xuất giao dịch", "Propose a deal")) } } }
                    tbody {
                        @for lead in &board.leads {
                            tr {
                                td { a href=(format!("/listings/{}", encode(&lead.listing_id))) { (lead.listing_title) } }
                                td { (lead.from_org) br; span.meta { (lead.from_email) " · " (province_name(lead.from_province.as_ref())) } }
                                td {
                                    (lead.message)
                                    @if let Some(r) = &lead.reply { br; span.meta { (l.t("Trả lời: ", "Answer: ")) (r.message) } }
                                }
                                td { (lead.created_at.format("%Y-%m-%d")) }
                                td {
                                    (crate::app::replies::due(lead).format("%Y-%m-%d"))
                                    @if crate::app::replies::overdue(lead, chrono::Utc::now()) { " " span.badge.overdue data-overdue=(lead.id) { (l.t("Quá hạn", "Overdue")) } }
                                }
                                td { (propose_form(v, lead, board.needs_of.get(&lead.from_org).map_or(&[][..], Vec::as_slice), refused)) }
                            }
                        }
                    }
                } }
            }
        }
        (super::freshness::stale_panel(l, &board.stale))
    };
    page(v, &title, body)
}

async fn show(State(state): State<AppState>, v: Visitor) -> PageResult {
    let (desk, board) = load(&state, &v).await?;
    Ok(html_response(render(&v, &desk, &board, None)))
}

/// An amount as typed (`350.000.000`, `350 000 000 đ`) as a whole number; `None` when blank.
fn amount(l: Lang, typed: Option<&str>) -> Result<Option<u64>, String> {
    let Some(text) = typed.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let digits: String = text
        .trim_end_matches(['đ', 'd', 'Đ'])
        .chars()
        .filter(|c| !matches!(c, '.' | ',' | ' '))
        .collect();
    digits.parse().map(Some).map_err(|_| {
        l.t(
            "phải là số đồng nguyên, ví dụ 350.000.000",
            "must be a whole number of đồng, e.g. 350.000.000",
        )
        .to_string()
    })
}

async fn move_stage(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    v.check_csrf(form.get(CSRF_FIELD))?;
    let text = |name: &str| form.get(name).map(str::to_string);
    let result = match amount(v.lang, form.get("contract_value_vnd")) {
        Ok(contract_value_vnd) => {
            let asked = StageMove {
                stage: text("stage"),
                note: text("note"),
                contract_value_vnd,
                signed_on: text("signed_on"),
                reason: text("reason"),
            };
            move_deal(&state, &v.caller, &id, asked).await
        }
        Err(reason) => Err(AppError::Invalid(crate::domain::FieldError {
            field: "contract_value_vnd".into(),
            reason,
        })),
    };
    let (field, reason) = match result {
        Ok(_) => return Ok(Redirect::to(&format!("/desk#deal-{}", encode(&id))).into_response()),
        Err(e) => beside_field(v.lang, e, "stage").map_err(|e| Failure::from_app(e, &v))?,
    };
    let (desk, board) = load(&state, &v).await?;
    let refused = Refused {
        deal: id,
        form,
        field,
        reason,
    };
    let mut response = html_response(render(&v, &desk, &board, Some(&refused)));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    Ok(response)
}

/// `POST /desk/deals`: a deal from a lead (or a match: `need_id` and `listing_id`), then back to
/// the desk at the new deal's card.
async fn propose(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData(form);
    v.check_csrf(form.get(CSRF_FIELD))?;
    let owned = |name: &str| {
        form.get(name)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let proposal = Proposal {
        need_id: owned("need_id").unwrap_or_default(),
        listing_id: owned("listing_id"),
        lead_id: owned("lead_id"),
        note: owned("note"),
    };
    let lead = proposal.lead_id.clone();
    let from_listing = proposal.listing_id.clone().filter(|_| lead.is_none());
    let (field, reason) = match propose_deal(&state, &v.caller, proposal).await {
        Ok(deal) => {
            return Ok(Redirect::to(&format!("/desk#deal-{}", encode(&deal.id))).into_response())
        }
        Err(e) => beside_field(v.lang, e, "need_id").map_err(|e| Failure::from_app(e, &v))?,
    };
    let (desk, board) = load(&state, &v).await?;
    let target = match (&lead, &from_listing) {
        (Some(lead), _) => format!("lead:{lead}"),
        _ => String::new(),
    };
    let refused = Refused {
        deal: target,
        form,
        field,
        reason,
    };
    let mut response = html_response(render(&v, &desk, &board, Some(&refused)));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    Ok(response)
}

/// A refusal the desk shows beside its field (`fallback` when it names none), or the error
/// when it is not the broker's to fix.
fn beside_field(l: Lang, e: AppError, fallback: &str) -> Result<(String, String), AppError> {
    match e {
        AppError::Invalid(e) => Ok((e.field, e.reason)),
        e @ AppError::Transition(_) => Ok((fallback.to_string(), e.to_string())),
        AppError::Conflict(r) => Ok((fallback.to_string(), l.t(r.vi(), r.en()).to_string())),
        AppError::Refused { field, refusal } => Ok((
            field.to_string(),
            l.t(refusal.vi(), refusal.en()).to_string(),
        )),
        e => Err(e),
    }
}
