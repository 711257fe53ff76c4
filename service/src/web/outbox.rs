//! `/admin/outbox`: the newest mail, sent or waiting, and why delivery failed (administrators).
//! Without an SMTP server (the demo) this is where sign-up and reset links can be read.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

use super::layout::page;
use super::{blocking, html_response, Failure, Lang, PageResult, Visitor};
use crate::app::AppState;
use crate::domain::mail::Mail;

/// Mail shown at most.
const SHOWN: usize = 200;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/admin/outbox", get(outbox))
}

fn state_of(l: Lang, mail: &Mail) -> String {
    match (&mail.sent_at, &mail.last_error) {
        (Some(at), _) => format!("{} {}", l.t("Đã gửi", "Sent"), at.format("%Y-%m-%d %H:%M")),
        (None, Some(_)) => format!(
            "{} ({} {})",
            l.t("Chưa gửi được", "Not sent yet"),
            mail.attempts,
            l.t("lần thử", "attempts")
        ),
        (None, None) => l.t("Đang chờ gửi", "Waiting").to_string(),
    }
}

async fn outbox(State(state): State<AppState>, v: Visitor) -> PageResult {
    v.caller
        .require_admin()
        .map_err(|e| Failure::from_app(e, &v))?;
    let store = state.outbox.store().clone();
    let mails = blocking(move || Ok(store.recent_mail(SHOWN)?))
        .await
        .map_err(|e| Failure::from_app(e, &v))?;
    let l = v.lang;
    Ok(html_response(page(
        &v,
        l.t("Thư đi", "Outbox"),
        render(l, &mails),
    )))
}

/// The table of the newest mails.
fn render(l: Lang, mails: &[Mail]) -> Markup {
    let waiting = mails.iter().filter(|m| m.is_pending()).count();
    html! {
        h1 { (l.t("Thư đi", "Outbox")) }
        p.meta { (match l {
            Lang::Vi => format!("{} thư gần nhất, {waiting} thư đang chờ gửi.", mails.len()),
            Lang::En => format!("The newest {} mails; {waiting} waiting to be sent.", mails.len()),
        }) }
        div.table-wrap {
            table {
                thead { tr {
                    th { (l.t("Thời gian", "Queued")) }
                    th { (l.t("Người nhận", "To")) }
                    th { (l.t("Tiêu đề", "Subject")) }
                    th { (l.t("Trạng thái", "State")) }
                } }
                tbody {
                    @for m in mails {
                        tr {
                            td { (m.created_at.format("%Y-%m-%d %H:%M")) }
                            td { (m.to) }
                            td {
                                details {
                                    summary { (m.subject) }
                                    pre style="white-space:pre-wrap" { (m.body) }
                                }
                            }
                            td {
                                (state_of(l, m))
                                @if let Some(e) = &m.last_error { br; span.meta { (e) } }
                            }
                        }
                    }
                }
            }
        }
    }
}
