//! `/` (the search box) and `/search` (results with facet links, highlighted snippets and
//! pages). Every state is a plain GET URL, so results can be shared and work without scripts.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, PreEscaped};
use serde_json::Value;

use super::i18n::form_pairs;
use super::layout::{encode, page};
use super::{html_response, Failure, Lang, PageResult, Visitor};
use crate::app::orgs::verified_names;
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::{ProvinceCode, Provinces};
use crate::search::{FacetValue, SearchParams, SearchResponse};
use crate::views::{Also, Hit};

/// Hits on one page.
const PAGE_SIZE: usize = 10;
/// The filters a facet link sets, with the facet each is counted under.
const FILTERS: [(&str, &str); 5] = [
    ("kind", "kind"),
    ("province", "province"),
    ("field", "field"),
    ("trl", "trl_min"),
    ("transfer_mode", "transfer_mode"),
];

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/search", get(search))
}

fn search_box(l: Lang, q: &str) -> Markup {
    html! {
        form.searchbox method="get" action="/search" role="search" {
            input type="search" name="q" value=(q) autofocus
                aria-label=(l.t("Tìm công nghệ, sáng chế, nhu cầu", "Search technologies, patents, needs"))
                placeholder=(l.t("Ví dụ: nuôi tôm tuần hoàn, xử lý nước thải…", "e.g. shrimp farming, wastewater treatment…"));
            button type="submit" { (l.t("Tìm", "Search")) }
        }
    }
}

async fn home(visitor: Visitor) -> PageResult {
    let l = visitor.lang;
    let body = html! {
        section.panel {
            h1 { (l.t("Tìm công nghệ và nhu cầu công nghệ", "Find technologies and technology needs")) }
            p { (l.t(
                "Kết quả nghiên cứu, sáng chế của viện, trường và nhu cầu của doanh nghiệp ở 34 tỉnh, thành phố. Gõ có dấu hay không dấu đều được.",
                "Research outputs and patents of institutes and universities, and enterprises' needs, across the 34 provinces. Type with or without Vietnamese diacritics.",
            )) }
            (search_box(l, ""))
            p.meta {
                (l.t("Xem tất cả:", "Browse:")) " "
                a href="/search?kind=research_output" { (l.kind("research_output")) } " · "
                a href="/search?kind=patent" { (l.kind("patent")) } " · "
                a href="/search?kind=need" { (l.kind("need")) }
            }
        }
    };
    Ok(html_response(page(
        &visitor,
        l.t("Trang chủ", "Home"),
        body,
    )))
}

/// The query's parameters as given, in order, without `page` and `lang`.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// A link to these parameters with `name` set to `value` (or removed when `None`), from
    /// the first page.
    fn with(&self, name: &str, value: Option<&str>) -> String {
        let mut pairs: Vec<(&str, &str)> = self
            .0
            .iter()
            .filter(|(k, v)| k != name && !v.trim().is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if let Some(v) = value {
            pairs.push((name, v));
        }
        link(&pairs)
    }

    fn page_link(&self, page: usize) -> String {
        let mut pairs: Vec<(&str, &str)> = self
            .0
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let page = page.to_string();
        pairs.push(("page", &page));
        link(&pairs)
    }
}

