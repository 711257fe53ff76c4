//! `/deals`: brokers propose deals between a need and a technology, move them through the
//! pipeline, and read their append-only history. No route changes or removes history.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::ApiError;
use super::fields::Fields;
use super::json::JsonObject;
use super::rights::Desk;
use crate::accounts::credentials::new_id;
use crate::domain::deal::{clean_text, Deal, DealEvent, EventKind, Stage, StageChange, StageError};
use crate::domain::{Kind, Listing};
use crate::server::AppState;

/// The routes of this module: proposing, moving and reading deals.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/deals", get(list).post(propose))
        .route("/deals/{id}/stage", post(move_stage))
        .route("/deals/{id}/history", get(history))
}

/// The listing a body field names, which must be of one of `kinds` and one the caller may see
/// (a hidden draft answers like an unknown id).
fn referenced(
    state: &AppState,
    caller: &Caller,
    field: &str,
    id: &str,
    kinds: &[Kind],
    what: &str,
) -> Result<Listing, ApiError> {
    match caller.visible(state.store.get(id)?) {
        Some(l) if kinds.contains(&l.kind) => Ok(l),
        Some(_) => Err(ApiError::invalid(
            field,
            format!("listing {id:?} is not {what}"),
        )),
        None => Err(ApiError::invalid(field, format!("no listing {id:?}"))),
    }
}

/// `{"need_id", "listing_id" | "lead_id", "note"}` → `201` with the deal, in stage proposed.
async fn propose(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Deal>), ApiError> {
    caller.desk()?;
    let body = Fields::new(body, &["need_id", "listing_id", "lead_id", "note"])?;
    let proposal = Proposal {
        need_id: body.required("need_id")?,
        listing_id: body.text("listing_id")?,
        lead_id: body.text("lead_id")?,
        note: body.text("note")?,
    };
    let deal = propose_deal(&state, &caller, proposal).await?;
    Ok((StatusCode::CREATED, Json(deal)))
}

/// A broker's proposal: a need and a technology (given, or the lead's), with a note.
#[derive(Debug, Clone, Default)]
pub(crate) struct Proposal {
    /// The enterprise's need.
    pub need_id: String,
    /// The technology, unless the lead names it.
    pub listing_id: Option<String>,
    /// The lead it comes from.
    pub lead_id: Option<String>,
    /// The broker's note.
    pub note: Option<String>,
}

/// Proposes a deal on the caller's desk; the API route and the desk's forms both come here.
pub(crate) async fn propose_deal(
    state: &AppState,
    caller: &Caller,
    proposal: Proposal,
) -> Result<Deal, ApiError> {
    let desk = caller.desk()?;
    let Proposal {
        need_id,
        listing_id,
        lead_id,
        note,
    } = proposal;
    let note = clean_text("note", note.as_deref()).map_err(ApiError::Invalid)?;
    let (state, caller) = (state.clone(), caller.clone());
    tokio::task::spawn_blocking(move || {
        let lead = match &lead_id {
            Some(id) => Some(
                state
                    .deals
                    .lead(id)?
                    .filter(|lead| caller.may_see_lead(lead))
                    .ok_or_else(|| ApiError::invalid("lead_id", format!("no lead {id:?}")))?,
            ),
            None => None,
        };
        let listing_id = match (listing_id, &lead) {
            (Some(given), Some(lead)) if given != lead.listing_id => {
                return Err(ApiError::invalid(
                    "listing_id",
                    "differs from the technology of the lead",
                ))
            }
            (Some(given), _) => given,
            (None, Some(lead)) => lead.listing_id.clone(),
            (None, None) => {
                return Err(ApiError::invalid("listing_id", "is required (or lead_id)"))
            }
        };
        let need = referenced(
            &state,
            &caller,
            "need_id",
            &need_id,
            &[Kind::Need],
            "a need",
        )?;
        let listing = referenced(
            &state,
            &caller,
            "listing_id",
            &listing_id,
            &[Kind::ResearchOutput, Kind::Patent],
            "a research output or patent",
        )?;
        if !desk.may_propose(need.province.as_ref(), listing.province.as_ref()) {
            return Err(ApiError::Forbidden(
                "brokers propose deals whose need or technology is in their province".into(),
            ));
        }
        // One open deal per need × technology: checked and written in one turn.
        let _turn = crate::app::open_deals::proposing();
        crate::app::open_deals::refuse_second(state.deals.as_ref(), &need.id, &listing.id)
            .map_err(|e| match e {
                crate::app::AppError::Conflict(refusal) => ApiError::Refused {
                    field: "listing_id",
                    refusal,
                },
                e => e.into(),
            })?;
        let disclose_to = listing.owner.clone().filter(|_| need.is_confidential());
        let now = Utc::now();
        let deal = Deal {
            id: new_id("dl").map_err(|e| ApiError::Internal(e.to_string()))?,
            need_id: need.id,
            listing_id: listing.id,
            lead_id,
            need_province: need.province,
            listing_province: listing.province,
            stage: Stage::Proposed,
            contract_value_vnd: None,
            signed_on: None,
            lost_reason: None,
            created_by: caller.who(),
            created_at: now,
            updated_at: now,
        };
        let event = DealEvent {
            n: 1,
            at: now,
            by: caller.who(),
            what: EventKind::Proposed {
                need_id: deal.need_id.clone(),
                listing_id: deal.listing_id.clone(),
            },
            note,
        };
        state.deals.add_deal(&deal, &event)?;
        if let Some(org) = disclose_to {
            // A broker's introduction: the technology's organisation reads the need in full.
            let ex = crate::app::Exchange {
                orgs: state.orgs.as_ref(),
                accounts: state.accounts.as_ref(),
                listings: state.store.as_ref(),
                deals: state.deals.as_ref(),
                outbox: &state.outbox,
                alerts: state.alerts.as_ref(),
            };
            let actor = match caller.user() {
                Some(u) => crate::app::orgs::Actor::User(u),
                None => crate::app::orgs::Actor::AdminToken,
            };
            crate::app::confidential::disclose_with_deal(ex, actor, &deal, &org, now)?;
        }
        Ok::<_, ApiError>(deal)
    })
    .await?
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let desk = caller.desk()?;
    let deals = state.deals.clone();
    let all = tokio::task::spawn_blocking(move || deals.deals()).await??;
    let visible: Vec<Deal> = all.into_iter().filter(|d| desk.covers(d)).collect();
    Ok(Json(json!({ "total": visible.len(), "deals": visible })))
}

