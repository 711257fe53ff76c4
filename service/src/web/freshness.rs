//! Freshness on the pages (`app::freshness`): the owner's "still current" button (on the
//! listing page and on `/me`), when a listing was last confirmed, and the desk's stale
//! listings with the organisations behind them.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::post;
use axum::{Form, Router};
use chrono::Utc;
use maud::{html, Markup};

use super::layout::{csrf_field, encode};
use super::session::CSRF_FIELD;
use super::{Failure, Lang, PageResult, Visitor};
use crate::app::freshness::confirm;
use crate::app::AppState;
use crate::app::{AppError, Refusal};
use crate::domain::Listing;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/listings/{id}/confirm", post(confirm_page))
}

async fn confirm_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let token = form
        .iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, t)| t.as_str());
    v.check_csrf(token)?;
    let caller = v.caller.clone();
    caller
        .require_signed_in()
        .map_err(|e| Failure::from_app(e, &v))?;
    let lookup = id.clone();
    state
        .run(move |ex| {
            let actor = caller
                .actor()
                .map_err(|_| AppError::Forbidden(Refusal::UsersOnly))?;
            confirm(ex, actor, &lookup, Utc::now())
        })
        .await
        .map_err(|e| Failure::from_app(e, &v))?;
    state.written.notify_one();
    Ok(Redirect::to(&format!("/listings/{}?confirmed=1", encode(&id))).into_response())
}

/// "Last confirmed" with its date, and the stale mark.
pub(super) fn confirmed_line(l: Lang, x: &Listing) -> Markup {
    html! {
        p.meta id="confirmed" {
            (l.t("Xác nhận còn hiệu lực lần cuối: ", "Last confirmed current: "))
            (x.confirmed().format("%Y-%m-%d"))
            @if x.stale {
                " " span.badge id="stale" { (l.t("Quá hạn xác nhận: đã ẩn khỏi tìm kiếm", "Not confirmed: out of search")) }
            }
        }
    }
}

/// The owner's button: the listing is still current.
pub(super) fn confirm_button(v: &Visitor, x: &Listing) -> Markup {
    html! {
        form.confirm method="post" action=(format!("/listings/{}/confirm", encode(&x.id))) style="display:inline" {
            (csrf_field(v))
            button type="submit" { (v.lang.t("Xác nhận còn hiệu lực", "Confirm it is current")) }
        }
    }
}

/// The organisation's listings waiting for confirmation, on `/me`.
pub(super) fn to_confirm(v: &Visitor, listings: &[Listing]) -> Markup {
    let l = v.lang;
    html! {
        @if !listings.is_empty() {
            section.panel id="to-confirm" {
                h2 { (l.t("Tin cần xác nhận còn hiệu lực", "Listings to confirm as current")) }
                ul {
                    @for x in listings {
                        li {
                            a href=(format!("/listings/{}", encode(&x.id))) { (x.title) }
                            " " span.meta { (l.t("xác nhận lần cuối ", "last confirmed ")) (x.confirmed().format("%Y-%m-%d")) }
                            @if x.stale { " " span.badge { (l.t("đã ẩn", "hidden")) } }
                            " " (confirm_button(v, x))
                        }
                    }
                }
            }
        }
    }
}

/// The desk's stale listings of its province, with the organisations behind them.
pub(super) fn stale_panel(l: Lang, listings: &[Listing]) -> Markup {
    html! {
        section.panel id="stale" {
            h2 { (l.t("Tin quá hạn xác nhận", "Stale listings")) }
            @if listings.is_empty() {
                p.meta { (l.t("Không có tin nào quá hạn.", "No stale listing.")) }
            } @else {
                div.table-wrap { table {
                    thead { tr {
                        th { (l.t("Tin", "Listing")) }
                        th { (l.t("Đơn vị", "Organisation")) }
                        th { (l.t("Xác nhận lần cuối", "Last confirmed")) }
                    } }
                    tbody { @for x in listings { tr {
                        td { a href=(format!("/listings/{}", encode(&x.id))) { (x.title) } }
                        td { (x.owner.clone().unwrap_or_default()) }
                        td { (x.confirmed().format("%Y-%m-%d")) }
                    } } }
                } }
            }
        }
    }
}
