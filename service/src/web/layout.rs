//! The page shell every page shares: head, header with navigation, sign-in state and the
//! language switch, and the one small inline stylesheet (no files to fetch on a slow line).

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::session::CSRF_FIELD;
use super::{Lang, Visitor};
use crate::domain::account::Role;

/// Mobile first; one column on a phone, a sidebar from 48em.
const CSS: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2430;background:#f5f7fa}
a{color:#0b5cad}
header.top{background:#0b3d6e;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
header.top a{color:#fff;text-decoration:none}
header.top .brand{font-weight:700;font-size:1.15rem;margin-right:auto}
header.top nav{display:flex;flex-wrap:wrap;gap:.25rem .9rem;align-items:center}
header.top form{display:inline;margin:0}
header.top button{background:none;border:1px solid #8fb3d9;color:#fff;border-radius:4px;padding:.15rem .5rem;font:inherit;cursor:pointer}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.45rem;line-height:1.25;margin:.25rem 0 .75rem}
h2{font-size:1.15rem;margin:1.25rem 0 .5rem}
.panel>h2:first-child{margin-top:0}
.panel{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:1rem;margin-bottom:1rem}
.searchbox{display:flex;gap:.5rem}
.searchbox input{flex:1;min-width:0;font-size:1.05rem;padding:.55rem .65rem;border:1px solid #9aa8b8;border-radius:4px}
button,.button{background:#0b5cad;color:#fff;border:0;border-radius:4px;padding:.5rem .9rem;font:inherit;cursor:pointer;text-decoration:none;display:inline-block}
.results{display:grid;gap:1rem}
.results .facets{order:2}
.to-filters{float:right}
@media(min-width:48em){.results{grid-template-columns:15rem 1fr}.results .facets{order:0}.to-filters{display:none}}
.facets h3{font-size:.95rem;margin:.75rem 0 .25rem}
.facets ul{list-style:none;margin:0;padding:0}
.facets li{margin:.1rem 0;font-size:.92rem}
.facets a.on{font-weight:700}
.hit{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:.75rem 1rem;margin-bottom:.75rem}
.hit h2{margin:0 0 .25rem;font-size:1.05rem}
.meta{color:#5a6776;font-size:.88rem}
.badge.verified{background:#e3f4e6;color:#1b5e20}
.badge{display:inline-block;background:#e6eef7;color:#0b3d6e;border-radius:3px;padding:0 .4rem;font-size:.8rem;margin-right:.35rem}
mark{background:#ffe58a;padding:0 .1em}
.pager{display:flex;gap:1rem;align-items:center;margin:1rem 0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dl.facts dt{color:#5a6776}
dl.facts dd{margin:0}
label{display:block;font-weight:600;margin:.75rem 0 .2rem}
input[type=text],input[type=email],input[type=password],input[type=date],input:not([type]),select,textarea{width:100%;font:inherit;padding:.45rem .55rem;border:1px solid #9aa8b8;border-radius:4px;background:#fff}
textarea{min-height:7rem}
.hint{color:#5a6776;font-size:.85rem;font-weight:400}
.error{color:#b00020;font-weight:600}
.field-error{color:#b00020;font-size:.9rem;margin:.2rem 0 0}
.invalid{border-color:#b00020 !important;background:#fff6f6 !important}
.notice{background:#e8f5e9;border:1px solid #9ccc9f;border-radius:4px;padding:.5rem .75rem}
.checks label{display:inline-block;font-weight:400;margin:.2rem 1rem .2rem 0}
.board{display:grid;gap:.75rem}
@media(min-width:48em){.board{grid-template-columns:repeat(5,1fr)}}
.column{background:#eef2f6;border-radius:6px;padding:.5rem}
.column h3{margin:.25rem 0 .5rem;font-size:.95rem}
.card{background:#fff;border:1px solid #dde3ea;border-radius:4px;padding:.5rem;margin-bottom:.5rem;font-size:.9rem}
.card form label{font-size:.85rem;margin:.35rem 0 .1rem}
.charts{display:grid;gap:1rem}
@media(min-width:60em){.charts{grid-template-columns:1fr 1fr}}
svg{max-width:100%;height:auto}
figure{margin:0;overflow-x:auto}
/* Charts keep their text at least 11px on a phone: below 30rem they scroll sideways rather than shrink. */
figure svg{min-width:30rem}
figcaption{font-weight:600;margin-bottom:.25rem}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #dde3ea;vertical-align:top}
.table-wrap{overflow-x:auto}
div.bar-row{display:flex;align-items:center;gap:.5rem;margin:.1rem 0 .35rem}
span.bar{display:inline-block;height:.8rem;border-radius:2px;min-width:2px}
div.bar-label{margin-top:.5rem;font-size:.92rem}
footer{color:#5a6776;font-size:.85rem;text-align:center;padding:1.5rem}
"#;

/// Percent-encodes a value for a URL query or path segment.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `here` with `lang` set to `lang` (any earlier `lang` dropped).
fn switch_link(here: &str, lang: Lang) -> String {
    let (path, query) = here.split_once('?').unwrap_or((here, ""));
    let mut kept: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("lang="))
        .map(str::to_string)
        .collect();
    kept.push(format!("lang={}", lang.code()));
    format!("{path}?{}", kept.join("&"))
}

/// The hidden CSRF field of a form.
pub fn csrf_field(visitor: &Visitor) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(visitor.csrf().unwrap_or_default()); }
}

/// A whole page for `visitor`: shell, navigation, and `body`.
pub fn page(visitor: &Visitor, title: &str, body: Markup) -> Markup {
    let l = visitor.lang;
    let role = visitor.caller.role();
    let nav = html! {
        nav aria-label=(l.t("Điều hướng", "Navigation")) {
            a href="/search" { (l.t("Tìm kiếm", "Search")) }
            a href="/orgs" { (l.t("Tổ chức", "Organisations")) }
            a href="/statistics" { (l.t("Thống kê", "Statistics")) }
            @if matches!(role, Some(Role::Enterprise | Role::Admin)) {
                a href="/needs/new" { (l.t("Đăng nhu cầu", "Post a need")) }
            }
            @if matches!(role, Some(Role::Institute | Role::Admin)) {
                a href="/listings/new" { (l.t("Đăng công nghệ", "List a technology")) }
            }
            @if matches!(role, Some(Role::Broker | Role::Admin)) {
                a href="/desk" { (l.t("Bàn môi giới", "Broker desk")) }
            }
            @if role == Some(Role::Admin) {
                a href="/admin/outbox" { (l.t("Thư đi", "Outbox")) }
            }
            @if let Some(user) = visitor.caller.user() {
                a id="me" href="/me" title=(l.t("Trang của tôi", "My page")) {
                    (user.email)
                    @if visitor.unread > 0 {
                        " " span.badge id="unread" title=(l.t("Thông báo chưa đọc", "Unread notifications")) { (visitor.unread) }
                    }
                }
                form method="post" action="/signout" {
                    (csrf_field(visitor))
                    button type="submit" { (l.t("Đăng xuất", "Sign out")) }
                }
            } @else {
                a href="/signin" { (l.t("Đăng nhập", "Sign in")) }
                a href="/signup" { (l.t("Đăng ký", "Sign up")) }
            }
            a href=(switch_link(&visitor.here, l.other())) lang=(l.other().code()) hreflang=(l.other().code()) {
                (l.t("English", "Tiếng Việt"))
            }
        }
    };
    shell(l, title, nav, body)
}

/// A page without the visitor (error pages): the shell with a home link.
pub fn bare(lang: Lang, title: &str, body: Markup) -> Markup {
    let nav = html! { nav { a href="/search" { (lang.t("Tìm kiếm", "Search")) } } };
    shell(lang, title, nav, body)
}

fn shell(lang: Lang, title: &str, nav: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · techmatch" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header.top {
                    a.brand href="/" { "techmatch" }
                    (nav)
                }
                main { (body) }
                footer { (lang.t(
                    "Sàn kết nối chuyển giao công nghệ của các Sở Khoa học và Công nghệ",
                    "Technology-transfer matchmaking for the provincial Departments of Science and Technology",
                )) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_switch_keeps_the_query_and_replaces_lang() {
        assert_eq!(
            switch_link("/search?q=t%C3%B4m&lang=vi", Lang::En),
            "/search?q=t%C3%B4m&lang=en"
        );
        assert_eq!(switch_link("/", Lang::En), "/?lang=en");
    }
}
