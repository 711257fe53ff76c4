//! `/statistics`: the market's public statistics (`app::statistics`) as a page — headline
//! figures, value by year with its growth, supply, demand and deals by field of science, drawn
//! as bars — with CSV, XLSX and JSON downloads. Figures resting on fewer than three deals are
//! withheld and say so.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

use super::layout::{encode, page};
use super::reasons::field_reason;
use super::{html_response, Failure, Lang, PageResult, Visitor};
use crate::app::statistics::{statistics_of, StatisticsQuery};
use crate::app::statistics::{Cell, Statistics, MIN_DEALS};
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::listing::format_vnd;
use crate::domain::Provinces;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/statistics", get(show))
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{:.0}%", v * 100.0))
}

fn value(l: Lang, c: &Cell) -> String {
    match c.value_vnd {
        Some(v) => format_vnd(v),
        None if c.suppressed => l.t("(ẩn)", "(withheld)").to_string(),
        None => "—".to_string(),
    }
}

/// A horizontal bar of `n` out of `max`, with its figure.
fn bar(n: u64, max: u64, colour: &str, figure: &str) -> Markup {
    // Four fifths at most, leaving the figure room beside the longest bar.
    let width = if max == 0 {
        0.0
    } else {
        80.0 * n as f64 / max as f64
    };
    html! {
        div.bar-row {
            span.bar style=(format!("width:{width:.1}%;background:{colour}")) {}
            span.meta { (figure) }
        }
    }
}

fn render(v: &Visitor, q: &StatisticsQuery, s: &Statistics) -> Markup {
    let l = v.lang;
    let province = q.province.clone().unwrap_or_default();
    let year = q.year.clone().unwrap_or_default();
    let download = |format: &str| {
        format!(
            "/api/v1/statistics?province={}&year={}&format={format}",
            encode(&province),
            encode(&year)
        )
    };
    let max_value = s
        .years
        .iter()
        .filter_map(|y| y.cell.value_vnd)
        .max()
        .unwrap_or(0);
    let max_listings = s
        .fields
        .iter()
        .map(|f| f.supply.max(f.demand))
        .max()
        .unwrap_or(0);
    html! {
        h1 { (l.t("Thống kê thị trường công nghệ", "Technology market statistics")) }
        form.panel method="get" action="/statistics" {
            label for="province" { (l.t("Tỉnh, thành phố", "Province")) }
            select id="province" name="province" {
                option value="" { (l.t("Toàn quốc", "National")) }
                @for p in Provinces::get().all() {
                    option value=(p.code.as_str()) selected[province == p.code.as_str()] { (p.short_name) }
                }
            }
            label for="year" { (l.t("Năm", "Year")) }
            input id="year" name="year" type="text" inputmode="numeric" value=(year);
            p { button type="submit" { (l.t("Xem", "Show")) } }
        }
        section.panel id="headline" {
            h2 { (l.t("Giao dịch đã ký", "Agreed transactions")) }
            dl.facts {
                dt { (l.t("Số giao dịch", "Deals")) } dd { (s.market.deals_agreed) }
                dt { (l.t("Giá trị", "Value")) } dd id="market-value" { (value(l, &s.market)) }
                dt { (l.t("Tỷ lệ là sở hữu trí tuệ", "Share that is intellectual property")) } dd { (percent(s.market.ip_share)) }
                dt { (l.t("Tỷ lệ từ viện, trường trong nước", "Share from domestic institutes and universities")) } dd { (percent(s.market.domestic_research_share)) }
                dt { (l.t("Công nghệ đang chào", "Technologies offered")) } dd { (s.supply) }
                dt { (l.t("Nhu cầu đang tìm", "Needs posted")) } dd { (s.demand) }
                dt { (l.t("Nhu cầu chưa có giao dịch", "Needs without a deal")) } dd { (s.needs_without_deal) }
                dt { (l.t("Cán bộ môi giới có giao dịch", "Brokers with deals")) } dd { (s.intermediaries.brokers) }
                dt { (l.t("Tổ chức có giao dịch", "Organisations with deals")) } dd { (s.intermediaries.organisations) }
            }
            p.hint { (match l {
                Lang::Vi => format!("Chỉ công bố số liệu tổng hợp: ô nào dựa trên ít hơn {MIN_DEALS} giao dịch thì chỉ hiện số giao dịch."),
                Lang::En => format!("Only aggregates are published: a cell resting on fewer than {MIN_DEALS} deals shows its count only."),
            }) }
            p {
                a.button href=(download("csv")) download { (l.t("Tải CSV", "Download CSV")) } " "
                a.button href=(download("xlsx")) download { (l.t("Tải Excel", "Download Excel")) } " "
                a href=(download("json")) { "JSON" }
            }
        }
        section.panel id="years" {
            h2 { (l.t("Giá trị giao dịch theo năm", "Transaction value by year")) }
            @if s.years.is_empty() { p.meta { (l.t("Chưa có giao dịch đã ký.", "No agreed deals yet.")) } }
            @for y in &s.years {
                div.bar-label { strong { (y.year) } " · " (y.cell.deals_agreed) " " (l.t("giao dịch", "deals"))
                    @if let Some(g) = y.value_growth { " · " (l.t("tăng", "growth")) " " (format!("{:+.0}%", g * 100.0)) } }
                (bar(y.cell.value_vnd.unwrap_or(0), max_value, "#0b5cad", &value(l, &y.cell)))
            }
        }
        section.panel id="fields" {
            h2 { (l.t("Cung, cầu và giao dịch theo lĩnh vực", "Supply, demand and deals by field")) }
            @for f in &s.fields {
                div.bar-label { strong { (f.field) " " (l.t(&f.label_vi, &f.label_en)) } " · "
                    (f.cell.deals_agreed) " " (l.t("giao dịch", "deals")) " · " (value(l, &f.cell)) }
                (bar(f.supply, max_listings, "#0b5cad", &format!("{} {}", f.supply, l.t("công nghệ", "technologies"))))
                (bar(f.demand, max_listings, "#e07b00", &format!("{} {}", f.demand, l.t("nhu cầu", "needs"))))
            }
        }
    }
}

async fn show(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<StatisticsQuery>,
) -> PageResult {
    let l = v.lang;
    let scope = match q.scope() {
        Ok(scope) => scope,
        Err(AppError::Invalid(e)) => {
            let body = html! {
                section.panel {
                    h1 { (l.t("Thống kê thị trường công nghệ", "Technology market statistics")) }
                    p.error { (field_reason(l, &e.reason)) }
                    p { a href="/statistics" { (l.t("Xem toàn quốc", "See the national figures")) } }
                }
            };
            let mut response = html_response(page(&v, l.t("Thống kê", "Statistics"), body));
            *response.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(response);
        }
        Err(e) => return Err(Failure::from_app(e, &v)),
    };
    let stats = statistics_of(&state, scope)
        .await
        .map_err(|e| Failure::from_app(e, &v))?;
    Ok(html_response(page(
        &v,
        l.t("Thống kê", "Statistics"),
        render(&v, &q, &stats),
    )))
}
