//! "Save this search" on the search page for signed-in users: the page's query and filters
//! become a standing search (`app::saved_searches`), alerted by mail at once or in a daily
//! digest, as the user chooses.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use axum::routing::post;
use axum::{Form, Router};
use chrono::Utc;
use maud::{html, Markup};

use super::layout::{csrf_field, encode};
use super::session::CSRF_FIELD;
use super::{Failure, PageResult, Visitor};
use crate::app::saved_searches::save;
use crate::app::AppState;
use crate::app::{AppError, Refusal};
use crate::domain::alert::{Delivery, SavedQuery};

/// The search parameters a saved search keeps.
const KEPT: [&str; 6] = ["q", "kind", "province", "field", "trl_min", "transfer_mode"];

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/search/save", post(save_page))
}

/// The button under the results, for signed-in users (the admin token has no account).
pub(super) fn button(v: &Visitor, pairs: &[(String, String)]) -> Markup {
    let l = v.lang;
    html! {
        @if v.caller.user().is_some() {
            form.save-search method="post" action="/search/save" id="save-search" {
                (csrf_field(v))
                @for (k, val) in pairs.iter().filter(|(k, _)| KEPT.contains(&k.as_str())) {
                    input type="hidden" name=(k) value=(val);
                }
                label for="delivery" { (l.t("Báo cho tôi khi có tin mới phù hợp:", "Tell me when a new listing fits:")) }
                select id="delivery" name="delivery" {
                    option value="immediate" { (l.t("ngay lập tức", "at once")) }
                    option value="daily" { (l.t("thư tổng hợp mỗi ngày", "in a daily digest")) }
                }
                " " button type="submit" { (l.t("Lưu tìm kiếm này", "Save this search")) }
            }
        }
    }
}

async fn save_page(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, val)| val.trim().to_string())
            .filter(|val| !val.is_empty())
    };
    v.check_csrf(get(CSRF_FIELD).as_deref())?;
    let Some(user) = v.caller.user().cloned() else {
        return Err(Failure::from_app(
            AppError::Forbidden(Refusal::UsersOnly),
            &v,
        ));
    };
    let query = SavedQuery {
        q: get("q"),
        kind: get("kind"),
        province: get("province"),
        field: get("field"),
        trl_min: get("trl_min"),
        transfer_mode: get("transfer_mode"),
    };
    let delivery = match get("delivery").as_deref() {
        Some("daily") => Delivery::Daily,
        _ => Delivery::Immediate,
    };
    state
        .run(move |ex| save(ex, &user, query, delivery, Utc::now()))
        .await
        .map_err(|e| Failure::from_app(e, &v))?;
    let mut back: Vec<String> = KEPT
        .iter()
        .filter_map(|k| get(k).map(|val| format!("{k}={}", encode(&val))))
        .collect();
    back.push("saved=1".into());
    Ok(Redirect::to(&format!("/search?{}", back.join("&"))).into_response())
}
