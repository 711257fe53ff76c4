//! The listing page's form that discloses a confidential need to an organisation
//! (`app::confidential`): for the need's own members (accepting a supplier's interest), the
//! province's brokers and administrators.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::post;
use axum::{Form, Router};
use chrono::Utc;
use maud::{html, Markup};

use super::layout::{csrf_field, encode};
use super::session::CSRF_FIELD;
use super::{Failure, PageResult, Visitor};
use crate::app::confidential::{disclose, Disclose};
use crate::app::AppState;
use crate::app::{AppError, Refusal};
use crate::domain::confidential::DisclosedVia;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/listings/{id}/disclose", post(disclose_page))
}

/// The form: an organisation's name, and the button.
pub(super) fn form(v: &Visitor, id: &str) -> Markup {
    let l = v.lang;
    html! {
        form method="post" action=(format!("/listings/{}/disclose", encode(id))) id="disclose" {
            (csrf_field(v))
            label for="org" { (l.t("Cho tổ chức này xem toàn văn (tên tổ chức)", "Let this organisation read it in full (its name)")) }
            input id="org" name="org" type="text" required;
            button type="submit" { (l.t("Mở toàn văn", "Disclose")) }
        }
    }
}

async fn disclose_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, val)| val.trim().to_string())
            .unwrap_or_default()
    };
    v.check_csrf(Some(get(CSRF_FIELD).as_str()))?;
    let caller = v.caller.clone();
    let org = get("org");
    let need = id.clone();
    state
        .run(move |ex| {
            let actor = caller
                .actor()
                .map_err(|_| AppError::Forbidden(Refusal::UsersOnly))?;
            let via = DisclosedVia::by(caller.role());
            let what = Disclose {
                need_id: &need,
                org: &org,
                via,
                deal_id: None,
            };
            disclose(ex, actor, what, Utc::now())
        })
        .await
        .map_err(|e| Failure::from_app(e, &v))?;
    state.written.notify_one();
    Ok(Redirect::to(&format!("/listings/{}#disclosures", encode(&id))).into_response())
}