fn link(pairs: &[(&str, &str)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!("/search?{}", query.join("&"))
}

/// The snippet as trusted HTML when it is what the index promises (escaped text whose only
/// tags are `<mark>` and `</mark>`); anything else is shown as text with no markup at all.
pub fn snippet(raw: &str) -> Markup {
    let bare = raw.replace("<mark>", "").replace("</mark>", "");
    let entities_ok = bare.match_indices('&').all(|(i, _)| {
        ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
            .iter()
            .any(|e| bare[i..].starts_with(e))
    });
    if entities_ok && !bare.contains(['<', '>', '"']) {
        PreEscaped(raw.to_string())
    } else {
        html! { (bare) }
    }
}

fn province_name(code: &str) -> Option<String> {
    let code: ProvinceCode = serde_json::from_value(Value::String(code.to_string())).ok()?;
    Provinces::get()
        .by_code(&code)
        .map(|p| p.short_name.clone())
}

/// How a facet value reads.
fn facet_label(l: Lang, facet: &str, value: &FacetValue) -> String {
    let raw = value.value.as_str();
    match facet {
        "kind" => l.kind(raw),
        "transfer_mode" => l.mode(raw),
        "trl" => format!("TRL ≥ {raw}"),
        "field" => match value.label.as_deref() {
            Some(label) => format!("{raw} {label}"),
            None => raw.to_string(),
        },
        _ => value.label.as_deref().unwrap_or(raw).to_string(),
    }
}

fn facets(l: Lang, params: &Params, facets: &BTreeMap<String, Vec<FacetValue>>) -> Markup {
    let title = |f: &str| match f {
        "kind" => l.t("Loại", "Kind"),
        "province" => l.t("Tỉnh, thành phố", "Province"),
        "field" => l.t("Lĩnh vực", "Field of science"),
        "trl" => l.t("Mức sẵn sàng (TRL)", "Readiness (TRL)"),
        _ => l.t("Hình thức chuyển giao", "Transfer mode"),
    };
    html! {
        aside.facets.panel id="filters" aria-label=(l.t("Bộ lọc", "Filters")) {
            @for (facet, param) in FILTERS {
                @if let Some(values) = facets.get(facet).filter(|v| !v.is_empty()) {
                    h3 { (title(facet)) }
                    ul {
                        @if let Some(active) = params.get(param) {
                            li { a.on href=(params.with(param, None)) { "× " (l.t("Bỏ lọc", "Clear")) " (" (active) ")" } }
                        }
                        @for v in values.iter().take(12) {
                            @let raw = v.value.as_str();
                            @let on = params.get(param) == Some(raw);
                            li {
                                a.on[on] href=(params.with(param, Some(raw))) data-facet=(facet) {
                                    (facet_label(l, facet, v))
                                }
                                " " span.meta { "(" (v.count) ")" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One hit; its organisation is linked, and marked when verified (`verified`: name → id).
fn hit(l: Lang, h: &Hit, verified: &BTreeMap<String, String>) -> Markup {
    html! {
        article.hit {
            h2 { a href=(format!("/listings/{}", encode(&h.id))) { (h.title) } }
            p.meta {
                span.badge { (l.kind(&h.kind)) }
                @if let Some(p) = h.province.as_deref().and_then(province_name) { (p) " · " }
                @if let Some(o) = &h.owner {
                    @if let Some(org) = verified.get(o) {
                        a href=(format!("/orgs/{}", encode(org))) { (o) } " " (super::orgs::verified_badge(l))
                    } @else { (o) }
                }
                @if let Some(t) = h.trl { " · TRL " (t) }
                @if let Some(c) = h.confirmed_at.as_deref().and_then(|c| c.get(..10)) { " · " (l.t("xác nhận ", "confirmed ")) (c) }
            }
            p { (snippet(&h.snippet)) }
        }
    }
}

/// The link that switches the order: newest confirmed first, or most relevant first.
fn sort_link(l: Lang, pairs: &[(String, String)], newest: bool) -> Markup {
    let mut query: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k != "sort" && !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    if !newest {
        query.push("sort=newest".to_string());
    }
    let href = format!("/search?{}", query.join("&"));
    html! {
        @if newest {
            a id="sort" href=(href) { (l.t("Xếp theo mức phù hợp", "Most relevant first")) }
        } @else {
            a id="sort" href=(href) { (l.t("Mới xác nhận trước", "Newest first")) }
        }
    }
}

async fn search(
    State(state): State<AppState>,
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> PageResult {
    let l = visitor.lang;
    let (params, page_no, saved) = read_query(query.as_deref().unwrap_or_default());
    let q = params.get("q").unwrap_or_default().to_string();
    let title = if q.is_empty() {
        l.t("Tìm kiếm", "Search").to_string()
    } else {
        format!("{} “{q}”", l.t("Tìm", "Search"))
    };
    let request = match search_params(&params, page_no).to_request(false) {
        Ok(r) => r,
        Err(e) => return Ok(bad_filter(&visitor, &title, &q, &e)),
    };
    let newest = params.get("sort") == Some("newest");
    let (answer, verified) = answer_of(&state, request, newest)
        .await
        .map_err(|e| Failure::from_app(e, &visitor))?;
    let collapsed = super::collapse::collapse(&state, answer.hits.clone()).await;
    let shown = Shown {
        params: &params,
        page_no,
        answer: &answer,
        collapsed: &collapsed,
        verified: &verified,
    };
    let body = html! {
        section.panel {
            (search_box(l, &q))
            @if saved { p.notice id="saved" role="status" { (l.t("Đã lưu tìm kiếm: bạn sẽ được báo khi có tin mới phù hợp.", "Search saved: you will be told when a new listing fits.")) } }
            (super::save_search::button(&visitor, &params.0))
        }
        (results(l, &shown))
    };
    Ok(html_response(page(&visitor, &title, body)).into_response())
}

/// The search's answer (the same as the API's, kept in the same cache), by relevance or newest
/// first, and the verified organisations among its hits' owners.
async fn answer_of(
    state: &AppState,
    request: techmatch_index::SearchRequest,
    newest: bool,
) -> Result<(SearchResponse, BTreeMap<String, String>), AppError> {
    let semantic = state.semantic.clone();
    let body = if newest {
        crate::app::search::newest(state, request, semantic).await?
    } else {
        crate::app::search::answer(state, request, semantic).await?
    };
    let answer: SearchResponse = serde_json::from_slice(&body).map_err(AppError::Json)?;
    let owners: Vec<String> = answer.hits.iter().filter_map(|h| h.owner.clone()).collect();
    let verified = state
        .run(move |ex| verified_names(ex.orgs, owners.iter().map(String::as_str)))
        .await?;
    Ok((answer, verified))
}

/// The query's parameters (without `page`, `lang` and `saved`), the page asked for (from 1),
/// and whether a search was just saved from it.
fn read_query(query: &str) -> (Params, usize, bool) {
    let all = form_pairs(query);
    let page_no = all
        .iter()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let params = Params(
        all.into_iter()
            .filter(|(k, _)| k != "page" && k != "lang" && k != "saved")
            .collect(),
    );
    let saved = query.split('&').any(|p| p == "saved=1");
    (params, page_no, saved)
}

/// The search's parameters as the API takes them, for page `page_no` of the results.
fn search_params(params: &Params, page_no: usize) -> SearchParams {
    let owned = |name: &str| params.get(name).map(str::to_string);
    SearchParams {
        q: owned("q"),
        kind: owned("kind"),
        province: owned("province"),
        field: owned("field"),
        trl_min: owned("trl_min"),
        transfer_mode: owned("transfer_mode"),
        status: None,
        limit: Some(PAGE_SIZE.to_string()),
        offset: Some(((page_no - 1) * PAGE_SIZE).to_string()),
    }
}

/// The page for a filter that cannot be searched: the search box and what is wrong (400).
fn bad_filter(
    visitor: &Visitor,
    title: &str,
    q: &str,
    e: &crate::domain::FieldError,
) -> axum::response::Response {
    let l = visitor.lang;
    let body = html! {
        section.panel {
            (search_box(l, q))
            p.error { (l.t("Bộ lọc không hợp lệ", "Invalid filter")) " — " (e) }
        }
    };
    let mut response = html_response(page(visitor, title, body));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
}

/// What the results part of the page shows.
struct Shown<'a> {
    params: &'a Params,
    page_no: usize,
    answer: &'a SearchResponse,
    collapsed: &'a [(Hit, Vec<Also>)],
    verified: &'a BTreeMap<String, String>,
}

/// The facets, the count and downloads, the hits and the pager.
fn results(l: Lang, shown: &Shown) -> Markup {
    let Shown {
        params,
        page_no,
        answer,
        collapsed,
        verified,
    } = shown;
    let page_no = *page_no;
    let skipped = answer.semantic.as_deref() == Some(crate::embed::SKIPPED);
    let pages = answer.total.div_ceil(PAGE_SIZE).max(1);
    // A page past the end (an old link, a typed number) says so rather than "page 25 of 8".
    let past_end = page_no > pages;
    html! {
        div.results {
            (facets(l, params, &answer.facets))
            section aria-live="polite" {
                p.meta {
                    // On a phone the filters follow the results; this jumps to them.
                    a.to-filters href="#filters" { (l.t("Bộ lọc ↓", "Filters ↓")) }
                    span id="total" { (answer.total) " " (l.t("kết quả", "results")) }
                    @if answer.total > 0 { (super::downloads::links(l, &params.0)) }
                    " · " (sort_link(l, &params.0, params.get("sort") == Some("newest")))
                }
                @if skipped {
                    p.meta id="semantic-skipped" { (l.t(
                        "Kết quả theo từ khóa: tìm theo nghĩa đang bận, chưa kịp tham gia xếp hạng.",
                        "Results by words only: matching by meaning was busy and did not take part in this ranking.",
                    )) }
                }
                @if past_end {
                    p.past-end {
                        (l.t("Trang", "Page")) " " (page_no) " " (l.t("vượt quá trang cuối", "is past the last page")) " (" (pages) "). "
                        a href=(params.page_link(pages)) { (l.t("Về trang cuối", "Go to the last page")) }
                    }
                } @else if answer.hits.is_empty() {
                    p { (l.t("Không tìm thấy kết quả. Thử bớt từ hoặc bỏ bộ lọc.", "Nothing found. Try fewer words or clear a filter.")) }
                }
                @for (h, also) in collapsed.iter() { (hit(l, h, verified)) (super::collapse::also(l, also)) }
                @if pages > 1 && !past_end {
                    nav.pager aria-label=(l.t("Trang", "Pages")) {
                        @if page_no > 1 { a rel="prev" href=(params.page_link(page_no - 1)) { "← " (l.t("Trước", "Previous")) } }
                        span { (l.t("Trang", "Page")) " " (page_no) " / " (pages) }
                        @if page_no < pages { a rel="next" href=(params.page_link(page_no + 1)) { (l.t("Sau", "Next")) " →" } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_escaped_text_with_mark_tags_is_trusted() {
        let good = "Quy tr&#39;nh <mark>nuôi</mark> &lt;b&gt;";
        assert_eq!(snippet(good).into_string(), good);
        let bad = "<script>alert(1)</script> <mark>x</mark>";
        let shown = snippet(bad).into_string();
        assert!(
            !shown.contains("<script>") && shown.contains("&lt;script&gt;"),
            "{shown}"
        );
        let raw_amp = "a & b";
        assert_eq!(snippet(raw_amp).into_string(), "a &amp; b");
    }
}
