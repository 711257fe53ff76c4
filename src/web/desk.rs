//! `/desk`, the broker's desk: the province report as charts, the deals board by stage with a
//! form to move each open deal (`POST /desk/deals/{id}/stage`, through `api::deals::move_deal`),
//! and the leads. Administrators see the national desk.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use serde_json::{Map, Value};

use super::forms::FormData;
use super::layout::{csrf_field, encode, page};
use super::reasons::field_reason;
use super::session::CSRF_FIELD;
use super::{blocking, charts, html_response, Failure, Lang, PageResult, Visitor};
use crate::api::deals::move_deal;
use crate::api::{ApiError, Desk};
use crate::domain::deal::{Deal, Lead, Stage};
use crate::domain::listing::format_vnd;
use crate::domain::Provinces;
use crate::report::Report;
use crate::server::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/desk", get(show))
        .route("/desk/report.csv", get(report_csv))
        .route("/desk/deals/{id}/stage", post(move_stage))
}

/// What the desk shows.
struct Board {
    report: Report,
    deals: Vec<Deal>,
    leads: Vec<Lead>,
    /// Listing titles by id, for the cards.
    titles: HashMap<String, String>,
}

/// A failed move, shown on its deal's card: the form as typed and the error by field.
struct Refused {
    deal: String,
    form: FormData,
    field: String,
    reason: String,
}

async fn load(state: &AppState, v: &Visitor) -> Result<(Desk, Board), Failure> {
    let desk = v.caller.desk().map_err(|e| Failure::from_api(e, v))?;
    let province = match &desk {
        Desk::All => None,
        Desk::Province(p) => Some(p.clone()),
    };
    let report = report_of(state, province, v).await?;
    let (store, deal_store, caller, covering) = (
        state.store.clone(),
        state.deals.clone(),
        v.caller.clone(),
        desk.clone(),
    );
    let (deals, leads, titles) = blocking(move || {
        let deals: Vec<Deal> = deal_store
            .deals()?
            .into_iter()
            .filter(|d| covering.covers(d))
            .collect();
        let leads: Vec<Lead> = deal_store
            .leads()?
            .into_iter()
            .filter(|l| caller.may_see_lead(l))
            .collect();
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
        Ok((deals, leads, titles))
    })
    .await
    .map_err(|e| Failure::from_api(e, v))?;
    Ok((
        desk,
        Board {
            report,
            deals,
            leads,
            titles,
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
        Ok(crate::app::reports::compute(
            store.as_ref(),
            deals.as_ref(),
            province.as_ref(),
        )?)
    })
    .await
    .map_err(|e| Failure::from_api(e, v))
}

/// `/desk/report.csv`: the desk's report as a spreadsheet-ready CSV file.
async fn report_csv(State(state): State<AppState>, v: Visitor) -> PageResult {
    let desk = v.caller.desk().map_err(|e| Failure::from_api(e, &v))?;
    let (province, name) = match &desk {
        Desk::All => (None, "techmatch-national.csv".to_string()),
        Desk::Province(p) => (Some(p.clone()), format!("techmatch-province-{p}.csv")),
    };
    let report = report_of(&state, province, &v).await?;
    let csv = crate::app::reports::csv_for_spreadsheets(&report)
        .map_err(|e| Failure::from_api(e.into(), &v))?;
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
            p.error role="alert" { (l.t("Không cập nhật được giao dịch", "The deal was not updated")) " " (r.deal) ": " (field_reason(l, &r.reason)) }
        }
        section.panel id="report" {
            h2 { (l.t("Báo cáo thị trường", "Market report")) }
            p { a.button href="/desk/report.csv" download { (l.t("Tải báo cáo (CSV)", "Download the report (CSV)")) } }
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
                                strong { (d.id) } br;
                                (l.t("Nhu cầu", "Need")) ": " (listing_link(board, &d.need_id)) " (" (province_name(d.need_province.as_ref())) ")" br;
                                (l.t("Công nghệ", "Technology")) ": " (listing_link(board, &d.listing_id)) " (" (province_name(d.listing_province.as_ref())) ")"
                                @if let Some(value) = d.contract_value_vnd { br; (format_vnd(value)) }
                                @if let Some(reason) = &d.lost_reason { br; span.meta { (reason) } }
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
                    thead { tr { th { (l.t("Công nghệ", "Technology")) } th { (l.t("Doanh nghiệp", "Enterprise")) } th { (l.t("Lời nhắn", "Message")) } th { (l.t("Ngày", "Date")) } } }
                    tbody {
                        @for lead in &board.leads {
                            tr {
                                td { a href=(format!("/listings/{}", encode(&lead.listing_id))) { (lead.listing_title) } }
                                td { (lead.from_org) br; span.meta { (lead.from_email) " · " (province_name(lead.from_province.as_ref())) } }
                                td { (lead.message) }
                                td { (lead.created_at.format("%Y-%m-%d")) }
                            }
                        }
                    }
                } }
            }
        }
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
    let mut body = Map::new();
    for name in ["stage", "note", "signed_on", "reason"] {
        if let Some(value) = form.get(name) {
            body.insert(name.into(), Value::String(value.into()));
        }
    }
    let result = match amount(v.lang, form.get("contract_value_vnd")) {
        Ok(value) => {
            if let Some(value) = value {
                body.insert("contract_value_vnd".into(), Value::from(value));
            }
            move_deal(state.clone(), v.caller.clone(), id.clone(), body).await
        }
        Err(reason) => Err(ApiError::invalid("contract_value_vnd", reason)),
    };
    let (field, reason) = match result {
        Ok(_) => return Ok(Redirect::to(&format!("/desk#deal-{}", encode(&id))).into_response()),
        Err(ApiError::Invalid(e)) => (e.field, e.reason),
        Err(e @ ApiError::InvalidTransition(_)) => ("stage".to_string(), e.to_string()),
        Err(e) => return Err(Failure::from_api(e, &v)),
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
