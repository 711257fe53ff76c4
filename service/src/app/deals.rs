//! Deals: brokers propose a deal between a need and a technology, move it through the
//! pipeline, and read its append-only history; the API and the broker's desk both come here.

use chrono::Utc;

use crate::accounts::credentials::new_id;
use crate::app::{AppError, AppState, Caller, Desk};
use crate::domain::deal::{
    clean_text, parse_date, Deal, DealEvent, EventKind, Stage, StageChange, StageError,
};
use crate::domain::{FieldError, Kind, Listing};

fn invalid(field: &str, reason: impl Into<String>) -> AppError {
    AppError::Invalid(FieldError {
        field: field.into(),
        reason: reason.into(),
    })
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
) -> Result<Listing, AppError> {
    match caller.visible(state.store.get(id)?) {
        Some(l) if kinds.contains(&l.kind) => Ok(l),
        Some(_) => Err(invalid(field, format!("listing {id:?} is not {what}"))),
        None => Err(invalid(field, format!("no listing {id:?}"))),
    }
}

/// A broker's proposal: a need and a technology (given, or the lead's), with a note.
#[derive(Debug, Clone, Default)]
pub struct Proposal {
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
pub async fn propose_deal(
    state: &AppState,
    caller: &Caller,
    proposal: Proposal,
) -> Result<Deal, AppError> {
    let desk = caller.desk()?;
    let note = clean_text("note", proposal.note.as_deref())?;
    let (state, caller) = (state.clone(), caller.clone());
    tokio::task::spawn_blocking(move || {
        let listing_id = technology_of(&state, &caller, &proposal)?;
        let need = referenced(
            &state,
            &caller,
            "need_id",
            &proposal.need_id,
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
            return Err(AppError::Denied(
                "brokers propose deals whose need or technology is in their province".into(),
            ));
        }
        // One open deal per need × technology: checked and written in one turn.
        let _turn = crate::app::open_deals::proposing();
        crate::app::open_deals::refuse_second(state.deals.as_ref(), &need.id, &listing.id)?;
        let disclose_to = listing.owner.clone().filter(|_| need.is_confidential());
        let now = Utc::now();
        let (deal, event) = proposed(&caller, need, listing, proposal.lead_id, note, now)?;
        state.deals.add_deal(&deal, &event)?;
        if let Some(org) = disclose_to {
            // A broker's introduction: the technology's organisation reads the need in full.
            let actor = match caller.user() {
                Some(u) => crate::app::orgs::Actor::User(u),
                None => crate::app::orgs::Actor::AdminToken,
            };
            crate::app::confidential::disclose_with_deal(
                state.exchange(),
                actor,
                &deal,
                &org,
                now,
            )?;
        }
        Ok::<_, AppError>(deal)
    })
    .await?
}

/// The technology a proposal is about: the one given, or its lead's (which must agree).
fn technology_of(
    state: &AppState,
    caller: &Caller,
    proposal: &Proposal,
) -> Result<String, AppError> {
    let lead = match &proposal.lead_id {
        Some(id) => Some(
            state
                .deals
                .lead(id)?
                .filter(|lead| caller.may_see_lead(lead))
                .ok_or_else(|| invalid("lead_id", format!("no lead {id:?}")))?,
        ),
        None => None,
    };
    match (&proposal.listing_id, &lead) {
        (Some(given), Some(lead)) if *given != lead.listing_id => Err(invalid(
            "listing_id",
            "differs from the technology of the lead",
        )),
        (Some(given), _) => Ok(given.clone()),
        (None, Some(lead)) => Ok(lead.listing_id.clone()),
        (None, None) => Err(invalid("listing_id", "is required (or lead_id)")),
    }
}

/// A new deal in stage proposed between `need` and `listing`, and its first history entry.
fn proposed(
    caller: &Caller,
    need: Listing,
    listing: Listing,
    lead_id: Option<String>,
    note: Option<String>,
    now: chrono::DateTime<Utc>,
) -> Result<(Deal, DealEvent), AppError> {
    let deal = Deal {
        id: new_id("dl")?,
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
    Ok((deal, event))
}

/// The deal with this id, if it is on the desk; 404 when there is none, 403 when it is
/// another province's.
pub fn on_desk(state: &AppState, desk: &Desk, id: &str) -> Result<Deal, AppError> {
    let deal = state
        .deals
        .deal(id)?
        .ok_or_else(|| AppError::NotFound(format!("deal {id:?}")))?;
    if desk.covers(&deal) {
        Ok(deal)
    } else {
        Err(AppError::Denied(
            "this deal concerns other provinces than yours".into(),
        ))
    }
}

/// A move of a deal as a person asks for it: the stage by name and the texts as typed.
#[derive(Debug, Clone, Default)]
pub struct StageMove {
    /// The stage to move to, by name (`negotiating`, `agreed`, …).
    pub stage: Option<String>,
    /// The broker's note.
    pub note: Option<String>,
    /// The contract's value, for agreed.
    pub contract_value_vnd: Option<u64>,
    /// The signing date, `YYYY-MM-DD` or `DD/MM/YYYY`, for agreed.
    pub signed_on: Option<String>,
    /// Why the deal was lost.
    pub reason: Option<String>,
}

/// Moves the deal `id` on the caller's desk; the API route and the broker desk's form both
/// come here.
///
/// # Errors
/// The rights' refusals; [`AppError::Invalid`] naming the field; [`AppError::Transition`] for
/// a move the pipeline does not allow; [`AppError::NotFound`] for no such deal.
pub async fn move_deal(
    state: &AppState,
    caller: &Caller,
    id: &str,
    asked: StageMove,
) -> Result<Deal, AppError> {
    let desk = caller.desk()?;
    let stage = asked
        .stage
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| invalid("stage", "is required"))?;
    let to = Stage::parse(&stage).ok_or_else(|| {
        let names: Vec<&str> = Stage::ALL.iter().map(|s| s.name()).collect();
        invalid(
            "stage",
            format!("{stage:?} is not one of {}", names.join(", ")),
        )
    })?;
    let blank = |t: Option<String>| t.filter(|t| !t.trim().is_empty());
    let signed_on = match blank(asked.signed_on) {
        Some(text) => Some(parse_date("signed_on", &text)?),
        None => None,
    };
    let change = StageChange {
        to: Some(to),
        note: blank(asked.note),
        contract_value_vnd: asked.contract_value_vnd,
        signed_on,
        reason: blank(asked.reason),
    };
    let (state, caller, id) = (state.clone(), caller.clone(), id.to_string());
    tokio::task::spawn_blocking(move || {
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
            None => Err(AppError::NotFound(format!("deal {id:?}"))),
        }
    })
    .await?
}

/// The deals on the caller's desk.
///
/// # Errors
/// The rights' refusal for anyone without a desk; our failure when the store fails.
pub async fn deals_on_desk(state: &AppState, caller: &Caller) -> Result<Vec<Deal>, AppError> {
    let desk = caller.desk()?;
    let deals = state.deals.clone();
    let all = tokio::task::spawn_blocking(move || deals.deals()).await??;
    Ok(all.into_iter().filter(|d| desk.covers(d)).collect())
}

/// A deal's history, if it is on the caller's desk.
///
/// # Errors
/// As [`on_desk`]; our failure when the store fails.
pub async fn history(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Vec<DealEvent>, AppError> {
    let desk = caller.desk()?;
    let (state, id) = (state.clone(), id.to_string());
    tokio::task::spawn_blocking(move || {
        on_desk(&state, &desk, &id)?;
        Ok(state.deals.history(&id)?)
    })
    .await?
}