/// The deal with this id, if it is on the desk; 404 when there is none, 403 when it is
/// another province's.
fn on_desk(state: &AppState, desk: &Desk, id: &str) -> Result<Deal, ApiError> {
    let deal = state
        .deals
        .deal(id)?
        .ok_or_else(|| ApiError::NotFound(format!("deal {id:?}")))?;
    if desk.covers(&deal) {
        Ok(deal)
    } else {
        Err(ApiError::Forbidden(
            "this deal concerns other provinces than yours".into(),
        ))
    }
}

/// `{"stage", "note", "contract_value_vnd", "signed_on", "reason"}` → the deal as it now is.
async fn move_stage(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Deal>, ApiError> {
    Ok(Json(move_deal(state, caller, id, body).await?))
}

/// Moves the deal `id` as the body says (`{"stage", "note", "contract_value_vnd", "signed_on",
/// "reason"}`); the API route and the broker desk's form both come here.
pub(crate) async fn move_deal(
    state: AppState,
    caller: Caller,
    id: String,
    body: serde_json::Map<String, Value>,
) -> Result<Deal, ApiError> {
    let desk = caller.desk()?;
    let body = Fields::new(
        body,
        &["stage", "note", "contract_value_vnd", "signed_on", "reason"],
    )?;
    let stage = body.required("stage")?;
    let to = Stage::parse(&stage).ok_or_else(|| {
        let names: Vec<&str> = Stage::ALL.iter().map(|s| s.name()).collect();
        ApiError::invalid(
            "stage",
            format!("{stage:?} is not one of {}", names.join(", ")),
        )
    })?;
    let change = StageChange {
        to: Some(to),
        note: body.text("note")?,
        contract_value_vnd: body.amount("contract_value_vnd")?,
        signed_on: body.date("signed_on")?,
        reason: body.text("reason")?,
    };
    let deal = tokio::task::spawn_blocking(move || {
        on_desk(&state, &desk, &id)?;
        let (by, now) = (caller.who(), Utc::now());
        let mut outcome: Option<Result<Deal, StageError>> = None;
        // Decided under the store's lock: two brokers moving one deal cannot both succeed
        // from the same stage.
        state.deals.update_deal(
            &id,
            Box::new(|current| match change.apply(current, &by, now) {
                Ok((next, event)) => {
                    outcome = Some(Ok(next.clone()));
                    Some((next, event))
                }
                Err(e) => {
                    outcome = Some(Err(e));
                    None
                }
            }),
        )?;
        match outcome {
            Some(result) => Ok(result?),
            None => Err(ApiError::NotFound(format!("deal {id:?}"))),
        }
    })
    .await??;
    Ok(deal)
}

async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let desk = caller.desk()?;
    let events = tokio::task::spawn_blocking(move || {
        on_desk(&state, &desk, &id)?;
        Ok::<_, ApiError>((id.clone(), state.deals.history(&id)?))
    })
    .await??;
    Ok(Json(json!({ "deal_id": events.0, "events": events.1 })))
}
